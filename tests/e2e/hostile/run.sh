#!/usr/bin/env bash
# Hostile input over real HTTP (issue 13): the published server, a raw-socket client (HostileClient, C#, sharing
# tests/Shared's case generator with the in-process suite) that sends every generated case — per field kind over all
# three surfaces, whole bodies, content types, multipart, images, routes — plus HTTP-level abuse only a socket can send,
# checking each answer (no 5xx, a 4xx within 1 s in the surface's shape naming the field) and, after each batch, that
# /health/live answers and a normal prediction succeeds; then the server's memory against its baseline. Then a fuzzer:
# random mutations of valid requests over all three surfaces for HOSTILE_FUZZ_SECONDS (default 60), same rules.
# Uses $SD_SERVER_DLL when set (tests/run-all.sh publishes the server once), else publishes into a temp folder.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
e2e_init

echo "== building the raw-socket client"
dotnet build "$here/HostileClient" -c Release -o "$work/client" --nologo -v q >/dev/null
client="$work/client/HostileClient"
# The demo model the server builds on first start (owner "local").
export HOSTILE_MODEL=local/demo-random-weights

status=0
check_log() {
  # A 500 is logged by ASP.NET's exception handler: none may appear, whatever was sent.
  if grep -q "An unhandled exception has occurred\|Server fault on" "$work/server.log"; then
    echo "FAIL the server logged a fault ($1):"; grep -A4 "An unhandled exception has occurred\|Server fault on" "$work/server.log" | head -60
    status=1
  fi
}
port="$(e2e_free_port)"
# Small limits so that over-limit bodies are cheap to send: 1 MB images, 2 MB bodies.
e2e_start_server "http://127.0.0.1:$port" Limits__MaxImageBytes=1048576 Limits__MaxBodyBytes=2097152 Limits__MaxSteps=50 \
  Queue__Capacity=256 Serilog__MinimumLevel__Default=Warning
e2e_wait_ready "$port"
echo "== hostile cases"
"$client" suite "$port" "$pid" || status=$?
check_log suite
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

port="$(e2e_free_port)"
# The fuzzer's valid mutations must stay cheap: small images and few steps.
e2e_start_server "http://127.0.0.1:$port" Limits__MaxImageBytes=1048576 Limits__MaxBodyBytes=2097152 Limits__MaxSteps=8 \
  Limits__MaxWidth=128 Limits__MaxHeight=128 Limits__MaxOutputs=2 Serilog__MinimumLevel__Default=Warning
e2e_wait_ready "$port"
echo "== fuzzing for ${HOSTILE_FUZZ_SECONDS:-60} s"
"$client" fuzz "$port" "${HOSTILE_FUZZ_SECONDS:-60}" "${HOSTILE_FUZZ_SEED:-$RANDOM}" || status=$?
check_log fuzz
e2e_finish $status
