// The playground page in a real headless Chromium (Debian's, driven by playwright-core; no browser download), served
// by the real server (run.sh) through a small reverse proxy that mounts it under /sd/ as nginx does, so every URL the
// page uses must be relative.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { chromium } from 'playwright-core';

const server = new URL(process.env.SD_SERVER_URL);
const apiKey = process.env.SD_API_KEY;
const screenshot = process.env.SD_SCREENSHOT;
assert.ok(server && apiKey && screenshot, 'run through run.sh');

let browser;
let proxy;
let proxyUrl;
const origins = [];

// Mounts the server under /sd/ with the X-Forwarded-* headers a proxy sends; streams (SSE) pass through unbuffered.
function startPrefixProxy() {
  return new Promise(resolve => {
    const p = http.createServer((req, res) => {
      if (!req.url.startsWith('/sd/')) {
        res.writeHead(404).end('outside /sd/');
        return;
      }
      const upstream = http.request({
        host: server.hostname, port: server.port, method: req.method, path: req.url.slice(3),
        headers: { ...req.headers, 'x-forwarded-prefix': '/sd', 'x-forwarded-host': req.headers.host, 'x-forwarded-proto': 'http' },
      }, up => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    p.listen(0, '127.0.0.1', () => resolve(p));
  });
}

// A page on another origin (its own port), for the cross-origin checks.
function startOrigin(port) {
  return new Promise(resolve => {
    const o = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other origin</title>'));
    o.listen(port, '127.0.0.1', () => resolve(o));
  });
}

before(async () => {
  proxy = await startPrefixProxy();
  proxyUrl = `http://127.0.0.1:${proxy.address().port}/sd/`;
  origins.push(await startOrigin(Number(process.env.SD_ALLOWED_ORIGIN_PORT)));
  origins.push(await startOrigin(Number(process.env.SD_OTHER_ORIGIN_PORT)));
  browser = await chromium.launch({
    executablePath: process.env.SD_CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  for (const s of [proxy, ...origins]) s?.close();
});

test('the page generates with live progress, shows the image with its parameters, and cancels a slow job', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const failures = [];
  page.on('requestfailed', r => {
    // The page closes each event stream itself once 'done' arrived: an aborted stream is not a failure.
    if (!(r.url().endsWith('/stream') && r.failure()?.errorText === 'net::ERR_ABORTED')) failures.push(`${r.failure()?.errorText} ${r.url()}`);
  });
  page.on('response', r => { if (r.status() >= 500) failures.push(`${r.status()} ${r.url()}`); });
  const outside = [];
  page.on('request', r => { if (!r.url().startsWith(proxyUrl)) outside.push(r.url()); });

  await page.goto(proxyUrl);
  // The server requires a key: the page says so until one is entered, then lists the models.
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('API key'));
  await page.fill('#api-key', apiKey);
  await page.dispatchEvent('#api-key', 'change');
  await page.waitForFunction(() => document.querySelectorAll('#model option').length > 0);
  assert.equal(await page.evaluate(() => localStorage.getItem('sd-playground-api-key')), apiKey);

  // Record every value the progress bar takes (a reflected attribute, so a MutationObserver sees each step).
  await page.evaluate(() => {
    const bar = document.getElementById('progress');
    window.progressSeen = [];
    new MutationObserver(() => window.progressSeen.push(Number(bar.value))).observe(bar, { attributes: true });
  });
  await page.fill('#prompt', 'a lighthouse on a cliff at dusk');
  await page.fill('#negative-prompt', 'fog');
  await page.selectOption('#size', '256x256');
  await page.fill('#steps', '40');
  await page.selectOption('#scheduler', 'K_EULER');
  await page.fill('#seed', '1234');
  await page.click('#generate');
  await page.waitForSelector('#run[data-state="succeeded"]', { timeout: 120_000 });

  const seen = await page.evaluate(() => window.progressSeen);
  assert.ok(seen.some(v => v > 0 && v < 100), `the bar moved through intermediate values: ${seen}`);
  assert.equal(seen.at(-1), 100);
  const figure = page.locator('#gallery figure').first();
  const size = await figure.locator('img').evaluate(async img => {
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
  });
  assert.deepEqual(size, [256, 256]);
  const caption = await figure.locator('figcaption').innerText();
  for (const text of ['a lighthouse on a cliff at dusk', 'fog', '256 × 256', '40', 'K_EULER', '1234']) {
    assert.ok(caption.includes(text), `caption shows ${text}: ${caption}`);
  }
  const download = figure.locator('a[download]');
  assert.equal(await download.getAttribute('download'), 'sd-1234.png');
  const href = await download.getAttribute('href');
  // Output links are signed and expire with the prediction (DESIGN §9).
  assert.match(href, /^v1\/files\/[a-z2-7]+\?expires=\d+&sig=[A-Za-z0-9_-]+$/);
  const file = await page.request.get(new URL(href, proxyUrl).toString());
  assert.equal(file.headers()['content-type'], 'image/png');

  // A slow job: cancel it while it runs.
  await page.selectOption('#size', '512x512');
  await page.fill('#steps', '999');
  await page.fill('#seed', '');
  await page.click('#generate');
  await page.waitForFunction(() => document.getElementById('run').dataset.state === 'running' && document.getElementById('progress').value > 0,
    null, { timeout: 120_000 });
  await page.click('#cancel');
  await page.waitForSelector('#run[data-state="canceled"]', { timeout: 60_000 });
  assert.equal(await page.locator('#gallery figure').count(), 1, 'the canceled job added no image');
  assert.ok(await page.locator('#progress').evaluate(bar => bar.value < 100));

  await page.screenshot({ path: screenshot, fullPage: true });
  assert.deepEqual(failures, []);
  assert.deepEqual(outside, [], 'every request stayed under the /sd/ prefix');
  await page.close();
});

async function crossOriginFetch(originPort) {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${originPort}/`);
  const result = await page.evaluate(async ({ api, key }) => {
    try {
      // JSON and Authorization make this a preflighted request.
      const response = await fetch(`${api}/v1/images/generations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
        body: JSON.stringify({ prompt: 'a cat', size: '64x64', steps: 2, response_format: 'b64_json' }),
      });
      const body = await response.json();
      return { status: response.status, images: body.data.length };
    } catch (error) {
      return { error: `${error.name}: ${error.message}` };
    }
  }, { api: server.origin, key: apiKey });
  await page.close();
  return result;
}

test('a page on a configured origin can call the API across origins (preflight included)', async () => {
  assert.deepEqual(await crossOriginFetch(process.env.SD_ALLOWED_ORIGIN_PORT), { status: 200, images: 1 });
});

test('a page on another origin is refused by the browser', async () => {
  const result = await crossOriginFetch(process.env.SD_OTHER_ORIGIN_PORT);
  assert.match(result.error ?? '', /TypeError/);
});
