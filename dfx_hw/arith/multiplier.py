"""Pipelined IEEE binary16 multiplier (and squarer) whose significand product is one DSP48E2."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In

from .bits import leading_zeros
from .format import BIAS, EXP_MAX, FRAC_BITS, SIG_BITS, WIDTH, unpack
from .pipeline import PipelinedUnit
from .rounding import round_stage

__all__ = ["FP16Multiplier", "FP16Square"]

# Cut points in the order they receive registers (see `pipeline`). "product" sits right after
# the 11x11 product and "unpack" right before it, where Vivado can use the DSP48E2's MREG and
# AREG/BREG (Yosys leaves them in fabric).
_PRIORITY = ("product", "shift", "unpack", "output")
_PRODUCT_BITS = 2 * SIG_BITS          # 22
_SHIFT_CLAMP = SIG_BITS + 1           # 12: any larger right shift gives the same bits


class FP16Multiplier(PipelinedUnit):
    """FP16 multiplier: ``result = a * b``, equal bit for bit to ``numpy.float16`` arithmetic.

    Round to nearest even; subnormal inputs and outputs are exact; any NaN input and
    ``inf * 0`` give the quiet NaN 0x7E00; the sign of a zero or infinite result is the XOR of
    the operand signs.

    Fully pipelined: the operands applied on a clock where ``en`` is high give their product
    exactly ``latency`` enabled clocks later; one operation per clock. With ``latency=0`` the
    unit is combinational (and has no clock).

    Pipeline (cut points, registered in the order listed in ``_PRIORITY``; default latency 4):

    0. *unpack*: field split, special-case flags, normalisation of subnormal significands
       (leading-zero count and left shift), sums of the exponents and of the leading-zero
       counts. Cut ``unpack`` (Vivado can absorb it as the DSP's AREG/BREG).
    1. *product*: the 11x11 unsigned significand product (one DSP48E2); beside it, the result
       exponent, overflow flag and right-shift amount for both possible product MSBs. Cut
       ``product`` (MREG).
    2. *shift*: one right shift that both normalises (by the product's MSB) and denormalises
       (for a subnormal result); guard and sticky bits. Cut ``shift``.
    3. *round*: round to nearest even, pack, overflow to inf, special-value multiplexer.
       Cut ``output``.

    ``latency`` (default 4) and the ports ``a``, ``en`` and ``result`` (the product): see
    :class:`~dfx_hw.arith.pipeline.PipelinedUnit`; ``b : In(16)`` is the second operand.
    """

    CUTS = _PRIORITY
    DEFAULT_LATENCY = len(_PRIORITY)

    b: In(WIDTH)

    def elaborate(self, platform):
        m = Module()
        pipe = self.pipeline(m)

        # Stage 0: unpack, normalise subnormal significands (hidden bit to bit 10).
        a, b = unpack(m, self.a, name="a"), unpack(m, self.b, name="b")
        sigs, zeros = [], []
        for x, name in ((a, "a"), (b, "b")):
            lz = leading_zeros(m, x.sig, name=f"{name}_lz")         # 0 for normals
            sigs.append((x.sig << lz)[:SIG_BITS])
            zeros.append(lz)
        nan = a.is_nan | b.is_nan | (a.is_inf & b.is_zero) | (a.is_zero & b.is_inf)
        s0 = pipe.cut("unpack", sig_a=sigs[0], sig_b=sigs[1],
                      exp_sum=a.exp_eff + b.exp_eff, lz_sum=zeros[0] + zeros[1],
                      sign=a.sign ^ b.sign, nan=nan, inf=a.is_inf | b.is_inf,
                      zero=a.is_zero | b.is_zero)

        # Stage 1: the significand product (one DSP48E2) and, beside it, the exponent logic.
        # With both significands normalised the product is in [2**20, 2**22). Its biased
        # exponent is `exp = net - 15` if bit 21 is clear and `net - 14` if it is set, where
        # `net = exp_sum - lz_sum`; both candidates are prepared here and chosen by bit 21.
        net = Signal(signed(8), name="exp_net")
        m.d.comb += net.eq(s0.exp_sum - s0.lz_sum)

        def candidates(offset):
            # (denormalising right shift, exponent field, overflow) for a product whose biased
            # exponent is `net - offset`. The comparisons are against constants on `net`, in
            # parallel with the subtractions.
            normal = net >= offset + 1
            below = (offset + 1) - net          # extra right shift of a subnormal result
            shift = Mux(normal, 0, Mux(net < offset + 1 - _SHIFT_CLAMP, _SHIFT_CLAMP, below))
            return shift[:4], Mux(normal, net - offset, 0)[:5], net >= offset + EXP_MAX

        shift_lo, field_lo, ovf_lo = candidates(BIAS)          # product bit 21 clear
        shift_hi, field_hi, ovf_hi = candidates(BIAS - 1)      # product bit 21 set
        s1 = pipe.cut("product", product=(s0.sig_a * s0.sig_b)[:_PRODUCT_BITS],
                      sign=s0.sign, nan=s0.nan, inf=s0.inf, zero=s0.zero,
                      shift_lo=shift_lo, field_lo=field_lo, ovf_lo=ovf_lo,
                      shift_hi=shift_hi + 1, field_hi=field_hi, ovf_hi=ovf_hi)

        # Stage 2: one right shift does both the normalisation (by bit 21) and the denormalising
        # shift; the window has room below the product so no bit is lost.
        msb = s1.product[_PRODUCT_BITS - 1]
        shift = Mux(msb, s1.shift_hi, s1.shift_lo)
        window = Cat(Const(0, _SHIFT_CLAMP + 1), s1.product)          # 35 bits
        shifted = (window >> shift)[:len(window)]
        low = _PRODUCT_BITS + _SHIFT_CLAMP - SIG_BITS                # 23: LSB of the significand
        s2 = pipe.cut("shift", frac=shifted[low:low + FRAC_BITS], guard=shifted[low - 1],
                      sticky=shifted[:low - 1] != 0,
                      field=Mux(msb, s1.field_hi, s1.field_lo),
                      ovf=Mux(msb, s1.ovf_hi, s1.ovf_lo),
                      sign=s1.sign, nan=s1.nan, inf=s1.inf, zero=s1.zero)

        # Stage 3: round to nearest even, pack, specials.
        s3 = pipe.cut("output", result=round_stage(s2))
        m.d.comb += self.result.eq(s3.result)
        return m


class FP16Square(PipelinedUnit):
    """FP16 squarer: ``result = a * a``, an :class:`FP16Multiplier` with both inputs tied.

    Same contract, pipeline and resources as :class:`FP16Multiplier` (``latency`` default 4);
    its only ports are those of :class:`~dfx_hw.arith.pipeline.PipelinedUnit`.
    """

    DEFAULT_LATENCY = FP16Multiplier.DEFAULT_LATENCY

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
