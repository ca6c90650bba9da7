// Checks StableDiffusion.Server THROUGH the deploy/nginx reverse proxy (prefix /sd), with the server reachable
// directly too for comparison. Node's own http module only: paths are sent exactly as written (no URL
// normalisation), and every SSE chunk gets its own arrival time.
//
//   PROXY_URL   http://127.0.0.1:PROXYPORT/sd   (no trailing slash)
//   DIRECT_URL  http://127.0.0.1:SERVERPORT
//   SD_SSE_INPUT    optional JSON merged into the SSE job's input (e.g. {"num_inference_steps":150,"width":512})
//   SD_SSE_MIN_RUN  seconds a prediction must run for the SSE timing to be conclusive (default 1)
//   SD_API_KEY      the server's API key, if it has one: sent on /v1 requests except those that must work without
//                   it (output files, streams: their ids are the credential), and checked to be required
//
// Prints one line per check and ends with "N passed, N failed"; exits 1 if any failed.
import http from 'node:http';
import { randomBytes } from 'node:crypto';

const PROXY = (process.env.PROXY_URL ?? '').replace(/\/$/, '');
const DIRECT = (process.env.DIRECT_URL ?? '').replace(/\/$/, '');
if (!PROXY || !DIRECT) {
  console.error('PROXY_URL and DIRECT_URL must be set');
  process.exit(2);
}
const MIN_RUN_SECONDS = Number(process.env.SD_SSE_MIN_RUN ?? '1');
const API_KEY = process.env.SD_API_KEY ?? '';
const PROMPT = 'a lighthouse on a cliff at dusk';

let passed = 0;
let failed = 0;
function pass(name, detail = '') {
  passed++;
  console.log(`PASS ${name}${detail ? ` (${detail})` : ''}`);
}
function fail(name, why) {
  failed++;
  console.log(`FAIL ${name}: ${why}`);
}
async function check(name, fn) {
  try {
    const detail = await fn();
    pass(name, detail);
  } catch (e) {
    fail(name, e?.message ?? String(e));
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** One HTTP request; `path` is appended to the origin of `base` verbatim. */
function request(method, base, path, { headers = {}, body, timeoutMs = 180_000, auth = true } = {}) {
  const origin = new URL(base);
  const basePath = origin.pathname.replace(/\/$/, '');
  if (auth && API_KEY) headers = { Authorization: `Bearer ${API_KEY}`, ...headers };
  if (body !== undefined) headers = { ...headers, 'Content-Length': Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: origin.hostname, port: origin.port, method, path: basePath + path, headers, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** GET on an absolute URL (as found in a prediction). */
function getAbsolute(url, options = {}) {
  const u = new URL(url);
  return request('GET', `${u.protocol}//${u.host}`, u.pathname + u.search, options);
}

function json(res) {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new Error(`status ${res.status}, body is not JSON: ${res.body.toString('utf8').slice(0, 200)}`);
  }
}

function createPrediction(input, { wait = false } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (wait) headers.Prefer = 'wait';
  return request('POST', PROXY, '/v1/predictions', { headers, body: JSON.stringify({ input }) });
}

/** Reads an SSE stream, recording each event with the time (ms since `t0`) its last byte arrived. */
function readEvents(base, path, t0, timeoutMs = 600_000) {
  const origin = new URL(base);
  const basePath = origin.pathname.replace(/\/$/, '');
  return new Promise((resolve, reject) => {
    const events = [];
    const req = http.request(
      {
        host: origin.hostname, port: origin.port, method: 'GET', path: basePath + path, agent: false,
        headers: { Accept: 'text/event-stream' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`stream answered ${res.statusCode}`));
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          const at = performance.now() - t0;
          buffer += chunk.replace(/\r\n/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            }
            if (block.trim() !== '' && !block.startsWith(':')) events.push({ event, data: data.join('\n'), at });
            if (event === 'done') req.destroy();
          }
        });
        res.on('end', () => resolve({ events, contentType: res.headers['content-type'] }));
        res.on('close', () => resolve({ events, contentType: res.headers['content-type'] }));
        res.on('error', () => resolve({ events, contentType: res.headers['content-type'] }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`stream: no data for ${timeoutMs} ms`)));
    req.on('error', (e) => (events.some((x) => x.event === 'done') ? resolve({ events }) : reject(e)));
    req.end();
  });
}

const seconds = (a, b) => (Date.parse(b) - Date.parse(a)) / 1000;

// ---------------------------------------------------------------------------------------------------------------

