"""Checks dwtdct_reference.py against the real stack: numpy, PyWavelets, OpenCV and invisible-watermark.

    pip install invisible-watermark==0.2.0   # brings numpy, opencv-python, PyWavelets
    python3 verify_with_numpy.py

Encodes the reference images the way Stability's scripts do (RGB -> BGR, WatermarkEncoder 'dwtDct', BGR -> RGB),
prints how many bytes differ from the pure-Python port (expected: 0), the FNV-1a checksums pinned in
InvisibleWatermarkReferenceTests.cs, and what WatermarkDecoder reads back.
When this was written the package itself could not be installed on the build machine (no PyPI access); the
comparison was run with numpy 1.24.2, PyWavelets 1.1.1 and OpenCV 4.6.0 from Debian 12 driving a local
transcription of imwatermark/maxDct.py, with 0 differing bytes on every case below.
"""
import numpy as np
import cv2
from imwatermark import WatermarkDecoder, WatermarkEncoder

import dwtdct_reference as ref


def stability_encode(rgb, payload):
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    encoder = WatermarkEncoder()
    encoder.set_watermark('bytes', payload)
    return encoder.encode(bgr, 'dwtDct')[:, :, ::-1].copy()


def check(w, h, payload, rgb=None):
    if rgb is None:
        rgb = np.array(ref.test_image(w, h), dtype=np.uint8)
    upstream = stability_encode(rgb, payload)
    bgr_rows = [[(int(p[2]), int(p[1]), int(p[0])) for p in row] for row in rgb]
    port = ref.encode(bgr_rows, w, h, ref.unpack_bits(payload))
    port = np.array([[(r, g, b) for (b, g, r) in row] for row in port], dtype=np.uint8)
    decoded = WatermarkDecoder('bytes', len(payload) * 8).decode(cv2.cvtColor(upstream, cv2.COLOR_RGB2BGR), 'dwtDct')
    print(f"{w}x{h} {payload!r}: differing bytes = {int((upstream != port).sum())}, "
          f"fnv1a = 0x{ref.fnv1a(upstream.tobytes()):08X}, decoded = {decoded!r}")


if __name__ == '__main__':
    check(262, 300, b'SDV2')   # 0x7CA8AC56
    check(256, 256, b'SDV2')   # 0x6CB48C54
    check(256, 256, b'Hi!')    # 0x33FD5BAD
    check(300, 260, b'SDV2', np.full((260, 300, 3), 128, dtype=np.uint8))  # 0x27477A91
    check(264, 272, b'SDV2', np.random.default_rng(7).integers(0, 256, size=(272, 264, 3), dtype=np.uint8))
