"""Compares the images of two `sd generate` output folders pixel by pixel; prints one JSON line."""
import glob, json, os, sys

import numpy as np
from PIL import Image

a_dir, b_dir, label = sys.argv[1], sys.argv[2], sys.argv[3]
a_files = sorted(glob.glob(os.path.join(a_dir, "*.png")))
b_files = sorted(glob.glob(os.path.join(b_dir, "*.png")))
if not a_files or len(a_files) != len(b_files):
    print(json.dumps({"check": label, "failed": f"{len(a_files)} vs {len(b_files)} images"}))
    sys.exit(0)
diffs = []
for fa, fb in zip(a_files, b_files):
    a = np.asarray(Image.open(fa).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(fb).convert("RGB"), dtype=np.int16)
    diffs.append(np.abs(a - b).ravel())
d = np.concatenate(diffs)
print(json.dumps({
    "check": label,
    "max_level_diff": int(d.max()),
    "mean_level_diff": round(float(d.mean()), 4),
    "share_within_1_level": round(float((d <= 1).mean()), 6),
}))
