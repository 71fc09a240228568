"""SFU_V element stage: the table functions of every lane (``exp`` everywhere; ``recip``,
``rsqrt`` and ``pow2inv`` in lane 0, which carries the scalar operations)."""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .layouts import Unary
from .unary_rom import TABLE_FUNCTIONS, UnaryUnit

__all__ = ["SFUV"]


class SFUV(wiring.Component):
    """``lanes`` :class:`~dfx_hw.vpu.unary_rom.UnaryUnit` s after the VFU.

    ``result`` lane ``i`` is ``fn(data lane i)`` (``fn = NONE``: unchanged), :attr:`latency`
    clocks after ``data`` and ``fn``. Lane 0 holds every table function; the other lanes hold
    ``exp`` only, so ``recip``, ``rsqrt`` and ``pow2inv`` are defined in lane 0 only (they are
    scalar instructions). The reduction part of SFU_V is :class:`~dfx_hw.vpu.accumulator.
    Accumulator`.

    Parameters
    ----------
    lanes : int
    add_latency, mul_latency : int or None
        Latencies of the FP16 units inside the table functions.

    Members
    -------
    data : In(16 * lanes)
    fn : In(Unary)
    result : Out(16 * lanes)
    """

    def __init__(self, *, lanes, add_latency=None, mul_latency=None):
        if not isinstance(lanes, int) or lanes < 1 or lanes & (lanes - 1):
            raise ValueError(f"lanes must be a positive power of two, not {lanes!r}")
        self._lanes = lanes
        self._units = [UnaryUnit(functions=TABLE_FUNCTIONS if lane == 0 else (Unary.EXP,),
                                 add_latency=add_latency, mul_latency=mul_latency)
                       for lane in range(lanes)]
        super().__init__({
            "data": In(16 * lanes),
            "fn": In(Unary),
            "result": Out(16 * lanes),
        })

    @property
    def latency(self):
        return self._units[0].latency

    def elaborate(self, platform):
        m = Module()
        for lane, unit in enumerate(self._units):
            m.submodules[f"fn{lane}"] = unit
            m.d.comb += [
                unit.x.eq(self.data[16 * lane:16 * (lane + 1)]),
                unit.fn.eq(self.fn),
                self.result[16 * lane:16 * (lane + 1)].eq(unit.result),
            ]
        return m
