"""Pipelined IEEE binary16 adder/subtractor in fabric logic."""

from amaranth.hdl import Cat, Const, Module, Mux
from amaranth.lib.wiring import In

from .bits import leading_zeros
from .format import EXP_MAX, FRAC_BITS, SIG_BITS, WIDTH, unpack
from .pipeline import PipelinedUnit
from .rounding import round_stage

__all__ = ["FP16Adder"]

# Cut points in the order they receive registers (see `pipeline`).
_PRIORITY = ("add", "count", "align", "output", "unpack", "normalize")
_EXTRA = 3                          # guard, round and sticky bits below the significand
_ALIGN_BITS = SIG_BITS + _EXTRA     # 14
_ALIGN_CLAMP = _ALIGN_BITS + 1      # 15: any larger alignment shift gives the same bits


class FP16Adder(PipelinedUnit):
    """FP16 adder/subtractor: ``result = a + b`` or ``a - b``, bit for bit ``numpy.float16``.

    Round to nearest even; subnormals are exact; any NaN input and ``inf - inf`` give the quiet
    NaN 0x7E00. An exactly zero sum is ``+0`` unless both addends are negative (``-0 + -0``), so
    ``x - x = +0`` and ``+0 + -0 = +0``.

    Subtraction is chosen per operation by the ``subtract`` input, which travels with its
    operands: ``a - b`` is computed as ``a + (-b)`` (``b``'s sign bit flipped), exactly like
    numpy.

    Fully pipelined: operands applied on a clock where ``en`` is high give their sum exactly
    ``latency`` enabled clocks later; one operation per clock. With ``latency=0`` the unit is
    combinational (and has no clock).

    Pipeline (cut points, registered in the order listed in ``_PRIORITY``; latency 6 registers
    every cut):

    0. *unpack*: field split, magnitude compare and swap (larger magnitude first), exponent
       difference, effective operation, special-case flags. Cut ``unpack``.
    1. *align*: shift the smaller significand right by the exponent difference, keeping guard,
       round and sticky bits. Cut ``align``.
    2. *add*: 15-bit add or subtract of the aligned significands. Cut ``add``.
    3. *count*: leading-zero count of the sum and the normalising shift, limited so the exponent
       does not fall below the subnormal exponent. Cut ``count``.
    4. *normalize*: left shift (or the one-bit right shift of a carry) and the exponent field.
       Cut ``normalize``.
    5. *round*: round to nearest even, pack, overflow to inf, special-value multiplexer.
       Cut ``output``.

    Default latency 5 (:data:`DEFAULT_LATENCY`): every cut but ``normalize``, so the normalising
    shift and the rounding share the last stage: 7 logic levels, within the project's budget of
    8 (latency 6 has 6; ``docs/arith.md``). Every clock saved here is saved once per adder level
    of the matrix unit's tree and the vector unit's reductions.

    ``latency`` (default 5) and the ports ``a``, ``en`` and ``result`` (the sum): see
    :class:`~dfx_hw.arith.pipeline.PipelinedUnit`. Other members:

    b : In(16)
        Second operand.
    subtract : In(1)
        When high, the operation is ``a - b``.
    """

    CUTS = _PRIORITY
    DEFAULT_LATENCY = len(_PRIORITY) - 1

    b: In(WIDTH)
    subtract: In(1)

    def elaborate(self, platform):
        m = Module()
        pipe = self.pipeline(m)

        # Stage 0: order the operands by magnitude, exponent difference, flags.
        a = unpack(m, self.a, name="a")
        b = unpack(m, self.b, name="b")
        sign_b = b.sign ^ self.subtract
        swap = b.mag > a.mag
        diff_ab = a.exp_eff - b.exp_eff
        diff_ba = b.exp_eff - a.exp_eff
        diff = Mux(swap, diff_ba, diff_ab)
        effective_sub = a.sign ^ sign_b
        s0 = pipe.cut(
            "unpack",
            sig_x=Mux(swap, b.sig, a.sig), sig_y=Mux(swap, a.sig, b.sig),
            exp_x=Mux(swap, b.exp_eff, a.exp_eff),
            diff=Mux(diff > _ALIGN_CLAMP, _ALIGN_CLAMP, diff)[:4],
            sub=effective_sub, sign=Mux(swap, sign_b, a.sign),
            zero_sign=a.sign & sign_b,
            nan=a.is_nan | b.is_nan | (a.is_inf & b.is_inf & effective_sub),
            inf=a.is_inf | b.is_inf)

        # Stage 1: align the smaller significand; bits shifted out fold into the sticky LSB.
        wide = Cat(Const(0, _ALIGN_CLAMP + 1), s0.sig_y) >> s0.diff
        wide = wide[:_ALIGN_CLAMP + 1 + SIG_BITS]
        top = len(wide) - _ALIGN_BITS
        aligned_y = wide[top:] | (wide[:top] != 0)
        aligned_x = Cat(Const(0, _EXTRA), s0.sig_x)
        s1 = pipe.cut("align", x=aligned_x, y=aligned_y, sub=s0.sub, exp_x=s0.exp_x,
                      sign=s0.sign, zero_sign=s0.zero_sign, nan=s0.nan, inf=s0.inf)

        # Stage 2: one adder with carry-in: x + y, or x + ~y + 1 = x - y (never negative).
        y = Mux(s1.sub, ~s1.y, s1.y)
        total = (Cat(s1.sub, s1.x) + Cat(s1.sub, y))[1:]
        total = Cat(total[:_ALIGN_BITS], total[_ALIGN_BITS] & ~s1.sub)      # 15 bits
        s2 = pipe.cut("add", total=total, exp_x=s1.exp_x,
                      sign=s1.sign, zero_sign=s1.zero_sign, nan=s1.nan, inf=s1.inf)

        # Stage 3: normalising shift = leading zeros of the 15-bit sum (0 with a carry-out),
        # but at most exp_x so the exponent stays >= 1 (then the result is subnormal).
        lz = leading_zeros(m, s2.total, name="sum_lz")
        normal = lz <= s2.exp_x
        amount = Mux(normal, lz, s2.exp_x)[:4]
        s3 = pipe.cut("count", total=s2.total, amount=amount, normal=normal,
                      exp_x1=s2.exp_x + 1, zero=s2.total == 0,
                      sign=s2.sign, zero_sign=s2.zero_sign, nan=s2.nan, inf=s2.inf)

        # Stage 4: shift; the hidden bit lands on bit 14 (bits 4..13 are the fraction, 3 is the
        # guard bit, 0..2 fold into sticky). Exponent field = exp_x + 1 - amount when normal.
        shifted = (s3.total << s3.amount)[:_ALIGN_BITS + 1]
        field = Mux(s3.normal, s3.exp_x1 - s3.amount, 0)[:6]
        s4 = pipe.cut("normalize", frac=shifted[_EXTRA + 1:_EXTRA + 1 + FRAC_BITS],
                      guard=shifted[_EXTRA], sticky=shifted[:_EXTRA] != 0,
                      field=field[:5], ovf=field >= EXP_MAX,
                      sign=Mux(s3.zero, s3.zero_sign, s3.sign), zero=s3.zero,
                      nan=s3.nan, inf=s3.inf)

        # Stage 5: round to nearest even, pack, specials.
        s5 = pipe.cut("output", result=round_stage(s4))
        m.d.comb += self.result.eq(s5.result)
        return m
