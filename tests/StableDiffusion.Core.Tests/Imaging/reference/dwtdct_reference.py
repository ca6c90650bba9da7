"""Dependency-free Python port of invisible-watermark 0.2.0 'dwtDct' encoding, as Stability's scripts call it.

Source of the pinned numbers in InvisibleWatermarkReferenceTests.cs. Run with any Python 3:
    python3 dwtdct_reference.py
It reproduces, operation by operation (Python floats are IEEE float64 like numpy's):
  * cv2.cvtColor COLOR_BGR2YUV / COLOR_YUV2BGR for uint8 (color_yuv.simd.hpp, 14-bit fixed point),
  * pywt.dwt2 / pywt.idwt2 'haar' (convolution.template.c: products rounded, then summed in the C loops' order),
  * imwatermark/maxDct.py EmbedMaxDct.encode/decode (U channel only, scale 36, no DCT, detail bands swapped on the
    way back), and numpy's float64 -> uint8 assignment (truncate toward zero, keep the low byte).
verify_with_numpy.py checks this port against the real numpy, pywt and cv2 (and the real imwatermark when installed).
"""
import math

S = 0.7071067811865476  # pywt haar: dec_lo=[S,S], dec_hi=[-S,S], rec_lo=[S,S], rec_hi=[S,-S]
SCALE = 36


def descale(x):
    return (x + (1 << 13)) >> 14  # CV_DESCALE(x, 14); Python >> floors like C's arithmetic shift


def sat(v):
    return 0 if v < 0 else 255 if v > 255 else v


def bgr_to_yuv(b, g, r):
    y = descale(b * 1868 + g * 9617 + r * 4899)
    u = sat(descale((b - y) * 8061 + (128 << 14)))
    v = sat(descale((r - y) * 14369 + (128 << 14)))
    return y, u, v


def yuv_to_bgr(y, u, v):
    b = sat(y + descale((u - 128) * 33292))
    g = sat(y + descale((u - 128) * -6472 + (v - 128) * -9519))
    r = sat(y + descale((v - 128) * 18678))
    return b, g, r


def numpy_uint8(x):
    return int(x) & 0xFF  # int() truncates toward zero, like cvttsd2si; & 0xFF keeps the low byte


def dwt_axis(x0, x1):  # x0 = even sample, x1 = odd sample
    lo = 0.0 + S * x1
    lo += S * x0
    hi = 0.0 + -S * x1
    hi += S * x0
    return lo, hi


def idwt_axis(a, d):
    even = 0.0 + (0.0 + S * a)
    odd = 0.0 + (0.0 + S * a)
    even += 0.0 + S * d
    odd += 0.0 + -S * d
    return even, odd


