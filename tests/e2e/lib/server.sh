# Shared by the e2e suites that start the real server (source it after `set -euo pipefail`):
#   e2e_init                 $here, $root, a $work folder and an EXIT trap that stops the server and removes $work
#   e2e_server_dll           the absolute path of StableDiffusion.Server.dll: $SD_SERVER_DLL (tests/run-all.sh
#                            publishes once) or a fresh publish into $work
#   e2e_free_port            a free loopback port
#   e2e_start_server URLS [VAR=value ...]
#                            starts the dll from its own folder (its content root: appsettings.json, wwwroot) with the
#                            demo (tiny, random-weights) model on the CPU plus the given settings; sets $pid
#                            (its embedded database and files in $work/data, so suites never share state)
#   e2e_start_redis          starts redis-server (AOF on) on a free port in $work/redis; sets $redis_port, $redis_pid
#   e2e_start_worker [VAR=value ...]
#                            starts a worker-role process on a free port (log: $work/worker.log); sets $worker_pid
#   e2e_wait_ready PORT      waits for /health/ready, or prints the server log and exits
#   e2e_finish STATUS        prints the server log's tail when STATUS is non-zero, then exits with it

e2e_init() {
  here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
  root="$(cd "$here/../../.." && pwd)"
  work="$(mktemp -d)"
  pid=""
  trap e2e_cleanup EXIT
}

e2e_cleanup() {
  # Only the processes this script started, by their ids.
  for p in "$pid" "${worker_pid:-}" "${redis_pid:-}"; do
    if [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; then
      kill "$p"
      wait "$p" 2>/dev/null || true
    fi
  done
  if [[ "${KEEP_E2E_WORK:-}" == "" ]]; then rm -rf "$work"; else echo "work folder kept: $work"; fi
}

e2e_server_dll() {
  local dll="${SD_SERVER_DLL:-}"
  if [[ -z "$dll" ]]; then
    echo "== publishing the server" >&2
    dotnet publish "$root/src/StableDiffusion.Server" -c Release -o "$work/server" --nologo -v q >&2
    dll="$work/server/StableDiffusion.Server.dll"
  fi
  [[ -f "$dll" ]] || { echo "server dll not found: $dll" >&2; exit 1; }
  echo "$(cd "$(dirname "$dll")" && pwd)/$(basename "$dll")"
}

e2e_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

e2e_start_server() {
  local urls="$1"
  shift
  local dll
  dll="$(e2e_server_dll)"
  echo "== starting the server on $urls"
  (cd "$(dirname "$dll")" && \
    exec env Models__DemoModelPath="$work/demo-random-weights" Models__ExecutionProvider=cpu RateLimits__Enabled=false \
      Storage__DataDirectory="$work/data" "$@" \
      dotnet "$dll" --urls "$urls") >"$work/server.log" 2>&1 &
  pid=$!
}

e2e_start_redis() {
  command -v redis-server >/dev/null || { echo "redis-server is missing (apt-get install redis-server)" >&2; exit 1; }
  redis_port="$(e2e_free_port)"
  mkdir -p "$work/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes --save "" \
    >"$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  echo "redis did not start:"; cat "$work/redis.log"; exit 1
}

e2e_start_worker() {
  local dll
  dll="$(e2e_server_dll)"
  worker_port="$(e2e_free_port)"
  (cd "$(dirname "$dll")" && \
    exec env Models__DemoModelPath="$work/demo-random-weights" Models__ExecutionProvider=cpu \
      Storage__DataDirectory="$work/data" "$@" \
      dotnet "$dll" --role worker --urls "http://127.0.0.1:$worker_port") >"$work/worker.log" 2>&1 &
  worker_pid=$!
}

e2e_wait_ready() {
  local port="$1"
  for _ in $(seq 1 900); do
    if curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "server exited:"; cat "$work/server.log"; exit 1; fi
    sleep 0.2
  done
  echo "server never became ready:"
  cat "$work/server.log"
  exit 1
}

e2e_finish() {
  local status="$1"
  if [[ "$status" -ne 0 ]]; then
    echo "== server log (tail)"
    tail -n 80 "$work/server.log"
  fi
  exit "$status"
}
