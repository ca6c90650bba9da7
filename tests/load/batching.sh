#!/usr/bin/env bash
# Batched throughput through the server (dynamic batching, issue 14), measured in one run on this machine: the same
# concurrent load (4 requests in flight, tiny demo model on the CPU, 512x512, 25 K_EULER steps, Prefer: wait) against
# the server with Worker:MaxBatchImages=1 (each job alone) and =4 (compatible queued jobs share one UNet batch).
# Prints images/min of each (one image per request).
# Usage: bash tests/load/batching.sh [--requests N] [--size PX] [--steps N] [--concurrency N]
#        (uses $SD_SERVER_DLL when set, else publishes once)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/server.sh"
e2e_init
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requests=24 size=512 steps=25 concurrency=4
while [[ $# -gt 0 ]]; do
  case "$1" in
    --requests) requests="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
export SD_SERVER_DLL="$(e2e_server_dll)"

for batch in 1 "$concurrency"; do
  echo "### Worker:MaxBatchImages=$batch"
  port="$(e2e_free_port)"
  e2e_start_server "http://127.0.0.1:$port" Worker__MaxBatchImages="$batch" Worker__BatchWindowMs=20 \
    Serilog__MinimumLevel__Default=Warning
  e2e_wait_ready "$port"
  node "$here/load.mjs" --base "http://127.0.0.1:$port" --pid "$pid" --requests "$requests" --concurrency "$concurrency" \
    --steps "$steps" --size "$size" --concurrent-only | grep -v VmRSS
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pid=""
done
e2e_finish 0
