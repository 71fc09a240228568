"""Packs slices of FP16 elements, each starting at lane 0 of its own words, into one contiguous
run of register-file words (the reordering of received slices into the gathered vector)."""

from amaranth import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Packer", "packer_input_layout"]


def packer_input_layout(lanes):
    """One input word: ``data`` (``lanes`` FP16 elements), ``count`` valid elements from lane 0
    (0..lanes), ``last`` (flush the partial word after this one)."""
    return data.StructLayout({"data": 16 * lanes, "count": range(lanes + 1), "last": 1})


class Packer(wiring.Component):
    """Appends the first ``count`` elements of each input word to the output run; emits every
    completed word of ``lanes`` elements on ``o`` and, after an input with ``last``, the partial
    word left (extra lanes zero), so a run of ``T`` elements gives ``ceil(T / lanes)`` words.
    Elements past ``count`` in an input word are ignored. ``o`` is a registered stream.

    Parameters
    ----------
    lanes : int
        Elements per word (a power of two).
    """

    def __init__(self, *, lanes):
        if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1 \
                or lanes & (lanes - 1):
            raise ValueError(f"lanes must be a positive power of two, not {lanes!r}")
        self._lanes = lanes
        super().__init__({
            "i": In(stream.Signature(packer_input_layout(lanes))),
            "o": Out(stream.Signature(16 * lanes)),
        })

    def elaborate(self, platform):
        m = Module()
        lanes = self._lanes
        width = 16 * lanes
        acc = Signal(width)                      # elements [0, fill) pending, the rest zero
        fill = Signal(range(lanes))
        flush = Signal()                         # a partial word to emit before more input
        out_free = ~self.o.valid | self.o.ready

        word = self.i.payload
        masked = Signal(width)
        m.d.comb += masked.eq(Cat(*(Mux(j < word.count, word.data[16 * j:16 * j + 16], 0)
                                    for j in range(lanes))))
        combined = Signal(2 * width)
        m.d.comb += combined.eq(acc | (masked << Cat(C(0, 4), fill)))
        total = Signal(range(2 * lanes + 1))
        m.d.comb += total.eq(fill + word.count)

        m.d.comb += self.i.ready.eq(out_free & ~flush)
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(flush & out_free):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(acc), acc.eq(0), fill.eq(0),
                         flush.eq(0)]
        with m.Elif(self.i.valid & self.i.ready):
            with m.If(total >= lanes):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(combined[:width]),
                             acc.eq(combined[width:]), fill.eq(total - lanes)]
                m.d.sync += flush.eq(word.last & (total != lanes))
            with m.Else():
                m.d.sync += [acc.eq(combined[:width]), fill.eq(total)]
                m.d.sync += flush.eq(word.last & (total != 0))
        return m
