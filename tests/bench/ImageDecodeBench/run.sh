#!/usr/bin/env bash
# Decode time and peak memory (VmHWM above the process's baseline), one case per process, three decoders.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dotnet build "$here" -c Release -o "$here/bin/out" >/dev/null
bench="$here/bin/out/ImageDecodeBench"
for c in $("$bench" cases); do
  for d in ours skia imagesharp; do
    # ImageSharp alone on the 512 MB bombs takes tens of seconds and gigabytes: the 64 MB bomb shows the trend.
    if [ "$d" = imagesharp ] && [[ "$c" == *512mb ]]; then continue; fi
    timeout 120 "$bench" "$d" "$c" || echo "$d $c: exit $?"
  done
done
