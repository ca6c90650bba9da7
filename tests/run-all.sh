#!/usr/bin/env bash
# Runs every test of the project: the .NET unit and integration tests (dotnet test), then each end-to-end suite
# under tests/e2e/*/run.sh (real clients, real nginx, a real browser) against a server published once here.
# Prints one summary line at the end: "N passed, N failed, N skipped". Exit status is non-zero on any failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results="$root/TestResults"
rm -rf "$results"
mkdir -p "$results"
passed=0 failed=0 skipped=0

# The tokenizer's differential test: random prompts tokenized by the pure-Python port of transformers' slow
# CLIPTokenizer (tests/StableDiffusion.Core.Tests/Text/reference), compared id for id by ClipTokenizerFuzzTests.
if [ -z "${CLIP_TOKENIZER_FUZZ:-}" ] && [ -d ../shared/clip-tokenizer ] && command -v python3 >/dev/null; then
  (cd tests/StableDiffusion.Core.Tests/Text/reference && python3 generate_fuzz_cases.py "$results/clip-fuzz.json" 5000) \
    && export CLIP_TOKENIZER_FUZZ="$results/clip-fuzz.json"
fi

# The S3 output-store tests run against npm's s3rver (tests/StableDiffusion.Server.Tests/Outputs/s3rver), pinned by
# its lock file; the test fixture starts it. A failed install is left for those tests to report (they fail in CI).
echo "== npm ci (s3rver for the S3 output-store tests)"
(cd tests/StableDiffusion.Server.Tests/Outputs/s3rver && npm ci --no-audit --no-fund --loglevel=error) \
  || echo "npm ci for s3rver failed: the S3 output-store tests will fail" >&2

echo "== dotnet test"
dotnet test StableDiffusion.Server.sln -c Release --logger "trx" --results-directory "$results" 2>&1 | tee "$results/dotnet-test.log"
dotnet_rc=${PIPESTATUS[0]}
trx_count=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  trx_count=$((trx_count + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed)
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + total - executed))
done
if [ "$dotnet_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test failed (exit $dotnet_rc) without a failed test: build or run error" >&2
  failed=$((failed + 1))
fi
[ "$trx_count" -gt 0 ] || { echo "no test results were written" >&2; failed=$((failed + 1)); }

suites=$(ls tests/e2e/*/run.sh 2>/dev/null || true)
if [ -n "$suites" ]; then
  echo "== publishing the server for the end-to-end suites"
  if dotnet publish src/StableDiffusion.Server -c Release -o "$root/artifacts/server" >"$results/publish.log" 2>&1; then
    export SD_SERVER_DLL="$root/artifacts/server/StableDiffusion.Server.dll"
  else
    cat "$results/publish.log" >&2
    echo "publishing the server failed" >&2
    failed=$((failed + 1))
  fi
  for suite in $suites; do
    name=$(basename "$(dirname "$suite")")
    echo "== e2e: $name"
    log="$results/e2e-$name.log"
    bash "$suite" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    # node:test prints "# pass N" / "# fail N" / "# skipped N"; shell suites print "N passed, N failed".
    p=$(grep -Eo '^(# pass|ℹ pass) [0-9]+' "$log" | grep -Eo '[0-9]+' | paste -sd+ | bc 2>/dev/null || true)
    f=$(grep -Eo '^(# fail|ℹ fail) [0-9]+' "$log" | grep -Eo '[0-9]+' | paste -sd+ | bc 2>/dev/null || true)
    s=$(grep -Eo '^(# skipped|ℹ skipped) [0-9]+' "$log" | grep -Eo '[0-9]+' | paste -sd+ | bc 2>/dev/null || true)
    if [ -z "$p" ]; then
      # Shell suites end with lines "N passed, N failed".
      p=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$log" | grep -Eo '^[0-9]+' | paste -sd+ | bc 2>/dev/null || true)
      f=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$log" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' | paste -sd+ | bc 2>/dev/null || true)
    fi
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
    if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
      echo "e2e suite $name failed (exit $rc)" >&2
      failed=$((failed + 1))
    fi
  done
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
