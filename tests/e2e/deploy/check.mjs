// Static checks of the deployment files: every YAML file parses, and the fields that make the deployment work
// are present and agree with each other (ports, labels, names, paths, uid) across Dockerfile, compose, nginx,
// Prometheus and Kubernetes. Run by check.sh after `npm ci`; prints PASS/FAIL lines and "N passed, N failed".
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const ROOT = process.env.SD_REPO_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '../../..');
const SERVER_PORT = 5000;
const PREFIX = '/sd';

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    const detail = fn();
    passed++;
    console.log(`PASS ${name}${detail ? ` (${detail})` : ''}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
const rel = (p) => relative(ROOT, p);

// Compose's `!reset` / `!override` merge tags (Compose >= 2.24.4) are valid in override files: keep them visible
// as { composeTag, value } so the checks can see them.
const customTags = ['!reset', '!override'].flatMap((tag) => [
  { tag, collection: 'map', resolve: (map) => ({ composeTag: tag, value: map.toJSON() }) },
  { tag, collection: 'seq', resolve: (seq) => ({ composeTag: tag, value: seq.toJSON() }) },
  { tag, resolve: (str) => ({ composeTag: tag, value: str }) },
]);

/** Parses every document of a YAML file; any error or warning fails. */
function loadYaml(path) {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { customTags, prettyErrors: true, uniqueKeys: true });
  const problems = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    for (const e of [...doc.errors, ...doc.warnings]) problems.push(e.message);
  }
  if (problems.length) throw new Error(`${rel(path)}: ${problems.join('; ')}`);
  return (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS()).filter((d) => d != null);
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Compose-style ${VAR:-default} / ${VAR-default} / ${VAR} with only the defaults (an empty environment). */
function interpolate(value) {
  if (typeof value !== 'string') return value;
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_, _name, def) => def ?? '');
}

function envOf(service) {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((kv) => [kv.split('=')[0], interpolate(kv.split('=').slice(1).join('='))]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v ?? ''))]));
}

// ---------------------------------------------------------------------------------------------------------------
const yamlFiles = [join(ROOT, 'docker-compose.yml'), ...walk(join(ROOT, 'deploy')).filter((p) => /\.ya?ml$/.test(p))];
const parsed = new Map();
for (const file of yamlFiles) {
  check(`${rel(file)} is valid YAML`, () => {
    const docs = loadYaml(file);
    assert(docs.length > 0, 'no document');
    parsed.set(file, docs);
    return `${docs.length} document(s)`;
  });
}
const docsOf = (relPath) => {
  const docs = parsed.get(join(ROOT, relPath));
  assert(docs, `${relPath} missing or unparsable`);
  return docs;
};

// ---- Dockerfile facts used by the cross-checks ----------------------------------------------------------------
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerUser = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].at(-1)?.[1] ?? '';
const dockerUid = Number(dockerUser.split(':')[0]);

// ---- the server's configuration: what a Section__Key variable may name -------------------------------------------
// Read from the server itself, so a renamed setting fails here instead of being silently ignored at run time:
// appsettings.json (the one configuration file, DESIGN §1) for the top-level keys, and the options classes in
// src/StableDiffusion.Server/Configuration/*.cs for each section's properties, their types and their
// [RegularExpression] rules (appsettings.json cannot say what a Models:Items element holds: it is []).
const appsettings = JSON.parse(readFileSync(join(ROOT, 'appsettings.json'), 'utf8'));
const optionsDir = join(ROOT, 'src/StableDiffusion.Server/Configuration');
const optionClasses = new Map(); // class name -> { section, props: Map(lowercase name -> { name, type, regex }) }
for (const file of existsSync(optionsDir) ? readdirSync(optionsDir).filter((f) => f.endsWith('.cs')) : []) {
  const source = readFileSync(join(optionsDir, file), 'utf8');
  for (const cls of source.matchAll(/(?:public|internal) sealed class (\w+)\s*\{([\s\S]*?)\n\}/g)) {
    const props = new Map();
    // Attributes on the lines just before a property: [Required, RegularExpression("...")].
    for (const m of cls[2].matchAll(/((?:^[ \t]*\[[^\n]*\][ \t]*\n|\[[^\]\n]*\][ \t]*)*)[ \t]*public ([\w<>?.]+) (\w+) \{ get; set; \}/gm)) {
      const regex = m[1].match(/RegularExpression\("((?:[^"\\]|\\.)*)"\)/)?.[1];
      props.set(m[3].toLowerCase(), { name: m[3], type: m[2], regex: regex && new RegExp(regex) });
    }
    const section = cls[2].match(/const string Section = "(\w+)";/)?.[1];
    optionClasses.set(cls[1], { section, props });
  }
}
const sectionClass = new Map([...optionClasses.values()].filter((c) => c.section).map((c) => [c.section.toLowerCase(), c]));

/**
 * Where the configuration variable `name` (ASP.NET Core's Section__Key form, arrays by index) lands, or an Error
 * naming the first segment the server does not have. Returns { path, regex } (regex: the property's rule).
 */
function configKey(name) {
  const segments = name.split('__');
  const topKey = Object.keys(appsettings).find((k) => k.toLowerCase() === segments[0].toLowerCase());
  if (topKey === undefined) return new Error(`${name}: appsettings.json has no top-level key ${segments[0]}`);
  const path = [topKey];
  let cls = sectionClass.get(topKey.toLowerCase());
  let json = appsettings[topKey];
  let type = cls ? 'class' : typeof json;
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i];
    if (cls) {
      const prop = cls.props.get(seg.toLowerCase());
      if (!prop) return new Error(`${name}: ${path.join(':')} has no ${seg} (options class properties: ${[...cls.props.values()].map((p) => p.name).join(', ')})`);
      path.push(prop.name);
      const list = prop.type.match(/^List<(\w+)\??>$/);
      if (list) {
        if (!/^\d+$/.test(segments[i + 1] ?? '')) return new Error(`${name}: ${path.join(':')} is a list, needs an index`);
        path.push(segments[++i]);
        cls = optionClasses.get(list[1]);
        if (!cls && i !== segments.length - 1) return new Error(`${name}: ${path.join(':')} is a ${list[1]}, not a section`);
        if (!cls) return { path: path.join(':'), regex: prop.regex };
        continue;
      }
      const nested = optionClasses.get(prop.type.replace(/\?$/, ''));
      if (nested) { cls = nested; continue; }
      if (i !== segments.length - 1) return new Error(`${name}: ${path.join(':')} is a ${prop.type}, not a section`);
      return { path: path.join(':'), regex: prop.regex };
    }
    // Sections without an options class (Serilog, ...): follow appsettings.json's shape.
    if (json === null || typeof json !== 'object') return new Error(`${name}: ${path.join(':')} is a value, not a section`);
    const key = Object.keys(json).find((k) => k.toLowerCase() === seg.toLowerCase());
    if (key === undefined) return new Error(`${name}: appsettings.json has no ${[...path, seg].join(':')}`);
    path.push(key);
    json = json[key];
    type = typeof json;
  }
  if (cls) return new Error(`${name}: ${path.join(':')} is a section, not a value`);
  if (type === 'object' && json !== null) return new Error(`${name}: ${path.join(':')} is a section, not a value`);
  return { path: path.join(':'), regex: undefined };
}

// Process variables that are not application settings: the runtime's own and the image's bookkeeping.
const NOT_SETTINGS = /^(ASPNETCORE_|DOTNET_|SD_|NVIDIA_|TMPDIR$|PATH$|HOME$|LANG$|TZ$)/;

/** Every variable of `env` must be a real setting (or a runtime variable); values must pass the property's rule. */
function checkSettings(where, env) {
  const problems = [];
  for (const [name, value] of Object.entries(env)) {
    if (NOT_SETTINGS.test(name) && !name.includes('__')) continue;
    const key = configKey(name);
    if (key instanceof Error) { problems.push(`not a configuration key of the server: ${key.message}`); continue; }
    if (key.regex && value !== '' && !key.regex.test(value)) problems.push(`${name}=${value} does not match ${key.regex}`);
  }
  assert(problems.length === 0, `${where}: ${problems.join('; ')}`);
  return `${Object.keys(env).length} variables`;
}

/** The listening address must be every interface, port SERVER_PORT, given as `Urls` (see the Dockerfile). */
function checkListening(where, env) {
  for (const name of ['ASPNETCORE_URLS', 'ASPNETCORE_HTTP_PORTS']) {
    assert(!(name in env) || env[name] === '', `${where}: ${name} is set, but appsettings.json's "Urls" wins over it: set Urls`);
  }
  const urls = env.Urls ?? env.URLS ?? env.urls;
  assert(urls, `${where}: no Urls (appsettings.json's "Urls" is ${appsettings.Urls}: loopback only inside a container)`);
  assert(new RegExp(`^http://(\\+|\\*|0\\.0\\.0\\.0|\\[::\\]):${SERVER_PORT}/?$`).test(urls),
    `${where}: Urls=${urls}, expected http://+:${SERVER_PORT} (all interfaces)`);
}

