"""IEEE 754 binary16 (FP16): field constants and field extraction for the gateware.

This module is the single source of truth for the FP16 encoding used by every arithmetic unit,
its bit-level golden model and its tests.
"""

from types import SimpleNamespace

from amaranth.hdl import Cat, Const, Mux, Signal, Value

__all__ = [
    "WIDTH", "EXP_BITS", "FRAC_BITS", "SIG_BITS", "BIAS", "EXP_MAX", "SIGN_BIT",
    "MAG_MASK", "QNAN", "INF", "unpack",
]

WIDTH = 16
EXP_BITS = 5
FRAC_BITS = 10
SIG_BITS = FRAC_BITS + 1     # significand with its hidden bit
BIAS = 15
EXP_MAX = (1 << EXP_BITS) - 1   # exponent field of inf and NaN
SIGN_BIT = WIDTH - 1
MAG_MASK = (1 << SIGN_BIT) - 1
INF = EXP_MAX << FRAC_BITS      # 0x7C00, +inf
QNAN = INF | (1 << (FRAC_BITS - 1))   # 0x7E00: the only NaN any unit produces


def unpack(m, value, *, name):
    """Split a 16-bit FP16 value into its fields (combinational nets added to ``m``).

    Parameters
    ----------
    m : Module
    value : Value
        16-bit FP16 operand.
    name : str
        Prefix of the nets.

    Returns
    -------
    SimpleNamespace
        ``sign``, ``exp`` (biased field), ``frac``, ``mag`` (the 15 bits below the sign),
        ``sig`` (11-bit significand, hidden bit = ``exp != 0``), ``exp_eff`` (``max(exp, 1)``:
        subnormals share the exponent of the smallest normal), ``is_zero``, ``is_inf``,
        ``is_nan``.
    """
    value = Value.cast(value)
    frac = value[:FRAC_BITS]
    exp = value[FRAC_BITS:SIGN_BIT]
    normal = exp != 0
    fields = dict(
        sign=value[SIGN_BIT],
        exp=exp,
        frac=frac,
        mag=value[:SIGN_BIT],
        sig=Cat(frac, normal),
        exp_eff=Mux(normal, exp, Const(1, EXP_BITS)),
        is_zero=value[:SIGN_BIT] == 0,
        is_inf=(exp == EXP_MAX) & (frac == 0),
        is_nan=(exp == EXP_MAX) & (frac != 0),
    )
    nets = {}
    for key, expr in fields.items():
        expr = Value.cast(expr)
        nets[key] = Signal(expr.shape(), name=f"{name}_{key}")
        m.d.comb += nets[key].eq(expr)
    return SimpleNamespace(**nets)
