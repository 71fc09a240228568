"""Pipelined IEEE binary16 multiplier (and squarer) whose significand product is one DSP48E2."""

from amaranth.hdl import Cat, Const, Module, Mux, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .bits import leading_zeros
from .format import BIAS, FRAC_BITS, SIG_BITS, WIDTH, unpack
from .pipeline import Pipeline, check_latency, register_counts
from .rounding import round_pack, select_special

__all__ = ["FP16Multiplier", "FP16Square"]

# Cut points in the order they receive registers (see `pipeline`); "product" sits right after
# the 11x11 product so it lands in the DSP48E2's MREG, "unpack" right before it (AREG/BREG).
_PRIORITY = ("product", "shift", "unpack", "output")
_PRODUCT_BITS = 2 * SIG_BITS          # 22
_SHIFT_CLAMP = SIG_BITS + 1           # 12: any larger right shift gives the same bits


class FP16Multiplier(wiring.Component):
    """FP16 multiplier: ``result = a * b``, equal bit for bit to ``numpy.float16`` arithmetic.

    Round to nearest even; subnormal inputs and outputs are exact; any NaN input and
    ``inf * 0`` give the quiet NaN 0x7E00; the sign of a zero or infinite result is the XOR of
    the operand signs.

    Fully pipelined: the operands applied on a clock where ``en`` is high give their product
    exactly ``latency`` enabled clocks later; one operation per clock. With ``latency=0`` the
    unit is combinational (and has no clock).

    Pipeline (cut points, registered in the order listed in ``_PRIORITY``; default latency 4):

    0. *unpack*: field split, special-case flags, normalisation of subnormal significands
       (leading-zero count and left shift), exponent sum and both candidate right-shift amounts.
       Cut ``unpack`` (can be absorbed as the DSP's AREG/BREG).
    1. *product*: the 11x11 unsigned significand product (one DSP48E2). Cut ``product`` (MREG).
    2. *shift*: one-bit normalisation by the product's MSB, right shift for subnormal results,
       guard and sticky bits. Cut ``shift``.
    3. *round*: round to nearest even, pack, overflow to inf, special-value multiplexer.
       Cut ``output``.

    Parameters
    ----------
    latency : int
        Clock cycles from operands to result (non-negative; default 4).

    Members
    -------
    a : In(16)
    b : In(16)
        Operands.
    en : In(1)
        Clock enable (init 1): when low the whole pipeline holds.
    result : Out(16)
        The product of the operands applied ``latency`` enabled clocks earlier.
    """

    DEFAULT_LATENCY = len(_PRIORITY)

    a: In(WIDTH)
    b: In(WIDTH)
    en: In(1, init=1)
    result: Out(WIDTH)

    def __init__(self, *, latency=DEFAULT_LATENCY):
        self._latency = check_latency(latency)
        super().__init__()

    @property
    def latency(self):
        return self._latency

    def elaborate(self, platform):
        m = Module()
        pipe = Pipeline(m, counts=register_counts(_PRIORITY, output="output",
                                                  latency=self._latency), en=self.en)

        # Stage 0: unpack, normalise subnormal significands, exponent arithmetic.
        a, b = unpack(m, self.a, name="a"), unpack(m, self.b, name="b")
        sigs, exps = [], []
        for x, name in ((a, "a"), (b, "b")):
            lz = leading_zeros(m, x.sig, name=f"{name}_lz")                       # 0 for normals
            sigs.append((x.sig << lz)[:SIG_BITS])           # hidden bit now at bit 10
            exps.append(x.exp_eff - lz)                     # may be <= 0
        # Biased exponent of the product if its MSB (bit 21) is clear; one more if it is set.
        exp0 = (exps[0] + exps[1] - BIAS).as_signed()
        exp1 = exp0 + 1
        nan = a.is_nan | b.is_nan | (a.is_inf & b.is_zero) | (a.is_zero & b.is_inf)

        def candidates(exp):
            # Right shift (for a subnormal result), exponent field and overflow flag for a
            # product whose biased exponent is `exp`.
            shift = Mux(exp >= 1, 0, Mux(1 - exp > _SHIFT_CLAMP, _SHIFT_CLAMP, 1 - exp))
            return shift[:4], Mux(exp >= 1, exp, 0)[:5], exp >= 31

        shift0, field0, ovf0 = candidates(exp0)
        shift1, field1, ovf1 = candidates(exp1)
        s0 = pipe.cut("unpack", sig_a=sigs[0], sig_b=sigs[1],
                      sign=a.sign ^ b.sign, nan=nan, inf=a.is_inf | b.is_inf,
                      zero=a.is_zero | b.is_zero,
                      shift0=shift0, field0=field0, ovf0=ovf0,
                      shift1=shift1, field1=field1, ovf1=ovf1)

        # Stage 1: the significand product (one DSP48E2).
        s1 = pipe.cut("product", product=(s0.sig_a * s0.sig_b)[:_PRODUCT_BITS],
                      sign=s0.sign, nan=s0.nan, inf=s0.inf, zero=s0.zero,
                      shift0=s0.shift0, field0=s0.field0, ovf0=s0.ovf0,
                      shift1=s0.shift1, field1=s0.field1, ovf1=s0.ovf1)

        # Stage 2: normalise (hidden bit to bit 21), shift right for subnormals, guard/sticky.
        msb = s1.product[_PRODUCT_BITS - 1]
        normalised = Mux(msb, s1.product, Cat(Const(0, 1), s1.product))[:_PRODUCT_BITS]
        shift = Mux(msb, s1.shift1, s1.shift0)
        # Room below the product so no bit is lost by the shift: significand, guard, sticky.
        shifted = (Cat(Const(0, _SHIFT_CLAMP), normalised) >> shift)[:_PRODUCT_BITS + _SHIFT_CLAMP]
        low = _PRODUCT_BITS + _SHIFT_CLAMP - SIG_BITS            # LSB of the kept significand
        s2 = pipe.cut("shift", frac=shifted[low:low + FRAC_BITS], guard=shifted[low - 1],
                      sticky=shifted[:low - 1] != 0,
                      field=Mux(msb, s1.field1, s1.field0), ovf=Mux(msb, s1.ovf1, s1.ovf0),
                      sign=s1.sign, nan=s1.nan, inf=s1.inf, zero=s1.zero)

        # Stage 3: round to nearest even, pack, specials.
        magnitude = round_pack(frac=s2.frac, exp_field=s2.field, guard=s2.guard,
                               sticky=s2.sticky, overflow=s2.ovf)
        result = select_special(sign=s2.sign, magnitude=magnitude, nan=s2.nan, inf=s2.inf,
                                zero=s2.zero)
        s3 = pipe.cut("output", result=result)
        m.d.comb += self.result.eq(s3.result)
        return m


class FP16Square(wiring.Component):
    """FP16 squarer: ``result = a * a``, an :class:`FP16Multiplier` with both inputs tied.

    Same contract, pipeline and resources as :class:`FP16Multiplier` (``latency`` default 4).

    Members
    -------
    a : In(16)
    en : In(1)
        Clock enable (init 1).
    result : Out(16)
    """

    DEFAULT_LATENCY = FP16Multiplier.DEFAULT_LATENCY

    a: In(WIDTH)
    en: In(1, init=1)
    result: Out(WIDTH)

    def __init__(self, *, latency=DEFAULT_LATENCY):
        self._latency = check_latency(latency)
        super().__init__()

    @property
    def latency(self):
        return self._latency

    def elaborate(self, platform):
        m = Module()
        m.submodules.multiplier = multiplier = FP16Multiplier(latency=self._latency)
        m.d.comb += [
            multiplier.a.eq(self.a),
            multiplier.b.eq(self.a),
            multiplier.en.eq(self.en),
            self.result.eq(multiplier.result),
        ]
        return m