/** Dockerfile ENV pairs of the final image (ENV k=v k2=v2 ..., continuation lines joined). */
function dockerEnv(text) {
  const env = {};
  const flat = text.replace(/\\\n/g, ' ').split('\n').filter((l) => !/^\s*#/.test(l));
  for (const line of flat) {
    const m = line.match(/^ENV\s+(.*)$/);
    if (!m) continue;
    for (const kv of m[1].matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env[kv[1]] = kv[2].replace(/^"|"$/g, '');
  }
  return env;
}

check('configuration schema read from appsettings.json and Configuration/*.cs', () => {
  for (const section of ['Models', 'Queue', 'Auth', 'ForwardedHeaders', 'Limits']) {
    assert(sectionClass.has(section.toLowerCase()), `no options class with Section = "${section}"`);
    assert(Object.keys(appsettings).includes(section), `appsettings.json has no ${section}`);
  }
  for (const name of ['Models__Items__0__Name', 'Models__Items__0__Path', 'Models__ExecutionProvider', 'Urls']) {
    assert(!(configKey(name) instanceof Error), configKey(name).message);
  }
  for (const name of ['Models__0__Name', 'Inference__ExecutionProvider', 'Models__Items__Name', 'Queue__Capacity__0']) {
    assert(configKey(name) instanceof Error, `${name} was accepted: the key check cannot fail`);
  }
  return `${optionClasses.size} options classes, sections ${[...sectionClass.values()].map((c) => c.section).join(', ')}`;
});

check('Dockerfile: ENV settings are real configuration keys; listens on all interfaces, port 5000', () => {
  const env = dockerEnv(dockerfile);
  checkListening('Dockerfile', env);
  assert(env.Models__DemoModelPath?.startsWith('/cache/'), `Models__DemoModelPath is ${env.Models__DemoModelPath}, not under the writable /cache`);
  return checkSettings('Dockerfile ENV', env);
});

// ---- docker-compose.yml ----------------------------------------------------------------------------------------
const nginxTemplatePath = join(ROOT, 'deploy/nginx/templates/default.conf.template');
const nginxTemplate = readFileSync(nginxTemplatePath, 'utf8');
// The template with ${SD_X} written as @SD_X@, so a block's body can be matched up to its closing brace.
const nginxBlocks = nginxTemplate.replace(/\$\{([A-Z0-9_]+)\}/g, '@$1@');

check('compose: services server, nginx and prometheus', () => {
  const { services } = docsOf('docker-compose.yml')[0];
  for (const name of ['server', 'nginx', 'prometheus']) assert(services?.[name], `no service ${name}`);
});

check('compose: server reserves an NVIDIA GPU', () => {
  const server = docsOf('docker-compose.yml')[0].services.server;
  const devices = server.deploy?.resources?.reservations?.devices ?? [];
  const gpu = devices.find((d) => d.driver === 'nvidia' && (d.capabilities ?? []).includes('gpu'));
  assert(gpu, `deploy.resources.reservations.devices has no {driver: nvidia, capabilities: [gpu]}: ${JSON.stringify(devices)}`);
  assert(gpu.count === 'all' || Number(gpu.count) >= 1 || gpu.device_ids, 'GPU device has no count/device_ids');
});

check('compose: server mounts the models read-only at /models', () => {
  const server = docsOf('docker-compose.yml')[0].services.server;
  const mount = (server.volumes ?? []).find((v) => (typeof v === 'string' ? v.split(':')[1] : v.target) === '/models');
  assert(mount, 'no volume with target /models');
  const readOnly = typeof mount === 'string' ? mount.split(':')[2]?.split(',').includes('ro') : mount.read_only === true;
  assert(readOnly, '/models is not read-only');
});

check('compose: server is configured through environment variables that the server reads', () => {
  const env = envOf(docsOf('docker-compose.yml')[0].services.server);
  for (const key of ['Models__Items__0__Name', 'Models__Items__0__Path', 'Models__ExecutionProvider', 'Queue__Capacity',
    'Auth__ApiKeys__0', 'ForwardedHeaders__KnownNetworks__0', 'Models__DemoModelPath']) {
    assert(key in env, `environment lacks ${key}`);
  }
  assert(env.Models__Items__0__Path.startsWith('/models/'), `Models__Items__0__Path ${env.Models__Items__0__Path} is not under /models/`);
  assert(env.Models__DemoModelPath.startsWith('/cache/'), `Models__DemoModelPath ${env.Models__DemoModelPath} is not on the /cache tmpfs`);
  checkListening('compose server', env);
  return checkSettings('compose server environment', env);
});

check('compose: server healthcheck probes /health/live, server port not published', () => {
  const server = docsOf('docker-compose.yml')[0].services.server;
  const test = [].concat(server.healthcheck?.test ?? []).join(' ');
  assert(test.includes(`:${SERVER_PORT}/health/live`), `healthcheck.test is "${test}"`);
  assert(!server.ports, 'server publishes ports: clients must go through nginx');
  assert((server.expose ?? []).map(String).includes(String(SERVER_PORT)), `server does not expose ${SERVER_PORT}`);
});

check('compose: server runs as the image user, read-only with tmpfs /tmp and /cache', () => {
  const server = docsOf('docker-compose.yml')[0].services.server;
  assert(server.read_only === true, 'read_only is not true');
  for (const dir of ['/tmp', '/cache']) assert([].concat(server.tmpfs ?? []).some((t) => t.split(':')[0] === dir), `no tmpfs ${dir}`);
  assert(server.user === undefined || Number(String(server.user).split(':')[0]) === dockerUid,
    `user ${server.user} differs from the Dockerfile's USER ${dockerUser}`);
});

check('compose: nginx renders deploy/nginx/templates with every placeholder set', () => {
  const nginx = docsOf('docker-compose.yml')[0].services.nginx;
  const mount = (nginx.volumes ?? []).find((v) => (typeof v === 'string' ? v.split(':')[1] : v.target) === '/etc/nginx/templates');
  assert(mount, 'nginx does not mount /etc/nginx/templates');
  const source = typeof mount === 'string' ? mount.split(':')[0] : mount.source;
  assert(join(ROOT, source) === join(ROOT, 'deploy/nginx/templates'), `templates mounted from ${source}`);
  const env = envOf(nginx);
  const placeholders = [...new Set([...nginxTemplate.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]))];
  for (const p of placeholders) assert(p in env, `template placeholder \${${p}} not in nginx's environment`);
  const filter = new RegExp(env.NGINX_ENVSUBST_FILTER ?? '.');
  for (const p of placeholders) assert(filter.test(p), `NGINX_ENVSUBST_FILTER skips ${p}`);
  assert(/^server:5000\b/.test(env.SD_UPSTREAM), `SD_UPSTREAM is ${env.SD_UPSTREAM}`);
  assert(/deny all;\s*$/.test(env.SD_METRICS_ACCESS), `SD_METRICS_ACCESS defaults to "${env.SD_METRICS_ACCESS}"`);
  return placeholders.join(', ');
});

check('compose: nginx is the only published entry besides loopback Prometheus', () => {
  const { services } = docsOf('docker-compose.yml')[0];
  assert((services.nginx.ports ?? []).length > 0, 'nginx publishes no port');
  for (const p of services.prometheus.ports ?? []) {
    assert(interpolate(String(p)).startsWith('127.0.0.1:'), `prometheus port ${p} is not bound to 127.0.0.1`);
  }
});

check('compose: prometheus mounts deploy/prometheus/prometheus.yml and shares a network with server', () => {
  const { services } = docsOf('docker-compose.yml')[0];
  const prom = services.prometheus;
  const mount = (prom.volumes ?? []).find((v) => typeof v === 'object' && v.target === '/etc/prometheus/prometheus.yml');
  assert(mount && join(ROOT, mount.source) === join(ROOT, 'deploy/prometheus/prometheus.yml'), 'config not mounted');
  const nets = (s) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? { default: null }));
  assert(nets(prom).some((n) => nets(services.server).includes(n)), 'prometheus and server share no network');
  assert(nets(services.nginx).some((n) => nets(services.server).includes(n)), 'nginx and server share no network');
});

