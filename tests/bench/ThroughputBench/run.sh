#!/usr/bin/env bash
# PNG encoders, worker non-ONNX time per image and prompt-cache savings, on CPU, in one process.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dotnet build "$here" -c Release -o "$here/bin/out" >/dev/null
"$here/bin/out/ThroughputBench" "$@"