def dwt2(plane, rows, cols):
    """Returns (aa, da, ad, dd) as lists of rows: pywt's (cA, (cH, cV, cD))."""
    lo = [[0.0] * cols for _ in range(rows // 2)]
    hi = [[0.0] * cols for _ in range(rows // 2)]
    for i in range(rows // 2):  # axis 0 first
        for j in range(cols):
            lo[i][j], hi[i][j] = dwt_axis(plane[2 * i][j], plane[2 * i + 1][j])
    bands = []
    for src in (lo, hi):  # then axis 1
        a = [[0.0] * (cols // 2) for _ in range(rows // 2)]
        d = [[0.0] * (cols // 2) for _ in range(rows // 2)]
        for i in range(rows // 2):
            for j in range(cols // 2):
                a[i][j], d[i][j] = dwt_axis(src[i][2 * j], src[i][2 * j + 1])
        bands.append((a, d))
    (aa, ad), (da, dd) = bands
    return aa, da, ad, dd


def idwt2(aa, da, ad, dd, rows, cols):
    """pywt.idwt2((aa, (da, ad, dd))): axis 1 first, then axis 0."""
    half_r, half_c = rows // 2, cols // 2
    a = [[0.0] * cols for _ in range(half_r)]
    d = [[0.0] * cols for _ in range(half_r)]
    for i in range(half_r):
        for j in range(half_c):
            a[i][2 * j], a[i][2 * j + 1] = idwt_axis(aa[i][j], ad[i][j])
            d[i][2 * j], d[i][2 * j + 1] = idwt_axis(da[i][j], dd[i][j])
    out = [[0.0] * cols for _ in range(rows)]
    for i in range(half_r):
        for j in range(cols):
            out[2 * i][j], out[2 * i + 1][j] = idwt_axis(a[i][j], d[i][j])
    return out


def argmax_non_dc(block):
    flat = [abs(v) for row in block for v in row][1:]
    return flat.index(max(flat)) + 1  # np.argmax: first maximum


def floor_div(a, b):
    mod = math.fmod(a, b)  # numpy's npy_divmod for a >= 0
    return math.floor((a - mod) / b)


def encode(bgr, w, h, bits):
    """bgr: list of rows of (b, g, r). Returns a new image like EmbedMaxDct.encode."""
    yuv = [[list(bgr_to_yuv(*px)) for px in row] for row in bgr]
    rows, cols = h // 4 * 4, w // 4 * 4
    u = [[float(yuv[i][j][1]) for j in range(cols)] for i in range(rows)]
    aa, da, ad, dd = dwt2(u, rows, cols)
    num = 0
    for bi in range(rows // 2 // 4):
        for bj in range(cols // 2 // 4):
            block = [[aa[bi * 4 + r][bj * 4 + c] for c in range(4)] for r in range(4)]
            pos = argmax_non_dc(block)
            i, j = bi * 4 + pos // 4, bj * 4 + pos % 4
            val, bit = aa[i][j], bits[num % len(bits)]
            if val >= 0.0:
                aa[i][j] = (floor_div(val, SCALE) + 0.25 + 0.5 * bit) * SCALE
            else:
                aa[i][j] = -1.0 * (floor_div(abs(val), SCALE) + 0.25 + 0.5 * bit) * SCALE
            num += 1
    back = idwt2(aa, ad, da, dd, rows, cols)  # maxDct.py passes (ca1, (v1, h1, d1)): bands swapped
    for i in range(rows):
        for j in range(cols):
            yuv[i][j][1] = numpy_uint8(back[i][j])
    return [[yuv_to_bgr(*px) for px in row] for row in yuv]


def decode(bgr, w, h, nbits):
    yuv = [[bgr_to_yuv(*px) for px in row] for row in bgr]
    rows, cols = h // 4 * 4, w // 4 * 4
    u = [[float(yuv[i][j][1]) for j in range(cols)] for i in range(rows)]
    aa = dwt2(u, rows, cols)[0]
    scores = [[] for _ in range(nbits)]
    num = 0
    for bi in range(rows // 2 // 4):
        for bj in range(cols // 2 // 4):
            block = [[aa[bi * 4 + r][bj * 4 + c] for c in range(4)] for r in range(4)]
            pos = argmax_non_dc(block)
            val = abs(block[pos // 4][pos % 4])
            scores[num % nbits].append(1 if math.fmod(val, SCALE) > 0.5 * SCALE else 0)
            num += 1
    bits = [1 if sum(s) / len(s) * 255 > 127 else 0 for s in scores]
    return bytes(sum(bits[k * 8 + i] << (7 - i) for i in range(8)) for k in range(nbits // 8))


def unpack_bits(payload):
    return [(byte >> (7 - i)) & 1 for byte in payload for i in range(8)]


def test_image(w, h):
    """Deterministic RGB test image (mirrored by ReferenceImage in the C# tests): gradients, LCG texture, and
    saturated blue / yellow squares whose U sits near 255 / 0 so that the uint8 wrap-around is exercised."""
    seed = 12345
    rgb = []
    for y in range(h):
        row = []
        for x in range(w):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            n = (seed >> 16) & 15
            region = ((x >> 5) + (y >> 5)) % 4
            if region == 0:
                px = (n, n, 255 - n)
            elif region == 1:
                px = (255 - n, 255 - n, n)
            else:
                px = ((x + n) & 255, (y * 2 + n) & 255, ((x + y) // 2 + 3 * n) & 255)
            row.append(px)
        rgb.append(row)
    return rgb


def fnv1a(data):
    hsh = 0x811C9DC5
    for byte in data:
        hsh = ((hsh ^ byte) * 0x01000193) & 0xFFFFFFFF
    return hsh


def run_case(w, h, payload):
    rgb = test_image(w, h)
    bgr = [[(b, g, r) for (r, g, b) in row] for row in rgb]
    out_bgr = encode(bgr, w, h, unpack_bits(payload))
    out_rgb = bytes(c for row in out_bgr for (b, g, r) in row for c in (r, g, b))
    print(f"case {w}x{h} payload={payload!r}")
    print(f"  fnv1a(output rgb) = 0x{fnv1a(out_rgb):08X}")
    orig = bytes(c for row in rgb for px in row for c in px)
    print(f"  changed bytes = {sum(1 for a, b in zip(orig, out_rgb) if a != b)}")
    for (x, y) in [(0, 0), (1, 0), (0, 1), (5, 3), (40, 7), (100, 100), (200, 37), (w - 1, h - 1), (w - 3, 2)]:
        o = (y * w + x) * 3
        print(f"  pixel ({x},{y}) = {tuple(out_rgb[o:o + 3])} (was {tuple(orig[o:o + 3])})")
    print(f"  decoded = {decode(out_bgr, w, h, len(payload) * 8)!r}")
    return out_rgb


if __name__ == "__main__":
    run_case(262, 300, b"SDV2")
