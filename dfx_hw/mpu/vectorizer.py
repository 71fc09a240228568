"""The vectorizer: packs completed column tiles into register-file words."""

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.params import check_power_of_two
from .layouts import column_meta_layout, lane_sums_layout, output_layout

__all__ = ["Vectorizer"]


class Vectorizer(wiring.Component):
    """Concatenates the ``l`` lane results of a column tile into one output word for the vector
    register file (whose word is ``l`` FP16 wide when ``vpu_lanes == l``, as in the U280 build),
    tagged with its word offset inside the output vector (``col_tile``: the walk may finish
    column tiles out of order), its number of valid elements and the operation's last flag.
    Lanes past ``count`` carry the padded columns' results (``+0`` from zero padding, or the mask
    value in MaskedMM, as the ISA specifies). One register stage.

    Members
    -------
    i : In(stream.Signature(lane_sums_layout(meta=column_meta_layout)))
    o : Out(stream.Signature(output_layout(width=l)))
    """

    def __init__(self, *, l):
        self._l = check_power_of_two("l", l)
        super().__init__({
            "i": In(stream.Signature(lane_sums_layout(l=l, meta=column_meta_layout(l=l)))),
            "o": Out(stream.Signature(output_layout(width=l))),
        })

    def elaborate(self, platform):
        m = Module()
        en = ~self.o.valid | self.o.ready
        m.d.comb += self.i.ready.eq(en)
        with m.If(en):
            m.d.sync += [
                self.o.valid.eq(self.i.valid),
                self.o.payload.data.eq(self.i.payload.sums),
                self.o.payload.offset.eq(self.i.payload.meta.col_tile),
                self.o.payload.count.eq(self.i.payload.meta.lanes),
                self.o.payload.last.eq(self.i.payload.meta.last),
            ]
        return m
