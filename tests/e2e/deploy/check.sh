#!/usr/bin/env bash
# Static checks of the deployment files: Dockerfile, .dockerignore, docker-compose.yml, deploy/**.
#
# apt packages needed (CI installs them before calling this script; it installs nothing but its own
# `npm ci` in tests/e2e/deploy):
#   nodejs npm nginx prometheus (for promtool) python3 curl gettext-base (envsubst)
#   docker-compose (Debian's v1) or Docker's compose plugin: optional, `docker compose config` is skipped without
#   either unless SD_REQUIRE_COMPOSE=1
#
# Steps: (a) docker compose config -q, (b) YAML parse + required fields (check.mjs, npm `yaml` pinned in
# package-lock.json), (c) promtool check config, (d) nginx -t on the template rendered for loopback, (e) Dockerfile
# rules (hadolint is not available: grep/awk rules below), plus syntax checks of the e2e scripts.
# Prints PASS/FAIL/SKIP lines and "N passed, N failed"; exits 1 if anything failed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# SD_REPO_ROOT: check another copy of the files (used by selftest.sh on deliberately broken copies).
ROOT="$(cd "${SD_REPO_ROOT:-$HERE/../../..}" && pwd)"
export SD_REPO_ROOT="$ROOT"
# shellcheck source=../nginx/loopback.sh
source "$ROOT/tests/e2e/nginx/loopback.sh"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sd-deploy-check.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() { echo "SKIP $*"; }
# run NAME CMD...: PASS if the command succeeds, FAIL with its output otherwise.
run() {
    local name="$1"; shift
    if "$@" > "$WORK/out.log" 2>&1; then ok "$name"; else bad "$name:"; sed 's/^/    /' "$WORK/out.log"; fi
}

cd "$ROOT" || exit 1

# ---- (a) docker compose config ---------------------------------------------------------------------------------
echo "== (a) docker compose config"
compose=()
if docker compose version > /dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose > /dev/null 2>&1; then
    compose=(docker-compose)
fi
if [ "${#compose[@]}" -gt 0 ]; then
    echo "using: $("${compose[@]}" version 2>/dev/null | head -n 1)"
    # Defaults only: an empty environment and no .env must give a valid file.
    run "docker-compose.yml: ${compose[*]} config -q" env -u SD_IMAGE "${compose[@]}" -f docker-compose.yml config -q
    # Profile scale (Redis + api and worker replicas): also valid with defaults only, and really a profile.
    run "docker-compose.yml: ${compose[*]} --profile scale config -q" \
        env -u SD_IMAGE -u SD_SIGNING_KEY "${compose[@]}" -f docker-compose.yml --profile scale config -q
    if "${compose[@]}" -f docker-compose.yml config --services > "$WORK/services.default" 2>&1 \
        && "${compose[@]}" -f docker-compose.yml --profile scale config --services > "$WORK/services.scale" 2>&1; then
        # (v1 lists every service either way; v2 lists the profile's only with --profile.)
        if grep -qx redis "$WORK/services.scale" && grep -qx server "$WORK/services.default"; then
            ok "docker-compose.yml: --profile scale adds redis; the default keeps server"
        else
            bad "docker-compose.yml: --profile scale adds redis; the default keeps server:"; sed 's/^/    /' "$WORK/services.scale"
        fi
    else
        bad "docker-compose.yml: config --services:"; sed 's/^/    /' "$WORK/services.default" "$WORK/services.scale"
    fi
    if [ "${compose[0]}" = docker ]; then
        run "docker-compose.yml + deploy/compose/cpu.yml: ${compose[*]} config -q" \
            "${compose[@]}" -f docker-compose.yml -f deploy/compose/cpu.yml config -q
        # The CPU override must really remove the GPU reservation.
        if "${compose[@]}" -f docker-compose.yml -f deploy/compose/cpu.yml config > "$WORK/cpu.yml" 2>&1 \
            && ! grep -q 'driver: nvidia' "$WORK/cpu.yml"; then
            ok "deploy/compose/cpu.yml removes the nvidia reservation"
        else
            bad "deploy/compose/cpu.yml removes the nvidia reservation"
        fi
    else
        skip "deploy/compose/cpu.yml uses !reset, which docker-compose v1 cannot read (needs Compose >= 2.24.4)"
    fi
