// The Vercel AI SDK (ai + @ai-sdk/openai, pinned in package-lock.json), unmodified, against the server's OpenAI
// surface with gpt-image-1: the provider sends no response_format and reads only b64_json (run by run.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateImage } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';

const baseURL = process.env.SD_BASE_URL;
const apiKey = process.env.SD_API_KEY;
assert.ok(baseURL && apiKey, 'run through run.sh (SD_BASE_URL and SD_API_KEY)');

const openai = createOpenAI({ apiKey, baseURL });
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const pngSize = (bytes) => ({ width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) });

test('generateImage with gpt-image-1 returns PNG bytes of the asked size, with usage', async () => {
  const result = await generateImage({ model: openai.image('gpt-image-1'), prompt: 'a lighthouse at dusk', size: '64x64', maxRetries: 0 });

  const bytes = Buffer.from(result.image.uint8Array);
  assert.deepEqual(bytes.subarray(0, 8), PNG);
  assert.deepEqual(pngSize(bytes), { width: 64, height: 64 });
  assert.equal(result.image.mediaType, 'image/png');
  // 64x64 pixels are 8x8 latent positions: the output tokens (README, OpenAI section).
  assert.equal(result.usage.outputTokens, 64);
  assert.ok(result.usage.inputTokens > 0);
  assert.equal(result.providerMetadata.openai.images[0].size, '64x64');
  assert.equal(result.providerMetadata.openai.images[0].outputFormat, 'png');
});

test('generateImage with gpt-image-1 and output_format webp returns WebP bytes', async () => {
  const result = await generateImage({
    model: openai.image('gpt-image-1'), prompt: 'a red fox', size: '64x64', maxRetries: 0,
    providerOptions: { openai: { outputFormat: 'webp', outputCompression: 50, quality: 'low', background: 'opaque', moderation: 'low' } },
  });

  const bytes = Buffer.from(result.image.uint8Array);
  assert.equal(bytes.subarray(0, 4).toString('ascii'), 'RIFF');
  assert.equal(bytes.subarray(8, 12).toString('ascii'), 'WEBP');
  assert.equal(result.image.mediaType, 'image/webp');
  assert.equal(result.providerMetadata.openai.images[0].quality, 'low');
});

test('generateImage with an input image is an edit that answers b64_json', async () => {
  const source = await generateImage({ model: openai.image('gpt-image-1'), prompt: 'a house', size: '64x64', maxRetries: 0 });

  const result = await generateImage({
    model: openai.image('gpt-image-1'), maxRetries: 0,
    prompt: { text: 'a house in snow', images: [source.image.uint8Array] },
  });

  const bytes = Buffer.from(result.image.uint8Array);
  assert.deepEqual(bytes.subarray(0, 8), PNG);
  // No size: an edit keeps the input image's size.
  assert.deepEqual(pngSize(bytes), { width: 64, height: 64 });
});

test('an invalid size surfaces as an APICallError whose message names the field', async () => {
  await assert.rejects(
    generateImage({ model: openai.image('gpt-image-1'), prompt: 'x', size: '100x64', maxRetries: 0 }),
    (error) => {
      assert.equal(error.statusCode, 400, String(error));
      assert.match(error.message, /'size' \(width\) must be a multiple of 8/);
      return true;
    });
});