check('compose: CPU override drops the GPU reservation and builds VARIANT=cpu', () => {
  const server = docsOf('deploy/compose/cpu.yml')[0].services.server;
  assert(server.deploy?.composeTag === '!reset', 'deploy is not `!reset`');
  assert(server.build?.args?.VARIANT === 'cpu', 'build.args.VARIANT is not cpu');
  assert(envOf(server).Models__ExecutionProvider === 'cpu', 'Models__ExecutionProvider is not cpu');
  checkSettings('deploy/compose/cpu.yml server environment', envOf(server));
  assert(/^ARG VARIANT=/m.test(dockerfile) && /^FROM [^\n]* AS runtime-cpu$/m.test(dockerfile), 'Dockerfile has no cpu variant');
});

// ---- Prometheus ------------------------------------------------------------------------------------------------
check('prometheus: scrapes the server /metrics on the compose network', () => {
  const config = docsOf('deploy/prometheus/prometheus.yml')[0];
  const job = (config.scrape_configs ?? []).find((j) =>
    (j.static_configs ?? []).some((s) => (s.targets ?? []).includes(`server:${SERVER_PORT}`)));
  assert(job, `no scrape job targets server:${SERVER_PORT}`);
  assert((job.metrics_path ?? '/metrics') === '/metrics', `metrics_path ${job.metrics_path}`);
  return job.job_name;
});

