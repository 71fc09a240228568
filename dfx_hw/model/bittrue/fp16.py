"""FP16 scalar/element-wise arithmetic: the rounding contract of every DFX FP16 unit.

FP16 is IEEE 754 binary16 (1 sign, 5 exponent, 10 fraction bits) with round-to-nearest-even,
subnormals, infinities and NaN. One hardware add or multiply equals ``numpy.float16`` arithmetic
bit for bit, except that every NaN the hardware *produces* is the canonical quiet NaN ``0x7E00``
(:data:`CANONICAL_NAN_BITS`); the functions here return that NaN too.

Fast exact paths (proved equal to ``numpy.float16`` op-by-op arithmetic in
``tests/test_bittrue_fp16.py``):

* product: an FP16 x FP16 product has at most 22 significant bits and lies in
  ``[2**-48, 2**32)``, so it is exact in float32; one float32 -> float16 cast then rounds it once.
* sum: an FP16 + FP16 sum is exact in float64 (at most 40 significant bits) and float64 -> float16
  rounds it once (numpy converts double -> half directly, not through float32; tested). The same
  sum computed in float32 and then rounded to FP16 gives the same bits because 24 >= 2*11 + 2
  (double rounding is innocuous, Figueroa 1995); this is also how numpy itself adds float16.

``dfx numerics --prove`` checks both paths (and the compiled MFU kernel's rounding) against the
exact rounding on all 2**32 operand pairs, exiting non-zero on any mismatch (about 10 minutes on
one core); the test suite runs the same check on 16 first operands covering zeros, subnormals,
the subnormal/normal boundary, the largest finite value, inf and NaN.

All functions take float16 arrays, or numbers/arrays whose values are exactly representable in
FP16 (:func:`as_fp16`; anything else is refused rather than rounded silently), broadcast like
numpy and return ``numpy.float16`` arrays (0-d for scalar inputs).
"""

import numpy as np

__all__ = [
    "CANONICAL_NAN_BITS", "to_bits", "from_bits", "canonical_nan", "bits_equal", "as_fp16",
    "round_fp16", "add", "sub", "mul", "maximum", "order_key", "neg", "abs",
]

#: Bit pattern of the only NaN the hardware produces (quiet, positive, zero payload).
CANONICAL_NAN_BITS = 0x7E00

_F16 = np.float16
_F32 = np.float32


def as_fp16(x, name="x"):
    """``x`` as a ``numpy.float16`` array.

    float16 input is returned as is (no copy). Other numeric input (Python floats, float32/64,
    integers) is accepted only if every value is exactly representable in FP16, so no rounding
    ever happens silently; otherwise a ``ValueError`` names ``name``.
    """
    array = np.asarray(x)
    if array.dtype == _F16:
        return array
    if array.dtype.kind not in "iubf":
        raise ValueError(f"{name} must be a float16 array, not {array.dtype}")
    converted = array.astype(_F16)
    same = (converted.astype(np.float64) == array.astype(np.float64)) | (
        np.isnan(converted) & np.isnan(array.astype(np.float64)))
    if not np.all(same):
        raise ValueError(f"{name} has {array.dtype} values that are not exactly representable in "
                         f"FP16; round them explicitly (x.astype(numpy.float16)) first")
    return converted


def to_bits(x):
    """The IEEE binary16 bit patterns of ``x`` as ``numpy.uint16`` (no NaN canonicalisation)."""
    return as_fp16(x).view(np.uint16)


def from_bits(bits):
    """The FP16 values with bit patterns ``bits`` (integers in ``[0, 65535]``)."""
    array = np.asarray(bits)
    if array.dtype.kind not in "iu":
        raise ValueError(f"bits must be an integer array, not {array.dtype}")
    if array.size and (array.min() < 0 or array.max() > 0xFFFF):
        raise ValueError(f"bits must lie in [0, 0xFFFF], found values in "
                         f"[{int(array.min())}, {int(array.max())}]")
    return array.astype(np.uint16).view(_F16)


