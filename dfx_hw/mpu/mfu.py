"""The matrix function unit (MFU): ``l`` lanes of ``d``-input FP16 dot products."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..arith.adder import FP16Adder
from ..arith.multiplier import FP16Multiplier
from ..arith.pipeline import check_latency
from ..hdl.delay import delay
from ..hdl.leaf import LeafComponent
from ..spec.params import check_positive, check_power_of_two
from .adder_tree import AdderTree
from .layouts import FP16, collector_payload_layout, lane_sums_layout, tile_meta_layout, \
    vector_layout

__all__ = ["MFULane", "MFU"]


class MFULane(LeafComponent):
    """One MFU lane: ``result = tree_sum([fp16(x[i] * w[i]) for i in range(d)])`` -- ``d``
    :class:`~dfx_hw.arith.multiplier.FP16Multiplier` s and an
    :class:`~dfx_hw.mpu.adder_tree.AdderTree` (the bit-true model's ``reduce.tree_sum`` order).

    Members
    -------
    x, w : In(ArrayLayout(16, d))
        Input slice and this lane's weight column.
    en : In(1)
        Clock enable (init 1).
    result : Out(16)
        :attr:`latency` enabled clocks after its operands.
    """

    def __init__(self, *, d, mul_latency=FP16Multiplier.DEFAULT_LATENCY,
                 add_latency=FP16Adder.DEFAULT_LATENCY):
        self._d = check_power_of_two("d", d)
        self._mul_latency = check_latency(mul_latency)
        self._add_latency = check_latency(add_latency)
        super().__init__({
            "x": In(vector_layout(d)),
            "w": In(vector_layout(d)),
            "en": In(1, init=1),
            "result": Out(FP16),
        })

    @property
    def latency(self):
        """Multiplier + ``log2(d)`` adder levels."""
        return self._mul_latency + (self._d.bit_length() - 1) * self._add_latency

    def elaborate(self, platform):
        m = Module()
        m.submodules.tree = tree = AdderTree(width=self._d, add_latency=self._add_latency)
        m.d.comb += tree.en.eq(self.en)
        for i in range(self._d):
            mul = FP16Multiplier(latency=self._mul_latency)
            m.submodules[f"mul{i}"] = mul
            m.d.comb += [
                mul.a.eq(self.x[i]),
                mul.b.eq(self.w[i]),
                mul.en.eq(self.en),
                tree.inputs[i].eq(mul.result),
            ]
        m.d.comb += self.result.eq(tree.result)
        return m


class MFU(wiring.Component):
    """``l`` :class:`MFULane` s: each multiplies the broadcast ``d``-element input slice by its
    own weight column (tile column ``j`` to lane ``j``) and sums the ``d`` products.

    One tile and one input slice are accepted per clock, sustained; the whole pipeline holds
    while the output is not accepted (``en = ~o.valid | o.ready``), so the tile's bookkeeping
    (``meta``) leaves exactly with its sums.

    Parameters
    ----------
    d, l : int
        Tile rows (dot-product length) and lanes; powers of two.
    band : int
        Accumulator entries (sizes the ``slot`` field of the bookkeeping).
    mul_latency, add_latency : int
        Latencies of the FP16 multipliers and adders.

    Members
    -------
    i : In(stream.Signature(collector_payload_layout))
        Input slice ``x``, weight tile ``w`` and bookkeeping ``meta``.
    o : Out(stream.Signature(lane_sums_layout))
        The ``l`` lane sums with the tile's ``meta``, :attr:`latency` enabled clocks later.
    """

    def __init__(self, *, d, l, band, mul_latency=FP16Multiplier.DEFAULT_LATENCY,
                 add_latency=FP16Adder.DEFAULT_LATENCY):
        self._d = check_power_of_two("d", d)
        self._l = check_power_of_two("l", l)
        check_positive("band", band)
        self._mul_latency = check_latency(mul_latency)
        self._add_latency = check_latency(add_latency)
        super().__init__({
            "i": In(stream.Signature(collector_payload_layout(d=d, l=l, band=band))),
            "o": Out(stream.Signature(lane_sums_layout(l=l, meta=tile_meta_layout(l=l,
                                                                                 band=band)))),
        })

    @property
    def latency(self):
        """Clocks from an accepted tile to its lane sums: multiplier + ``log2(d)`` adder levels."""
        return self._mul_latency + (self._d.bit_length() - 1) * self._add_latency

    def elaborate(self, platform):
        m = Module()
        en = Signal()        # one net: the expression would be repeated at every use
        m.d.comb += en.eq(~self.o.valid | self.o.ready)
        m.d.comb += self.i.ready.eq(en)
        x, w = self.i.payload.x, self.i.payload.w
        for j in range(self._l):
            lane = MFULane(d=self._d, mul_latency=self._mul_latency,
                           add_latency=self._add_latency)
            m.submodules[f"lane{j}"] = lane
            m.d.comb += [lane.x.eq(x), lane.w.eq(w[j]), lane.en.eq(en),
                         self.o.payload.sums[j].eq(lane.result)]
        m.d.comb += [
            self.o.valid.eq(delay(m, self.i.valid, self.latency, en=en, name="valid")),
            self.o.payload.meta.eq(delay(m, self.i.payload.meta, self.latency, en=en,
                                         name="meta")),
        ]
        return m