elif [ "${SD_REQUIRE_COMPOSE:-0}" = "1" ]; then
    bad "docker compose / docker-compose not found and SD_REQUIRE_COMPOSE=1"
else
    skip "docker compose config: neither Docker's compose plugin nor docker-compose is installed"
fi

# ---- (b) YAML parse and required fields -------------------------------------------------------------------------
echo "== (b) YAML files and required fields"
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    bad "node and npm are needed (apt-get install -y nodejs npm)"
elif ! (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) > "$WORK/npm.log" 2>&1; then
    bad "npm ci in tests/e2e/deploy:"; sed 's/^/    /' "$WORK/npm.log"
else
    # kustomize renderings for check.mjs to compare with its own (kubectl is not a Debian package: skipped without).
    if command -v kubectl > /dev/null; then
        for k in k8s k8s-scale; do
            if kubectl kustomize "deploy/$k" > "$WORK/kustomize.$k.yaml" 2> "$WORK/out.log"; then
                ok "kubectl kustomize deploy/$k"
            else
                bad "kubectl kustomize deploy/$k:"; sed 's/^/    /' "$WORK/out.log"; rm -f "$WORK/kustomize.$k.yaml"
            fi
        done
        [ -f "$WORK/kustomize.k8s.yaml" ] && export SD_KUSTOMIZE_BASE="$WORK/kustomize.k8s.yaml"
        [ -f "$WORK/kustomize.k8s-scale.yaml" ] && export SD_KUSTOMIZE_SCALE="$WORK/kustomize.k8s-scale.yaml"
    else
        skip "kubectl kustomize: kubectl not installed (check.mjs renders the kustomizations itself)"
    fi
    node "$HERE/check.mjs" > "$WORK/mjs.log" 2>&1
    mjs_rc=$?
    grep -E '^(PASS|FAIL|NOTE)' "$WORK/mjs.log"
    mjs_pass=$(grep -c '^PASS' "$WORK/mjs.log")
    mjs_fail=$(grep -c '^FAIL' "$WORK/mjs.log")
    passed=$((passed + mjs_pass))
    failed=$((failed + mjs_fail))
    if [ "$mjs_rc" -ne 0 ] && [ "$mjs_fail" -eq 0 ]; then bad "check.mjs crashed:"; sed 's/^/    /' "$WORK/mjs.log"; fi
fi

# ---- (c) promtool -----------------------------------------------------------------------------------------------
echo "== (c) Prometheus configuration"
if command -v promtool > /dev/null; then
    run "promtool check config deploy/prometheus/prometheus.yml" promtool check config deploy/prometheus/prometheus.yml
else
    bad "promtool not found (apt-get install -y prometheus)"
fi

# ---- (d) nginx -t ------------------------------------------------------------------------------------------------
echo "== (d) nginx configuration rendered for loopback"
if sd_nginx_bin > /dev/null 2>&1; then
    sd_nginx_render "$WORK/nginx-default" 18080 127.0.0.1:15000 > "$WORK/out.log" 2>&1 \
        && run "nginx -t: deploy/nginx template, metrics denied (default)" sd_nginx_test "$WORK/nginx-default" \
        || { bad "rendering the nginx template:"; sed 's/^/    /' "$WORK/out.log"; }
    sd_nginx_render "$WORK/nginx-metrics" 18080 127.0.0.1:15000 "allow 10.0.0.0/8; deny all;" > "$WORK/out.log" 2>&1 \
        && run "nginx -t: deploy/nginx template, metrics allowed from 10.0.0.0/8" sd_nginx_test "$WORK/nginx-metrics" \
        || { bad "rendering the nginx template (metrics allowed):"; sed 's/^/    /' "$WORK/out.log"; }
    # Compose renders the template with the nginx image's envsubst step (only variables matching
    # NGINX_ENVSUBST_FILTER=^SD_); it must give exactly what loopback.sh's sed gives, which is what nginx -t and
    # tests/e2e/nginx run.
    if command -v envsubst > /dev/null; then
        vars="$(printf '${%s} ' SD_LISTEN SD_UPSTREAM SD_RESOLVER SD_METRICS_ACCESS)"
        SD_LISTEN=127.0.0.1:18080 SD_UPSTREAM=127.0.0.1:15000 SD_RESOLVER=127.0.0.1 SD_METRICS_ACCESS='deny all;' \
            envsubst "$vars" < deploy/nginx/templates/default.conf.template > "$WORK/envsubst.conf"
        if cmp -s "$WORK/envsubst.conf" "$WORK/nginx-default/conf/sd.conf"; then
            ok "nginx template: envsubst (compose) and sed (loopback) render it identically"
        else
            bad "nginx template: envsubst and sed renderings differ:"; diff "$WORK/envsubst.conf" "$WORK/nginx-default/conf/sd.conf" | sed 's/^/    /'
        fi
    else
        skip "envsubst not installed (apt-get install -y gettext-base): compose rendering not compared"
    fi
