#!/usr/bin/env bash
# Stages the GPU check's bundle for a machine that has no .NET and takes at most 64 MiB per command: publishes the CLI
# self-contained for linux-x64 (its ONNX Runtime includes the CUDA provider, 284 MB alone), packs it with tests/gpu,
# compresses it with xz and splits it into chunks of at most CHUNK_MIB MiB, with SHA256SUMS for every chunk and for the
# whole archive. Send the chunks one command at a time; assemble.sh checks and unpacks them there.
#
#   bash tests/gpu/stage.sh [--input DIR] [--out DIR] [--chunk-mib N]
#     --input DIR   stage DIR instead of publishing (the CI test of the staging uses this)
#     --out DIR     where the chunks go (default .gpu-stage, ignored by git)
#     --chunk-mib N chunk size (default 58: a chunk plus the working tree stays under 64 MiB)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
input="" out="$root/.gpu-stage" chunk_mib=58
while [ $# -gt 0 ]; do
  case "$1" in
    --input) input=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --chunk-mib) chunk_mib=$2; shift 2 ;;
    *) echo "stage.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$chunk_mib" in ''|*[!0-9]*) echo "stage.sh: --chunk-mib must be a whole number of MiB" >&2; exit 2 ;; esac
[ "$chunk_mib" -ge 1 ] && [ "$chunk_mib" -le 63 ] || { echo "stage.sh: --chunk-mib must be 1..63" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$input" ]; then
  echo "== publishing the CLI self-contained for linux-x64"
  dotnet publish "$root/src/StableDiffusion.Cli" -c Release -r linux-x64 --self-contained true \
    -p:DebugType=none -o "$work/bundle/sd" >"$work/publish.log" 2>&1 || { cat "$work/publish.log" >&2; exit 1; }
  [ -f "$work/bundle/sd/libonnxruntime_providers_cuda.so" ] || { echo "stage.sh: the publish has no libonnxruntime_providers_cuda.so" >&2; exit 1; }
  mkdir -p "$work/bundle/gpu"
  cp "$root"/tests/gpu/*.sh "$root"/tests/gpu/*.py "$work/bundle/gpu/"
else
  [ -d "$input" ] || { echo "stage.sh: --input '$input' is not a folder" >&2; exit 2; }
  mkdir -p "$work/bundle"
  cp -a "$input/." "$work/bundle/"
fi

echo "== packing ($(du -sm "$work/bundle" | cut -f1) MiB before compression)"
tar -C "$work/bundle" -cf - . | xz -T0 -6 >"$out/bundle.tar.xz"
(cd "$out" && split -b "${chunk_mib}M" -d -a 2 bundle.tar.xz part- && sha256sum part-* bundle.tar.xz >SHA256SUMS && rm bundle.tar.xz)
count=$(ls "$out"/part-* | wc -l)
echo "== staged $count chunk(s) of at most $chunk_mib MiB in $out:"
(cd "$out" && ls -l part-* SHA256SUMS)