// The metric families the server exports, derived from its instruments the way OpenTelemetry's Prometheus exporter
// names them: dots to underscores, unit "s" appends _seconds ({job}-style annotations add nothing), counters
// end in _total. tests/e2e/nginx/run.sh checks the same names on a live /metrics page.
const serverMetricsPath = join(ROOT, 'src/StableDiffusion.Server/Telemetry/ServerMetrics.cs');
const serverFamilies = new Map(); // name -> counter | histogram | gauge
if (existsSync(serverMetricsPath)) {
  const source = readFileSync(serverMetricsPath, 'utf8');
  for (const m of source.matchAll(/\.Create(Counter|Histogram|ObservableGauge|ObservableCounter|UpDownCounter|Gauge)(?:<\w+>)?\(\s*"([\w.]+)",\s*(?:\(\)\s*=>[^,]+,\s*)?(null|"[^"]*")/g)) {
    const unit = m[3] === 'null' ? '' : m[3].slice(1, -1);
    let name = m[2].replace(/\./g, '_') + (unit === 's' ? '_seconds' : '');
    const type = /Counter$/.test(m[1]) && m[1] !== 'UpDownCounter' ? 'counter' : m[1] === 'Histogram' ? 'histogram' : 'gauge';
    if (type === 'counter') name += '_total';
    serverFamilies.set(name, type);
  }
}
/** sd_* series names used in `text` that the server does not export (histogram series: _bucket, _sum, _count). */
function unknownSdMetrics(text) {
  // (sd_upstream and sd_forwarded_host are the nginx template's names, not metrics.)
  const used = new Set([...text.matchAll(/\bsd_[a-z0-9_]+/g)].map((m) => m[0]).filter((n) => !/^sd_(upstream|forwarded_host)$/.test(n)));
  return [...used].filter((name) => {
    if (serverFamilies.has(name)) return false;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return serverFamilies.get(base) !== 'histogram';
  });
}

check('metrics: the sd_* names in alerts, README and Prometheus files are ones the server exports', () => {
  assert(serverFamilies.size >= 8, `only ${serverFamilies.size} instruments found in ${rel(serverMetricsPath)}`);
  const files = ['deploy/README.md', ...walk(join(ROOT, 'deploy/prometheus')).map(rel)];
  const problems = files.flatMap((f) => unknownSdMetrics(readFileSync(join(ROOT, f), 'utf8')).map((n) => `${f}: ${n}`));
  assert(problems.length === 0, `not exported by the server (${[...serverFamilies.keys()].join(', ')}): ${problems.join('; ')}`);
  return `${serverFamilies.size} families`;
});

check('prometheus: every rule file is mounted next to the configuration in compose', () => {
  const config = docsOf('deploy/prometheus/prometheus.yml')[0];
  const prom = docsOf('docker-compose.yml')[0].services.prometheus;
  for (const file of config.rule_files ?? []) {
    assert(!file.startsWith('/'), `rule file ${file} must be relative (it differs between the repository and the container)`);
    const mount = (prom.volumes ?? []).find((v) => typeof v === 'object' && v.target === `/etc/prometheus/${file}`);
    assert(mount && join(ROOT, mount.source) === join(ROOT, 'deploy/prometheus', file), `${file} is not mounted at /etc/prometheus/${file}`);
  }
  return (config.rule_files ?? []).join(', ') || 'no rule files';
});

// ---- nginx template (text; behaviour is proved by tests/e2e/nginx) ---------------------------------------------
check('nginx: SSE location unbuffered with long timeouts', () => {
  const block = nginxBlocks.match(/location ~ \^\/sd\(\/v1\/predictions\/\[\^\/\]\+\/stream\)\$ \{([^}]*)\}/);
  assert(block, 'no stream location');
  assert(/proxy_buffering off;/.test(block[1]), 'stream location lacks proxy_buffering off');
  const timeout = Number(block[1].match(/proxy_read_timeout (\d+)s;/)?.[1]);
  assert(timeout >= 600, `stream proxy_read_timeout ${timeout}`);
});

check('nginx: forwarded headers, HTTP/1.1 keepalive upstream, body size, metrics guard', () => {
  for (const needle of [
    'proxy_set_header X-Forwarded-Proto $scheme;', 'proxy_set_header X-Forwarded-Host $sd_forwarded_host;',
    `proxy_set_header X-Forwarded-Prefix ${PREFIX};`, 'proxy_http_version 1.1;', 'proxy_set_header Connection "";',
    'client_max_body_size 64m;', '${SD_METRICS_ACCESS}',
  ]) assert(nginxTemplate.includes(needle), `template lacks "${needle}"`);
  assert(/upstream sd_upstream \{[^}]*keepalive \d+;/.test(nginxBlocks), 'upstream has no keepalive');
  // proxy_set_header in a location would silently drop every server-level header there.
  const locations = [...nginxBlocks.matchAll(/location [^{]*\{([^}]*)\}/g)];
  assert(locations.every((m) => !m[1].includes('proxy_set_header')), 'a location redefines proxy_set_header');
});

// ---- Kubernetes ------------------------------------------------------------------------------------------------
const k8sDir = join(ROOT, 'deploy/k8s');
const k8s = [];
for (const file of walk(k8sDir).filter((p) => /\.ya?ml$/.test(p) && basename(p) !== 'kustomization.yaml')) {
  for (const doc of parsed.get(file) ?? []) k8s.push({ file, doc });
}
const ofKind = (kind) => k8s.filter((x) => x.doc.kind === kind).map((x) => x.doc);
const one = (kind) => {
  const docs = ofKind(kind);
  assert(docs.length === 1, `${docs.length} ${kind} manifests`);
  return docs[0];
};

check('k8s: every manifest has apiVersion, kind and metadata.name', () => {
  for (const { file, doc } of k8s) {
    assert(doc.apiVersion && doc.kind && doc.metadata?.name, `${rel(file)} lacks apiVersion/kind/metadata.name`);
  }
  return `${k8s.length} manifests`;
});

check('k8s: kinds present', () => {
  for (const kind of ['Namespace', 'ConfigMap', 'PersistentVolumeClaim', 'Deployment', 'Service', 'Ingress', 'PodDisruptionBudget']) {
    one(kind);
  }
});

check('k8s: kustomization lists every manifest and nothing missing', () => {
  const kust = docsOf('deploy/k8s/kustomization.yaml')[0];
  const listed = (kust.resources ?? []).map((r) => join(k8sDir, r));
  for (const p of listed) assert(existsSync(p), `kustomization lists missing ${rel(p)}`);
  for (const { file } of k8s) assert(listed.includes(file), `${rel(file)} is not in kustomization resources`);
  const image = one('Deployment').spec.template.spec.containers[0].image;
  assert((kust.images ?? []).some((i) => i.name === image), `kustomization images does not set ${image}`);
});

const deployment = () => one('Deployment');
const container = () => deployment().spec.template.spec.containers[0];
const podLabels = () => deployment().spec.template.metadata.labels ?? {};
const selects = (selector) => Object.entries(selector ?? {}).length > 0 &&
  Object.entries(selector).every(([k, v]) => podLabels()[k] === v);

check('k8s: Deployment requests an nvidia.com/gpu', () => {
  const gpu = Number(container().resources?.limits?.['nvidia.com/gpu']);
  assert(gpu >= 1, `resources.limits["nvidia.com/gpu"] is ${container().resources?.limits?.['nvidia.com/gpu']}`);
});

check('k8s: probes on /health/live and /health/ready, on the container port', () => {
  const c = container();
  const ports = (c.ports ?? []).flatMap((p) => [p.name, p.containerPort]);
  assert(ports.includes(SERVER_PORT), `container does not declare port ${SERVER_PORT}`);
  const probe = (name, path) => {
    const get = c[name]?.httpGet;
    assert(get?.path === path, `${name}.httpGet.path is ${get?.path}, expected ${path}`);
    assert(ports.includes(get.port), `${name} port ${get.port} is not a container port`);
  };
  probe('livenessProbe', '/health/live');
  probe('readinessProbe', '/health/ready');
  if (c.startupProbe) probe('startupProbe', '/health/live');
});

check('k8s: non-root, read-only root filesystem, emptyDir for /cache and /tmp, models read-only', () => {
  const pod = deployment().spec.template.spec;
  const c = container();
  const sc = { ...(pod.securityContext ?? {}), ...(c.securityContext ?? {}) };
  assert(sc.runAsNonRoot === true, 'runAsNonRoot is not true');
  assert(sc.runAsUser === dockerUid, `runAsUser ${sc.runAsUser} differs from the Dockerfile's USER ${dockerUser}`);
  assert(c.securityContext?.readOnlyRootFilesystem === true, 'readOnlyRootFilesystem is not true');
  assert(c.securityContext?.allowPrivilegeEscalation === false, 'allowPrivilegeEscalation is not false');
  assert((c.securityContext?.capabilities?.drop ?? []).includes('ALL'), 'capabilities.drop lacks ALL');
  const volumes = Object.fromEntries((pod.volumes ?? []).map((v) => [v.name, v]));
  const mounts = Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.mountPath, m]));
  for (const dir of ['/cache', '/tmp']) {
    assert(mounts[dir] && volumes[mounts[dir].name]?.emptyDir, `${dir} is not an emptyDir mount`);
  }
  assert(mounts['/models']?.readOnly === true, '/models is not mounted readOnly');
  const models = volumes[mounts['/models'].name];
  const claim = models?.persistentVolumeClaim?.claimName;
  if (claim) assert(one('PersistentVolumeClaim').metadata.name === claim, `claim ${claim} is not defined`);
});

