"""Compiled (Numba) kernel of the MFU reduction, bit-identical to the NumPy definition
:func:`dfx_hw.model.bittrue.reduce.mfu_matmul_numpy` (tested on random and special values).
Imported lazily by :mod:`.reduce`; without Numba the NumPy path is used.

FP16 values are carried in float32: products and sums are computed in float32 (exact for a product
of two FP16 values; for a sum, float32 then FP16 rounding equals one FP16 rounding since
24 >= 2*11 + 2) and rounded to FP16 by :func:`_round_row`.
"""

import math

import numpy as np
from numba import njit

__all__ = ["mfu_kernel", "round_to_fp16", "FP16_TO_F32"]

#: float32 value of every FP16 bit pattern (the kernel's exact input conversion).
FP16_TO_F32 = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16) \
    .astype(np.float32)

_COLUMN_BLOCK = 256


@njit(inline="always")
def _round_row(values, bits, width):
    """Round ``values[:width]`` (float32) to the nearest FP16 value (ties to even) in place;
    ``bits`` is the uint32 view of ``values``.

    Pass 1 (|v| < 2**-14, the FP16 subnormal range): adding 0.75 rounds to a multiple of 2**-24
    (the float32 ulp of [0.5, 1)), ties to even; subtracting it is exact; the sign is copied back
    (so -tiny -> -0). Pass 2 (the rest): integer round-to-nearest-even of the 23-bit fraction to 10
    bits; magnitudes >= 65520 become inf; inf and NaN are kept.
    """
    for n in range(width):
        v = values[n]
        m = abs(v)
        r = math.copysign((m + np.float32(0.75)) - np.float32(0.75), v)
        values[n] = r if m < np.float32(6.103515625e-05) else v
    for n in range(width):
        u = bits[n]
        a = u & np.uint32(0x7FFFFFFF)
        r = (a + np.uint32(0xFFF) + ((a >> np.uint32(13)) & np.uint32(1))) & np.uint32(0xFFFFE000)
        r = np.uint32(0x7F800000) if a >= np.uint32(0x477FF000) else r
        r = a if a > np.uint32(0x7F800000) else r
        r = a if a < np.uint32(0x38800000) else r
        bits[n] = (u & np.uint32(0x80000000)) | r


@njit(cache=True)
def mfu_kernel(x_bits, w_bits, start, d, table, out):
    """MFU ``out = x @ w + start`` in the order of :func:`.reduce.mfu_matvec`.

    ``x_bits`` (M, K) and ``w_bits`` (K, N) are FP16 bit patterns (uint16), ``start`` (N,) the
    float32 accumulator start (bias or +0), ``table`` :data:`FP16_TO_F32`, ``out`` (M, N) float32.
    """
    rows, k_rows = x_bits.shape
    cols = w_bits.shape[1]
    tiles = (k_rows + d - 1) // d
    k_pad = tiles * d
    w_block = np.zeros((k_pad, _COLUMN_BLOCK), np.float32)
    x_row = np.zeros(k_pad, np.float32)
    buf = np.empty((d, _COLUMN_BLOCK), np.float32)
    bits = buf.view(np.uint32)
    acc = np.empty(_COLUMN_BLOCK, np.float32)
    acc_bits = acc.view(np.uint32)
    for c0 in range(0, cols, _COLUMN_BLOCK):
        width = min(_COLUMN_BLOCK, cols - c0)
        for k in range(k_rows):
            for n in range(width):
                w_block[k, n] = table[w_bits[k, c0 + n]]
        for r in range(rows):
            for k in range(k_rows):
                x_row[k] = table[x_bits[r, k]]
            for n in range(width):
                acc[n] = start[c0 + n]
            for t in range(tiles):
                for k in range(d):
                    xv = x_row[t * d + k]
                    for n in range(width):
                        buf[k, n] = xv * w_block[t * d + k, n]
                    _round_row(buf[k], bits[k], width)
                half = d
                while half > 1:
                    half //= 2
                    for i in range(half):
                        for n in range(width):
                            buf[i, n] = buf[2 * i, n] + buf[2 * i + 1, n]
                        _round_row(buf[i], bits[i], width)
                for n in range(width):
                    acc[n] = acc[n] + buf[0, n]
                _round_row(acc, acc_bits, width)
            for n in range(width):
                out[r, c0 + n] = acc[n]


@njit(cache=True)
def round_to_fp16(values):
    """Round every float32 in the 1-D contiguous array ``values`` to FP16 in place with the
    kernel's :func:`_round_row` (exposed for the tests and the exhaustive proof)."""
    bits = values.view(np.uint32)
    block = 4096
    for start in range(0, values.shape[0], block):
        stop = min(values.shape[0], start + block)
        _round_row(values[start:stop], bits[start:stop], stop - start)
