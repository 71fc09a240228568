"""The transposed row write (STHT): one vector -> one element per tile lane, across tiles."""

from amaranth.hdl import Array, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.params import check_power_of_two
from .write_align import write_beat_layout

__all__ = ["TransposeScatter"]


class TransposeScatter(wiring.Component):
    """Writes vector element ``i`` (``i < count``) of the incoming words at flat element
    ``start + (i // l) * d * l + (i % l) * d``: row ``r`` of a tiled matrix whose tile storage
    starts at ``start - r`` (:func:`dfx_hw.compiler.tiling.row_offsets` with a full-width band,
    how V is stored transposed so that MM reads it like any weight matrix).

    Each element becomes one beat (the element repeated over the beat, one strobe bit set):
    consecutive elements are ``d`` elements apart, so no two share a beat at the U280 sizes.
    One element per clock.

    Parameters
    ----------
    d, l : int
        Tile shape.
    beat_elements : int
        Elements per memory beat.
    word_elements : int
        Elements per incoming word.
    count_bits : int
    elem_bits : int
        Width of a flat element address.

    Members
    -------
    job : In(stream.Signature(StructLayout({"start": elem_bits, "count": count_bits})))
    words : In(stream.Signature(16 * word_elements))
    beats : Out(stream.Signature(write_beat_layout(...)))
        ``beat`` = flat element address // ``beat_elements``.
    idle : Out(1)
    """

    def __init__(self, *, d, l, beat_elements, word_elements, count_bits, elem_bits):
        for name, value in (("d", d), ("l", l), ("beat_elements", beat_elements),
                            ("word_elements", word_elements)):
            check_power_of_two(name, value)
        self._d, self._l, self._e, self._v = d, l, beat_elements, word_elements
        self._cb, self._eb = count_bits, elem_bits
        log_e = beat_elements.bit_length() - 1
        super().__init__({
            "job": In(stream.Signature(data.StructLayout({"start": elem_bits,
                                                          "count": count_bits}))),
            "words": In(stream.Signature(16 * word_elements)),
            "beats": Out(stream.Signature(write_beat_layout(beat_elements=beat_elements,
                                                            beat_bits=elem_bits - log_e))),
            "idle": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        d, l, e, v = self._d, self._l, self._e, self._v
        log_e = e.bit_length() - 1
        tile = d * l

        active = Signal()
        addr = Signal(self._eb)
        tile_base = Signal(self._eb)       # element address of lane 0 of the current tile
        lane = Signal(range(l))
        index = Signal(range(v))           # element of the current word
        left = Signal(self._cb)

        elems = Array(self.words.payload[16 * i:16 * (i + 1)] for i in range(v))
        space = ~self.beats.valid | self.beats.ready
        take = active & self.words.valid & space
        final = left == 1
        m.d.comb += [
            self.words.ready.eq(take & ((index == v - 1) | final)),
            self.idle.eq(~active),
            self.job.ready.eq(~active),
        ]

        with m.If(self.beats.ready):
            m.d.sync += self.beats.valid.eq(0)
        with m.If(take):
            value = elems[index]
            m.d.sync += [
                self.beats.valid.eq(1),
                self.beats.payload.beat.eq(addr[log_e:]),
                self.beats.payload.data.eq(value.replicate(e)),
                self.beats.payload.strobe.eq(1 << addr[:log_e] if log_e else 1),
                self.beats.payload.last.eq(final),
                index.eq(Mux(index == v - 1, 0, index + 1)) if v > 1 else index.eq(0),
                left.eq(left - 1),
            ]
            with m.If(lane == l - 1):
                m.d.sync += [lane.eq(0), addr.eq(tile_base + tile), tile_base.eq(tile_base + tile)]
            with m.Else():
                m.d.sync += [lane.eq(lane + 1), addr.eq(addr + d)]
            with m.If(final):
                m.d.sync += active.eq(0)

        with m.If(self.job.valid & ~active):
            m.d.sync += [
                active.eq(self.job.payload.count != 0),
                addr.eq(self.job.payload.start),
                tile_base.eq(self.job.payload.start),
                lane.eq(0),
                index.eq(0),
                left.eq(self.job.payload.count),
            ]
        return m