check('k8s: ConfigMap holds the appsettings overrides the Deployment loads', () => {
  const cm = one('ConfigMap');
  const refs = (container().envFrom ?? []).map((e) => e.configMapRef?.name);
  assert(refs.includes(cm.metadata.name), `envFrom does not load ConfigMap ${cm.metadata.name}`);
  for (const key of Object.keys(cm.data ?? {})) assert(/^[A-Za-z_][A-Za-z0-9_]*$/.test(key), `key ${key} is no env name`);
  for (const key of ['Models__Items__0__Name', 'Models__Items__0__Path', 'Models__ExecutionProvider', 'Models__DemoModelPath']) {
    assert(key in (cm.data ?? {}), `ConfigMap lacks ${key}`);
  }
  assert(cm.data.Models__Items__0__Path.startsWith('/models/'), 'Models__Items__0__Path is not under /models/');
  assert(cm.data.Models__DemoModelPath.startsWith('/cache/'), 'Models__DemoModelPath is not on the /cache emptyDir');
  const env = { ...cm.data, ...Object.fromEntries((container().env ?? []).map((e) => [e.name, e.value ?? ''])) };
  checkListening('k8s ConfigMap + Deployment env', env);
  return checkSettings('k8s ConfigMap + Deployment env', env);
});

check('deploy/README.md and tests/e2e/nginx/run.sh name only real configuration keys', () => {
  const problems = [];
  const readme = readFileSync(join(ROOT, 'deploy/README.md'), 'utf8');
  const runSh = readFileSync(join(ROOT, 'tests/e2e/nginx/run.sh'), 'utf8');
  // Section__Key names in backquotes (README) and exported by run.sh; placeholders like Models__Items__N__Path
  // are read with N = 0.
  const names = new Set([
    ...[...readme.matchAll(/`([A-Z][A-Za-z]*(?:__[A-Za-z0-9]+)+)[=`]/g)].map((m) => m[1]),
    ...[...runSh.matchAll(/export ([A-Z][A-Za-z]*(?:__[A-Za-z0-9]+)+)=/g)].map((m) => m[1]),
  ]);
  for (const name of names) {
    const key = configKey(name.replace(/__N(?=__|$)/g, '__0'));
    if (key instanceof Error) problems.push(key.message);
  }
  assert(names.size > 0, 'no configuration keys found');
  assert(problems.length === 0, problems.join('; '));
  assert(/export Urls=/.test(runSh), 'tests/e2e/nginx/run.sh does not set Urls (ASPNETCORE_URLS loses to appsettings.json)');
  return `${names.size} names`;
});

