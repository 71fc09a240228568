"""Vector function unit (VFU): ``lanes`` element-wise FP16 ALUs (DESIGN.md, section 4)."""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..arith import FP16Adder, FP16Max, FP16Multiplier
from ..hdl.delay import delay
from .layouts import AluOp

__all__ = ["VFU"]


class VFU(wiring.Component):
    """``lanes`` element-wise FP16 ALUs: ``add``, ``sub``, ``mul`` (``square`` = ``mul`` with
    ``b = a``), ``max`` and ``pass`` (the load/store and table-function bypass, bit-exact copy
    of ``a``).

    Each lane is one :class:`~dfx_hw.arith.FP16Adder` (which also subtracts), one
    :class:`~dfx_hw.arith.FP16Multiplier` and one :class:`~dfx_hw.arith.FP16Max`; results are
    bit for bit the bit-true model's (``numpy.float16``, NaN 0x7E00). Fully pipelined: operands
    and ``op`` applied on one clock give ``result`` exactly :attr:`latency` clocks later, one word per clock; the shorter unit and the bypass are delayed
    to the common latency so that results leave in issue order.

    Parameters
    ----------
    lanes : int
        Elements per clock (power of two).
    add_latency, mul_latency, max_latency : int or None
        Latencies of the adder, multiplier and comparator (``None``: their defaults).

    Members
    -------
    a, b : In(16 * lanes)
        Operands, element ``i`` in bits ``16*i .. 16*i+15``.
    op : In(AluOp)
    result : Out(16 * lanes)
    """

    def __init__(self, *, lanes, add_latency=None, mul_latency=None, max_latency=None):
        if not isinstance(lanes, int) or lanes < 1 or lanes & (lanes - 1):
            raise ValueError(f"lanes must be a positive power of two, not {lanes!r}")
        self._lanes = lanes
        self._add_latency = FP16Adder.DEFAULT_LATENCY if add_latency is None else add_latency
        self._mul_latency = FP16Multiplier.DEFAULT_LATENCY if mul_latency is None else mul_latency
        self._max_latency = FP16Max.DEFAULT_LATENCY if max_latency is None else max_latency
        for name, value in (("add_latency", self._add_latency),
                            ("mul_latency", self._mul_latency),
                            ("max_latency", self._max_latency)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
        super().__init__({
            "a": In(16 * lanes),
            "b": In(16 * lanes),
            "op": In(AluOp),
            "result": Out(16 * lanes),
        })

    @property
    def lanes(self):
        return self._lanes

    @property
    def latency(self):
        return max(self._add_latency, self._mul_latency, self._max_latency)

    def elaborate(self, platform):
        m = Module()
        latency = self.latency
        op = delay(m, self.op, latency, name="op")
        for lane in range(self._lanes):
            a = self.a[16 * lane:16 * (lane + 1)]
            b = self.b[16 * lane:16 * (lane + 1)]
            adder = FP16Adder(latency=self._add_latency)
            mult = FP16Multiplier(latency=self._mul_latency)
            comp = FP16Max(latency=self._max_latency)
            m.submodules[f"add{lane}"] = adder
            m.submodules[f"mul{lane}"] = mult
            m.submodules[f"max{lane}"] = comp
            # Operand isolation: a unit's inputs only move for its own operations (power; the
            # idle units also cost nothing in simulation).
            use_add = (self.op == AluOp.ADD) | (self.op == AluOp.SUB)
            use_mul = self.op == AluOp.MUL
            use_max = self.op == AluOp.MAX
            m.d.comb += [
                adder.a.eq(Mux(use_add, a, 0)), adder.b.eq(Mux(use_add, b, 0)),
                adder.subtract.eq(self.op == AluOp.SUB),
                mult.a.eq(Mux(use_mul, a, 0)), mult.b.eq(Mux(use_mul, b, 0)),
                comp.a.eq(Mux(use_max, a, 0)), comp.b.eq(Mux(use_max, b, 0)),
            ]
            total = delay(m, adder.result, latency - self._add_latency, name=f"sum{lane}")
            product = delay(m, mult.result, latency - self._mul_latency, name=f"prod{lane}")
            most = delay(m, comp.result, latency - self._max_latency, name=f"max{lane}")
            passed = delay(m, Mux(self.op == AluOp.PASS, a, 0), latency, name=f"pass{lane}")
            out = self.result[16 * lane:16 * (lane + 1)]
            with m.Switch(op):
                with m.Case(AluOp.ADD, AluOp.SUB):
                    m.d.comb += out.eq(total)
                with m.Case(AluOp.MUL):
                    m.d.comb += out.eq(product)
                with m.Case(AluOp.MAX):
                    m.d.comb += out.eq(most)
                with m.Default():
                    m.d.comb += out.eq(passed)
        return m