await check('readiness answers through the proxy', async () => {
  const res = await request('GET', PROXY, '/health/ready');
  assert(res.status === 200, `GET /sd/health/ready answered ${res.status}`);
});

await check('/sd redirects to /sd/ with a relative Location', async () => {
  const origin = new URL(PROXY);
  const res = await request('GET', `${origin.protocol}//${origin.host}`, origin.pathname);
  assert(res.status === 301, `status ${res.status}`);
  assert(res.headers.location === `${origin.pathname}/`, `Location ${res.headers.location}`);
});

await check('the root page answers through the proxy as it does directly', async () => {
  // The playground (wwwroot) may not be in every build: what matters here is that the proxy passes it on.
  const [page, direct] = await Promise.all([request('GET', PROXY, '/'), request('GET', DIRECT, '/')]);
  assert(page.status === direct.status, `GET /sd/ answered ${page.status}, GET / directly ${direct.status}`);
  // (Error bodies carry a per-request trace id: only a page must be byte-identical.)
  if (direct.status === 200) assert(page.body.equals(direct.body), 'GET /sd/ and GET / directly answered different pages');
  if (page.status !== 200) return `${page.status}${page.status === 404 ? ': no playground in this build' : ''}`;
  // Under a prefix every asset and link of the page must resolve back through the proxy: a root-absolute
  // "/playground.js" would go to nginx's own / instead of the server.
  const refs = [...page.body.toString('utf8').matchAll(/\b(?:src|href)="([^"#]+)"/g)].map((m) => m[1])
    .filter((r) => !/^(?:[a-z]+:|\/\/)/i.test(r));
  const broken = [];
  for (const ref of refs) {
    const url = new URL(ref, `${PROXY}/`).href;
    const res = await getAbsolute(url, { auth: false });
    if (!url.startsWith(`${PROXY}/`) || res.status >= 400) broken.push(`${ref} -> ${url} ${res.status}`);
  }
  assert(broken.length === 0, `page references that do not resolve through the proxy: ${broken.join(', ')}`);
  return `200, ${refs.length} reference(s) resolve: ${refs.join(', ')}`;
});

await check('OpenAPI document is served under the prefix, with the prefix as its server', async () => {
  const res = await request('GET', PROXY, '/openapi/v1.json');
  assert(res.status === 200, `GET /sd/openapi/v1.json answered ${res.status}`);
  const doc = json(res);
  assert(doc.openapi && doc.paths, 'not an OpenAPI document');
  // "Try it out" and generated clients call servers[0].url + path: it must lead back through the proxy.
  const servers = (doc.servers ?? []).map((s) => new URL(s.url, `${PROXY}/openapi/v1.json`).href.replace(/\/$/, ''));
  assert(servers.length === 0 || servers[0] === PROXY, `servers[0] resolves to ${servers[0]}, expected ${PROXY}`);
  return servers.length ? `servers[0] ${servers[0]}` : 'no servers (paths resolve against the document URL)';
});

await check('Swagger UI under the prefix loads its OpenAPI document through the proxy', async () => {
  const page = `${PROXY}/swagger/index.html`;
  const ui = await getAbsolute(page);
  assert(ui.status === 200, `GET ${page} answered ${ui.status}`);
  // Swashbuckle writes the UI's configuration (the document URLs) into index.js; relative URLs resolve against
  // the page, absolute paths against the host, where nothing but /sd/ leads to the server.
  const script = await getAbsolute(new URL('index.js', page).href);
  const config = `${ui.body}\n${script.status === 200 ? script.body : ''}`;
  const urls = [...config.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
  assert(urls.length > 0, 'no document "url" in the Swagger UI configuration');
  for (const url of urls) {
    const absolute = new URL(url, page).href;
    const res = await getAbsolute(absolute);
    assert(res.status === 200, `the UI fetches "${url}" = ${absolute}, which answers ${res.status} through the proxy ` +
      '(an absolute path skips the /sd prefix: the SwaggerEndpoint URL must be relative, e.g. "../openapi/v1.json")');
    assert(json(res).openapi, `${absolute} is not an OpenAPI document`);
  }
  return urls.join(', ');
});

let waited;
await check('create with Prefer: wait succeeds through the proxy', async () => {
  const res = await createPrediction({ prompt: PROMPT, num_inference_steps: 4, seed: 42 }, { wait: true });
  assert(res.status === 201 || res.status === 200, `status ${res.status}: ${res.body.toString().slice(0, 300)}`);
  waited = json(res);
  assert(waited.status === 'succeeded', `prediction status ${waited.status}, error ${JSON.stringify(waited.error)}`);
  return `id ${waited.id}`;
});

await check('prediction URLs carry the proxy scheme, host and prefix', async () => {
  assert(waited, 'no prediction (previous check failed)');
  const expected = `${PROXY}/v1/predictions/${waited.id}`;
  assert(waited.urls?.get === expected, `urls.get is ${waited.urls?.get}, expected ${expected}`);
  for (const key of ['cancel', 'stream']) {
    const url = waited.urls?.[key];
    if (url !== undefined) assert(url.startsWith(`${expected}`), `urls.${key} is ${url}`);
  }
  return expected;
});

await check('urls.get works when fetched', async () => {
  assert(waited, 'no prediction (previous check failed)');
  const res = await getAbsolute(waited.urls.get);
  assert(res.status === 200, `GET ${waited.urls.get} answered ${res.status}`);
  const again = json(res);
  assert(again.id === waited.id, `answered prediction ${again.id}`);
  assert(again.urls?.get === waited.urls.get, `urls.get changed to ${again.urls?.get}`);
});

await check('output file URLs carry the proxy prefix and serve PNGs', async () => {
  assert(waited, 'no prediction (previous check failed)');
  const output = Array.isArray(waited.output) ? waited.output : [waited.output];
  assert(output.length > 0 && output.every((o) => typeof o === 'string'), `output is ${JSON.stringify(output)}`);
  for (const url of output) {
    assert(url.startsWith(`${PROXY}/`), `output URL ${url.slice(0, 120)} does not start with ${PROXY}/`);
    // Without the API key: a file URL is its own credential (as on Replicate).
    const res = await getAbsolute(url, { auth: false });
    assert(res.status === 200, `GET ${url} answered ${res.status}`);
    assert(res.body.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
      `${url} is not a PNG (content-type ${res.headers['content-type']})`);
  }
  return `${output.length} file(s)`;
});

await check('SSE events arrive incrementally through the proxy (not buffered to the end)', async () => {
  // The job must run long enough for buffering to show: escalate steps/size until the server reports a run of at
  // least MIN_RUN_SECONDS (the tiny demo model may take milliseconds per step).
  const attempts = [
    { num_inference_steps: 50 },
    { num_inference_steps: 50, width: 512, height: 512 },
    { num_inference_steps: 150, width: 512, height: 512 },
    { num_inference_steps: 500, width: 512, height: 512 },
    { num_inference_steps: 150, width: 1024, height: 1024 },
  ];
  const override = process.env.SD_SSE_INPUT ? JSON.parse(process.env.SD_SSE_INPUT) : null;
  let lastReason = '';
  for (const attempt of override ? [override] : attempts) {
    const input = { prompt: PROMPT, seed: 7, ...attempt };
    const t0 = performance.now();
    const created = await createPrediction(input);
    if (created.status === 400 || created.status === 422) {
      // Above the server's limits: the next attempt may stay within them.
      lastReason = `input ${JSON.stringify(attempt)} refused: ${created.body.toString().slice(0, 200)}`;
      continue;
    }
    assert(created.status === 201, `create answered ${created.status}: ${created.body.toString().slice(0, 300)}`);
    const prediction = json(created);
    const streamPath = `/v1/predictions/${prediction.id}/stream`;
    // The same stream read directly from the server tells server-side batching apart from proxy buffering.
    const [viaProxy, direct] = await Promise.all([
      readEvents(PROXY, streamPath, t0),
      readEvents(DIRECT, streamPath, t0).catch((e) => ({ error: e.message, events: [] })),
    ]);
    const finished = json(await request('GET', PROXY, `/v1/predictions/${prediction.id}`));
    assert(finished.status === 'succeeded', `prediction ended ${finished.status}: ${JSON.stringify(finished.error)}`);
    const run = seconds(finished.started_at, finished.completed_at);
    const firstLogs = viaProxy.events.find((e) => e.event === 'logs');
    const done = viaProxy.events.find((e) => e.event === 'done');
    assert(done, `no done event through the proxy; got ${viaProxy.events.map((e) => e.event).join(',') || 'nothing'}`);
    assert(firstLogs, `no logs event through the proxy; got ${viaProxy.events.map((e) => e.event).join(',')}`);
    assert(viaProxy.events.some((e) => e.event === 'output'), 'no output event through the proxy');
    if (!(run >= MIN_RUN_SECONDS)) {
      lastReason = `input ${JSON.stringify(attempt)} ran ${run}s, under ${MIN_RUN_SECONDS}s`;
      continue;
    }
    const gap = (done.at - firstLogs.at) / 1000;
    const directFirst = direct.events.find((e) => e.event === 'logs');
    const directDone = direct.events.find((e) => e.event === 'done');
    const directGap = directFirst && directDone ? (directDone.at - directFirst.at) / 1000 : NaN;
    const facts = `run ${run.toFixed(2)}s, proxy: first logs ${(firstLogs.at / 1000).toFixed(2)}s, ` +
      `done ${(done.at / 1000).toFixed(2)}s (gap ${gap.toFixed(2)}s); direct gap ` +
      `${Number.isNaN(directGap) ? `n/a ${direct.error ?? ''}` : `${directGap.toFixed(2)}s`}`;
    if (gap < 0.4 * run) {
      const blame = directGap >= 0.4 * run ? 'the proxy buffers the stream' : 'the server itself sends late';
      throw new Error(`first logs event only ${gap.toFixed(2)}s before done: ${blame}; ${facts}`);
    }
    assert((viaProxy.contentType ?? '').startsWith('text/event-stream'),
      `content-type through the proxy is ${viaProxy.contentType}`);
    return facts;
  }
  throw new Error(`inconclusive, no prediction ran long enough: ${lastReason}; set SD_SSE_INPUT`);
});

await check('a ~5 MB data-URI upload is not refused by nginx (413)', async () => {
  const image = `data:image/png;base64,${randomBytes(3_750_000).toString('base64')}`;
  const body = JSON.stringify({ input: { prompt: PROMPT, image, prompt_strength: 0.5 } });
  const headers = { 'Content-Type': 'application/json' };
  const [viaProxy, direct] = await Promise.all([
    request('POST', PROXY, '/v1/predictions', { headers, body }),
    request('POST', DIRECT, '/v1/predictions', { headers, body }),
  ]);
  const nginxPage = /text\/html/.test(viaProxy.headers['content-type'] ?? '') &&
    /<center>nginx<\/center>/.test(viaProxy.body.toString('utf8'));
  assert(!(viaProxy.status === 413 && nginxPage), 'nginx answered 413 (client_max_body_size too small)');
  assert(viaProxy.status === direct.status,
    `through the proxy ${viaProxy.status}, directly ${direct.status}: ${viaProxy.body.toString().slice(0, 200)}`);
  for (const r of [viaProxy, direct]) {
    if (r.status === 201 || r.status === 200) {
      const p = json(r);
      if (p.id) await request('POST', DIRECT, `/v1/predictions/${p.id}/cancel`).catch(() => {});
    }
  }
  return `${(Buffer.byteLength(body) / 1e6).toFixed(1)} MB body, server answered ${viaProxy.status} both ways`;
});

await check('API key: required through the proxy on /v1, passed on by nginx', async () => {
  if (!API_KEY) return 'no key configured (SD_API_KEY unset): skipped';
  const anonymous = await request('GET', PROXY, '/v1/models', { auth: false });
  assert(anonymous.status === 401, `GET /sd/v1/models without a key answered ${anonymous.status}`);
  const keyed = await request('GET', PROXY, '/v1/models');
  assert(keyed.status === 200, `GET /sd/v1/models with the key answered ${keyed.status}`);
  return '401 without, 200 with';
});

await check('/sd/metrics is not reachable through the proxy', async () => {
  const results = [];
  for (const path of ['/metrics', '/metrics/', '/METRICS', '//metrics', '/%6detrics', '/v1/../metrics', '/metrics?x=1']) {
    const res = await request('GET', PROXY, path);
    const exposed = res.status === 200 || /^# (TYPE|HELP) /m.test(res.body.toString('utf8'));
    assert(!exposed && (res.status === 403 || res.status === 404), `GET /sd${path} answered ${res.status}`);
    results.push(`${path} ${res.status}`);
  }
  return results.join(', ');
});

await check("the server's own /metrics works (direct, without an API key)", async () => {
  // Outside /v1: Prometheus scrapes it without credentials, the proxy keeps it private.
  const res = await request('GET', DIRECT, '/metrics', { auth: false });
  assert(res.status === 200, `GET /metrics answered ${res.status}`);
  assert(/^# (TYPE|HELP) /m.test(res.body.toString('utf8')), 'no # TYPE / # HELP lines in /metrics');
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
