// The official replicate client, unmodified, against StableDiffusion.Server (run through run.sh).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { deflateSync } from "node:zlib";
import Replicate, { validateWebhook } from "replicate";

const baseUrl = process.env.SD_BASE_URL;
const auth = process.env.SD_API_KEY;
const model = "local/demo-random-weights";
const replicate = new Replicate({ auth, baseUrl });
const input = (extra = {}) => ({ prompt: "a lighthouse at dusk", width: 64, height: 64, num_inference_steps: 4, seed: 7, scheduler: "K_EULER", ...extra });
const PNG = [0x89, 0x50, 0x4e, 0x47];

test("replicate.run returns output file URLs that download as PNG", async () => {
  const output = await replicate.run(model, { input: input() });

  assert.equal(output.length, 1);
  // Plain-http URLs stay strings in the client (it wraps https: and data: in FileOutput).
  // Output links are signed and expire with the prediction (DESIGN §9): /v1/files/{id}?expires=…&sig=…
  assert.match(String(output[0]), /^http:\/\/127\.0\.0\.1:\d+\/v1\/files\/[a-z2-7]{26}\?expires=\d+&sig=[A-Za-z0-9_-]{43}$/);
  const bytes = new Uint8Array(await (await fetch(String(output[0]))).arrayBuffer());
  assert.deepEqual([...bytes.slice(0, 4)], PNG);
});

// A grey RGB PNG built by hand (node has zlib but no image encoder).
function greyPng(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = Buffer.alloc(height * (1 + 3 * width), 128);
  for (let y = 0; y < height; y++) rows[y * (1 + 3 * width)] = 0; // filter: none
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

test("replicate.run uploads a Buffer image through POST /v1/files for img2img", async () => {
  const { width, height, ...rest } = input({ prompt_strength: 0.5 });
  let last;

  const output = await replicate.run(model, { input: { ...rest, image: greyPng(72, 64) } }, (prediction) => { last = prediction; });

  // The client replaced the Buffer by the uploaded file's URL (files.create → urls.get).
  assert.match(last.input.image, /^http:\/\/127\.0\.0\.1:\d+\/v1\/files\/[a-z2-7]{26}$/);
  const bytes = Buffer.from(await (await fetch(String(output[0]))).arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 4)], PNG);
  // Without width/height the output takes the input image's size (IHDR width and height).
  assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [72, 64]);
});

test("replicate.run wraps https output URLs in FileOutput that streams the PNG", async () => {
  const tls = new Replicate({ auth, baseUrl: process.env.SD_TLS_BASE_URL });

  const output = await tls.run(model, { input: input() });

  assert.equal(typeof output[0].blob, "function", "FileOutput");
  assert.equal(output[0].url().protocol, "https:");
  assert.match(output[0].url().pathname, /^\/v1\/files\/[a-z2-7]{26}$/);
  const blob = await output[0].blob();
  assert.equal(blob.type, "image/png");
  assert.deepEqual([...new Uint8Array(await blob.arrayBuffer()).slice(0, 4)], PNG);
});

test("replicate.run wraps data URI outputs in FileOutput", async () => {
  const output = await replicate.run(model, { input: input({ num_outputs: 2 }), output_as_data_uri: true });

  assert.equal(output.length, 2);
  assert.equal(typeof output[0].blob, "function", "FileOutput");
  const blob = await output[0].blob();
  assert.equal(blob.type, "image/png");
  assert.deepEqual([...new Uint8Array(await blob.arrayBuffer()).slice(0, 4)], PNG);
  assert.equal(output[0].url().protocol, "data:");
});

test("replicate.run with version reference uses POST /predictions", async () => {
  const output = await replicate.run(`${model}:demo-random-weights`, { input: input() });

  assert.equal(output.length, 1);
});

test("predictions.create then replicate.wait reaches succeeded with logs and metrics", async () => {
  const created = await replicate.predictions.create({ version: "demo-random-weights", input: input() });
  // The answer shows the job as it stands when the response is written: on a loaded machine the worker may already
  // have taken (or even finished) this 4-step job, as on Replicate a fast model can be past "starting".
  assert.ok(["starting", "processing", "succeeded"].includes(created.status), created.status);
  assert.ok(created.urls.get.endsWith(`/v1/predictions/${created.id}`));

  const done = await replicate.wait(created, { interval: 50 });

  assert.equal(done.status, "succeeded");
  assert.match(done.logs, /Using seed: 7/);
  assert.match(done.logs, /RANDOM weights/);
  assert.ok(done.metrics.predict_time > 0);
  const progress = Replicate.parseProgressFromLogs(done);
  assert.deepEqual(progress, { percentage: 1, current: 4, total: 4 });
  const fetched = await replicate.predictions.get(created.id);
  assert.deepEqual(fetched.output, done.output);
});

