// The Vercel AI SDK (ai + @ai-sdk/replicate, pinned in package-lock.json), unmodified, against the server's
// Replicate-compatible API: it sends size / aspect_ratio instead of width/height, waits with Prefer: wait, downloads
// the output URLs, and shows only a problem's `detail` (run by run.sh).
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateImage } from "ai";
import { createReplicate } from "@ai-sdk/replicate";

const replicate = createReplicate({ apiToken: process.env.SD_API_KEY, baseURL: process.env.SD_BASE_URL });
const model = replicate.image("local/demo-random-weights");
const fast = { replicate: { num_inference_steps: 2, scheduler: "K_EULER" } };
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const pngSize = (bytes) => ({ width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) });

test("generateImage with aspectRatio 16:9 keeps the native pixel count (512x512 -> 680x384)", async () => {
  const result = await generateImage({ model, prompt: "a lighthouse at dusk", aspectRatio: "16:9", seed: 7, providerOptions: fast, maxRetries: 0 });

  const bytes = Buffer.from(result.image.uint8Array);
  assert.deepEqual(bytes.subarray(0, 8), PNG);
  // round(sqrt(512*512*16/9) / 8) * 8 = 680, round(sqrt(512*512*9/16) / 8) * 8 = 384 (README, Replicate section).
  assert.deepEqual(pngSize(bytes), { width: 680, height: 384 });
});

test("generateImage with size WxH gives that size", async () => {
  const result = await generateImage({ model, prompt: "a red fox", size: "96x64", seed: 7, providerOptions: fast, maxRetries: 0 });

  const bytes = Buffer.from(result.image.uint8Array);
  assert.deepEqual(bytes.subarray(0, 8), PNG);
  assert.deepEqual(pngSize(bytes), { width: 96, height: 64 });
});

test("an invalid size is a 422 whose detail (all the SDK shows) names the field and why", async () => {
  await assert.rejects(
    generateImage({ model, prompt: "x", size: "100x64", providerOptions: fast, maxRetries: 0 }),
    (error) => {
      assert.equal(error.statusCode, 422, String(error));
      assert.equal(error.message, "'size' gives a width of 100, which must be a multiple of 8.");
      return true;
    });
});

test("conflicting size inputs are a 422 naming each of them", async () => {
  await assert.rejects(
    generateImage({ model, prompt: "x", size: "96x64", providerOptions: { replicate: { ...fast.replicate, width: 128 } }, maxRetries: 0 }),
    (error) => {
      assert.equal(error.statusCode, 422, String(error));
      assert.match(error.message, /'width' conflicts with 'size' \(96x64\)/);
      assert.match(error.message, /'size' gives 96x64, which conflicts with 'width'/);
      return true;
    });
});
