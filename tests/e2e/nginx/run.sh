#!/usr/bin/env bash
# End-to-end: StableDiffusion.Server behind the real deploy/nginx configuration (prefix /sd/), on loopback.
#
# apt packages needed (CI installs them before calling this script; it installs nothing):
#   nginx curl nodejs python3 prometheus (promtool, optional)   and for the real server: the .NET 10 runtime (dotnet)
#
# Usage (from anywhere):
#   tests/e2e/nginx/run.sh                 real server: SD_SERVER_DLL (tests/run-all.sh publishes it), else the
#                                          Release build, built here if missing (as is the CLI for make-model)
#   SD_E2E_UPSTREAM=fake tests/e2e/nginx/run.sh
#                                          tests/e2e/nginx/fake_server.py instead of the server: proves the nginx
#                                          wiring (prefix, forwarded headers, SSE buffering, body size, metrics)
#
# Environment (real server):
#   SD_SERVER_DLL      published/built server dll (default src/StableDiffusion.Server/bin/Release/net10.0/
#                      StableDiffusion.Server.dll, built with `dotnet build -c Release` when missing); run as
#                      `dotnet DLL` from the dll's folder (content root, wwwroot, appsettings.json)
#   SD_SERVER_CMD      or a whole command line instead (run with bash -c from the repository root)
#   SD_MODEL_DIR       an existing model folder; otherwise the tiny demo model is made with SD_MAKE_MODEL_CMD
#   SD_MAKE_MODEL_CMD  command that writes a model folder to the path appended as last argument (default
#                      `dotnet src/StableDiffusion.Cli/bin/Release/net10.0/sd.dll make-model --preset tiny --out`,
#                      the CLI built with `dotnet build -c Release src/StableDiffusion.Cli` when missing)
#   SD_SSE_INPUT, SD_SSE_MIN_RUN   see check-proxy.mjs
#   SD_E2E_CHECK_METRICS=0  skip tests/e2e/deploy/check-metrics.sh on the server's /metrics
#   SD_E2E_KEEP=1      keep the work folder (logs, rendered nginx config) after the run
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SD_REPO_ROOT="$(cd "$HERE/../../.." && pwd)"
export SD_REPO_ROOT
# shellcheck source=loopback.sh
source "$HERE/loopback.sh"

MODE="${SD_E2E_UPSTREAM:-server}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sd-e2e-nginx.XXXXXX")"
UPSTREAM_PID=""
SD_NGINX_PID=""

cleanup() {
    local rc=$?
    # Only the processes this script started, by id.
    if [ -n "$SD_NGINX_PID" ]; then kill "$SD_NGINX_PID" 2>/dev/null || true; wait "$SD_NGINX_PID" 2>/dev/null || true; fi
    if [ -n "$UPSTREAM_PID" ]; then kill "$UPSTREAM_PID" 2>/dev/null || true; wait "$UPSTREAM_PID" 2>/dev/null || true; fi
    if [ "$rc" -ne 0 ]; then
        for log in "$WORK/upstream.log" "$WORK/nginx/logs/error.log"; do
            [ -s "$log" ] && { echo "---- last lines of $log"; tail -n 40 "$log"; }
        done
    fi
    if [ "${SD_E2E_KEEP:-0}" = "1" ]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "e2e/nginx: $*" >&2; exit 1; }

for tool in curl node python3; do command -v "$tool" >/dev/null || die "$tool not found (see the apt packages at the top)"; done
sd_nginx_bin >/dev/null || die "nginx not found"

SERVER_PORT="$(sd_free_port)"
PROXY_PORT="$(sd_free_port)"
while [ "$PROXY_PORT" = "$SERVER_PORT" ]; do PROXY_PORT="$(sd_free_port)"; done