check('k8s: Deployment selector, Service and PodDisruptionBudget select the pods', () => {
  assert(selects(deployment().spec.selector?.matchLabels), 'Deployment selector does not match its template');
  const svc = one('Service');
  assert(selects(svc.spec.selector), 'Service selector does not match the pods');
  const targets = (container().ports ?? []).flatMap((p) => [p.name, p.containerPort]);
  for (const p of svc.spec.ports) assert(targets.includes(p.targetPort), `Service targetPort ${p.targetPort} unknown`);
  const pdb = one('PodDisruptionBudget');
  assert(selects(pdb.spec.selector?.matchLabels), 'PDB selector does not match the pods');
  const replicas = deployment().spec.replicas ?? 1;
  if (pdb.spec.minAvailable !== undefined) {
    assert(Number(pdb.spec.minAvailable) < replicas, 'PDB minAvailable blocks every drain');
  } else {
    assert(Number(pdb.spec.maxUnavailable) >= 1, 'PDB maxUnavailable < 1 blocks every drain');
  }
});

check('k8s: Ingress annotations for SSE, timeouts, body size and the /sd prefix', () => {
  const a = one('Ingress').metadata.annotations ?? {};
  const p = 'nginx.ingress.kubernetes.io/';
  assert(a[`${p}proxy-buffering`] === 'off', 'proxy-buffering is not "off"');
  assert(Number(a[`${p}proxy-read-timeout`]) >= 600, 'proxy-read-timeout < 600');
  assert(Number(a[`${p}proxy-send-timeout`]) >= 600, 'proxy-send-timeout < 600');
  const size = a[`${p}proxy-body-size`] ?? '';
  assert(/^\d+m$/.test(size) && parseInt(size, 10) >= 16, `proxy-body-size ${size}`);
  assert(a[`${p}x-forwarded-prefix`] === PREFIX, `x-forwarded-prefix ${a[`${p}x-forwarded-prefix`]}`);
  assert(a[`${p}use-regex`] === 'true', 'use-regex is not "true"');
  for (const [k, v] of Object.entries(a)) assert(typeof v === 'string', `annotation ${k} is not a string`);
});

