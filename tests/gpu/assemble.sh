#!/usr/bin/env bash
# Reassembles chunks made by stage.sh: every chunk SHA256SUMS names must be there and match, the joined archive must
# match its own sum, then it is unpacked into DEST. Any mismatch stops with a message naming the chunk.
#
#   bash assemble.sh STAGE_DIR DEST
set -euo pipefail
stage=${1:?usage: assemble.sh STAGE_DIR DEST}
dest=${2:?usage: assemble.sh STAGE_DIR DEST}
sums="$stage/SHA256SUMS"
[ -f "$sums" ] || { echo "assemble.sh: $sums is missing" >&2; exit 1; }
parts=$(awk '$2 ~ /^part-/ {print $2}' "$sums")
[ -n "$parts" ] || { echo "assemble.sh: SHA256SUMS names no chunk" >&2; exit 1; }
for part in $parts; do
  [ -f "$stage/$part" ] || { echo "assemble.sh: chunk $part is missing" >&2; exit 1; }
  want=$(awk -v p="$part" '$2 == p {print $1}' "$sums")
  got=$(sha256sum "$stage/$part" | cut -d' ' -f1)
  [ "$want" = "$got" ] || { echo "assemble.sh: chunk $part is corrupt (sha256 $got, expected $want)" >&2; exit 1; }
done
joined=$(mktemp)
trap 'rm -f "$joined"' EXIT
for part in $parts; do cat "$stage/$part"; done >"$joined"
want=$(awk '$2 == "bundle.tar.xz" {print $1}' "$sums")
got=$(sha256sum "$joined" | cut -d' ' -f1)
[ "$want" = "$got" ] || { echo "assemble.sh: the joined archive does not match (sha256 $got, expected $want)" >&2; exit 1; }
mkdir -p "$dest"
tar -C "$dest" -xJf "$joined"
echo "assembled $(echo $parts | wc -w) chunk(s) into $dest ($(du -sm "$dest" | cut -f1) MiB)"
