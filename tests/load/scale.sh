#!/usr/bin/env bash
# The figures of DESIGN §9, measured in one run on this machine (tiny demo model, 64x64, 2 steps, Prefer: wait):
#   1. one process, embedded backend (SQLite + files)
#   2. Redis: one api process + one worker process
#   3. Redis: one api process + two worker processes
#   4. a worker killed with SIGKILL mid-job: seconds until the job finishes on the other worker (heartbeat 1 s)
# Usage: bash tests/load/scale.sh [--requests N]   (uses $SD_SERVER_DLL when set, else publishes once)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/server.sh"
e2e_init
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requests=100
[[ "${1:-}" == "--requests" ]] && requests="$2"
load() { node "$here/load.mjs" --base "http://127.0.0.1:$1" --pid "$2" --requests "$requests" --concurrency 4 --steps 2 --size 64 | grep -v VmRSS; }
export SD_SERVER_DLL="$(e2e_server_dll)"

echo "### 1. embedded backend, one process"
port="$(e2e_free_port)"
e2e_start_server "http://127.0.0.1:$port" Serilog__MinimumLevel__Default=Warning
e2e_wait_ready "$port"
load "$port" "$pid"
kill "$pid"; wait "$pid" 2>/dev/null || true

e2e_start_redis
redis=(Storage__Backend=Redis Storage__Redis="127.0.0.1:$redis_port" Storage__HeartbeatSeconds=1
  Outputs__SigningKey=load-test-signing-key-0123456789abcdef Serilog__MinimumLevel__Default=Warning Limits__MaxSteps=999)
echo "### 2. Redis: api + 1 worker"
e2e_start_worker "${redis[@]}"
first_worker="$worker_pid"
port="$(e2e_free_port)"
e2e_start_server "http://127.0.0.1:$port" Server__Role=api "${redis[@]}"
e2e_wait_ready "$port"
# The api is ready once Redis answers; wait until the worker has published its model.
until curl -fsS -o /dev/null "http://127.0.0.1:$port/v1/predictions" -H 'Prefer: wait' -H 'Content-Type: application/json' \
  -d '{"input":{"prompt":"warm","width":64,"height":64,"num_inference_steps":1}}'; do sleep 0.5; done
load "$port" "$pid"

echo "### 3. Redis: api + 2 workers"
mv "$work/worker.log" "$work/worker1.log"
e2e_start_worker "${redis[@]}"
second_worker="$worker_pid"
sleep 8 # the second worker loads the model and starts claiming
load "$port" "$pid"

echo "### 4. SIGKILL the worker running a job: time until another worker takes it over, and until it finishes"
kill "$second_worker"; wait "$second_worker" 2>/dev/null || true
id="$(curl -fsS "http://127.0.0.1:$port/v1/predictions" -H 'Content-Type: application/json' \
  -d '{"input":{"prompt":"long","width":256,"height":256,"num_inference_steps":400,"scheduler":"K_EULER"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
until curl -fsS "http://127.0.0.1:$port/v1/predictions/$id" | grep -q '| 1/400'; do sleep 0.1; done
e2e_start_worker "${redis[@]}"
until curl -fsS -o /dev/null "http://127.0.0.1:$worker_port/health/ready"; do sleep 0.2; done
killed_at="$(date +%s.%N)"
kill -9 "$first_worker"
until curl -fsS "http://127.0.0.1:$port/v1/predictions/$id" | grep -q 'Attempt 1 was interrupted'; do sleep 0.05; done
taken_at="$(date +%s.%N)"
until curl -fsS "http://127.0.0.1:$port/v1/predictions/$id" | grep -q '"status":"succeeded"'; do sleep 0.1; done
done_at="$(date +%s.%N)"
python3 -c "print(f'kill -9 of the worker -> taken over by the other: {$taken_at - $killed_at:.2f} s (heartbeat 1 s, stale after 3 s); -> job succeeded: {$done_at - $killed_at:.2f} s (the re-run of 400 steps at 256x256 included)')"
e2e_finish 0
