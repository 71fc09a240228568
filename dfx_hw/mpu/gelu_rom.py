"""GELU by table and linear interpolation (one SFU_M lane), the recipe of
:func:`dfx_hw.model.bittrue.functions.gelu_recipe` over the ROM of
:func:`dfx_hw.model.bittrue.tables.gelu_table`."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..arith.adder import FP16Adder
from ..arith.pipeline import check_latency
from ..arith.bits import leading_zeros
from ..arith.format import BIAS, FRAC_BITS, QNAN, SIGN_BIT, unpack
from ..arith.multiplier import FP16Multiplier
from ..hdl.delay import delay
from ..hdl.leaf import LeafComponent
from ..model.bittrue import tables
from .layouts import FP16

__all__ = ["GeluUnit", "gelu_latency", "gelu_rom_init", "gelu_decode_bits"]

# |x| * 2**STEP as a fixed-point number with _F fraction bits: wide enough for the smallest
# subnormal input (2**-24 * 2**7 = 2**-17).
_STEP = tables.GELU_STEP_LOG2
_F = BIAS - 1 + FRAC_BITS - _STEP   # = 17 for binary16 and h = 2**-7
_INDEX_BITS = (tables.GELU_SEGMENTS_PER_SIGN - 1).bit_length()
#: Biased exponent of GELU_LIMIT (8 = 2**3): inputs with a larger-or-equal exponent bypass the ROM.
_LIMIT_EXP = BIAS + tables.GELU_LIMIT.bit_length() - 1


def gelu_latency(*, mul_latency=FP16Multiplier.DEFAULT_LATENCY,
                 add_latency=FP16Adder.DEFAULT_LATENCY):
    """Clocks through a :class:`GeluUnit`: decode register (1) + ROM (1) + multiplier + adder."""
    return 2 + check_latency(mul_latency) + check_latency(add_latency)


def gelu_rom_init():
    """ROM words ``T | D << 16`` (raw FP16 bits) at the recipe's addresses ``sign << 10 | i``."""
    table_t, table_d = tables.gelu_table()
    t_bits = table_t.view("uint16").astype(int)
    d_bits = table_d.view("uint16").astype(int)
    return [int(t) | int(dd) << 16 for t, dd in zip(t_bits, d_bits)]


def gelu_decode_bits():
    """Fraction bits of the fixed-point ``|x| * 2**7`` the decoder forms (for documentation)."""
    return _F


class GeluUnit(LeafComponent):
    """``y = gelu(x)`` as :func:`dfx_hw.model.bittrue.functions.gelu_recipe` defines it, bit for
    bit, or ``y = x`` when ``bypass`` is high.

    Pipeline: *align* (``|x| * 2**7`` as a fixed-point number by one shift; special cases;
    register), *decode* (ROM address ``sign << 10 | floor(|x| * 2**7)``; the exact fraction ``f``
    as an FP16 value by a leading-zero count and a shift) with the *ROM* read of ``(T, D)``,
    an :class:`~dfx_hw.arith.multiplier.FP16Multiplier` ``f * D``, an
    :class:`~dfx_hw.arith.adder.FP16Adder` ``T + f * D``, and the special-value multiplexer
    (``NaN -> 0x7E00``, ``x >= 8 -> x``, ``x <= -8 -> -0``). Fully pipelined.

    Parameters
    ----------
    mul_latency, add_latency : int
        Latencies of the interpolation multiplier and adder.

    Members
    -------
    x : In(16)
    bypass : In(1)
        Pass ``x`` through unchanged (same latency).
    en : In(1)
        Clock enable (init 1).
    result : Out(16)
        Available :attr:`latency` enabled clocks after ``x``.
    """

    x: In(FP16)
    bypass: In(1)
    en: In(1, init=1)
    result: Out(FP16)

    def __init__(self, *, mul_latency=FP16Multiplier.DEFAULT_LATENCY,
                 add_latency=FP16Adder.DEFAULT_LATENCY):
        self._mul_latency = check_latency(mul_latency)
        self._add_latency = check_latency(add_latency)
        super().__init__()

    @property
    def latency(self):
        """See :func:`gelu_latency`."""
        return gelu_latency(mul_latency=self._mul_latency, add_latency=self._add_latency)

    def elaborate(self, platform):
        m = Module()
        en = self.en
        x = unpack(m, self.x, name="x")

        # Align: |x| * 2**7 * 2**_F = sig * 2**(exp_eff - 1) for the inputs that use the table
        # (exp < _LIMIT_EXP, so the shift is at most _LIMIT_EXP - 2). Registered.
        aligned = Signal(_F + _INDEX_BITS)
        shift = Signal(5)
        m.d.comb += [shift.eq(x.exp_eff - 1), aligned.eq(x.sig << shift)]
        fixed = delay(m, aligned, 1, en=en, name="fixed")
        sign = delay(m, x.sign, 1, en=en, name="sign")
        index = fixed[_F:_F + _INDEX_BITS]
        frac = fixed[:_F]
        # f = frac * 2**-_F as FP16 (exact: at most 11 significant bits).
        lz = leading_zeros(m, frac, name="f_lz")
        top = Signal(range(_F))          # position of the leading one
        m.d.comb += top.eq(_F - 1 - lz)
        normalised = Signal(2 * _F)
        m.d.comb += normalised.eq(frac << lz)            # leading one at bit _F - 1
        exp_f = top - _F + BIAS                           # biased exponent when normal
        f_bits = Signal(FP16)
        with m.If(frac == 0):
            m.d.comb += f_bits.eq(0)
        with m.Elif(top >= _F - BIAS + 1):
            m.d.comb += f_bits.eq(Cat(normalised[_F - 1 - FRAC_BITS:_F - 1], exp_f[:5],
                                      Const(0, 1)))
        with m.Else():
            # Subnormal f: frac * 2**-_F = (frac << (24 - _F)) * 2**-24.
            m.d.comb += f_bits.eq(frac << (BIAS + FRAC_BITS - 1 - _F))
        address = Cat(index, sign)
        big = x.exp >= _LIMIT_EXP                          # |x| >= 8, inf, NaN
        special = Signal(2)   # 0: table, 1: x, 2: -0, 3: NaN
        with m.If(self.bypass):
            m.d.comb += special.eq(1)
        with m.Elif(x.is_nan):
            m.d.comb += special.eq(3)
        with m.Elif(big & ~x.sign):
            m.d.comb += special.eq(1)
        with m.Elif(big):
            m.d.comb += special.eq(2)

        rom = Memory(shape=32, depth=len(gelu_rom_init()), init=gelu_rom_init())
        m.submodules.rom = rom
        rd = rom.read_port()
        m.d.comb += [rd.addr.eq(address), rd.en.eq(en)]
        table_t, table_d = rd.data[:16], rd.data[16:]

        mul = FP16Multiplier(latency=self._mul_latency)
        add = FP16Adder(latency=self._add_latency)
        m.submodules.mul, m.submodules.add = mul, add
        m.d.comb += [
            mul.a.eq(delay(m, f_bits, 1, en=en, name="f")),
            mul.b.eq(table_d),
            mul.en.eq(en),
            add.a.eq(delay(m, table_t, self._mul_latency, en=en, name="t")),
            add.b.eq(mul.result),
            add.en.eq(en),
        ]
        x_out = delay(m, self.x, self.latency, en=en, name="x")
        special_out = delay(m, special, self.latency, en=en, name="special")
        m.d.comb += self.result.eq(Mux(special_out == 0, add.result,
                                       Mux(special_out == 1, x_out,
                                           Mux(special_out == 2, 1 << SIGN_BIT, QNAN))))
        return m
