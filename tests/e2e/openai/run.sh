#!/usr/bin/env bash
# End-to-end test with the official `openai` npm client (6.49.0) and the Vercel AI SDK (`ai` 7.0.173 with
# `@ai-sdk/openai` 4.0.118, gpt-image-1), all pinned in package-lock.json and unmodified, against the real server
# process: starts the server on a free loopback port with the demo (tiny, random-weights) model and an API key, runs
# the node:test files (generations as b64_json and url, gpt-image-1's b64_json-only contract and stream, edits, typed
# errors), stops the server.
# Uses $SD_SERVER_DLL when set (tests/run-all.sh publishes the server once), else publishes into a temp folder.
# Exits non-zero when anything fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
e2e_init

echo "== installing the openai client and the AI SDK (package-lock.json)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

port="$(e2e_free_port)"
api_key="e2e-key-0123456789abcdef"
e2e_start_server "http://127.0.0.1:$port" Auth__ApiKeys__0="$api_key"
e2e_wait_ready "$port"

echo "== running node tests"
status=0
SD_BASE_URL="http://127.0.0.1:$port/v1" SD_API_KEY="$api_key" node --test "$here"/*.test.mjs || status=$?
e2e_finish $status