check('k8s: Ingress routes /sd/... to the Service, but not /sd/metrics', () => {
  const ing = one('Ingress');
  const svc = one('Service');
  const rewrite = ing.metadata.annotations['nginx.ingress.kubernetes.io/rewrite-target'];
  const paths = ing.spec.rules.flatMap((r) => r.http.paths);
  for (const path of paths) {
    assert(path.backend.service.name === svc.metadata.name, `backend ${path.backend.service.name}`);
    const port = path.backend.service.port;
    assert(svc.spec.ports.some((p) => p.name === port.name || p.port === port.number), 'backend port unknown');
    assert(path.pathType === 'ImplementationSpecific', 'regex paths need pathType ImplementationSpecific');
  }
  // ingress-nginx matches regex paths case-insensitively (~*) from the start of the normalised URI.
  const route = (uri) => {
    for (const path of paths) {
      const m = new RegExp(`^${path.path}`, 'i').exec(uri);
      if (m) return rewrite.replace(/\$(\d)/g, (_, i) => m[Number(i)] ?? '');
    }
    return null;
  };
  const expect = {
    '/sd/v1/predictions': '/v1/predictions',
    '/sd/v1/predictions/abc/stream': '/v1/predictions/abc/stream',
    '/sd/health/ready': '/health/ready',
    '/sd/': '/',
    '/sd/metrics': null,
    '/sd/METRICS': null,
    '/sd/metrics/': null,
    '/metrics': null,
  };
  for (const [uri, upstream] of Object.entries(expect)) {
    assert(route(uri) === upstream, `${uri} routes to ${route(uri)}, expected ${upstream}`);
  }
});

