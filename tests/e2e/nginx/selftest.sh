#!/usr/bin/env bash
# Proves that tests/e2e/nginx can fail: runs run.sh against the fake upstream with the real deploy/nginx template
# (must pass) and with broken copies of it (each must fail the check that guards the broken setting).
#
# apt packages needed (installed by CI beforehand): nginx curl nodejs python3
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATE="$HERE/../../../deploy/nginx/templates/default.conf.template"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sd-e2e-selftest.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
result() { if [ "$1" = ok ]; then passed=$((passed + 1)); echo "PASS $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi; }

echo "== deploy/nginx template as committed"
if SD_E2E_UPSTREAM=fake "$HERE/run.sh" > "$WORK/good.log" 2>&1; then
    result ok "committed template passes every proxy check"
else
    cat "$WORK/good.log"; result bad "committed template passes every proxy check"
fi

# mutation name | sed expression applied to the template | check that must then FAIL
mutations=(
    "proxy_buffering on|s/proxy_buffering off;/proxy_buffering on;/|SSE events arrive incrementally"
    "client_max_body_size 1m|s/client_max_body_size 64m;/client_max_body_size 1m;/|upload is not refused by nginx"
    "no X-Forwarded-Prefix|/X-Forwarded-Prefix/d|prediction URLs carry the proxy scheme, host and prefix"
    "X-Forwarded-Host without port|s/X-Forwarded-Host \$sd_forwarded_host/X-Forwarded-Host \$host/|prediction URLs carry"
    "metrics not denied|s/\${SD_METRICS_ACCESS}//|/sd/metrics is not reachable"
)
for m in "${mutations[@]}"; do
    IFS='|' read -r name expr guard <<< "$m"
    sed -e "$expr" "$TEMPLATE" > "$WORK/mutant.template"
    if cmp -s "$TEMPLATE" "$WORK/mutant.template"; then result bad "mutation '$name' changed nothing (sed: $expr)"; continue; fi
    echo "== mutation: $name"
    if SD_NGINX_TEMPLATE="$WORK/mutant.template" SD_E2E_UPSTREAM=fake "$HERE/run.sh" > "$WORK/mutant.log" 2>&1; then
        result bad "mutation '$name' is caught (run.sh passed)"
    elif grep -q "^FAIL .*$guard" "$WORK/mutant.log"; then
        result ok "mutation '$name' is caught by '$guard'"
    else
        cat "$WORK/mutant.log"; result bad "mutation '$name' failed, but not on '$guard'"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
