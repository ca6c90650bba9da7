#!/usr/bin/env bash
# Runs every shell example of every README against a real server, so a wrong example fails the build.
#
#   bash tests/e2e/readme/run.sh                     every README*.md in the repository (git ls-files)
#   bash tests/e2e/readme/run.sh README.md ...       only these files
#   SD_SERVER_DLL=artifacts/server/StableDiffusion.Server.dll   use a published server (tests/run-all.sh sets it;
#                                                    otherwise this script publishes one into its work folder)
#   SD_CLI_DLL=.../sd.dll                            use this `sd` (otherwise `dotnet build src/StableDiffusion.Cli`)
#   README_TEST_TIMEOUT=120                          seconds one block may run
#
# What runs: each fenced block whose language is bash, sh, shell or console (console: only the "$ " lines) becomes a
# script run with `set -eo pipefail` from a scratch folder that links to the repository's top-level entries (so
# `src/...` and `tests/...` paths work and files a block writes stay out of the tree), with:
#   - http://localhost:5000 (any localhost:5000) rewritten to this suite's server: the demo model (tiny, random
#     weights), CPU, its own port and data directory, so the suite runs beside others;
#   - /tmp/ rewritten to the suite's own scratch folder;
#   - `sd` = the command line (an `alias sd=...` line is harmless: scripts do not expand aliases);
#   - `curl` = curl --fail-with-body: an HTTP error answer fails the block (a 404 example is a wrong example).
# Blocks run one after another in file order (a later block may use files an earlier one of the same suite wrote
# under /tmp/). A block passes when it exits 0.
#
# Markers, an HTML comment on the nearest non-blank line before the opening fence (invisible on GitHub):
#   <!-- readme-test: skip (needs docker) -->   not run; listed at the end with the reason. Only for what cannot run
#                                              here: docker, kubectl, a GPU, a real model or the network, a
#                                              long-running server (`dotnet run` of the server itself), a file that
#                                              is not commands. The reason is required.
#   <!-- readme-test: expect-error -->          the example shows an error answer: the block must exit non-zero.
# A block without a marker that fails fails the suite. Blocks in other languages (js, python, csharp, json, plain
# ```) are not run. The harness checks itself on tests/e2e/readme/selftest.md (a deliberately wrong example must be
# reported as failed, a good one as passed, markers honoured).
#
# Output: "PASS file:line" / "FAIL file:line (exit N)" with the block's output, the skipped list, then
# "N passed, N failed" and "# skipped N" (what tests/run-all.sh counts).
set -euo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/lib/server.sh"
e2e_init
block_timeout="${README_TEST_TIMEOUT:-120}"