test("predictions.cancel stops a running prediction", async () => {
  const created = await replicate.predictions.create({ version: "demo-random-weights", input: input({ width: 512, height: 512, num_inference_steps: 999 }) });
  let current = created;
  while (!(current.status === "processing" && /\| 1\//.test(current.logs))) {
    await new Promise((r) => setTimeout(r, 20));
    current = await replicate.predictions.get(created.id);
  }

  await replicate.predictions.cancel(created.id);
  while (!["succeeded", "failed", "canceled"].includes(current.status)) {
    await new Promise((r) => setTimeout(r, 20));
    current = await replicate.predictions.get(created.id);
  }

  assert.equal(current.status, "canceled");
  assert.equal(current.output, null);
});

test("replicate.stream yields logs, then output, then done", async () => {
  const events = [];
  for await (const event of replicate.stream(model, { input: input() })) {
    events.push(event);
  }

  const kinds = events.map((e) => e.event);
  const firstOutput = kinds.indexOf("output");
  assert.ok(firstOutput > 0, kinds.join(","));
  assert.ok(kinds.slice(0, firstOutput).every((k) => k === "logs"));
  assert.equal(kinds.at(-1), "done");
  assert.ok(events.some((e) => e.event === "logs" && /100%\|██████████\| 4\/4/.test(e.data)));
  assert.match(String(events[firstOutput]), /\/v1\/files\//, "an output event's toString() is its data");
});

test("predictions.list and paginate follow the cursor", async () => {
  const page = await replicate.predictions.list();
  assert.ok(page.results.length > 0);
  assert.ok("next" in page && "previous" in page);

  let seen = 0;
  for await (const results of replicate.paginate(() => replicate.predictions.list())) {
    seen += results.length;
  }
  assert.ok(seen >= page.results.length);
});

test("models.get returns the input schema", async () => {
  const m = await replicate.models.get("local", "demo-random-weights");

  const inputSchema = m.latest_version.openapi_schema.components.schemas.Input;
  // The default is the model's native width (the tiny preset's config says 512).
  assert.equal(inputSchema.properties.width.default, 512);
  assert.equal(inputSchema.properties.width.multipleOf, 8);
  assert.ok(inputSchema.properties.scheduler.enum.includes("K_EULER"));
});

test("models.versions.list and get return the one served version", async () => {
  const versions = await replicate.models.versions.list("local", "demo-random-weights");
  assert.deepEqual(versions.results.map((v) => v.id), ["demo-random-weights"]);

  const version = await replicate.models.versions.get("local", "demo-random-weights", "demo-random-weights");
  assert.ok(version.openapi_schema.components.schemas.Input.properties.prompt);
});

test("invalid input surfaces as an ApiError with status 422 whose message names the field", async () => {
  // Replicate answers input errors with 422 {title, detail, status}; the client puts the body in its message.
  await assert.rejects(
    () => replicate.predictions.create({ version: "demo-random-weights", input: input({ width: 100 }) }),
    (error) => error.response?.status === 422 && /'width' must be a multiple of 8/.test(error.message),
  );
});

test("a wrong API key is refused with 401", async () => {
  const stranger = new Replicate({ auth: "not-the-key-0123456789", baseUrl });
  await assert.rejects(() => stranger.models.list(), (error) => error.response?.status === 401);
});

test("webhooks arrive signed and validateWebhook accepts them with the published secret", async () => {
  const received = [];
  let resolveCompleted;
  const completed = new Promise((r) => (resolveCompleted = r));
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.end("ok");
      if (JSON.parse(body).status === "succeeded") resolveCompleted();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  try {
    const { key } = await replicate.webhooks.default.secret.get();
    await replicate.predictions.create({
      version: "demo-random-weights",
      input: input(),
      webhook: `http://127.0.0.1:${receiver.address().port}/hook`,
      webhook_events_filter: ["start", "completed"],
    });
    await completed;

    assert.deepEqual(received.map((r) => JSON.parse(r.body).status), ["processing", "succeeded"]);
    for (const r of received) {
      const valid = await validateWebhook(
        { id: r.headers["webhook-id"], timestamp: r.headers["webhook-timestamp"], signature: r.headers["webhook-signature"], body: r.body, secret: key },
      );
      assert.equal(valid, true);
    }
    const tampered = received[0];
    assert.equal(
      await validateWebhook({ id: tampered.headers["webhook-id"], timestamp: tampered.headers["webhook-timestamp"], signature: tampered.headers["webhook-signature"], body: tampered.body + " ", secret: key }),
      false,
    );
  } finally {
    receiver.close();
  }
});
