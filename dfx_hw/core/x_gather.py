"""Register-file words -> the matrix unit's input slices.

The VPU streams an input vector out of the vector register file as words of ``lanes`` FP16
elements (its last word may carry unspecified extra lanes); the matrix unit's operand collector
takes it as ``ceil(k / d)`` slices of ``d`` elements, zero past ``k``
(:class:`dfx_hw.mpu.operand_collector.OperandCollector`). This gathers ``d / lanes`` words per
slice and zeroes every element at or past ``k``.
"""

from amaranth import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..mpu.layouts import DIM_BITS
from ..spec.params import check_power_of_two

__all__ = ["InputGather"]


class InputGather(wiring.Component):
    """Parameters
    ----------
    d : int
        Elements per input slice.
    lanes : int
        Elements per register-file word (``lanes <= d``).

    Members
    -------
    length : In(stream.Signature(16))
        ``k`` of the next vector (one per vector, in order).
    words : In(stream.Signature(16 * lanes))
    x : Out(stream.Signature(ArrayLayout(16, d)))
    """

    def __init__(self, *, d, lanes):
        self._d = check_power_of_two("d", d)
        self._lanes = check_power_of_two("lanes", lanes)
        if lanes > d:
            raise ValueError(f"lanes ({lanes}) must not exceed d ({d})")
        super().__init__({
            "length": In(stream.Signature(DIM_BITS)),
            "words": In(stream.Signature(16 * lanes)),
            "x": Out(stream.Signature(data.ArrayLayout(16, d))),
        })

    def elaborate(self, platform):
        m = Module()
        d, lanes = self._d, self._lanes
        per_slice = d // lanes
        active = Signal()
        remaining = Signal(DIM_BITS + 1)        # elements of the vector not yet gathered
        slot = Signal(range(per_slice))        # word position inside the slice being built
        buffer = Signal(16 * d)
        full = Signal()                        # `x` holds a slice
        m.d.comb += self.length.ready.eq(~active)
        with m.If(self.length.valid & self.length.ready):
            m.d.sync += [active.eq(1), remaining.eq(self.length.payload), slot.eq(0)]

        take = Signal()
        m.d.comb += [take.eq(active & self.words.valid & (~full | self.x.ready)),
                     self.words.ready.eq(take)]
        last_of_vector = remaining <= lanes
        # Lanes of this word inside the vector: the rest are zeroed.
        keep = Signal(16 * lanes)
        for i in range(lanes):
            m.d.comb += keep[16 * i:16 * i + 16].eq(Mux(C(i, DIM_BITS + 1) < remaining,
                                                         self.words.payload[16 * i:16 * i + 16],
                                                         0))
        with m.If(self.x.valid & self.x.ready):
            m.d.sync += full.eq(0)
        with m.If(take):
            words = [buffer[16 * lanes * j:16 * lanes * (j + 1)] for j in range(per_slice)]
            with m.Switch(slot):
                for j in range(per_slice):
                    with m.Case(j):
                        # Words past the one written are cleared when a slice starts.
                        m.d.sync += words[j].eq(keep)
                        if j == 0 and per_slice > 1:
                            m.d.sync += buffer[16 * lanes:].eq(0)
            ends_slice = (slot == per_slice - 1) | last_of_vector
            m.d.sync += [slot.eq(Mux(ends_slice, 0, slot + 1)),
                         remaining.eq(Mux(last_of_vector, 0, remaining - lanes))]
            with m.If(ends_slice):
                m.d.sync += full.eq(1)
            with m.If(last_of_vector):
                m.d.sync += active.eq(0)
        m.d.comb += [self.x.valid.eq(full), self.x.payload.eq(buffer)]
        return m
