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
  // merge: YAML 1.1 `<<:` merge keys, which Compose files use with x- extension fields (docker-compose.yml).
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { customTags, prettyErrors: true, uniqueKeys: true, merge: true });
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
const optionEnums = new Map(); // enum name -> its member names (a setting of that type must be one of them)
for (const file of existsSync(optionsDir) ? readdirSync(optionsDir).filter((f) => f.endsWith('.cs')) : []) {
  const source = readFileSync(join(optionsDir, file), 'utf8');
  for (const e of source.matchAll(/(?:public|internal) enum (\w+)\s*\{([\s\S]*?)\n\}/g)) {
    const body = e[2].replace(/\/\/\/[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '');
    optionEnums.set(e[1], body.split(',').map((m) => m.replace(/=.*$/s, '').trim()).filter(Boolean));
  }
  for (const cls of source.matchAll(/(?:public|internal) sealed class (\w+)(?:\s*:[^{]*)?\s*\{([\s\S]*?)\n\}/g)) {
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

// Settings of issue 10 ("Predictions that survive restarts and scale across machines") that the deployment files
// use before the server has them. A section listed here is accepted only while the server has neither an options
// class nor an appsettings.json entry for it: as soon as the code binds it, every key is checked against the real
// class like any other. Each use prints a NOTE line, so what is still expected from the code stays visible.
const PENDING = {
  Server: { Role: /^(all|api|worker)$/ },
  Storage: {
    Backend: /^(Embedded|Redis)$/, DataDirectory: /^\/./, Redis: /./, RedisPrefix: /^[A-Za-z0-9:{}_.-]{1,64}$/,
    MaxAttempts: /^\d+$/, HeartbeatSeconds: /^\d+$/,
  },
  Outputs: {
    Backend: /^(FileSystem|S3)$/, SigningKey: /^(|.{32,})$/, S3__ServiceUrl: /^https?:\/\//, S3__Bucket: /./,
    S3__Region: /./, S3__AccessKey: /./, S3__SecretKey: /./, S3__ForcePathStyle: /^(true|false)$/i,
  },
};
const pendingUsed = new Set();
/** The pending key `name` (Section__Key) or undefined; Error when its section is pending but the key is unknown. */
function pendingKey(name) {
  const [section, ...rest] = name.split('__');
  const entry = Object.entries(PENDING).find(([s]) => s.toLowerCase() === section.toLowerCase());
  if (!entry || sectionClass.has(section.toLowerCase()) || Object.keys(appsettings).some((k) => k.toLowerCase() === section.toLowerCase())) return undefined;
  const key = Object.keys(entry[1]).find((k) => k.toLowerCase() === rest.join('__').toLowerCase());
  if (!key) return new Error(`${name}: ${entry[0]} (issue 10, not yet in the server) has no ${rest.join(':')} (expected: ${Object.keys(entry[1]).join(', ')})`);
  pendingUsed.add(`${entry[0]}:${key.replace(/__/g, ':')}`);
  return { path: `${entry[0]}:${key.replace(/__/g, ':')}`, regex: entry[1][key], pending: true };
}

/**
 * Where the configuration variable `name` (ASP.NET Core's Section__Key form, arrays by index) lands, or an Error
 * naming the first segment the server does not have. Returns { path, regex } (regex: the property's rule).
 */
function configKey(name) {
  const pending = pendingKey(name);
  if (pending) return pending;
  const segments = name.split('__');
  // A section the server binds to an options class exists even where appsettings.json leaves it to the defaults.
  const topKey = Object.keys(appsettings).find((k) => k.toLowerCase() === segments[0].toLowerCase())
    ?? sectionClass.get(segments[0].toLowerCase())?.section;
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
      return { path: path.join(':'), regex: prop.regex, members: optionEnums.get(prop.type.replace(/\?$/, '')) };
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
    // The configuration binder reads enums case-insensitively.
    if (key.members && value !== '' && !key.members.some((m) => m.toLowerCase() === value.toLowerCase())) {
      problems.push(`${name}=${value} is not one of ${key.members.join(', ')}`);
    }
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
  for (const kind of ['Namespace', 'ConfigMap', 'Deployment', 'Service', 'Ingress', 'PodDisruptionBudget']) {
    one(kind);
  }
  assert(ofKind('PersistentVolumeClaim').length >= 1, 'no PersistentVolumeClaim');
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
  if (claim) assert(ofKind('PersistentVolumeClaim').some((c) => c.metadata.name === claim), `claim ${claim} is not defined`);
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

// ---- the data directory (Storage__DataDirectory): a volume wherever the server runs ------------------------------
const imageDataDir = dockerEnv(dockerfile).Storage__DataDirectory;
const composeVolumeAt = (service, target) => (service.volumes ?? []).map((v) => (typeof v === 'string'
  ? { type: /^[./~$]/.test(v) ? 'bind' : 'volume', source: v.split(':')[0], target: v.split(':')[1] }
  : v)).find((v) => v.target === target);

check('Dockerfile: the data directory (ENV Storage__DataDirectory) is a VOLUME owned by the service user', () => {
  assert(imageDataDir?.startsWith('/'), `ENV Storage__DataDirectory is ${imageDataDir}: the embedded backend would write under $HOME`);
  const flat = dockerfile.replace(/\\\n/g, ' ');
  const volumes = [...flat.matchAll(/^VOLUME\s+(.*)$/gm)].flatMap((m) => {
    const arg = m[1].trim();
    return arg.startsWith('[') ? JSON.parse(arg) : arg.split(/\s+/);
  });
  assert(volumes.includes(imageDataDir), `no VOLUME ${imageDataDir} (VOLUME lines: ${volumes.join(', ') || 'none'})`);
  const esc = imageDataDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const owner = `(sd:sd|${dockerUid}:${dockerUid}|${dockerUid})`;
  assert(new RegExp(`chown (-R )?${owner} [^&;]*${esc}(\\s|$)`, 'm').test(flat),
    `${imageDataDir} is not chowned to the service user (a named volume copies the owner from the image)`);
  return imageDataDir;
});

check('compose: server keeps its data directory on a named volume', () => {
  const compose = docsOf('docker-compose.yml')[0];
  const server = compose.services.server;
  const dir = envOf(server).Storage__DataDirectory ?? imageDataDir;
  const mount = composeVolumeAt(server, dir);
  assert(mount, `no volume mounted at Storage__DataDirectory ${dir}`);
  assert(mount.type === 'volume' && mount.source, `${dir} is a ${mount.type} mount, not a named volume`);
  assert(compose.volumes && mount.source in compose.volumes, `volume ${mount.source} is not declared under volumes:`);
  assert(!envOf(server).Storage__Backend || /^embedded$/i.test(envOf(server).Storage__Backend), 'the single box is not on the embedded backend');
  assert(!server.profiles, 'server belongs to a profile: `docker compose up` would not start it');
  return `${mount.source} at ${dir}`;
});

// ---- compose profile `scale` -----------------------------------------------------------------------------------
const composeScale = () => {
  const { services } = docsOf('docker-compose.yml')[0];
  const scale = Object.entries(services).filter(([, s]) => (s.profiles ?? []).includes('scale'));
  const role = (s) => envOf(s).Server__Role;
  return {
    services,
    scale,
    redis: scale.filter(([, s]) => /(^|\/)(redis|valkey)(:|$)/.test(String(s.image ?? '').split('@')[0].replace(/:[^/]*$/, '') + ':')),
    api: scale.filter(([, s]) => role(s) === 'api'),
    workers: scale.filter(([, s]) => role(s) === 'worker'),
    nginx: scale.filter(([, s]) => /(^|\/)nginx:/.test(String(s.image ?? ''))),
  };
};
const commandLine = (s) => [].concat(s.command ?? []).join(' ');
const namesOf = (name, s) => [name, ...Object.values(s.networks && !Array.isArray(s.networks) ? s.networks : {})
  .flatMap((n) => n?.aliases ?? [])];

check('compose profile scale: a Redis/Valkey service with AOF on, noeviction, and its own volume', () => {
  const { redis } = composeScale();
  assert(redis.length === 1, `${redis.length} redis/valkey services in profile scale`);
  const [name, r] = redis[0];
  const cmd = commandLine(r);
  assert(/--appendonly[ =]"?yes/.test(cmd), `${name}: command "${cmd}" does not turn AOF on (--appendonly yes)`);
  assert(/--maxmemory-policy[ =]"?noeviction/.test(cmd), `${name}: no --maxmemory-policy noeviction (eviction would drop queued jobs)`);
  const dir = cmd.match(/--dir[ =]"?(\S+?)"?(\s|$)/)?.[1] ?? '/data';
  const mount = composeVolumeAt(r, dir);
  assert(mount?.type === 'volume', `${name}: its data directory ${dir} is not on a named volume`);
  assert((r.healthcheck?.test ?? []).join(' ').match(/(redis|valkey)-cli.*ping/), `${name}: no ping healthcheck`);
  assert(!r.ports, `${name} publishes a port: it must stay on the internal network`);
  return `${name}: AOF on, volume ${mount.source}`;
});

check('compose profile scale: two api and two worker replicas of the server, roles set with Server__Role', () => {
  const { api, workers, scale, services } = composeScale();
  assert(api.length >= 2, `${api.length} services with Server__Role=api`);
  assert(workers.length >= 2, `${workers.length} services with Server__Role=worker`);
  const image = services.server.image;
  for (const [name, s] of [...api, ...workers]) {
    assert(s.image === image, `${name}: image ${s.image} is not the server's ${image}`);
    assert(!(s.deploy?.replicas > 1), `${name}: replicas > 1 with a fixed container per role`);
  }
  for (const [name, s] of scale) assert(!['server', 'nginx', 'prometheus'].includes(name), `${name} is in a profile`);
  return `api: ${api.map(([n]) => n).join(', ')}; workers: ${workers.map(([n]) => n).join(', ')}`;
});

check('compose profile scale: every replica is a valid, locked-down server on Redis', () => {
  const { api, workers, redis } = composeScale();
  const redisNames = redis.flatMap(([n, s]) => namesOf(n, s));
  for (const [name, s] of [...api, ...workers]) {
    const env = envOf(s);
    checkSettings(`compose ${name}`, env);
    checkListening(`compose ${name}`, env);
    assert(/^redis$/i.test(env.Storage__Backend ?? ''), `${name}: Storage__Backend is ${env.Storage__Backend}, not Redis`);
    const host = (env.Storage__Redis ?? '').split(',')[0].split(':')[0];
    assert(redisNames.includes(host), `${name}: Storage__Redis host "${host}" is not the redis service (${redisNames.join(', ')})`);
    assert(s.read_only === true, `${name}: read_only is not true`);
    for (const dir of ['/tmp', '/cache']) assert([].concat(s.tmpfs ?? []).some((t) => t.split(':')[0] === dir), `${name}: no tmpfs ${dir}`);
    assert(Number(String(s.user ?? dockerUid).split(':')[0]) === dockerUid, `${name}: user ${s.user} is not the image's ${dockerUser}`);
    assert([].concat(s.healthcheck?.test ?? []).join(' ').includes(`:${SERVER_PORT}/health/live`), `${name}: no healthcheck on /health/live`);
    assert(!s.ports, `${name} publishes a port: clients come through nginx`);
    const dependsOn = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    assert(redis.some(([n]) => dependsOn.includes(n)), `${name} does not depend on the redis service`);
    const models = composeVolumeAt(s, '/models');
    if (models) assert(models.read_only === true, `${name}: /models is not read-only`);
  }
  return `${api.length + workers.length} replicas`;
});

check('compose profile scale: workers reserve a GPU and mount the models; api replicas reserve none', () => {
  const { api, workers } = composeScale();
  for (const [name, s] of workers) {
    const devices = s.deploy?.resources?.reservations?.devices ?? [];
    assert(devices.some((d) => d.driver === 'nvidia' && (d.capabilities ?? []).includes('gpu')), `${name}: no NVIDIA GPU reservation`);
    assert(composeVolumeAt(s, '/models')?.read_only === true, `${name}: models not mounted read-only at /models`);
    assert(envOf(s).Models__Items__0__Path?.startsWith('/models/'), `${name}: Models__Items__0__Path is not under /models/`);
  }
  for (const [name, s] of api) assert(!s.deploy?.resources?.reservations?.devices, `${name} (api) reserves a device`);
});

check('compose profile scale: shared outputs (one volume at Storage__DataDirectory, or S3) and one signing key', () => {
  const { api, workers, services } = composeScale();
  const volumesDeclared = docsOf('docker-compose.yml')[0].volumes ?? {};
  const replicas = [...api, ...workers];
  const raw = (s, k) => (Array.isArray(s.environment) ? undefined : s.environment?.[k]);
  const keys = new Set(replicas.map(([, s]) => raw(s, 'Outputs__SigningKey')));
  assert(keys.size === 1 && [...keys][0], `Outputs__SigningKey differs between replicas or is missing: ${[...keys].join(' | ')}`);
  const backends = new Set(replicas.map(([, s]) => (envOf(s).Outputs__Backend ?? 'FileSystem').toLowerCase()));
  assert(backends.size === 1, `replicas disagree on Outputs__Backend: ${[...backends].join(', ')}`);
  if (backends.has('s3')) {
    for (const [name, s] of replicas) assert(envOf(s).Outputs__S3__Bucket, `${name}: Outputs__Backend S3 without Outputs__S3__Bucket`);
    return 'S3';
  }
  const sources = new Set();
  for (const [name, s] of replicas) {
    const dir = envOf(s).Storage__DataDirectory ?? imageDataDir;
    const mount = composeVolumeAt(s, dir);
    assert(mount?.type === 'volume', `${name}: no named volume at Storage__DataDirectory ${dir}`);
    sources.add(mount.source);
  }
  assert(sources.size === 1, `replicas write outputs to different volumes: ${[...sources].join(', ')}`);
  const [shared] = sources;
  assert(shared in volumesDeclared, `volume ${shared} is not declared under volumes:`);
  assert(composeVolumeAt(services.server, envOf(services.server).Storage__DataDirectory ?? imageDataDir)?.source !== shared,
    `the single box and the cluster share the data volume ${shared}`);
  return `FileSystem on volume ${shared}`;
});

check('compose profile scale: nginx sends /sd/ to every api replica and no worker', () => {
  const { api, workers, nginx, services } = composeScale();
  assert(nginx.length === 1, `${nginx.length} nginx services in profile scale`);
  const [name, n] = nginx[0];
  const env = envOf(n);
  const mount = composeVolumeAt(n, '/etc/nginx/templates');
  assert(mount && join(ROOT, mount.source) === join(ROOT, 'deploy/nginx/templates'), `${name} does not mount deploy/nginx/templates`);
  const placeholders = [...new Set([...nginxTemplate.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]))];
  for (const p of placeholders) assert(p in env, `${name}: template placeholder \${${p}} not set`);
  assert(/deny all;\s*$/.test(env.SD_METRICS_ACCESS), `${name}: SD_METRICS_ACCESS defaults to "${env.SD_METRICS_ACCESS}"`);
  const [host, port] = (env.SD_UPSTREAM ?? '').split(/\s+/)[0].split(':');
  assert(Number(port) === SERVER_PORT, `${name}: SD_UPSTREAM port ${port}`);
  if (api.length > 1) assert(/\bresolve\b/.test(env.SD_UPSTREAM), `${name}: SD_UPSTREAM lacks resolve (one name, several replicas)`);
  for (const [a, s] of api) assert(namesOf(a, s).includes(host), `${name}: upstream ${host} does not reach ${a}`);
  for (const [w, s] of workers) assert(!namesOf(w, s).includes(host), `${name}: upstream ${host} also reaches worker ${w}`);
  const published = Object.entries(services).flatMap(([sn, s]) => (s.ports ?? []).map((p) => [sn, interpolate(String(p)).split(':').slice(0, -1).join(':')]));
  const seen = new Map();
  for (const [sn, hostPort] of published) {
    assert(!seen.has(hostPort), `${sn} and ${seen.get(hostPort)} publish the same host port ${hostPort}`);
    seen.set(hostPort, sn);
  }
  return `${host}:${port} → ${api.map(([a]) => a).join(', ')}`;
});

// ---- Kubernetes: the base's data volume ------------------------------------------------------------------------
check('k8s: the Deployment mounts a ReadWriteOnce volume at Storage__DataDirectory and never runs two pods on it', () => {
  const cm = one('ConfigMap');
  const dir = cm.data?.Storage__DataDirectory ?? imageDataDir;
  assert(dir, 'no Storage__DataDirectory in the ConfigMap or the image');
  const pod = deployment().spec.template.spec;
  const mount = (container().volumeMounts ?? []).find((m) => m.mountPath === dir);
  assert(mount && !mount.readOnly, `no writable volume mounted at Storage__DataDirectory ${dir}`);
  const claim = (pod.volumes ?? []).find((v) => v.name === mount.name)?.persistentVolumeClaim?.claimName;
  assert(claim, `${dir} is not a PersistentVolumeClaim: predictions would not survive the pod`);
  const pvc = ofKind('PersistentVolumeClaim').find((c) => c.metadata.name === claim);
  assert(pvc, `claim ${claim} is not defined`);
  if ((pvc.spec.accessModes ?? []).includes('ReadWriteOnce')) {
    const strategy = deployment().spec.strategy ?? {};
    assert((deployment().spec.replicas ?? 1) === 1, 'more than one replica on a ReadWriteOnce SQLite volume');
    assert(strategy.type === 'Recreate' || String(strategy.rollingUpdate?.maxSurge) === '0', 'a rollout surges a second pod onto the ReadWriteOnce volume');
  }
  return `${claim} at ${dir}`;
});

// ---- Kubernetes: the scale overlay (deploy/k8s-scale), rendered ------------------------------------------------
// A small kustomize: resources (files, directories with a kustomization.yaml), patches (strategic merge of maps,
// `$patch: delete`), labels, namespace, images: what these kustomizations use. check.sh compares it with
// `kubectl kustomize` where kubectl is installed.
const CLUSTER_KINDS = new Set(['Namespace', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);
function loadYamlText(text, where) {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const problems = docs.flatMap((d) => [...d.errors, ...d.warnings].map((e) => e.message));
  if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);
  return docs.map((d) => d.toJS()).filter((d) => d != null);
}
function mergePatch(target, patch) {
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch') continue;
    if (v === null) delete target[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object' && !Array.isArray(target[k])) mergePatch(target[k], v);
    else target[k] = structuredClone(v);
  }
}
function kustomize(dir) {
  const kfile = join(dir, 'kustomization.yaml');
  const kust = loadYaml(kfile)[0];
  let out = [];
  for (const r of kust.resources ?? []) {
    const p = join(dir, r);
    assert(existsSync(p), `${rel(kfile)} lists ${r}, which does not exist`);
    if (statSync(p).isDirectory()) out.push(...kustomize(p));
    else out.push(...loadYaml(p).map((doc) => ({ file: p, doc: structuredClone(doc) })));
  }
  for (const [i, patch] of (kust.patches ?? []).entries()) {
    const docs = patch.path ? loadYaml(join(dir, patch.path)) : loadYamlText(patch.patch ?? '', `${rel(kfile)} patches[${i}]`);
    for (const pd of docs) {
      const t = patch.target ?? { kind: pd.kind, name: pd.metadata?.name };
      const hits = out.filter(({ doc }) => (!t.kind || doc.kind === t.kind) && (!t.name || doc.metadata?.name === t.name));
      assert(hits.length > 0, `${rel(kfile)} patches[${i}] (${t.kind}/${t.name}) matches no resource`);
      if (pd.$patch === 'delete') out = out.filter((x) => !hits.includes(x));
      else for (const { doc } of hits) mergePatch(doc, pd);
    }
  }
  for (const { doc } of out) {
    for (const l of kust.labels ?? []) doc.metadata.labels = { ...(doc.metadata.labels ?? {}), ...l.pairs };
    if (kust.namespace && !CLUSTER_KINDS.has(doc.kind)) doc.metadata.namespace = kust.namespace;
    for (const c of doc.spec?.template?.spec?.containers ?? []) {
      const [name, tag] = [c.image.replace(/:[^/:]*$/, ''), c.image.match(/:([^/:]*)$/)?.[1]];
      const img = (kust.images ?? []).find((i) => i.name === name);
      if (img) c.image = `${img.newName ?? name}:${img.newTag ?? tag ?? 'latest'}`;
    }
  }
  return out;
}

const scaleDir = join(ROOT, 'deploy/k8s-scale');
let scale = [];
check('k8s scale overlay: renders (kustomize: base + overlay, patches, namespace, images)', () => {
  scale = kustomize(scaleDir);
  const listed = new Set(scale.map((x) => x.file));
  const unused = readdirSync(scaleDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .filter((f) => !listed.has(join(scaleDir, f)) && !(loadYaml(join(scaleDir, 'kustomization.yaml'))[0].patches ?? []).some((p) => p.path === f));
  assert(unused.length === 0, `not in kustomization.yaml: ${unused.join(', ')}`);
  for (const { doc } of scale) assert(doc.apiVersion && doc.kind && doc.metadata?.name, `${doc.kind}/${doc.metadata?.name} lacks apiVersion/kind/metadata.name`);
  return `${scale.length} resources`;
});
const sOf = (kind) => scale.filter((x) => x.doc.kind === kind).map((x) => x.doc);
const envList = (c) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
const scaleCm = () => sOf('ConfigMap').find((c) => c.metadata.name === 'stable-diffusion-server-config');
const roleOf = (d) => envList(d.spec.template.spec.containers[0]).Server__Role?.value ?? scaleCm()?.data?.Server__Role;
const scaleRole = (role) => {
  const ds = sOf('Deployment').filter((d) => roleOf(d) === role);
  assert(ds.length === 1, `${ds.length} Deployments with Server__Role=${role}`);
  return ds[0];
};
const selectsPod = (selector, d) => Object.entries(selector ?? {}).length > 0
  && Object.entries(selector).every(([k, v]) => (d.spec.template.metadata.labels ?? {})[k] === v);
const secretHas = (name, key) => {
  const s = sOf('Secret').find((x) => x.metadata.name === name);
  return s && key in { ...(s.stringData ?? {}), ...(s.data ?? {}) };
};

check('k8s scale overlay: only api and worker Deployments (the single-box pod removed); selectors apart', () => {
  const roles = sOf('Deployment').map((d) => `${d.metadata.name}=${roleOf(d)}`);
  assert(sOf('Deployment').every((d) => ['api', 'worker'].includes(roleOf(d))), `Deployments: ${roles.join(', ')}`);
  const api = scaleRole('api');
  const worker = scaleRole('worker');
  for (const d of [api, worker]) assert(selectsPod(d.spec.selector?.matchLabels, d), `${d.metadata.name}: selector does not match its template`);
  assert(!selectsPod(api.spec.selector.matchLabels, worker) && !selectsPod(worker.spec.selector.matchLabels, api), 'api and worker selectors overlap');
  assert(!sOf('PersistentVolumeClaim').some((c) => (c.spec.accessModes ?? []).includes('ReadWriteOnce')
    && [api, worker].some((d) => (d.spec.template.spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === c.metadata.name))),
  'a replicated Deployment mounts a ReadWriteOnce claim');
  return roles.join(', ');
});

check('k8s scale overlay: api and worker pods are valid, locked-down servers on Redis with probes on /health/ready', () => {
  const cm = scaleCm();
  assert(cm, 'no ConfigMap stable-diffusion-server-config');
  for (const d of [scaleRole('api'), scaleRole('worker')]) {
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    const n = d.metadata.name;
    assert((c.envFrom ?? []).some((e) => e.configMapRef?.name === cm.metadata.name), `${n} does not load the ConfigMap`);
    const env = { ...cm.data, ...Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? ''])) };
    checkSettings(`k8s scale ${n}`, env);
    checkListening(`k8s scale ${n}`, env);
    assert(/^redis$/i.test(env.Storage__Backend ?? ''), `${n}: Storage__Backend is ${env.Storage__Backend}`);
    const ports = (c.ports ?? []).flatMap((p) => [p.name, p.containerPort]);
    for (const [probe, path] of [['readinessProbe', '/health/ready'], ['livenessProbe', '/health/live']]) {
      assert(c[probe]?.httpGet?.path === path, `${n}: ${probe} is ${c[probe]?.httpGet?.path}, expected ${path}`);
      assert(ports.includes(c[probe].httpGet.port), `${n}: ${probe} port ${c[probe].httpGet.port} is not a container port`);
    }
    const sc = { ...(pod.securityContext ?? {}), ...(c.securityContext ?? {}) };
    assert(sc.runAsNonRoot === true && sc.runAsUser === dockerUid, `${n}: not runAsNonRoot with runAsUser ${dockerUid}`);
    assert(c.securityContext?.readOnlyRootFilesystem === true, `${n}: readOnlyRootFilesystem is not true`);
    assert(c.securityContext?.allowPrivilegeEscalation === false, `${n}: allowPrivilegeEscalation is not false`);
    const mounts = Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    const volumes = Object.fromEntries((pod.volumes ?? []).map((v) => [v.name, v]));
    for (const dir of ['/cache', '/tmp']) assert(volumes[mounts[dir]?.name]?.emptyDir, `${n}: ${dir} is not an emptyDir`);
    if (mounts['/models']) assert(mounts['/models'].readOnly === true, `${n}: /models is not read-only`);
  }
});

check('k8s scale overlay: Redis connection and signing key from Secrets, the same for api and workers', () => {
  const refs = (d) => Object.fromEntries(['Storage__Redis', 'Outputs__SigningKey'].map((k) => {
    const ref = envList(d.spec.template.spec.containers[0])[k]?.valueFrom?.secretKeyRef;
    assert(ref, `${d.metadata.name}: ${k} is not read from a Secret`);
    assert(ref.optional !== true, `${d.metadata.name}: ${k} is optional`);
    assert(secretHas(ref.name, ref.key), `${d.metadata.name}: ${k} reads ${ref.name}/${ref.key}, which the overlay does not define`);
    return [k, `${ref.name}/${ref.key}`];
  }));
  const a = refs(scaleRole('api'));
  const w = refs(scaleRole('worker'));
  assert(JSON.stringify(a) === JSON.stringify(w), `api reads ${JSON.stringify(a)}, workers ${JSON.stringify(w)}`);
  return Object.values(a).join(', ');
});

check('k8s scale overlay: worker Deployment requests a GPU; api Deployment does not and scales on CPU', () => {
  const worker = scaleRole('worker');
  const api = scaleRole('api');
  assert(Number(worker.spec.template.spec.containers[0].resources?.limits?.['nvidia.com/gpu']) >= 1, 'worker requests no nvidia.com/gpu');
  assert(!api.spec.template.spec.containers[0].resources?.limits?.['nvidia.com/gpu'], 'api requests a GPU');
  const hpa = sOf('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef?.name === api.metadata.name);
  assert(hpa, `no HorizontalPodAutoscaler targets ${api.metadata.name}`);
  assert(hpa.spec.scaleTargetRef.kind === 'Deployment', 'HPA target is not a Deployment');
  assert((hpa.spec.metrics ?? []).some((m) => m.resource?.name === 'cpu'), 'HPA has no cpu metric');
  assert(!sOf('HorizontalPodAutoscaler').some((h) => h.spec.scaleTargetRef?.name === worker.metadata.name), 'an HPA also targets the workers (KEDA owns them)');
});

check('k8s scale overlay: shared outputs at Storage__DataDirectory (ReadWriteMany claim) or S3', () => {
  const cm = scaleCm();
  const dir = cm.data?.Storage__DataDirectory ?? imageDataDir;
  if (/^s3$/i.test(cm.data?.Outputs__Backend ?? '')) {
    assert(cm.data.Outputs__S3__Bucket, 'Outputs__Backend S3 without Outputs__S3__Bucket');
    return 'S3';
  }
  const claims = [scaleRole('api'), scaleRole('worker')].map((d) => {
    const c = d.spec.template.spec.containers[0];
    const m = (c.volumeMounts ?? []).find((x) => x.mountPath === dir);
    assert(m && !m.readOnly, `${d.metadata.name}: no writable volume at Storage__DataDirectory ${dir}`);
    const claim = (d.spec.template.spec.volumes ?? []).find((v) => v.name === m.name)?.persistentVolumeClaim?.claimName;
    assert(claim, `${d.metadata.name}: ${dir} is not a PersistentVolumeClaim`);
    return claim;
  });
  assert(claims[0] === claims[1], `api and workers write outputs to different claims: ${claims.join(', ')}`);
  const pvc = sOf('PersistentVolumeClaim').find((c) => c.metadata.name === claims[0]);
  assert(pvc, `claim ${claims[0]} is not defined`);
  assert((pvc.spec.accessModes ?? []).includes('ReadWriteMany'), `${claims[0]} is not ReadWriteMany`);
  return `${claims[0]} at ${dir}`;
});

check('k8s scale overlay: Redis StatefulSet with AOF on a PersistentVolumeClaim, noeviction, behind a Service', () => {
  const sts = sOf('StatefulSet');
  assert(sts.length === 1, `${sts.length} StatefulSets`);
  const r = sts[0];
  const c = r.spec.template.spec.containers[0];
  const cmd = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
  assert(/--appendonly[ =]"?yes/.test(cmd), `command/args "${cmd}" do not turn AOF on (--appendonly yes)`);
  assert(/--maxmemory-policy[ =]"?noeviction/.test(cmd), 'no --maxmemory-policy noeviction');
  const dir = cmd.match(/--dir[ =](\S+)/)?.[1] ?? '/data';
  const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === dir);
  assert(mount, `nothing mounted at the data directory ${dir}`);
  assert((r.spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === mount.name), `${dir} is not a volumeClaimTemplate (AOF lost with the pod)`);
  const svc = sOf('Service').find((s) => selectsPod(s.spec.selector, r));
  assert(svc, 'no Service selects the Redis pods');
  const pw = c.env?.find((e) => e.name === cmd.match(/--requirepass \$\((\w+)\)/)?.[1])?.valueFrom?.secretKeyRef;
  if (/--requirepass/.test(cmd)) assert(pw && secretHas(pw.name, pw.key), 'requirepass is not read from a Secret the overlay defines');
  const sc = { ...(r.spec.template.spec.securityContext ?? {}), ...(c.securityContext ?? {}) };
  assert(sc.runAsNonRoot === true && c.securityContext?.readOnlyRootFilesystem === true && c.securityContext?.allowPrivilegeEscalation === false,
    'Redis is not non-root with a read-only root filesystem (the namespace enforces "restricted")');
  return `${r.metadata.name}, Service ${svc.metadata.name}`;
});

check('k8s scale overlay: the example Secret points Storage__Redis at the bundled Redis with its password', () => {
  const r = sOf('StatefulSet')[0];
  const svc = sOf('Service').find((s) => selectsPod(s.spec.selector, r));
  const secret = sOf('Secret').find((s) => s.metadata.name === 'stable-diffusion-server-storage');
  assert(secret, 'no Secret stable-diffusion-server-storage');
  const d = secret.stringData ?? {};
  const [endpoint, ...options] = String(d.redis ?? '').split(',');
  const [host, port] = endpoint.split(':');
  assert(host === svc.metadata.name || host.startsWith(`${svc.metadata.name}.`), `Storage__Redis host ${host} is not the Service ${svc.metadata.name}`);
  assert(svc.spec.ports.some((p) => p.port === Number(port ?? 6379)), `Storage__Redis port ${port} is not the Service's`);
  assert(options.includes(`password=${d['redis-password']}`), 'Storage__Redis does not carry redis-password');
  assert(String(d['signing-key'] ?? '').length >= 32, 'signing-key is shorter than 32 characters');
});

check('k8s scale overlay: KEDA ScaledObject scales the worker Deployment on redis-streams sd:queue / workers (lag + pending)', () => {
  const worker = scaleRole('worker');
  assert(sOf('ScaledJob').length === 0, 'a ScaledJob: workers load models for minutes and must be long-lived');
  const so = sOf('ScaledObject');
  assert(so.length === 1, `${so.length} ScaledObjects`);
  const s = so[0];
  assert(s.apiVersion === 'keda.sh/v1alpha1', `apiVersion ${s.apiVersion}`);
  const ref = s.spec.scaleTargetRef ?? {};
  assert(ref.name === worker.metadata.name && (ref.kind ?? 'Deployment') === 'Deployment', `scaleTargetRef ${ref.kind}/${ref.name}, expected Deployment/${worker.metadata.name}`);
  const triggers = s.spec.triggers ?? [];
  assert(triggers.length > 0 && triggers.every((t) => t.type === 'redis-streams'), `triggers: ${triggers.map((t) => t.type).join(', ')}`);
  const r = sOf('StatefulSet')[0];
  const svc = r && sOf('Service').find((x) => selectsPod(x.spec.selector, r));
  for (const t of triggers) {
    const m = t.metadata ?? {};
    assert(m.stream === 'sd:queue', `stream ${m.stream}, expected sd:queue (Storage__RedisPrefix sd: + queue)`);
    assert(m.consumerGroup === 'workers', `consumerGroup ${m.consumerGroup}, expected workers`);
    for (const [k, v] of Object.entries(m)) assert(typeof v === 'string', `metadata.${k} is not a string`);
    if (svc) {
      const ns = svc.metadata.namespace;
      assert(m.address === `${svc.metadata.name}.${ns}.svc.cluster.local:${svc.spec.ports[0].port}` || m.address === `${svc.metadata.name}.${ns}.svc:${svc.spec.ports[0].port}`,
        `address ${m.address}: the KEDA operator runs in its own namespace, it needs ${svc.metadata.name}.${ns}.svc.cluster.local:${svc.spec.ports[0].port}`);
    }
    const auth = sOf('TriggerAuthentication').find((a) => a.metadata.name === t.authenticationRef?.name);
    if (/--requirepass/.test((r?.spec.template.spec.containers[0].args ?? []).join(' '))) {
      assert(auth, `trigger ${t.name ?? ''}: no TriggerAuthentication ${t.authenticationRef?.name}`);
      const pw = (auth.spec.secretTargetRef ?? []).find((x) => x.parameter === 'password');
      assert(pw && secretHas(pw.name, pw.key), 'TriggerAuthentication password is not a key of a Secret the overlay defines');
    }
  }
  // KEDA reads one mode per trigger: lagCount (XINFO GROUPS lag) wins over pendingEntriesCount, so lag and pending
  // need a trigger each.
  const lag = triggers.find((t) => t.metadata.lagCount !== undefined);
  const pending = triggers.find((t) => t.metadata.pendingEntriesCount !== undefined && t.metadata.lagCount === undefined);
  assert(lag, 'no trigger with lagCount (consumer-group lag: jobs waiting)');
  assert(lag.metadata.activationLagCount !== undefined, 'the lag trigger lacks activationLagCount');
  assert(pending, 'no trigger with pendingEntriesCount and without lagCount (pending entries: jobs running)');
  for (const [k, v] of [['lagCount', lag.metadata.lagCount], ['pendingEntriesCount', pending.metadata.pendingEntriesCount]]) {
    assert(/^[1-9]\d*$/.test(v), `${k} "${v}" is not a positive integer`);
  }
  const min = s.spec.minReplicaCount ?? 0;
  const max = s.spec.maxReplicaCount ?? 100;
  assert(max >= Math.max(min, 1), `maxReplicaCount ${max} < minReplicaCount ${min}`);
  return `${worker.metadata.name}, ${min}..${max}, lagCount ${lag.metadata.lagCount}, pendingEntriesCount ${pending.metadata.pendingEntriesCount}`;
});

check('k8s scale overlay: the Ingress Service reaches api pods only; PodDisruptionBudgets for api and workers', () => {
  const api = scaleRole('api');
  const worker = scaleRole('worker');
  const ing = sOf('Ingress')[0];
  assert(ing, 'no Ingress');
  for (const path of ing.spec.rules.flatMap((r) => r.http.paths)) {
    const svc = sOf('Service').find((s) => s.metadata.name === path.backend.service.name);
    assert(svc, `Ingress backend ${path.backend.service.name} is not a Service of the overlay`);
    assert(selectsPod(svc.spec.selector, api), `Service ${svc.metadata.name} does not select the api pods`);
    assert(!selectsPod(svc.spec.selector, worker), `Service ${svc.metadata.name} also selects worker pods`);
    const targets = (api.spec.template.spec.containers[0].ports ?? []).flatMap((p) => [p.name, p.containerPort]);
    for (const p of svc.spec.ports) assert(targets.includes(p.targetPort), `Service targetPort ${p.targetPort} unknown to the api pods`);
  }
  const pdbs = sOf('PodDisruptionBudget');
  for (const d of [api, worker]) {
    const mine = pdbs.filter((p) => selectsPod(p.spec.selector?.matchLabels, d));
    assert(mine.length === 1, `${mine.length} PodDisruptionBudgets select ${d.metadata.name}`);
    const pdb = mine[0];
    if (pdb.spec.minAvailable !== undefined) {
      assert(Number(pdb.spec.minAvailable) < (d === api ? sOf('HorizontalPodAutoscaler')[0]?.spec.minReplicas ?? d.spec.replicas : 1),
        `${pdb.metadata.name}: minAvailable ${pdb.spec.minAvailable} blocks every drain`);
    } else {
      assert(Number(pdb.spec.maxUnavailable) >= 1, `${pdb.metadata.name}: maxUnavailable < 1 blocks every drain`);
    }
  }
});

check('k8s scale overlay: server images rewritten like the base (kustomization images)', () => {
  const baseKust = docsOf('deploy/k8s/kustomization.yaml')[0];
  const img = (baseKust.images ?? []).find((i) => i.name === 'stable-diffusion-server');
  assert(img, 'the base kustomization does not set the server image');
  const expected = `${img.newName}:${img.newTag}`;
  for (const d of [scaleRole('api'), scaleRole('worker')]) {
    const got = d.spec.template.spec.containers[0].image;
    assert(got === expected, `${d.metadata.name} runs ${got}, the base ${expected}`);
  }
  for (const c of sOf('StatefulSet').flatMap((s) => s.spec.template.spec.containers)) {
    assert(/:[0-9]+\.[0-9]+\.[0-9]+/.test(c.image), `${c.image} is not pinned to a full version`);
  }
  return expected;
});

// `kubectl kustomize` output (check.sh, where kubectl exists) against this file's rendering.
for (const [label, envName, render] of [['deploy/k8s', 'SD_KUSTOMIZE_BASE', () => kustomize(k8sDir)], ['deploy/k8s-scale', 'SD_KUSTOMIZE_SCALE', () => scale]]) {
  if (!process.env[envName]) continue;
  check(`${label}: kubectl kustomize renders the same resources, namespaces and images as check.mjs`, () => {
    const key = (d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name} ${(d.spec?.template?.spec?.containers ?? []).map((c) => c.image).join(',')}`;
    const theirs = loadYaml(process.env[envName]).map(key).sort();
    const ours = render().map((x) => key(x.doc)).sort();
    const diff = [...theirs.filter((k) => !ours.includes(k)).map((k) => `kubectl only: ${k}`), ...ours.filter((k) => !theirs.includes(k)).map((k) => `check.mjs only: ${k}`)];
    assert(diff.length === 0, diff.join('; '));
    return `${theirs.length} resources`;
  });
}

if (pendingUsed.size) {
  console.log(`NOTE settings used by the deployment files that the server does not bind yet (issue 10): ${[...pendingUsed].sort().join(', ')}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
