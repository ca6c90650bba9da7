// The official openai client, unmodified, with baseURL pointing at the server (run by run.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';

const baseURL = process.env.SD_BASE_URL;
const apiKey = process.env.SD_API_KEY;
assert.ok(baseURL && apiKey, 'run through run.sh (SD_BASE_URL and SD_API_KEY)');

// No retries: a failure must show, not be hidden by the client's backoff.
const client = new OpenAI({ apiKey, baseURL, maxRetries: 0 });
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function isPng(bytes) {
  return Buffer.compare(bytes.subarray(0, 8), PNG) === 0;
}

// Width and height from the IHDR chunk (bytes 16..23).
function pngSize(bytes) {
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('images.generate with b64_json returns n PNGs of the requested size', async () => {
  const result = await client.images.generate({
    model: 'dall-e-2', prompt: 'a lighthouse at dusk', n: 2, size: '256x256', response_format: 'b64_json',
    // our extras travel as additional body fields
    steps: 3, seed: 11, negative_prompt: 'fog', scheduler: 'K_EULER',
  });

  assert.equal(typeof result.created, 'number');
  assert.equal(result.data.length, 2);
  for (const image of result.data) {
    const bytes = Buffer.from(image.b64_json, 'base64');
    assert.ok(isPng(bytes));
    assert.deepEqual(pngSize(bytes), { width: 256, height: 256 });
    assert.equal(image.revised_prompt, 'a lighthouse at dusk');
    assert.equal(image.url, undefined);
  }
  assert.notDeepEqual(result.data[0].b64_json, result.data[1].b64_json, 'image k uses seed + k');
});

test('images.generate with url returns a URL the client can fetch', async () => {
  const result = await client.images.generate({ prompt: 'a red fox', size: '64x64', response_format: 'url', steps: 2 });

  const url = result.data[0].url;
  assert.ok(url.startsWith(baseURL + '/files/'), url);
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'image/png');
  assert.ok(isPng(Buffer.from(await response.arrayBuffer())));
});

test('the same seed gives the same image', async () => {
  const request = { prompt: 'a blue bird', size: '64x64', response_format: 'b64_json', steps: 2, seed: 99 };

  const [first, second] = [await client.images.generate(request), await client.images.generate(request)];

  assert.equal(first.data[0].b64_json, second.data[0].b64_json);
});

test('images.edit without a mask runs img2img at the input image\'s size', async () => {
  const source = await client.images.generate({ prompt: 'a house', size: '64x64', response_format: 'b64_json', steps: 2, seed: 3 });
  const image = await toFile(Buffer.from(source.data[0].b64_json, 'base64'), 'house.png', { type: 'image/png' });

  const result = await client.images.edit({ image, prompt: 'a house in snow', response_format: 'b64_json', steps: 4, strength: 0.6 });

  assert.equal(result.data.length, 1);
  const bytes = Buffer.from(result.data[0].b64_json, 'base64');
  assert.ok(isPng(bytes));
  assert.deepEqual(pngSize(bytes), { width: 64, height: 64 });
  assert.equal(result.data[0].revised_prompt, 'a house in snow');
});

test('images.edit with a mask runs inpainting', async () => {
  const source = await client.images.generate({ prompt: 'a field', size: '64x64', response_format: 'b64_json', steps: 2, seed: 4 });
  const bytes = Buffer.from(source.data[0].b64_json, 'base64');
  const image = await toFile(bytes, 'field.png', { type: 'image/png' });
  // An opaque mask is read as white = repaint (a transparent one as OpenAI's transparent = repaint).
  const mask = await toFile(bytes, 'mask.png', { type: 'image/png' });

  const result = await client.images.edit({ image, mask, prompt: 'a field with a tree', size: '64x64', response_format: 'url', steps: 4 });

  const response = await fetch(result.data[0].url);
  assert.equal(response.status, 200);
  assert.ok(isPng(Buffer.from(await response.arrayBuffer())));
});

test('an edit without an image raises BadRequestError with param "image"', async () => {
  const response = await fetch(`${baseURL}/images/edits`, {
    method: 'POST', headers: { Authorization: `Bearer ${apiKey}` }, body: (() => { const f = new FormData(); f.append('prompt', 'x'); return f; })(),
  });
  const body = await response.json();
  assert.equal(response.status, 400);
  assert.equal(body.error.param, 'image');
});

test('an invalid size raises BadRequestError with param "size"', async () => {
  await assert.rejects(
    client.images.generate({ prompt: 'x', size: '100x100', response_format: 'b64_json' }),
    error => {
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal(error.status, 400);
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.param, 'size');
      assert.match(error.message, /multiple of 8/);
      return true;
    });
});

test('an unknown model raises NotFoundError with code model_not_found', async () => {
  await assert.rejects(
    client.images.generate({ model: 'no-such-model', prompt: 'x', size: '64x64' }),
    error => error instanceof OpenAI.NotFoundError && error.code === 'model_not_found' && error.param === 'model');
});

test('a wrong API key raises AuthenticationError', async () => {
  const stranger = new OpenAI({ apiKey: 'wrong-key-0123456789abcdef', baseURL, maxRetries: 0 });

  await assert.rejects(
    stranger.images.generate({ prompt: 'x', size: '64x64' }),
    error => error instanceof OpenAI.AuthenticationError && error.code === 'invalid_api_key');
});

test('images.generate with gpt-image-1 and no response_format returns b64_json, as OpenAI does', async () => {
  const result = await client.images.generate({ model: 'gpt-image-1', prompt: 'a lighthouse at dusk', size: '64x64', steps: 2 });

  const bytes = Buffer.from(result.data[0].b64_json, 'base64');
  assert.ok(isPng(bytes));
  assert.deepEqual(pngSize(bytes), { width: 64, height: 64 });
  assert.equal(result.data[0].url, undefined);
  assert.equal(result.output_format, 'png');
  assert.equal(result.usage.output_tokens, 64);
});

test('images.generate with gpt-image-1 and response_format url raises BadRequestError on response_format', async () => {
  await assert.rejects(
    client.images.generate({ model: 'gpt-image-1', prompt: 'x', size: '64x64', response_format: 'url' }),
    error => error instanceof OpenAI.BadRequestError && error.param === 'response_format' && error.code === 'unknown_parameter');
});

test('images.generate with stream: true yields image_generation.completed events', async () => {
  const stream = await client.images.generate({ model: 'gpt-image-1', prompt: 'a red fox', size: '64x64', n: 2, steps: 2, stream: true, partial_images: 1 });

  const events = [];
  for await (const event of stream) events.push(event);

  assert.deepEqual(events.map(e => e.type), ['image_generation.completed', 'image_generation.completed']);
  for (const event of events) {
    assert.ok(isPng(Buffer.from(event.b64_json, 'base64')));
    assert.equal(event.size, '64x64');
  }
});