def canonical_nan(x):
    """``x`` with every NaN replaced by the canonical quiet NaN ``0x7E00`` (other values kept)."""
    x = as_fp16(x)
    return np.where(np.isnan(x), from_bits(np.uint16(CANONICAL_NAN_BITS)), x).astype(_F16)


def bits_equal(a, b):
    """Element-wise: ``a`` and ``b`` have the same bits after NaN canonicalisation (so ``+0`` and
    ``-0`` differ, and any two NaNs are equal)."""
    return to_bits(canonical_nan(a)) == to_bits(canonical_nan(b))


def round_fp16(x):
    """Round float32/float64 values to FP16 once (round to nearest even, overflow to inf),
    canonicalising NaN. ``x`` must hold values whose exact result the caller wants rounded."""
    return canonical_nan(np.asarray(x).astype(_F16))


def add(a, b):
    """``fp16(a + b)``: IEEE addition, one rounding (RNE). ``x + (-x) = +0``, ``-0 + -0 = -0``,
    ``inf - inf = NaN`` (canonical)."""
    a, b = as_fp16(a, "a"), as_fp16(b, "b")
    with np.errstate(invalid="ignore", over="ignore"):
        return round_fp16(a.astype(np.float64) + b.astype(np.float64))


def sub(a, b):
    """``fp16(a - b)`` = ``add(a, neg(b))``: one rounding."""
    a, b = as_fp16(a, "a"), as_fp16(b, "b")
    with np.errstate(invalid="ignore", over="ignore"):
        return round_fp16(a.astype(np.float64) - b.astype(np.float64))


def mul(a, b):
    """``fp16(a * b)``: IEEE multiplication, one rounding (RNE); sign is the XOR of the signs,
    ``0 * inf = NaN`` (canonical)."""
    a, b = as_fp16(a, "a"), as_fp16(b, "b")
    with np.errstate(invalid="ignore", over="ignore"):
        return round_fp16(a.astype(_F32) * b.astype(_F32))


def order_key(x):
    """The comparator's 16-bit ordering key of each FP16 value (``numpy.int32``).

    Every comparison in DFX hardware (``maximum``, reduce-max, argmax) compares these keys as
    unsigned integers::

        key = 0xFFFF                      if x is NaN (any payload)
        key = bits | 0x8000               if the sign bit is 0
        key = (~bits) & 0x7FFF            if the sign bit is 1 (and x is not NaN)

    giving the total order  ``-inf < negatives < -0 < +0 < positives < +inf < NaN``.
    """
    bits = to_bits(x).astype(np.int32)
    key = np.where(bits & 0x8000, (~bits) & 0x7FFF, bits | 0x8000)
    return np.where((bits & 0x7FFF) > 0x7C00, 0xFFFF, key).astype(np.int32)


def maximum(a, b):
    """The hardware comparator's maximum: the operand with the larger :func:`order_key`.

    Rules: ``maximum(-0, +0) = maximum(+0, -0) = +0``; if either operand is NaN the result is the
    canonical NaN (NaN is the largest key); otherwise the numerically larger value. On equal keys
    the first operand is returned (same bits).
    """
    a, b = as_fp16(a, "a"), as_fp16(b, "b")
    result = np.where(order_key(b) > order_key(a), b, a).astype(_F16)
    return canonical_nan(result)


def neg(x):
    """``-x``: flips the sign bit (also of zeros and infinities); NaN -> canonical NaN."""
    return canonical_nan(from_bits(to_bits(x) ^ np.uint16(0x8000)))


def abs(x):  # noqa: A001 -- the mnemonic of the operation
    """``|x|``: clears the sign bit; NaN -> canonical NaN."""
    return canonical_nan(from_bits(to_bits(x) & np.uint16(0x7FFF)))
