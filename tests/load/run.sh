#!/usr/bin/env bash
# Publishes the server, starts it on a free loopback port with the demo (tiny) model on CPU, runs load.mjs against
# it (200 sequential + 200 concurrent, 16 in flight, 64x64, 4 steps), and stops it. Extra arguments go to load.mjs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -n "${SD_SERVER_DLL:-}" ]]; then
  server=(dotnet "$SD_SERVER_DLL")
else
  dotnet publish "$root/src/StableDiffusion.Server" -c Release -o "$work/server" --nologo -v q
  server=("$work/server/StableDiffusion.Server")
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
Models__DemoModelPath="$work/demo-random-weights" \
Models__ExecutionProvider=cpu \
RateLimits__Enabled=false \
Serilog__MinimumLevel__Default=Warning \
  "${server[@]}" --urls "http://127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.2
done
node "$here/load.mjs" --base "http://127.0.0.1:$port" --pid "$pid" "$@"
