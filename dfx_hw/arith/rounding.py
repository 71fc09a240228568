"""Round-to-nearest-even and packing of an FP16 magnitude, shared by the adder and multiplier."""

from amaranth.hdl import Cat, Const, Mux

from .format import INF, QNAN, SIGN_BIT

__all__ = ["round_pack", "select_special", "round_stage"]


def round_pack(*, frac, exp_field, guard, sticky, overflow):
    """Round a normalised significand to nearest even and pack it (combinational).

    Parameters
    ----------
    frac : Value
        The 10 fraction bits kept (below the hidden bit).
    exp_field : Value
        The 5-bit biased exponent field of the unrounded result (0 for a subnormal result).
    guard : Value
        The first bit below ``frac``.
    sticky : Value
        OR of every bit below ``guard``.
    overflow : Value
        The unrounded result is already at or above 2**16 (``exp_field`` would exceed 30).

    Returns
    -------
    Value
        The 15-bit magnitude: the encoded exponent and fraction after rounding, saturated to
        infinity (0x7C00). Rounding up carries from the fraction into the exponent, which turns
        the largest subnormal into the smallest normal and the largest finite value into inf.
    """
    increment = guard & (sticky | frac[0])
    rounded = Cat(frac, exp_field) + increment
    return Mux(overflow, Const(INF, SIGN_BIT), rounded[:SIGN_BIT])


def select_special(*, sign, magnitude, nan, inf, zero):
    """Final result multiplexer: NaN, signed infinity, signed zero, or the rounded value.

    ``nan`` wins over ``inf``, which wins over ``zero``.
    """
    return Mux(nan, Const(QNAN, SIGN_BIT + 1),
               Cat(Mux(inf, Const(INF, SIGN_BIT),
                       Mux(zero, Const(0, SIGN_BIT), magnitude)), sign))


def round_stage(stage):
    """The last stage of the adder and the multiplier: :func:`round_pack`, then
    :func:`select_special`, on the values of the previous cut point.

    ``stage`` has the fields ``frac``, ``field`` (exponent field), ``guard``, ``sticky``,
    ``ovf`` (overflow), ``sign``, ``nan``, ``inf`` and ``zero``. Returns the 16-bit result.
    """
    magnitude = round_pack(frac=stage.frac, exp_field=stage.field, guard=stage.guard,
                           sticky=stage.sticky, overflow=stage.ovf)
    return select_special(sign=stage.sign, magnitude=magnitude, nan=stage.nan, inf=stage.inf,
                          zero=stage.zero)
