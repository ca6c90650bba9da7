#!/usr/bin/env bash
# End-to-end test with the official `openai` npm client (6.49.0, pinned in package-lock.json), unmodified, against the
# real server process: starts the server on a free loopback port with the demo (tiny, random-weights) model and an API
# key, runs the node:test files (generations as b64_json and url, edits, typed errors), stops the server.
# Uses $SD_SERVER_DLL when set (tests/run-all.sh publishes the server once), else publishes into a temp folder.
# Exits non-zero when anything fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$(mktemp -d)"
pid=""

cleanup() {
  # Only the server this script started, by its id.
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  if [[ "${KEEP_E2E_WORK:-}" == "" ]]; then rm -rf "$work"; else echo "work folder kept: $work"; fi
}
trap cleanup EXIT

dll="${SD_SERVER_DLL:-}"
if [[ -z "$dll" ]]; then
  echo "== publishing the server"
  dotnet publish "$root/src/StableDiffusion.Server" -c Release -o "$work/server" --nologo -v q
  dll="$work/server/StableDiffusion.Server.dll"
fi
[[ -f "$dll" ]] || { echo "server dll not found: $dll" >&2; exit 1; }
dll="$(cd "$(dirname "$dll")" && pwd)/$(basename "$dll")"

echo "== installing the openai client (package-lock.json)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
api_key="e2e-key-0123456789abcdef"

echo "== starting the server on 127.0.0.1:$port"
# Started from the dll's folder: its content root (appsettings.json, wwwroot).
(cd "$(dirname "$dll")" && \
  Models__DemoModelPath="$work/demo-random-weights" \
  Models__ExecutionProvider=cpu \
  Auth__ApiKeys__0="$api_key" \
  RateLimits__Enabled=false \
  exec dotnet "$dll" --urls "http://127.0.0.1:$port") >"$work/server.log" 2>&1 &
pid=$!

for _ in $(seq 1 900); do
  if curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "server exited:"; cat "$work/server.log"; exit 1; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "server never became ready:"; cat "$work/server.log"; exit 1; }

echo "== running node tests"
status=0
SD_BASE_URL="http://127.0.0.1:$port/v1" SD_API_KEY="$api_key" node --test "$here"/*.test.mjs || status=$?
if [[ $status -ne 0 ]]; then
  echo "== server log (tail)"
  tail -n 80 "$work/server.log"
fi
exit $status
