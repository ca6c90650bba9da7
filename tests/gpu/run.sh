#!/usr/bin/env bash
# The GPU check, run on the device machine from a bundle that assemble.sh unpacked (no .NET needed there: the CLI is
# self-contained). CUDA 13 and cuDNN 9 come from the Python nvidia-* wheels of that machine.
#
#   bash run.sh BUNDLE_DIR OUT_DIR
#
# It builds the full-size float16 synthetic SD 2.1-base model, benches it on CUDA at 512x512, 25 steps, batch 1 and 4,
# plain runs / I/O binding / device-side steps, each with and without CUDA graphs, checks CUDA against the CPU on the
# tiny model, and writes
# OUT_DIR/gpu-table.md (plus the raw JSON lines and a log). Every step has its own time limit; a failing step is
# recorded in the table rather than stopping the others. Total: about 5-8 minutes on an H100.
set -uo pipefail
bundle=$(cd "${1:?usage: run.sh BUNDLE_DIR OUT_DIR}" && pwd)
out=${2:?usage: run.sh BUNDLE_DIR OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
sd="$bundle/sd/sd"
here=$(cd "$(dirname "$0")" && pwd)
models=${GPU_CHECK_MODELS:-/tmp/sd-gpu-models}
steps=${GPU_CHECK_STEPS:-25}
size=${GPU_CHECK_SIZE:-512}
provider=${GPU_CHECK_PROVIDER:-cuda} # cpu: a dry run of this script where there is no GPU
preset=${GPU_CHECK_PRESET:-sd21-base}
# What to run, for a short device budget: the bench modes, the unfused full model (0: only the ORT-optimised one) and
# the concurrency bench.
modes=${GPU_CHECK_MODES:-plain bound device graph device-graph}
unfused=${GPU_CHECK_UNFUSED:-1}
concurrency=${GPU_CHECK_CONCURRENCY:-1}
log="$out/log.txt"
: >"$log"
: >"$out/bench.jsonl"
: >"$out/checks.jsonl"
started=$(date +%s)
# The first python3 that has numpy and Pillow (the comparison and the table need them).
py=python3
for candidate in ${GPU_CHECK_PYTHON:-} python3 /usr/bin/python3; do
  if "$candidate" -c 'import numpy, PIL' 2>/dev/null; then py=$candidate; break; fi
done
say() { echo "[$(( $(date +%s) - started ))s] $*" | tee -a "$log"; }

# CUDA 13 / cuDNN 9 libraries from the nvidia-* wheels (libcudart.so.13, libcublas.so.13, libcudnn.so.9 …).
libdirs=$(python3 - <<'PY' 2>/dev/null || true
import glob, os, site
roots = set(site.getsitepackages() + [site.getusersitepackages()])
dirs = {os.path.dirname(f) for r in roots for f in glob.glob(os.path.join(r, "nvidia", "**", "lib*.so*"), recursive=True)}
print(":".join(sorted(dirs)))
PY
)
export LD_LIBRARY_PATH="$bundle/sd${libdirs:+:$libdirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
say "GPU: ${gpu:-none found}"
echo "{\"check\":\"gpu\",\"value\":\"${gpu:-none}\"}" >>"$out/checks.jsonl"
missing=$(ldd "$bundle/sd/libonnxruntime_providers_cuda.so" 2>/dev/null | grep 'not found' || true)
if [ -n "$missing" ]; then
  say "the CUDA provider is missing libraries: $missing"
fi

step() { # step NAME LIMIT_SECONDS COMMAND... — runs, logs, records failure without stopping the check
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  say "$name: $*"
  timeout "$limit" "$@" >>"$out/$name.out" 2>>"$log"
  local rc=$?
  say "$name: exit $rc in $(( $(date +%s) - t0 )) s"
  [ $rc -eq 0 ] || echo "{\"check\":\"$name\",\"failed\":\"exit $rc\"}" >>"$out/checks.jsonl"
  return $rc
}

# bench_modes MODEL NAME LIMIT: sd bench at batch 1 and 4 in each of $modes: plain runs, bound I/O with the scheduler
# on the host (latents in and prediction out per step), device-side steps (latents stay on the GPU), and the last two
# with CUDA graphs.
bench_modes() {
  local model=$1 name=$2 limit=$3 mode
  local -a flags
  for mode in $modes; do
    case $mode in
      plain) flags=(--io-binding off) ;;
      bound) flags=(--io-binding on --device-steps off) ;;
      device) flags=(--io-binding on --device-steps on) ;;
      graph) flags=(--io-binding on --device-steps off --cuda-graph) ;;
      device-graph) flags=(--io-binding on --device-steps on --cuda-graph) ;;
      *) say "unknown mode $mode"; continue ;;
    esac
    step "$name-$mode" "$limit" "$sd" bench --model "$model" --provider "$provider" --steps "$steps" \
      --width "$size" --height "$size" --batch-sizes 1,4 --runs 3 --seed 1 "${flags[@]}" \
      && grep '^{' "$out/$name-$mode.out" | sed "s/^{/{\"mode\":\"$mode\",/" >>"$out/bench.jsonl"
  done
}

