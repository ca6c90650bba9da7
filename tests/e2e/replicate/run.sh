#!/usr/bin/env bash
# End-to-end test with the official `replicate` npm client (1.4.0) and the Vercel AI SDK (`ai` 7.0.173 with
# `@ai-sdk/replicate` 3.0.46: size / aspect_ratio inputs, 422 details), pinned in package-lock.json, unmodified,
# against the real server process:
# starts the server on a free loopback port with the demo (tiny, random-weights) model, runs the node:test files,
# stops the server. Uses $SD_SERVER_DLL when set (tests/run-all.sh publishes once), else publishes into a temp folder.
# Exits non-zero when anything fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
e2e_init

echo "== installing the replicate client and the AI SDK (package-lock.json)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

port="$(e2e_free_port)"
tls_port="$(e2e_free_port)"
api_key="e2e-key-0123456789abcdef"

# The client wraps https: output URLs in FileOutput (plain http ones stay strings), so the server also listens on
# TLS with a throwaway certificate for 127.0.0.1 that node trusts through NODE_EXTRA_CA_CERTS.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null

e2e_start_server "http://127.0.0.1:$port;https://127.0.0.1:$tls_port" \
  Limits__MaxSteps=999 \
  Auth__ApiKeys__0="$api_key" \
  Webhooks__AllowPrivateTargets=true \
  Kestrel__Certificates__Default__Path="$work/tls.crt" \
  Kestrel__Certificates__Default__KeyPath="$work/tls.key"
e2e_wait_ready "$port"

echo "== running node tests (one process, embedded backend)"
status=0
SD_BASE_URL="http://127.0.0.1:$port/v1" SD_TLS_BASE_URL="https://127.0.0.1:$tls_port/v1" SD_API_KEY="$api_key" \
NODE_EXTRA_CA_CERTS="$work/tls.crt" node --test "$here"/*.test.mjs || status=$?
[[ "$status" -eq 0 ]] || e2e_finish $status

# Once more, scaled out: an api process and a worker process on a real Redis (DESIGN §9).
kill "$pid"; wait "$pid" 2>/dev/null || true
e2e_start_redis
redis_settings=(Storage__Backend=Redis Storage__Redis="127.0.0.1:$redis_port" Outputs__SigningKey=e2e-shared-signing-key-0123456789abcdef
  Limits__MaxSteps=999 Webhooks__AllowPrivateTargets=true)
e2e_start_worker "${redis_settings[@]}"
port="$(e2e_free_port)"
tls_port="$(e2e_free_port)"
e2e_start_server "http://127.0.0.1:$port;https://127.0.0.1:$tls_port" Server__Role=api "${redis_settings[@]}" \
  Auth__ApiKeys__0="$api_key" \
  Kestrel__Certificates__Default__Path="$work/tls.crt" \
  Kestrel__Certificates__Default__KeyPath="$work/tls.key"
e2e_wait_ready "$port"
echo "== running node tests (api + worker processes on Redis)"
SD_BASE_URL="http://127.0.0.1:$port/v1" SD_TLS_BASE_URL="https://127.0.0.1:$tls_port/v1" SD_API_KEY="$api_key" \
NODE_EXTRA_CA_CERTS="$work/tls.crt" node --test "$here"/*.test.mjs || status=$?
[[ "$status" -eq 0 ]] || { echo "== worker log (tail)"; tail -n 60 "$work/worker.log"; }
e2e_finish $status
