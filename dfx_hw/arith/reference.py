"""NumPy references of the FP16 units, on raw 16-bit patterns (``numpy.uint16`` arrays).

Each function is ``numpy.float16`` arithmetic with one rule added: every NaN result becomes the
canonical quiet NaN :data:`~dfx_hw.arith.format.QNAN` (0x7E00), as the hardware produces it.
These are the values every FP16 unit must reproduce bit for bit.
"""

import numpy as np

from .format import QNAN

__all__ = ["as_bits", "as_half", "canonical", "fp16_add", "fp16_mul", "fp16_max"]


def as_bits(values):
    """FP16 values (any array-like of floats) as ``uint16`` bit patterns."""
    return np.asarray(values, dtype=np.float16).view(np.uint16)


def as_half(bits):
    """``uint16`` bit patterns as ``float16`` values."""
    return np.asarray(bits, dtype=np.uint16).view(np.float16)


def canonical(values):
    """Bit patterns of ``float16`` ``values`` with every NaN replaced by 0x7E00."""
    values = np.asarray(values, dtype=np.float16)
    return np.where(np.isnan(values), np.uint16(QNAN), values.view(np.uint16)).astype(np.uint16)


def fp16_add(a, b, subtract=0):
    """``a + b`` (``a - b`` where ``subtract`` is true), bit patterns in and out."""
    a, b = as_half(a), as_half(b)
    with np.errstate(all="ignore"):
        return canonical(np.where(np.asarray(subtract, dtype=bool), a - b, a + b))


def fp16_mul(a, b):
    """``a * b``, bit patterns in and out."""
    with np.errstate(all="ignore"):
        return canonical(as_half(a) * as_half(b))


def fp16_max(a, b):
    """The :class:`~dfx_hw.arith.FP16Max` rule: ``(result bits, b_greater)``.

    ``b_greater`` where ``b > a``, or ``b`` is ``+0`` and ``a`` is ``-0``, or ``b`` is NaN and
    ``a`` is not; ``result`` is 0x7E00 if either is NaN, else the selected operand.
    """
    a_bits = np.asarray(a, dtype=np.uint16)
    b_bits = np.asarray(b, dtype=np.uint16)
    fa, fb = as_half(a_bits), as_half(b_bits)
    nan_a, nan_b = np.isnan(fa), np.isnan(fb)
    with np.errstate(all="ignore"):
        signed_zero = (fa == 0) & (fb == 0) & np.signbit(fa) & ~np.signbit(fb)
        b_greater = np.where(nan_a | nan_b, nan_b & ~nan_a, (fb > fa) | signed_zero)
    result = np.where(nan_a | nan_b, np.uint16(QNAN), np.where(b_greater, b_bits, a_bits))
    return result.astype(np.uint16), b_greater.astype(bool)
