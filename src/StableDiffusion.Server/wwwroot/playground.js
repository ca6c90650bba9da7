// The playground speaks the server's native (Replicate-compatible) API. Every URL is relative to the page, so it works
// at / and behind a reverse proxy that serves the server under a prefix (/sd/ → v1/... resolves to /sd/v1/...).
// Progress comes from the prediction's server-sent events: the worker logs tqdm lines ("40%|████      | 10/25 [...]").
'use strict';

const KEY_STORAGE = 'sd-playground-api-key';
const $ = id => document.getElementById(id);
const els = {
  form: $('form'), prompt: $('prompt'), negative: $('negative-prompt'), model: $('model'), size: $('size'),
  steps: $('steps'), guidance: $('guidance'), scheduler: $('scheduler'), seed: $('seed'), key: $('api-key'),
  keyBox: $('key-box'), generate: $('generate'), cancel: $('cancel'), run: $('run'), progress: $('progress'),
  status: $('status'), notice: $('notice'), gallery: $('gallery'),
};
let current = null;

function headers(json) {
  const h = {};
  if (json) h['Content-Type'] = 'application/json';
  const key = els.key.value.trim();
  if (key) h.Authorization = 'Bearer ' + key;
  return h;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.body !== undefined) });
  if (response.status === 401) {
    els.keyBox.open = true;
    throw new Error('This server requires an API key: enter it under "API key".');
  }
  return response;
}

// Output URLs are absolute as the server sees the client; keep only the part after the prefix so the page stays
// on its own origin and prefix even when the proxy's forwarded headers are not trusted.
function relative(url) {
  const at = url.indexOf('v1/files/');
  return at >= 0 ? url.slice(at) : url;
}

function setState(state, text) {
  els.run.dataset.state = state;
  els.status.textContent = text;
  const busy = state === 'queued' || state === 'running' || state === 'canceling';
  els.generate.disabled = busy;
  els.cancel.disabled = !busy || state === 'canceling';
}

function setProgress(percent) {
  els.progress.value = Math.max(0, Math.min(100, percent));
}

