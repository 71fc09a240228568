"""SFU_V table functions: ``exp``, ``recip``, ``rsqrt`` (table + interpolation) and ``pow2inv``.

Each function is built from the step-by-step recipe of :mod:`dfx_hw.model.bittrue.functions`
(``exp_recipe``, ``recip_recipe``, ``rsqrt_recipe``) and :func:`~dfx_hw.model.bittrue.vector_ops.
spow2inv`; the ROM contents are the arrays of :mod:`dfx_hw.model.bittrue.tables`, imported, never
recomputed. The interpolation ``T + f * D`` and the ``M + M * g`` step of ``exp`` use
:class:`~dfx_hw.arith.FP16Multiplier` and :class:`~dfx_hw.arith.FP16Adder`; only the input split,
the exponent arithmetic and the final ``ldexp`` rounding are integer logic here.
"""

import numpy as np

from amaranth import *
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..arith import FP16Adder, FP16Multiplier
from ..arith.bits import leading_zeros
from ..arith.format import INF, QNAN
from ..arith.rounding import round_pack
from ..hdl.delay import delay
from ..hdl.leaf import LeafComponent
from ..model.bittrue import tables, vector_ops
from ..model.bittrue.fp16 import from_bits
from .layouts import Unary

__all__ = ["UnaryUnit", "TABLE_FUNCTIONS", "make_unary_unit"]

#: The functions a :class:`UnaryUnit` may hold.
TABLE_FUNCTIONS = (Unary.EXP, Unary.RECIP, Unary.RSQRT, Unary.POW2INV)

_E_BITS = 6          # signed exponent of the exp coarse table (-26 .. 15)
_N_BITS = 7          # signed ldexp amount


def _bits(array):
    return [int(v) for v in np.atleast_1d(np.asarray(array, dtype=np.float16)).view(np.uint16)]


def _fp16_of_integer(m, value, exp_offset):
    """FP16 bits of the exact value ``value * 2**(exp_offset - 15)`` for an 11-bit unsigned
    integer ``value`` (combinational; +0 for 0). The caller guarantees a normal result:
    biased exponent = (position of the leading one) + ``exp_offset``."""
    lz = leading_zeros(m, value, name="f_lz")     # 0 .. 11
    top = 10 - lz                                  # position of the leading one
    sig = (value << lz)[:11]                       # leading one at bit 10
    exp_field = top + exp_offset
    return Mux(value == 0, 0, Cat(sig[:10], exp_field[:5], C(0, 1)))


def _pow2inv_table():
    """``spow2inv`` of one input per exponent field (the function reads nothing else)."""
    inputs = from_bits(np.arange(32, dtype=np.uint16) << 10)
    return _bits(vector_ops.spow2inv(inputs))


