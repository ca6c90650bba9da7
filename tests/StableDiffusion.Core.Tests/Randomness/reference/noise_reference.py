#!/usr/bin/env python3
"""Reference draws for the noise generator tests, made by the real libraries at test time.

Reads a JSON list of cases on stdin: {"source": "cpu"|"numpy"|"nv", "seed": int, "shapes": [[...], ...]} and writes a
JSON list with, per case, one list per shape of the float32 bit patterns (uint32) of consecutive draws from one
generator:
  cpu    torch.Generator("cpu").manual_seed(seed); torch.randn(shape, generator=g) for each shape (float32)
         (run with ATEN_CPU_CAPABILITY=default in the environment for torch's portable, non-AVX2 kernel)
  numpy  np.random.RandomState(seed).randn(*shape).astype(np.float32) for each shape
  nv     AUTOMATIC1111's modules/rng_philox.py algorithm (Philox 4x32-10 + Box-Muller, numpy arithmetic), written
         again here from its description: counter (offset, 0, index, 0), key (seed lo, seed hi), offset + 1 per draw.
Only python3, numpy and torch (Debian: python3-numpy python3-torch).
"""
import json
import sys

import numpy as np


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float32).reshape(-1).view(np.uint32).tolist()


def torch_draws(seed, shapes):
    import torch
    g = torch.Generator('cpu').manual_seed(seed)
    return [bits(torch.randn(tuple(s), generator=g, dtype=torch.float32).numpy()) for s in shapes]


def numpy_draws(seed, shapes):
    rs = np.random.RandomState(seed)
    return [bits(rs.randn(*s).astype(np.float32)) for s in shapes]


M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
INV = np.array([2.3283064e-10], dtype=np.float32)
INV_2PI = np.array([2.3283064e-10 * 6.2831855], dtype=np.float32)


def philox(offset, n, seed):
    c0 = np.full(n, offset, dtype=np.uint32)
    c1 = np.zeros(n, dtype=np.uint32)
    c2 = np.arange(n, dtype=np.uint32)
    c3 = np.zeros(n, dtype=np.uint32)
    k0 = np.full(n, seed & 0xFFFFFFFF, dtype=np.uint32)
    k1 = np.full(n, seed >> 32, dtype=np.uint32)
    with np.errstate(over='ignore'):
        for r in range(10):
            if r:
                k0 = k0 + W0
                k1 = k1 + W1
            p0 = c0.astype(np.uint64) * M0
            p2 = c2.astype(np.uint64) * M1
            n0 = (p2 >> np.uint64(32)).astype(np.uint32) ^ c1 ^ k0
            n2 = (p0 >> np.uint64(32)).astype(np.uint32) ^ c3 ^ k1
            c1 = (p2 & np.uint64(0xFFFFFFFF)).astype(np.uint32)
            c3 = (p0 & np.uint64(0xFFFFFFFF)).astype(np.uint32)
            c0, c2 = n0, n2
    return c0, c1


def nv_draws(seed, shapes):
    out = []
    for offset, s in enumerate(shapes):
        n = int(np.prod(s))
        x, y = philox(offset, n, seed)
        # uint32 array times a float32 array promotes to float64, as in rng_philox.box_muller.
        u = x * INV + INV / 2
        v = y * INV_2PI + INV_2PI / 2
        out.append(bits((np.sqrt(-2.0 * np.log(u)) * np.sin(v)).astype(np.float32)))
    return out


def main():
    cases = json.load(sys.stdin)
    draw = {'cpu': torch_draws, 'numpy': numpy_draws, 'nv': nv_draws}
    json.dump([draw[c['source']](int(c['seed']), c['shapes']) for c in cases], sys.stdout)


if __name__ == '__main__':
    main()
