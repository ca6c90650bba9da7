#!/usr/bin/env bash
# Fetches a live Prometheus /metrics page and checks it with promtool (parse + lint).
#
# apt packages needed (installed by CI beforehand): prometheus (for promtool) curl
#
# Usage: tests/e2e/deploy/check-metrics.sh http://127.0.0.1:5000/metrics
#   SD_METRICS_LINT=warn     report promtool lint problems (exit 3) without failing; parse errors always fail
#   SD_EXPECTED_METRICS="a b" metric family names that must be present (# TYPE lines), e.g. once the server's
#                            names are fixed (deploy/README.md, "Metrics")
#   SD_API_KEY               sent as a bearer token if the endpoint is behind the API keys
set -uo pipefail

url="${1:-}"
[ -n "$url" ] || { echo "usage: $0 URL-of-/metrics" >&2; exit 2; }
command -v promtool > /dev/null || { echo "promtool not found (apt-get install -y prometheus)" >&2; exit 2; }

body="$(mktemp)"
trap 'rm -f "$body"' EXIT
auth=()
[ -n "${SD_API_KEY:-}" ] && auth=(-H "Authorization: Bearer $SD_API_KEY")
# The classic text format (what promtool reads), not OpenMetrics.
passed=0
failed=0
# Ends with "N passed, N failed" (summed by tests/run-all.sh).
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
if ! curl -fsS --max-time 30 -H 'Accept: text/plain;version=0.0.4' "${auth[@]}" -o "$body" "$url"; then
    echo "FAIL could not fetch $url"; failed=1; finish
fi
families=$(grep -c '^# TYPE ' "$body")
echo "fetched $url: $(wc -c < "$body") bytes, $families metric families"
[ "$families" -gt 0 ] || { echo "FAIL no '# TYPE' line: not a Prometheus text page"; failed=1; finish; }

promtool check metrics < "$body" > "$body.out" 2>&1
rc=$?
sed 's/^/    /' "$body.out"; rm -f "$body.out"
case "$rc" in
0) echo "PASS promtool check metrics"; passed=$((passed + 1)) ;;
3) if [ "${SD_METRICS_LINT:-fail}" = warn ]; then
       echo "WARN promtool check metrics: lint problems above (SD_METRICS_LINT=warn)"; passed=$((passed + 1))
   else
       echo "FAIL promtool check metrics: lint problems above (set SD_METRICS_LINT=warn to accept them)"; failed=$((failed + 1))
   fi ;;
*) echo "FAIL promtool check metrics: the page does not parse (exit $rc)"; failed=$((failed + 1)) ;;
esac

for name in ${SD_EXPECTED_METRICS:-}; do
    if grep -qE "^# TYPE $name " "$body"; then
        echo "PASS metric $name present"; passed=$((passed + 1))
    else
        echo "FAIL metric $name missing"; failed=$((failed + 1))
    fi
done
finish
