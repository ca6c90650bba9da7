#!/usr/bin/env bash
# End-to-end test of the playground page in headless Chromium (Debian's /usr/bin/chromium driven by npm
# playwright-core 1.65.1; no browser download): starts the real server with the demo (tiny, random-weights) model, an
# API key and one allowed CORS origin, runs playground.test.mjs (through a /sd/ prefix proxy, generate, progress,
# cancel, cross-origin fetches), saves TestResults/playground.png, stops the server. Non-zero on failure.
# Uses $SD_SERVER_DLL when set (tests/run-all.sh publishes the server once), else publishes into a temp folder.
# Needs the Debian package chromium (CI installs it; or set SD_CHROMIUM to another binary).
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

chromium="${SD_CHROMIUM:-/usr/bin/chromium}"
[[ -x "$chromium" ]] || { echo "chromium not found at $chromium (apt-get install -y chromium)" >&2; exit 1; }

dll="${SD_SERVER_DLL:-}"
if [[ -z "$dll" ]]; then
  echo "== publishing the server"
  dotnet publish "$root/src/StableDiffusion.Server" -c Release -o "$work/server" --nologo -v q
  dll="$work/server/StableDiffusion.Server.dll"
fi
[[ -f "$dll" ]] || { echo "server dll not found: $dll" >&2; exit 1; }
dll="$(cd "$(dirname "$dll")" && pwd)/$(basename "$dll")"

echo "== installing playwright-core (package-lock.json; it downloads no browser)"
(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
allowed_port="$(free_port)"
other_port="$(free_port)"
api_key="e2e-key-0123456789abcdef"

echo "== starting the server on 127.0.0.1:$port"
(cd "$(dirname "$dll")" && \
  Models__DemoModelPath="$work/demo-random-weights" \
  Models__ExecutionProvider=cpu \
  Limits__MaxSteps=1000 \
  Auth__ApiKeys__0="$api_key" \
  RateLimits__Enabled=false \
  Cors__Origins__0="http://127.0.0.1:$allowed_port" \
  exec dotnet "$dll" --urls "http://127.0.0.1:$port") >"$work/server.log" 2>&1 &
pid=$!

for _ in $(seq 1 900); do
  if curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "server exited:"; cat "$work/server.log"; exit 1; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "server never became ready:"; cat "$work/server.log"; exit 1; }

mkdir -p "$root/TestResults"
echo "== running the browser tests"
status=0
SD_SERVER_URL="http://127.0.0.1:$port" SD_API_KEY="$api_key" SD_CHROMIUM="$chromium" \
SD_ALLOWED_ORIGIN_PORT="$allowed_port" SD_OTHER_ORIGIN_PORT="$other_port" \
SD_SCREENSHOT="$root/TestResults/playground.png" \
  node --test "$here"/*.test.mjs || status=$?
if [[ $status -ne 0 ]]; then
  echo "== server log (tail)"
  tail -n 80 "$work/server.log"
fi
exit $status