mkdir -p "$models"
step make-tiny 120 "$sd" make-model --preset tiny --out "$models/tiny"
# CUDA against the CPU on the tiny model: same seed, strict float32 (no TF32) and the default (TF32).
gen_args=(--seed 3 --steps 10 --width 256 --height 256 --no-watermark --prompt "a red boat")
common=(--model "$models/tiny" "${gen_args[@]}")
step gen-cpu 120 "$sd" generate "${common[@]}" --provider cpu --out "$out/img-cpu"
step gen-cuda-fp32 120 "$sd" generate "${common[@]}" --provider "$provider" --no-tf32 --out "$out/img-cuda-fp32"
step gen-cuda-tf32 120 "$sd" generate "${common[@]}" --provider "$provider" --out "$out/img-cuda-tf32"
step gen-cuda-plain 120 "$sd" generate "${common[@]}" --provider "$provider" --no-tf32 --io-binding off --out "$out/img-cuda-plain"
step gen-cuda-graph 120 "$sd" generate "${common[@]}" --provider "$provider" --no-tf32 --device-steps off --cuda-graph --out "$out/img-cuda-graph"
step gen-cuda-device 120 "$sd" generate "${common[@]}" --provider "$provider" --no-tf32 --io-binding on --device-steps on --out "$out/img-cuda-device"
step gen-cuda-device-graph 120 "$sd" generate "${common[@]}" --provider "$provider" --no-tf32 --io-binding on --device-steps on --cuda-graph --out "$out/img-cuda-device-graph"
for variant in cuda-fp32 cuda-tf32 cuda-plain cuda-graph cuda-device cuda-device-graph; do
  "$py" "$here/compare.py" "$out/img-cpu" "$out/img-$variant" "cpu vs $variant" >>"$out/checks.jsonl" 2>>"$log" || true
done
# A sampler that draws noise every step (drawn on the host, uploaded into the device-side run) and a multistep one.
for scheduler in K_EULER_ANCESTRAL DPMSolverMultistep; do
  step "gen-cpu-$scheduler" 120 "$sd" generate "${common[@]}" --scheduler "$scheduler" --provider cpu --out "$out/img-cpu-$scheduler"
  step "gen-cuda-device-$scheduler" 120 "$sd" generate "${common[@]}" --scheduler "$scheduler" --provider "$provider" --no-tf32 \
    --io-binding on --device-steps on --out "$out/img-cuda-device-$scheduler"
  "$py" "$here/compare.py" "$out/img-cpu-$scheduler" "$out/img-cuda-device-$scheduler" "cpu vs cuda-device ($scheduler)" >>"$out/checks.jsonl" 2>>"$log" || true
done

# A model optimised by ONNX Runtime's own optimize_pipeline.py (float16, fused contrib operators), when the machine's
# Python has onnxruntime: it runs on CUDA, and on the CPU it must fail with the error that says why.
if python3 -c 'import onnxruntime.transformers.optimizer' 2>/dev/null; then
  shim=$(mktemp -d)  # optimize_pipeline.py imports coloredlogs only to colour its log lines
  python3 -c 'import coloredlogs' 2>/dev/null || printf 'def install(*args, **kwargs):\n    pass\n' >"$shim/coloredlogs.py"
  if step optimize-tiny 180 env PYTHONPATH="$shim${PYTHONPATH:+:$PYTHONPATH}" python3 -m onnxruntime.transformers.models.stable_diffusion.optimize_pipeline \
      -i "$models/tiny" -o "$models/tiny-ort-fp16" --float16; then
    python3 - "$models/tiny-ort-fp16/unet/model.onnx" >>"$out/checks.jsonl" 2>>"$log" <<'PY'
