#!/usr/bin/env bash
# Tests the GPU check's staging (tests/gpu/stage.sh and assemble.sh) without a GPU: a folder with incompressible data
# is staged in 1 MiB chunks, reassembled and compared file by file; a corrupt chunk, a missing chunk and a bad chunk
# size must each be refused with a message naming the fault. Then tests/gpu/run.sh itself runs as a dry run on the CPU
# (tiny model, 2 steps) and must write its table. Prints "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }

mkdir -p "$work/in/sub"
head -c 3500000 /dev/urandom >"$work/in/blob.bin"
printf 'hello\n' >"$work/in/sub/readme.txt"
printf '#!/bin/sh\necho run\n' >"$work/in/sub/tool.sh" && chmod +x "$work/in/sub/tool.sh"

if bash "$root/tests/gpu/stage.sh" --input "$work/in" --out "$work/stage" --chunk-mib 1 >"$work/stage.log" 2>&1; then
  ok "stage.sh stages a folder"
else
  not_ok "stage.sh stages a folder"; cat "$work/stage.log"
fi
chunks=$(ls "$work/stage"/part-* 2>/dev/null | wc -l)
[ "$chunks" -ge 4 ] && ok "incompressible 3.5 MB makes at least 4 chunks of 1 MiB ($chunks)" || not_ok "chunk count $chunks"
too_big=$(find "$work/stage" -name 'part-*' -size +1048576c | wc -l)
[ "$too_big" -eq 0 ] && ok "no chunk is over 1 MiB" || not_ok "$too_big chunk(s) over 1 MiB"

if bash "$root/tests/gpu/assemble.sh" "$work/stage" "$work/out" >"$work/assemble.log" 2>&1 && diff -r "$work/in" "$work/out" >/dev/null; then
  ok "assemble.sh restores the folder byte for byte"
else
  not_ok "assemble.sh restores the folder"; cat "$work/assemble.log"
fi
[ -x "$work/out/sub/tool.sh" ] && ok "file modes survive" || not_ok "file modes lost"

cp -a "$work/stage" "$work/corrupt"
printf 'X' | dd of="$work/corrupt/part-01" bs=1 seek=100 conv=notrunc 2>/dev/null
if bash "$root/tests/gpu/assemble.sh" "$work/corrupt" "$work/out2" >"$work/c.log" 2>&1; then
  not_ok "a corrupt chunk is refused"
elif grep -q 'chunk part-01 is corrupt' "$work/c.log" && [ ! -e "$work/out2/blob.bin" ]; then
  ok "a corrupt chunk is refused, named, and nothing is unpacked"
else
  not_ok "corrupt chunk message: $(cat "$work/c.log")"
fi

cp -a "$work/stage" "$work/missing"
rm "$work/missing/part-02"
if bash "$root/tests/gpu/assemble.sh" "$work/missing" "$work/out3" >"$work/m.log" 2>&1; then
  not_ok "a missing chunk is refused"
elif grep -q 'chunk part-02 is missing' "$work/m.log"; then
  ok "a missing chunk is refused and named"
else
  not_ok "missing chunk message: $(cat "$work/m.log")"
fi

if bash "$root/tests/gpu/stage.sh" --input "$work/in" --out "$work/x" --chunk-mib 64 >"$work/big.log" 2>&1; then
  not_ok "a chunk size over 63 MiB is refused"
else
  grep -q 'must be 1..63' "$work/big.log" && ok "a chunk size over 63 MiB is refused" || not_ok "chunk size message: $(cat "$work/big.log")"
fi

# run.sh as a dry run on the CPU with the published CLI (framework-dependent here; self-contained on the GPU machine).
if dotnet publish "$root/src/StableDiffusion.Cli" -c Release -o "$work/bundle/sd" >"$work/publish.log" 2>&1; then
  printf '#!/bin/sh\nexec dotnet "$(dirname "$0")/sd.dll" "$@"\n' >"$work/bundle/sd/sd" && chmod +x "$work/bundle/sd/sd"
  GPU_CHECK_PROVIDER=cpu GPU_CHECK_PRESET=tiny GPU_CHECK_STEPS=2 GPU_CHECK_SIZE=64 GPU_CHECK_MODELS="$work/models" \
    bash "$root/tests/gpu/run.sh" "$work/bundle" "$work/result" >"$work/run.log" 2>&1
  rows=$(grep -cE '^\| tiny-fp16 \| 64x64 \| 2 \| [14] \| (plain|bound|device steps) \|' "$work/result/gpu-table.md" 2>/dev/null || echo 0)
  [ "$rows" -eq 10 ] && ok "run.sh (dry run on the CPU) writes a table with 10 bench rows (5 modes, batch 1 and 4)" || { not_ok "run.sh table has $rows bench rows"; cat "$work/run.log"; }
  grep -qE '^\| tiny-fp16 \| 64x64 \| 2 \| 4 \| device steps \|' "$work/result/gpu-table.md" \
    && ok "run.sh benches device-side steps" || not_ok "run.sh device-steps row missing"
  grep -qE '^\| cpu vs cuda-device \(K_EULER_ANCESTRAL\) \| max_level_diff [01],' "$work/result/gpu-table.md" \
    && ok "run.sh compares device-side steps with the host loop (an ancestral sampler)" || not_ok "run.sh device-steps comparison row missing"
  grep -q '| cpu vs cuda-fp32 | max_level_diff 0,' "$work/result/gpu-table.md" \
    && ok "run.sh compares images (CPU against itself: 0 levels apart)" || not_ok "run.sh comparison row missing"
  grep -q '^| tiny-fp16 | 64x64 | 2 | 4 |' "$work/result/gpu-table.md" \
    && ok "run.sh measures 4 concurrent requests, one after another and as one batch" || not_ok "run.sh concurrency row missing"
  if grep -q '"failed"' "$work/result/checks.jsonl"; then not_ok "a dry-run step failed: $(grep failed "$work/result/checks.jsonl")"; else ok "every dry-run step passed"; fi
else
  not_ok "publishing the CLI"; cat "$work/publish.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