check('nginx and Ingress body limits are above the server\'s own (appsettings.json Limits)', () => {
  // The server must be the one to refuse a large body (413 with a problem body naming the field), not the proxy:
  // its limit is MaxBodyBytes, raised to fit one MaxImageBytes image as a base64 data URI (LimitsOptions.BodyLimit).
  // A key missing from appsettings.json has the options class's default (e.g. `= 20 * 1024 * 1024;`).
  const limitsSource = readFileSync(join(optionsDir, 'LimitsOptions.cs'), 'utf8');
  const setting = (name) => {
    if (appsettings.Limits?.[name] !== undefined) return Number(appsettings.Limits[name]);
    const def = limitsSource.match(new RegExp(`\\b${name} \\{ get; set; \\} = ([\\d_ *L]+);`))?.[1];
    return def ? def.split('*').reduce((a, f) => a * Number(f.replace(/[_L\s]/g, '')), 1) : 0;
  };
  const maxBody = setting('MaxBodyBytes');
  const maxImage = setting('MaxImageBytes');
  assert(maxBody > 0, 'Limits:MaxBodyBytes not found in appsettings.json or LimitsOptions.cs');
  const serverLimit = Math.max(maxBody, Math.ceil(maxImage / 3) * 4 + 64 * 1024);
  const mb = (v) => Number(/^(\d+)m$/i.exec(v ?? '')?.[1] ?? NaN) * 1024 * 1024;
  const nginx = mb(nginxTemplate.match(/client_max_body_size (\S+);/)?.[1]);
  const ingress = mb(one('Ingress').metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-body-size']);
  assert(nginx > serverLimit, `nginx client_max_body_size ${nginx} B is not above the server's ${serverLimit} B`);
  assert(ingress > serverLimit, `Ingress proxy-body-size ${ingress} B is not above the server's ${serverLimit} B`);
  return `server ${(serverLimit / 1048576).toFixed(1)} MiB, nginx ${nginx / 1048576} MiB, Ingress ${ingress / 1048576} MiB`;
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
