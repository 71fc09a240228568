"""FP16 sign-bit operations (combinational helpers, no pipeline of their own).

These are IEEE ``negate`` and ``abs``: they only touch the sign bit, so they are exact for every
input, including zeros and infinities, and they do *not* canonicalise a NaN (its payload and
flipped/cleared sign pass through, as with ``numpy.negative``/``numpy.abs`` on the bits).
"""

from amaranth.hdl import Cat, Value

from .format import SIGN_BIT

__all__ = ["fp16_negate", "fp16_abs"]


def fp16_negate(value):
    """``-value``: the sign bit inverted (an Amaranth expression, 16 bits)."""
    value = Value.cast(value)
    return Cat(value[:SIGN_BIT], ~value[SIGN_BIT])


def fp16_abs(value):
    """``|value|``: the sign bit cleared (an Amaranth expression, 16 bits)."""
    value = Value.cast(value)
    return Cat(value[:SIGN_BIT], 0)