async function problemText(response) {
  try {
    const body = await response.json();
    if (body.errors) {
      return Object.entries(body.errors).map(([field, messages]) => `${field}: ${[].concat(messages).join('; ')}`).join(' · ');
    }
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function loadModels() {
  try {
    const response = await api('v1/models');
    if (!response.ok) throw new Error(await problemText(response));
    const page = await response.json();
    els.model.replaceChildren(...page.results.map(m => {
      const option = document.createElement('option');
      option.value = `${m.owner}/${m.name}`;
      option.textContent = m.name;
      option.title = m.description || '';
      return option;
    }));
    if (els.run.dataset.state === 'error') setState('idle', 'Idle.');
  } catch (e) {
    setState('error', e.message);
  }
}

function readInput() {
  const input = { prompt: els.prompt.value.trim() };
  if (els.negative.value.trim()) input.negative_prompt = els.negative.value.trim();
  if (els.size.value) {
    const [width, height] = els.size.value.split('x').map(Number);
    Object.assign(input, { width, height });
  }
  if (els.steps.value) input.num_inference_steps = Number(els.steps.value);
  if (els.guidance.value) input.guidance_scale = Number(els.guidance.value);
  if (els.scheduler.value) input.scheduler = els.scheduler.value;
  if (els.seed.value !== '') input.seed = Number(els.seed.value);
  return input;
}

async function generate() {
  const input = readInput();
  els.notice.hidden = true;
  setProgress(0);
  setState('queued', 'Queued…');
  let response;
  try {
    response = await api('v1/predictions', { method: 'POST', body: JSON.stringify({ version: els.model.value || undefined, input }) });
  } catch (e) {
    setState('error', e.message);
    return;
  }
  if (!response.ok) {
    setState('error', `Not started: ${await problemText(response)}`);
    return;
  }
  const prediction = await response.json();
  current = { id: prediction.id, input, model: els.model.value, done: false };
  follow(current);
}

function follow(job) {
  const source = new EventSource(`v1/predictions/${encodeURIComponent(job.id)}/stream`);
  job.source = source;
  source.addEventListener('logs', e => onLog(job, e.data));
  source.addEventListener('done', () => {
    source.close();
    finish(job);
  });
  source.addEventListener('error', e => {
    // The server's own "error" event carries data; a bare one is the connection failing: poll instead.
    if (e.data !== undefined) {
      job.error = e.data;
    } else if (!job.done) {
      source.close();
      poll(job);
    }
  });
}

function onLog(job, line) {
  const step = /(\d+)\/(\d+) \[/.exec(line);
  if (step && job === current) {
    const [done, total] = [Number(step[1]), Number(step[2])];
    setProgress(total > 0 ? (100 * done) / total : 0);
    setState('running', `Step ${done} of ${total}`);
  }
  const seed = /^Using seed: (\d+)/.exec(line);
  if (seed) job.seed = Number(seed[1]);
  const scheduler = /, scheduler ([^,]+),/.exec(line);
  if (scheduler) job.scheduler = scheduler[1];
  if (/RANDOM weights/.test(line)) {
    els.notice.textContent = 'This is the demo model with random weights: its images are noise.';
    els.notice.hidden = false;
  }
}

async function poll(job) {
  while (!job.done) {
    try {
      const response = await api(`v1/predictions/${encodeURIComponent(job.id)}`);
      const prediction = await response.json();
      if (['succeeded', 'failed', 'canceled'].includes(prediction.status)) break;
    } catch {
      // keep trying: a restarting proxy is not a failed prediction
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  finish(job);
}

async function finish(job) {
  if (job.done) return;
  job.done = true;
  let prediction;
  try {
    prediction = await (await api(`v1/predictions/${encodeURIComponent(job.id)}`)).json();
  } catch (e) {
    setState('error', e.message);
    return;
  }
  if (prediction.status === 'succeeded') {
    setProgress(100);
    const seconds = prediction.metrics && prediction.metrics.predict_time;
    setState('succeeded', `Done${seconds ? ` in ${seconds.toFixed(2)} s` : ''}.`);
    render(job, prediction);
  } else if (prediction.status === 'canceled') {
    setState('canceled', 'Canceled.');
  } else {
    setState('failed', `Failed: ${prediction.error || job.error || 'unknown error'}`);
  }
}

function render(job, prediction) {
  const input = job.input;
  prediction.output.forEach((url, index) => {
    const src = relative(url);
    const seed = job.seed !== undefined ? job.seed + index : undefined;
    const figure = document.createElement('figure');
    figure.dataset.prediction = job.id;
    const img = document.createElement('img');
    img.src = src;
    img.alt = input.prompt;
    const caption = document.createElement('figcaption');
    const prompt = document.createElement('p');
    prompt.textContent = input.prompt;
    const list = document.createElement('dl');
    const rows = [
      ['Negative', input.negative_prompt || '—'],
      ['Model', job.model || prediction.model],
      ['Size', input.width ? `${input.width} × ${input.height}` : 'native'],
      ['Steps', input.num_inference_steps],
      ['Guidance', input.guidance_scale],
      ['Scheduler', job.scheduler || input.scheduler || 'model default'],
      ['Seed', seed ?? 'random'],
    ];
    for (const [name, value] of rows) {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = String(value);
      list.append(dt, dd);
    }
    const download = document.createElement('a');
    download.href = src;
    download.download = `sd-${seed ?? job.id}.png`;
    download.textContent = 'Download PNG';
    caption.append(prompt, list, download);
    figure.append(img, caption);
    els.gallery.prepend(figure);
  });
}

async function cancel() {
  const job = current;
  if (!job || job.done) return;
  setState('canceling', 'Canceling…');
  try {
    await api(`v1/predictions/${encodeURIComponent(job.id)}/cancel`, { method: 'POST' });
  } catch (e) {
    setState('error', e.message);
  }
}

els.key.value = localStorage.getItem(KEY_STORAGE) || '';
els.key.addEventListener('change', () => {
  const key = els.key.value.trim();
  if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
  loadModels();
});
els.form.addEventListener('submit', e => {
  e.preventDefault();
  generate();
});
els.cancel.addEventListener('click', cancel);
setState('idle', 'Idle.');
loadModels();