cd "$root"
if [[ $# -gt 0 ]]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*README*.md' | grep -v 'node_modules/' | sort)
fi
[[ ${#files[@]} -gt 0 ]] || { echo "no README files found" >&2; exit 1; }

port="$(e2e_free_port)"
e2e_start_server "http://127.0.0.1:$port"
if [[ -n "${SD_CLI_DLL:-}" ]]; then
  cli_dll="$SD_CLI_DLL"
else
  echo "== building the command line (sd)"
  dotnet build "$root/src/StableDiffusion.Cli" -c Release --nologo -v q >"$work/cli-build.log" 2>&1 \
    || { cat "$work/cli-build.log"; exit 1; }
  cli_dll="$root/src/StableDiffusion.Cli/bin/Release/net10.0/sd.dll"
fi
[[ -f "$cli_dll" ]] || { echo "sd.dll not found: $cli_dll" >&2; exit 1; }
e2e_wait_ready "$port"
echo "== server ready, sd built (${SECONDS} s)"

scratch="$work/scratch"
mkdir -p "$scratch/tmp" "$scratch/cwd"
shopt -s dotglob
for entry in "$root"/*; do
  [[ "$(basename "$entry")" == ".git" ]] || ln -s "$entry" "$scratch/cwd/"
done
shopt -u dotglob

# run_blocks DIR: runs DIR/<n>.sh as index.tsv says; writes DIR/results.tsv (n, file:line, status, detail, expect)
# and prints one PASS/FAIL line per run block (with the output of a failed one).
run_blocks() {
  local dir="$1" n file line lang mode reason expect rc status detail started took
  : >"$dir/results.tsv"
  while IFS=$'\x1f' read -r n file line lang mode reason expect; do
    status="" detail=""
    case "$mode" in
      skip) status=skip detail="$reason" ;;
      bad-marker) status=fail detail="$reason" ;;
      *)
        {
          printf 'set -eo pipefail\n'
          printf 'sd() { dotnet %q "$@"; }\n' "$cli_dll"
          printf 'curl() { command curl --fail-with-body "$@"; }\n'
          printf 'export -f sd curl\n'
          sed -e "s#localhost:5000#127.0.0.1:$port#g" -e "s#/tmp/#$scratch/tmp/#g" "$dir/$n.sh"
        } >"$dir/$n.run.sh"
        rc=0 started=$SECONDS
        (cd "$scratch/cwd" && timeout "$block_timeout" bash "$dir/$n.run.sh") </dev/null >"$dir/$n.log" 2>&1 || rc=$?
        took="$((SECONDS - started)) s"
        if [[ "$rc" -eq 124 ]]; then
          status=fail detail="timed out after ${block_timeout}s"
        elif [[ "$mode" == "expect-error" ]]; then
          if [[ "$rc" -ne 0 ]]; then status=pass; else status=fail detail="marked expect-error, but it exited 0"; fi
        elif [[ "$rc" -eq 0 ]]; then
          status=pass
        else
          status=fail detail="exit $rc"
        fi
        ;;
    esac
    printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$file:$line" "$status" "$detail" "$expect" >>"$dir/results.tsv"
    case "$status" in
      pass) echo "PASS $file:$line ($lang, $mode, $took)" ;;
      fail)
        echo "FAIL $file:$line ($lang): $detail"
        if [[ -f "$dir/$n.log" ]]; then
          awk '{ print "    | " $0 }' "$dir/$n.sh"
          echo "    output (last 20 lines):"
          tail -n 20 "$dir/$n.log" | awk '{ print "    > " $0 }'
        fi
        ;;
    esac
  done <"$dir/index.tsv"
}

echo "== README examples: ${files[*]}"
python3 "$here/extract.py" "$work/readme" "${files[@]}"
run_blocks "$work/readme"
passed=$(awk -F'\t' '$3 == "pass"' "$work/readme/results.tsv" | wc -l)
failed=$(awk -F'\t' '$3 == "fail"' "$work/readme/results.tsv" | wc -l)
skipped=$(awk -F'\t' '$3 == "skip"' "$work/readme/results.tsv" | wc -l)

# The harness on its own fixture: each block's status must be the one its selftest-expect comment names.
echo "== self-check (tests/e2e/readme/selftest.md, ${SECONDS} s)"
python3 "$here/extract.py" "$work/selftest" "tests/e2e/readme/selftest.md"
run_blocks "$work/selftest" | sed 's/^/  [fixture] /'
mismatches=$(awk -F'\t' '$5 == "" || $3 != $5 { print "  " $2 ": expected " ($5 == "" ? "(no selftest-expect)" : $5) ", got " $3 }' \
  "$work/selftest/results.tsv")
fixture_fails=$(awk -F'\t' '$3 == "fail"' "$work/selftest/results.tsv" | wc -l)
if [[ -z "$mismatches" && "$fixture_fails" -ge 1 ]]; then
  echo "PASS self-check: $(wc -l <"$work/selftest/results.tsv") fixture blocks, the wrong ones reported as failed"
  passed=$((passed + 1))
else
  echo "FAIL self-check: the harness misjudged its fixture"
  [[ -n "$mismatches" ]] && echo "$mismatches"
  failed=$((failed + 1))
fi

if [[ "$skipped" -gt 0 ]]; then
  echo
  echo "Skipped (readme-test: skip marker):"
  awk -F'\t' '$3 == "skip" { printf "  %s  %s\n", $2, $4 }' "$work/readme/results.tsv"
fi
echo
echo "(${SECONDS} s)"
echo "$passed passed, $failed failed"
echo "# skipped $skipped"
status=0
[[ "$failed" -eq 0 ]] || status=1
e2e_finish "$status"