case "$MODE" in
server)
    command -v dotnet >/dev/null || die "dotnet not found"
    MODEL_DIR="${SD_MODEL_DIR:-}"
    if [ -z "$MODEL_DIR" ]; then
        MODEL_DIR="$WORK/models/demo-tiny"
        CLI_DLL="src/StableDiffusion.Cli/bin/Release/net10.0/sd.dll"
        if [ -z "${SD_MAKE_MODEL_CMD:-}" ] && [ ! -f "$SD_REPO_ROOT/$CLI_DLL" ]; then
            echo "building the CLI (for make-model): dotnet build -c Release src/StableDiffusion.Cli"
            (cd "$SD_REPO_ROOT" && dotnet build -c Release src/StableDiffusion.Cli) > "$WORK/build-cli.log" 2>&1 \
                || { tail -n 30 "$WORK/build-cli.log"; die "building the CLI failed"; }
        fi
        MAKE="${SD_MAKE_MODEL_CMD:-dotnet $CLI_DLL make-model --preset tiny --out}"
        echo "making the tiny demo model: $MAKE $MODEL_DIR"
        (cd "$SD_REPO_ROOT" && bash -c "$MAKE \"\$1\"" make-model "$MODEL_DIR") > "$WORK/make-model.log" 2>&1 \
            || { cat "$WORK/make-model.log"; die "could not make the demo model"; }
    fi
    [ -f "$MODEL_DIR/model_index.json" ] || die "$MODEL_DIR has no model_index.json"

    # Configuration with the same keys as docker-compose.yml / deploy/k8s (tests/e2e/deploy/check.mjs checks these
    # names against the server's appsettings.json and options classes), bound to loopback. `Urls`, not
    # ASPNETCORE_URLS: the server's appsettings.json "Urls" wins over the ASPNETCORE_ variables.
    unset ASPNETCORE_URLS ASPNETCORE_HTTP_PORTS ASPNETCORE_HTTPS_PORTS
    export Urls="http://127.0.0.1:$SERVER_PORT"
    export Models__Items__0__Name="${SD_MODEL_NAME:-demo-tiny}"
    export Models__Items__0__Owner="local"
    export Models__Items__0__Path="$MODEL_DIR"
    export Models__ExecutionProvider="${SD_EXECUTION_PROVIDER:-cpu}"
    export Models__DemoModelPath="$WORK/cache/demo-random-weights"
    export Queue__Capacity=16
    export ForwardedHeaders__KnownNetworks__0="127.0.0.0/8"
    # An API key, as in a production compose .env: check-proxy.mjs proves nginx passes Authorization on, that
    # file and stream URLs work without it, and that /metrics is not behind it.
    SD_API_KEY="e2e-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    export SD_API_KEY Auth__ApiKeys__0="$SD_API_KEY"

    if [ -n "${SD_SERVER_CMD:-}" ]; then
        echo "starting the server: $SD_SERVER_CMD (port $SERVER_PORT)"
        (cd "$SD_REPO_ROOT" && exec bash -c "$SD_SERVER_CMD") > "$WORK/upstream.log" 2>&1 &
    else
        DLL="${SD_SERVER_DLL:-$SD_REPO_ROOT/src/StableDiffusion.Server/bin/Release/net10.0/StableDiffusion.Server.dll}"
        if [ -z "${SD_SERVER_DLL:-}" ] && [ ! -f "$DLL" ]; then
            echo "building the server: dotnet build -c Release src/StableDiffusion.Server"
            (cd "$SD_REPO_ROOT" && dotnet build -c Release src/StableDiffusion.Server) > "$WORK/build-server.log" 2>&1 \
                || { tail -n 30 "$WORK/build-server.log"; die "building the server failed"; }
        fi
        [ -f "$DLL" ] || die "server dll not found: $DLL (build it, or set SD_SERVER_DLL / SD_SERVER_CMD)"
        DLL="$(cd "$(dirname "$DLL")" && pwd)/$(basename "$DLL")"
        echo "starting the server: dotnet $DLL (port $SERVER_PORT)"
        (cd "$(dirname "$DLL")" && exec dotnet "$DLL") > "$WORK/upstream.log" 2>&1 &
    fi
    UPSTREAM_PID=$!
    READY_TIMEOUT=180
    ;;
fake)
    echo "starting the fake upstream (port $SERVER_PORT)"
    python3 "$HERE/fake_server.py" --port "$SERVER_PORT" > "$WORK/upstream.log" 2>&1 &
    UPSTREAM_PID=$!
    READY_TIMEOUT=20
    ;;
*) die "SD_E2E_UPSTREAM must be server or fake, not $MODE" ;;
esac

sd_wait_http "http://127.0.0.1:$SERVER_PORT/health/ready" "$READY_TIMEOUT" "$UPSTREAM_PID" \
    || die "the upstream did not become ready"

sd_nginx_render "$WORK/nginx" "$PROXY_PORT" "127.0.0.1:$SERVER_PORT"
sd_nginx_test "$WORK/nginx" > "$WORK/nginx/logs/test.log" 2>&1 || { cat "$WORK/nginx/logs/test.log"; die "nginx -t failed"; }
sd_nginx_start "$WORK/nginx"
sd_wait_http "http://127.0.0.1:$PROXY_PORT/nginx-health" 20 "$SD_NGINX_PID" || die "nginx did not start"
echo "nginx on 127.0.0.1:$PROXY_PORT -> upstream 127.0.0.1:$SERVER_PORT ($MODE)"

status=0
PROXY_URL="http://127.0.0.1:$PROXY_PORT/sd" DIRECT_URL="http://127.0.0.1:$SERVER_PORT" node "$HERE/check-proxy.mjs" \
    || status=1

# The server's own /metrics must be a valid Prometheus page (promtool parse + lint); SD_E2E_CHECK_METRICS=0 skips.
if [ "${SD_E2E_CHECK_METRICS:-1}" = "1" ]; then
    if command -v promtool > /dev/null; then
        expected=""
        if [ "$MODE" = server ]; then
            # The server's families listed in deploy/README.md ("Metrics"), except those that appear only after an
            # event this run does not cause (a queue-full rejection).
            expected="$(grep -E '^\| `sd_[a-z0-9_]+` \|' "$SD_REPO_ROOT/deploy/README.md" | grep -v 'appears after' \
                | sed -E 's/^\| `(sd_[a-z0-9_]+)`.*/\1/' | tr '\n' ' ')"
            [ -n "$expected" ] || { echo "FAIL no sd_* metrics table in deploy/README.md"; status=1; }
        fi
        # Without the API key: /metrics must not be behind it.
        SD_API_KEY="" SD_EXPECTED_METRICS="$expected" "$SD_REPO_ROOT/tests/e2e/deploy/check-metrics.sh" \
            "http://127.0.0.1:$SERVER_PORT/metrics" || status=1
    else
        echo "SKIP promtool check metrics: promtool not installed (apt-get install -y prometheus)"
    fi
fi
exit "$status"
