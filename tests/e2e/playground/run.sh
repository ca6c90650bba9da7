#!/usr/bin/env bash
# End-to-end test of the playground page in headless Chromium (Debian's /usr/bin/chromium driven by npm
# playwright-core 1.65.1; no browser download): starts the real server with the demo (tiny, random-weights) model, an
# API key and one allowed CORS origin, runs playground.test.mjs (through a /sd/ prefix proxy, generate, progress,
# cancel, cross-origin fetches), saves TestResults/playground.png, stops the server. Non-zero on failure.
# Uses $SD_SERVER_DLL when set (tests/run-all.sh publishes the server once), else publishes into a temp folder.
# Needs the Debian package chromium (CI installs it; or set SD_CHROMIUM to another binary).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
e2e_init

chromium="${SD_CHROMIUM:-/usr/bin/chromium}"
[[ -x "$chromium" ]] || { echo "chromium not found at $chromium (apt-get install -y chromium)" >&2; exit 1; }

echo "== installing playwright-core (package-lock.json; it downloads no browser)"
(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

port="$(e2e_free_port)"
allowed_port="$(e2e_free_port)"
other_port="$(e2e_free_port)"
api_key="e2e-key-0123456789abcdef"

e2e_start_server "http://127.0.0.1:$port" \
  Limits__MaxSteps=999 \
  Auth__ApiKeys__0="$api_key" \
  Cors__Origins__0="http://127.0.0.1:$allowed_port"
e2e_wait_ready "$port"

mkdir -p "$root/TestResults"
echo "== running the browser tests"
status=0
SD_SERVER_URL="http://127.0.0.1:$port" SD_API_KEY="$api_key" SD_CHROMIUM="$chromium" \
SD_ALLOWED_ORIGIN_PORT="$allowed_port" SD_OTHER_ORIGIN_PORT="$other_port" \
SD_SCREENSHOT="$root/TestResults/playground.png" \
  node --test "$here"/*.test.mjs || status=$?
e2e_finish $status

