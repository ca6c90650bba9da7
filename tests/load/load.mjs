// Load tool: N sequential and N concurrent (C in flight) small txt2img predictions with `Prefer: wait`, printing
// requests/s, p50/p95 latency and the server's resident memory (VmRSS from /proc/PID/status) before and after.
// Usage: node load.mjs --base http://127.0.0.1:5000 --pid 1234 [--requests 200] [--concurrency 16] [--key KEY]
//        [--size 64] [--steps 4] [--concurrent-only] (one image per request: req/s × 60 = images/min)
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    base: { type: "string", default: "http://127.0.0.1:5000" },
    pid: { type: "string" },
    requests: { type: "string", default: "200" },
    concurrency: { type: "string", default: "16" },
    size: { type: "string", default: "64" },
    steps: { type: "string", default: "4" },
    key: { type: "string" },
    "concurrent-only": { type: "boolean", default: false },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const size = Number(values.size);
const steps = Number(values.steps);

function rssMiB() {
  if (!values.pid) return NaN;
  const status = readFileSync(`/proc/${values.pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]);
  return kb / 1024;
}

let seed = 0;
async function one() {
  const started = performance.now();
  const response = await fetch(`${values.base}/v1/predictions`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Prefer: "wait",
      ...(values.key ? { Authorization: `Bearer ${values.key}` } : {}),
    },
    body: JSON.stringify({ input: { prompt: "load test", width: size, height: size, num_inference_steps: steps, seed: seed++, scheduler: "K_EULER" } }),
  });
  const body = await response.json();
  if (response.status !== 201 || body.status !== "succeeded") {
    throw new Error(`request failed: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
  return performance.now() - started;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function report(name, latencies, seconds) {
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(24)} ${String(latencies.length).padStart(4)} req  ${(latencies.length / seconds).toFixed(1).padStart(7)} req/s  ` +
      `p50 ${percentile(sorted, 50).toFixed(1).padStart(7)} ms  p95 ${percentile(sorted, 95).toFixed(1).padStart(7)} ms  ` +
      `${((latencies.length * 60) / seconds).toFixed(2).padStart(8)} images/min`,
  );
}

async function sequential() {
  const latencies = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) latencies.push(await one());
  report("sequential", latencies, (performance.now() - started) / 1000);
}

async function concurrent() {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  async function lane() {
    while (next < total) {
      next++;
      latencies.push(await one());
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  report(`concurrent (${concurrency} in flight)`, latencies, (performance.now() - started) / 1000);
}

console.log(`${total} requests each, ${size}x${size}, ${steps} steps, against ${values.base}`);
await one(); // warm-up: first-call JIT and ONNX Runtime allocations are not part of the figures
const before = rssMiB();
console.log(`server VmRSS before: ${before.toFixed(1)} MiB`);
if (!values["concurrent-only"]) await sequential();
await concurrent();
const after = rssMiB();
console.log(`server VmRSS after:  ${after.toFixed(1)} MiB (${(after - before >= 0 ? "+" : "")}${(after - before).toFixed(1)} MiB)`);
