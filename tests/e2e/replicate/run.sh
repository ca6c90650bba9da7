#!/usr/bin/env bash
# End-to-end test with the official `replicate` npm client (1.4.0), unmodified, against the real server process:
# publishes the server, starts it on a free loopback port with the demo (tiny, random-weights) model, runs the
# node:test files, stops the server. Exits non-zero when anything fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$(mktemp -d)"
pid=""

cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  if [[ "${KEEP_E2E_WORK:-}" == "" ]]; then rm -rf "$work"; else echo "work folder kept: $work"; fi
}
trap cleanup EXIT

# tests/run-all.sh publishes once and passes the result in SD_SERVER_DLL; alone, this script publishes itself.
if [[ -n "${SD_SERVER_DLL:-}" ]]; then
  server=(dotnet "$SD_SERVER_DLL")
else
  echo "== publishing the server"
  dotnet publish "$root/src/StableDiffusion.Server" -c Release -o "$work/server" --nologo -v q
  server=("$work/server/StableDiffusion.Server")
fi

echo "== installing the replicate client (package-lock.json)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
tls_port="$(free_port)"
api_key="e2e-key-0123456789abcdef"

# The client wraps https: output URLs in FileOutput (plain http ones stay strings), so the server also listens on
# TLS with a throwaway certificate for 127.0.0.1 that node trusts through NODE_EXTRA_CA_CERTS.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null

echo "== starting the server on 127.0.0.1:$port (http) and :$tls_port (https)"
Models__DemoModelPath="$work/demo-random-weights" \
Models__ExecutionProvider=cpu \
Limits__MaxSteps=999 \
Auth__ApiKeys__0="$api_key" \
RateLimits__Enabled=false \
Webhooks__AllowPrivateTargets=true \
Kestrel__Certificates__Default__Path="$work/tls.crt" \
Kestrel__Certificates__Default__KeyPath="$work/tls.key" \
  "${server[@]}" --urls "http://127.0.0.1:$port;https://127.0.0.1:$tls_port" >"$work/server.log" 2>&1 &
pid=$!

for _ in $(seq 1 600); do
  if curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "server exited:"; cat "$work/server.log"; exit 1; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "server never became ready:"; cat "$work/server.log"; exit 1; }

echo "== running node tests"
status=0
SD_BASE_URL="http://127.0.0.1:$port/v1" SD_TLS_BASE_URL="https://127.0.0.1:$tls_port/v1" SD_API_KEY="$api_key" \
NODE_EXTRA_CA_CERTS="$work/tls.crt" node --test "$here"/*.test.mjs || status=$?
if [[ $status -ne 0 ]]; then
  echo "== server log (tail)"
  tail -n 80 "$work/server.log"
fi
exit $status