else
    bad "nginx not found (apt-get install -y nginx, or set NGINX_BIN)"
fi

# ---- (e) Dockerfile rules ---------------------------------------------------------------------------------------
echo "== (e) Dockerfile rules"
# Continuation lines joined, comments dropped: one instruction per line.
sed -e ':a' -e '/\\$/N; s/\\\n//; ta' Dockerfile | grep -vE '^\s*(#|$)' > "$WORK/Dockerfile.flat"

# ARG defaults declared before the first FROM (the only ones FROM lines can use).
declare -A args=()
while read -r _ kv; do
    [ "${kv#*=}" != "$kv" ] && args["${kv%%=*}"]="${kv#*=}"
done < <(awk '/^FROM /{exit} /^ARG /' "$WORK/Dockerfile.flat")
expand() {
    local s="$1" name
    for name in "${!args[@]}"; do s="${s//\$\{$name\}/${args[$name]}}"; s="${s//\$$name/${args[$name]}}"; done
    printf '%s' "$s"
}

# Stages: name -> base image (expanded with the default ARGs; VARIANT is tried both ways below).
declare -A stage_from=()
stage_names=()
while read -r _ image rest; do
    name="$(sed -nE 's/^[Aa][Ss] +([A-Za-z0-9_.-]+).*/\1/p' <<< "$rest")"
    [ -z "$name" ] && name="stage${#stage_names[@]}"
    stage_names+=("$name")
    stage_from["$name"]="$image"
done < <(grep -E '^FROM ' "$WORK/Dockerfile.flat" | sed -E 's/--platform=[^ ]+ //')
final="${stage_names[-1]}"

pinned_ok=1
for name in "${stage_names[@]}"; do
    image="$(expand "${stage_from[$name]}")"
    # A FROM on an earlier stage (runtime-${VARIANT}) is checked through that stage.
    if [[ "$image" == *'$'* ]] || [ -n "${stage_from[$image]+x}" ]; then continue; fi
    if [[ "$image" == *@sha256:* ]]; then continue; fi
    tag="${image##*:}"
    if [ "$tag" = "$image" ] || [[ "$image" != *:* ]] || ! [[ "$tag" =~ [0-9]+\.[0-9]+\.[0-9]+ ]]; then
        bad "Dockerfile: FROM $image (stage $name) is not pinned to a full version tag"; pinned_ok=0
    fi
done
[ "$pinned_ok" = 1 ] && ok "Dockerfile: every FROM image pinned to a full version tag"