import json, sys, onnx
m = onnx.load(sys.argv[1], load_external_data=False)
ops = sorted({f"{n.domain}.{n.op_type}" for n in m.graph.node if n.domain not in ("", "ai.onnx")})
io = sorted({onnx.TensorProto.DataType.Name(i.type.tensor_type.elem_type) for i in m.graph.input})
print(json.dumps({"check": "ort-optimised unet", "contrib_ops": " ".join(ops) or "none", "input_types": " ".join(io)}))
PY
    step gen-ort-fp16-cuda 120 "$sd" generate --model "$models/tiny-ort-fp16" "${gen_args[@]}" --provider "$provider" --out "$out/img-ort-fp16"
    "$py" "$here/compare.py" "$out/img-cpu" "$out/img-ort-fp16" "cpu fp32 vs ort-optimised fp16 on $provider" >>"$out/checks.jsonl" 2>>"$log" || true
    if timeout 120 "$sd" generate --model "$models/tiny-ort-fp16" "${gen_args[@]}" --provider cpu --out "$out/img-ort-cpu" >"$out/ort-cpu.out" 2>&1; then
      echo '{"check":"ort-optimised fp16 on the cpu","result":"ran (no CUDA-only operator in it)"}' >>"$out/checks.jsonl"
    else
      reason=$(grep -o "uses the operator [^,]*, which only ONNX Runtime's CUDA execution provider implements" "$out/ort-cpu.out" | head -1)
      echo "{\"check\":\"ort-optimised fp16 on the cpu\",\"result\":\"refused: ${reason:-OTHER ERROR, see ort-cpu.out}\"}" >>"$out/checks.jsonl"
    fi
  fi
else
  echo '{"check":"ort-optimised fp16","skipped":"no onnxruntime Python package here"}' >>"$out/checks.jsonl"
fi

if [ "$unfused" = 1 ]; then
  step make-full 300 "$sd" make-model --preset "$preset" --fp16 --out "$models/$preset-fp16"
  bench_modes "$models/$preset-fp16" bench 240
fi
# 4 concurrent requests: one after another (no batching) against one UNet batch (the batching worker's path).
bench_concurrency() { # bench_concurrency MODEL NAME
  [ "$concurrency" = 1 ] || return 0
  step "$2-concurrency" 240 "$sd" bench --model "$1" --provider "$provider" --steps "$steps" --width "$size" --height "$size" \
    --concurrency 4 --runs 2 --seed 1 --io-binding on \
    && grep '^{' "$out/$2-concurrency.out" >>"$out/concurrency.jsonl"
}
: >"$out/concurrency.jsonl"
[ "$unfused" = 1 ] && bench_concurrency "$models/$preset-fp16" bench
# The same model exported float32 and optimised by ONNX Runtime's optimize_pipeline.py --float16 (fused GroupNorm and
# NhwcConv contrib operators): what a production deployment runs. Needs the machine's onnxruntime Python package.
if [ -n "${shim:-}" ]; then
  if step make-full-fp32 180 "$sd" make-model --preset "$preset" --out "$models/$preset-fp32" \
    && step optimize-full 300 env PYTHONPATH="$shim${PYTHONPATH:+:$PYTHONPATH}" python3 -m onnxruntime.transformers.models.stable_diffusion.optimize_pipeline \
      -i "$models/$preset-fp32" -o "$models/$preset-ort-fp16" --float16 -e; then
    rm -rf "$models/$preset-fp32"
    bench_modes "$models/$preset-ort-fp16" bench-ort 180
    bench_concurrency "$models/$preset-ort-fp16" bench-ort
  fi
fi
"$py" "$here/table.py" "$out/bench.jsonl" "$out/checks.jsonl" "$out/concurrency.jsonl" >"$out/gpu-table.md" 2>>"$log"
say "done"
cat "$out/gpu-table.md"