class UnaryUnit(LeafComponent):
    """One lane of SFU_V's table functions.

    ``result = f(x)`` for the function ``fn`` selects, bit for bit the bit-true recipe;
    ``fn = NONE`` passes ``x`` through unchanged. Fully pipelined: ``x`` and ``fn`` applied on one
    clock give ``result`` exactly :attr:`latency` clocks later, whatever the function.

    Pipeline (at most about 8 logic levels per stage): significand shifts (1 clock); normalised
    split and ROM addresses (1); ROM read (1); the exact FP16 fraction ``f`` (1); ``f * D``
    (multiplier) and ``T + f * D`` (adder); for ``exp`` ``M * g`` and ``M + M * g`` (the other
    functions wait in a delay line); ``ldexp`` alignment (1) and round-to-nearest-even of
    subnormal results, sign and special values (1).

    Parameters
    ----------
    functions : tuple of Unary
        Functions this lane computes (the others give unspecified results).
    add_latency, mul_latency : int or None
        Latencies of the FP16 units (``None``: their defaults).

    Members
    -------
    x : In(16)
    fn : In(Unary)
    result : Out(16)
    """

    x: In(16)
    fn: In(Unary)
    result: Out(16)

    def __init__(self, *, functions, add_latency=None, mul_latency=None):
        functions = tuple(functions)
        for function in functions:
            if function not in TABLE_FUNCTIONS:
                raise ValueError(f"functions must be drawn from {TABLE_FUNCTIONS}, not "
                                 f"{function!r}")
        self._functions = functions
        self._add_latency = FP16Adder.DEFAULT_LATENCY if add_latency is None else add_latency
        self._mul_latency = FP16Multiplier.DEFAULT_LATENCY if mul_latency is None else mul_latency
        super().__init__()

    @property
    def functions(self):
        return self._functions

    @property
    def latency(self):
        return self.latency_for(add_latency=self._add_latency, mul_latency=self._mul_latency)

    @staticmethod
    def latency_for(*, add_latency=None, mul_latency=None):
        """The :attr:`latency` of a unit with these FP16 latencies (``None``: the defaults),
        without building one."""
        la = FP16Adder.DEFAULT_LATENCY if add_latency is None else add_latency
        lm = FP16Multiplier.DEFAULT_LATENCY if mul_latency is None else mul_latency
        return 5 + 2 * (la + lm)

    def elaborate(self, platform):
        m = Module()
        la, lm = self._add_latency, self._mul_latency

        def reg(value, name):
            """``value`` one clock later."""
            return delay(m, value, 1, name=name)

        # ---- stage A (clock 0): fields, shifts of the significand ---------------------------
        # Operand isolation: the table datapath only sees inputs of table functions.
        x = Signal(16)
        m.d.comb += x.eq(Mux(self.fn == Unary.NONE, 0, self.x))
        sign, exp, frac = x[15], x[10:15], x[:10]
        normal = exp != 0
        exp_eff = Signal(5)
        m.d.comb += exp_eff.eq(Mux(normal, exp, 1))
        sig = Cat(frac, normal)                          # 11 bits
        flags = Cat((exp == 31) & (frac != 0), (exp == 31) & (frac == 0), x[:15] == 0, sign)
        lz = leading_zeros(m, frac, name="x_lz")         # 0..10 (subnormal normalisation)
        # exp: a = trunc(16 x); |16 x| = sig * 2**(exp_eff - 21).
        shift = Signal(5)
        m.d.comb += shift.eq(21 - exp_eff)               # 1 .. 20 when exp_eff < 21
        a_mag = Signal(11)
        m.d.comb += a_mag.eq(sig >> shift)
        rest = Signal(11)                                # bits of sig below 2**-4 (|b|)
        m.d.comb += rest.eq(sig & ((C(1, 21) << shift) - 1))
        a_fn = reg(self.fn, "a_fn")
        a_exp, a_frac, a_normal = reg(exp, "a_exp"), reg(frac, "a_frac"), reg(normal, "a_normal")
        a_exp_eff, a_lz = reg(exp_eff, "a_exp_eff"), reg(lz, "a_lz")
        a_flags, a_mag_r, a_rest = reg(flags, "a_flags"), reg(a_mag, "a_mag"), reg(rest, "a_rest")
        a_sign = a_flags[3]

        # ---- stage B (clock 1): normalised split, table addresses ---------------------------
        # x = (-1)**s * m * 2**e, F = fraction field of m.
        norm_frac = Signal(10)
        m.d.comb += norm_frac.eq(Mux(a_normal, a_frac, (a_frac << (a_lz + 1))[:10]))
        e = Signal(signed(7))
        m.d.comb += e.eq(Mux(a_normal, Cat(a_exp, C(0, 1)).as_signed() - 15, -15 - a_lz))
        j7 = norm_frac[3:10]
        f8 = Signal(16)                                  # (F & 7) / 8, exact
        with m.Switch(norm_frac[:3]):
            for k in range(8):
                with m.Case(k):
                    m.d.comb += f8.eq(_bits(np.float16(k / 8))[0])
        q = Signal(signed(7))
        m.d.comb += q.eq(e >> 1)                         # (e - p) / 2, arithmetic
        # exp: u = |b| * 2**10 = rest * 2**(exp_eff - 15); j = floor(u), f = u - j.
        j6 = Signal(6)
        fbits = Signal(11)
        with m.If(a_exp_eff >= 15):
            m.d.comb += [j6.eq(a_rest << (a_exp_eff - 15)[:3]), fbits.eq(0)]
        with m.Else():
            low = Signal(4)
            m.d.comb += low.eq(15 - a_exp_eff)
            m.d.comb += [j6.eq(a_rest >> low), fbits.eq(a_rest & ((C(1, 16) << low) - 1))]
        big = a_exp_eff >= 21
        too_high = ~a_sign & (big | (a_mag_r > tables.EXP_A_MAX))
        too_low = a_sign & (big | (a_mag_r > -tables.EXP_A_MIN))
        coarse_addr = Mux(a_sign, -tables.EXP_A_MIN - a_mag_r, -tables.EXP_A_MIN + a_mag_r)

        # ROMs: the address registered (it is the end of stage B's logic), then a synchronous
        # read (data one clock later), so the table lookup starts from flip-flops.
        def rom(name, words, width, addr):
            mem = Memory(shape=unsigned(width), depth=len(words), init=words)
            m.submodules[name] = mem
            port = mem.read_port()
            m.d.comb += port.addr.eq(reg(addr, f"{name}_addr"))
            return port.data

        coarse = None
        t_d = {}
        if Unary.EXP in self._functions:
            table_m, table_e, table_t, table_d = tables.exp_table()
            t_d[Unary.EXP] = rom("expm1_rom", [tt | (dd << 16) for tt, dd in
                                               zip(_bits(table_t), _bits(table_d))],
                                 32, Cat(j6, a_sign))
            coarse = rom("exp_rom", [mm | ((int(ee) & 0x3F) << 16) for mm, ee in
                                     zip(_bits(table_m), table_e)], 16 + _E_BITS,
                         Mux(too_high | too_low, 0, coarse_addr))
        if Unary.RECIP in self._functions:
            rt, rd = tables.recip_table()
            t_d[Unary.RECIP] = rom("recip_rom", [tt | (dd << 16) for tt, dd in
                                                 zip(_bits(rt), _bits(rd))], 32, j7)
        if Unary.RSQRT in self._functions:
            st, sd = tables.rsqrt_table()
            t_d[Unary.RSQRT] = rom("rsqrt_rom", [tt | (dd << 16) for tt, dd in
                                                 zip(_bits(st), _bits(sd))], 32,
                                   Cat(j7, e[0]))
        n = Signal(signed(_N_BITS))                      # ldexp amount (RECIP, RSQRT)
        with m.Switch(a_fn):
            with m.Case(Unary.RECIP):
                m.d.comb += n.eq(-e)
            with m.Case(Unary.RSQRT):
                m.d.comb += n.eq(-q)
        b_fn, b_f8, b_n = reg(a_fn, "b_fn"), reg(f8, "b_f8"), reg(n, "b_n")
        b_fbits, b_exp_eff = reg(fbits, "b_fbits"), reg(a_exp_eff, "b_exp_eff")
        b_range = reg(Cat(too_high, too_low), "b_range")

        # ---- stage C (clock 2): the exact FP16 fraction f of exp ---------------------------
        f_exp = _fp16_of_integer(m, b_fbits, b_exp_eff)
        f_c = reg(Mux(b_fn == Unary.EXP, f_exp, b_f8), "c_f")
        c_fn, c_n = reg(b_fn, "c_fn"), reg(b_n, "c_n")
        t = Signal(16)
        d = Signal(16)
        with m.Switch(c_fn):
            for function, data in t_d.items():
                with m.Case(function):
                    m.d.comb += [t.eq(data[:16]), d.eq(data[16:32])]

        # ---- interpolation (clock 3 on): g = T + f * D; exp: y = M + M * g ------------------
        m.submodules.mul_fd = mul_fd = FP16Multiplier(latency=lm)
        m.submodules.add_t = add_t = FP16Adder(latency=la)
        m.d.comb += [mul_fd.a.eq(f_c), mul_fd.b.eq(d)]
        t_late = delay(m, t, lm, name="t")
        m.d.comb += [add_t.a.eq(t_late), add_t.b.eq(mul_fd.result)]
        g = add_t.result                                 # clock 3 + lm + la
        if coarse is not None:
            m.submodules.mul_mg = mul_mg = FP16Multiplier(latency=lm)
            m.submodules.add_m = add_m = FP16Adder(latency=la)
            coarse_late = delay(m, coarse, lm + la, name="coarse")
            m.d.comb += [mul_mg.a.eq(coarse_late[:16]), mul_mg.b.eq(g)]
            m_late = delay(m, coarse_late[:16], lm, name="mant")
            m.d.comb += [add_m.a.eq(m_late), add_m.b.eq(mul_mg.result)]
            y_exp = add_m.result                         # clock 3 + 2 (lm + la)
        y_other = delay(m, g, lm + la, name="y")
        fn_y = delay(m, c_fn, 2 * (lm + la), name="fn_y")
        # The ldexp amount is chosen at clock 3, where both candidates are registers (exp: the
        # coarse table's exponent; RECIP, RSQRT: n), and waits for y in one delay line, so the
        # choice is off the exponent add's path.
        amount_c = Signal(signed(_N_BITS))
        m.d.comb += amount_c.eq(c_n)
        if coarse is not None:
            with m.If(c_fn == Unary.EXP):
                m.d.comb += amount_c.eq(coarse[16:].as_signed())
        amount = delay(m, amount_c, 2 * (lm + la), name="amount")

        y = Signal(16)
        with m.Switch(fn_y):
            if coarse is not None:
                with m.Case(Unary.EXP):
                    m.d.comb += y.eq(y_exp)
            with m.Default():
                m.d.comb += y.eq(y_other)
        scaled = self._ldexp(m, y, amount)               # registered inside: clock 4 + ...

        # ---- special cases and pass-through (clock 4 + 2 (lm + la)) ------------------------
        span = 4 + 2 * (lm + la)
        x_late = delay(m, self.x, span, name="x")
        fn_late = delay(m, self.fn, span, name="fn")
        flags_late = delay(m, a_flags, span - 1, name="flags")
        range_late = delay(m, b_range, span - 2, name="range")
        nan_l, inf_l, zero_l, sign_l = (flags_late[i] for i in range(4))
        high_l, low_l = range_late[0], range_late[1]

        out = Signal(16)
        with m.Switch(fn_late):
            with m.Case(Unary.EXP):
                with m.If(nan_l):
                    m.d.comb += out.eq(QNAN)
                with m.Elif(high_l | (inf_l & ~sign_l)):
                    m.d.comb += out.eq(INF)
                with m.Elif(low_l | inf_l):
                    m.d.comb += out.eq(0)
                with m.Else():
                    m.d.comb += out.eq(scaled)
            with m.Case(Unary.RECIP):
                with m.If(nan_l):
                    m.d.comb += out.eq(QNAN)
                with m.Elif(zero_l):
                    m.d.comb += out.eq(Cat(C(INF, 15), sign_l))
                with m.Elif(inf_l):
                    m.d.comb += out.eq(Cat(C(0, 15), sign_l))
                with m.Else():
                    m.d.comb += out.eq(Cat(scaled[:15], sign_l))
            with m.Case(Unary.RSQRT):
                with m.If(nan_l | (sign_l & ~zero_l)):
                    m.d.comb += out.eq(QNAN)
                with m.Elif(zero_l):
                    m.d.comb += out.eq(Cat(C(INF, 15), sign_l))
                with m.Elif(inf_l):
                    m.d.comb += out.eq(0)
                with m.Else():
                    m.d.comb += out.eq(scaled)
            with m.Case(Unary.POW2INV):
                # A function of the exponent field alone: 32 entries from the bit-true model.
                with m.Switch(x_late[10:15]):
                    for field, value in enumerate(_pow2inv_table()):
                        with m.Case(field):
                            m.d.comb += out.eq(value)
            with m.Default():
                m.d.comb += out.eq(x_late)
        m.d.sync += self.result.eq(out)
        return m

    @staticmethod
    def _ldexp(m, y, amount):
        """``fp16(y * 2**amount)`` for a positive normal ``y``, one clock later: exponent add
        and alignment shift, register, then round-to-nearest-even of a subnormal result;
        overflow gives inf."""
        new = Signal(signed(9))
        m.d.comb += new.eq(y[10:15] + amount)
        sig = Cat(y[:10], C(1, 1))                       # 11 bits
        # Subnormal: shift right by 1 - new (clamped to 12: everything below the guard bit).
        sh = Signal(4)
        # 1 - new > 12 iff new < -11 (a constant compare); the shift needs only 1 - new's low
        # four bits
        m.d.comb += sh.eq(Mux(new >= 1, 0, Mux(new < -11, 12, (1 - new)[:4])))
        shifted = Signal(23)
        m.d.comb += shifted.eq(Cat(C(0, 12), sig) >> sh)  # sig << 12 >> sh
        l_new = delay(m, new, 1, name="l_new")
        l_frac = delay(m, y[:10], 1, name="l_frac")
        l_shifted = delay(m, shifted, 1, name="l_shifted")
        kept = l_shifted[12:23]                          # sig >> sh
        sub_mag = round_pack(frac=kept[:10], exp_field=C(0, 5), guard=l_shifted[11],
                             sticky=l_shifted[:11] != 0, overflow=C(0, 1))
        result = Signal(16)
        with m.If(l_new >= 31):
            m.d.comb += result.eq(INF)
        with m.Elif(l_new >= 1):
            m.d.comb += result.eq(Cat(l_frac, l_new[:5], C(0, 1)))
        with m.Else():
            m.d.comb += result.eq(Cat(sub_mag, C(0, 1)))
        return result


def make_unary_unit(*, functions=None, add_latency=None, mul_latency=None):
    """A :class:`UnaryUnit` from JSON parameters (function names; default: all of
    :data:`TABLE_FUNCTIONS`), the form :mod:`sim.harness` elaborates."""
    chosen = TABLE_FUNCTIONS if functions is None else tuple(Unary[name] for name in functions)
    return UnaryUnit(functions=chosen, add_latency=add_latency, mul_latency=mul_latency)