# The final stage and the stages it is built on, for each VARIANT value the Dockerfile offers.
variants="$(grep -oE '^FROM [^ ]+ AS runtime-[a-z0-9]+' "$WORK/Dockerfile.flat" | sed -E 's/.*runtime-//')"
[ -n "$variants" ] && ok "Dockerfile: runtime variants: $(echo $variants)" || bad "Dockerfile: no runtime-* stages"
for variant in $variants; do
    chain=()
    stage="$final"
    for _ in 1 2 3 4 5 6; do
        chain+=("$stage")
        base="${stage_from[$stage]//\$\{VARIANT\}/$variant}"
        base="$(expand "$base")"
        if [ -n "${stage_from[$base]+x}" ]; then stage="$base"; else chain_image="$base"; break; fi
    done
    # Instructions of the stages in the chain.
    awk -v list=" ${chain[*]} " '
        /^FROM / { name = ""; for (i = 1; i <= NF; i++) if (toupper($i) == "AS") name = $(i + 1); keep = index(list, " " name " ") > 0 }
        keep' "$WORK/Dockerfile.flat" > "$WORK/final.$variant"
    if [[ "$chain_image" == *dotnet/sdk* ]] || grep -qiE '^FROM .*dotnet/sdk' "$WORK/final.$variant"; then
        bad "Dockerfile ($variant): the final image is built on the SDK ($chain_image)"
    elif grep -qE '^COPY .*--from=build .*(/usr/share/dotnet|/root/\.dotnet|/usr/lib/dotnet)' "$WORK/final.$variant"; then
        bad "Dockerfile ($variant): the final stage copies a .NET installation out of the SDK stage"
    else
        ok "Dockerfile ($variant): no SDK in the final image (${chain[*]} on $chain_image)"
    fi
    user="$(grep -E '^USER ' "$WORK/final.$variant" | tail -n 1 | awk '{print $2}')"
    if [ -z "$user" ]; then
        bad "Dockerfile ($variant): no USER in the final stage (runs as root)"
    elif [[ "${user%%:*}" =~ ^(root|0)$ ]]; then
        bad "Dockerfile ($variant): USER $user is root"
    elif ! [[ "${user%%:*}" =~ ^[0-9]+$ ]]; then
        bad "Dockerfile ($variant): USER $user is not numeric (Kubernetes runAsNonRoot cannot verify a name)"
    else
        ok "Dockerfile ($variant): runs as non-root USER $user"
    fi
    if grep -qE '^HEALTHCHECK .*/health/live' "$WORK/final.$variant"; then
        ok "Dockerfile ($variant): HEALTHCHECK on /health/live"
    else
        bad "Dockerfile ($variant): no HEALTHCHECK on /health/live"
    fi
    probe="$(grep -E '^HEALTHCHECK ' "$WORK/final.$variant" | grep -oE '\b(curl|wget)\b' | head -n 1)"
    if [ -n "$probe" ] && grep -qE "^RUN .*(apt-get|apk|dnf|microdnf) .*install.*\b$probe\b" "$WORK/final.$variant"; then
        ok "Dockerfile ($variant): $probe, used by HEALTHCHECK, is installed in the runtime image"
    else
        bad "Dockerfile ($variant): the HEALTHCHECK tool (${probe:-none}) is not installed in the runtime image"
    fi
done
grep -qE '^EXPOSE 5000' "$WORK/Dockerfile.flat" && ok "Dockerfile: EXPOSE 5000" || bad "Dockerfile: no EXPOSE 5000"
# appsettings.json's "Urls" (http://localhost:5000: loopback only) beats ASPNETCORE_HTTP_PORTS and ASPNETCORE_URLS;
# only the unprefixed Urls variable moves the server to all interfaces (check.mjs checks the same in compose/k8s).
grep -qE '^ENV (.* )?Urls=http://(\+|\*|0\.0\.0\.0|\[::\]):5000( |$)' "$WORK/Dockerfile.flat" \
    && ok "Dockerfile: listens on all interfaces, port 5000 (ENV Urls; appsettings.json says localhost)" \
    || bad "Dockerfile: ENV Urls=http://+:5000 not set (appsettings.json's Urls is localhost only, and wins over ASPNETCORE_*)"
grep -qE '^ARG VARIANT=' "$WORK/Dockerfile.flat" && grep -qE '^FROM runtime-\$\{VARIANT\}' "$WORK/Dockerfile.flat" \
    && ok "Dockerfile: VARIANT build arg selects the runtime stage" || bad "Dockerfile: no VARIANT build arg"
if [ -f .dockerignore ]; then
    missing=""
    for pattern in '**/bin/' '**/obj/' 'models/' '**/*.onnx' '.git/' '**/node_modules/'; do
        grep -qxF "$pattern" .dockerignore || missing="$missing $pattern"
    done
    [ -z "$missing" ] && ok ".dockerignore: excludes build outputs, .git, node_modules and models" \
        || bad ".dockerignore: lacks$missing"
else
    bad ".dockerignore missing"
fi

# ---- scripts ----------------------------------------------------------------------------------------------------
echo "== scripts"
for script in tests/e2e/deploy/*.sh tests/e2e/nginx/*.sh; do run "bash -n $script" bash -n "$script"; done
for script in tests/e2e/deploy/*.mjs tests/e2e/nginx/*.mjs; do run "node --check $script" node --check "$script"; done
run "python3 compiles tests/e2e/nginx/fake_server.py" python3 -c \
    'import ast,sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' tests/e2e/nginx/fake_server.py

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
