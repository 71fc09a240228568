"""The matrix function unit (MFU): ``l`` lanes of ``d``-input FP16 dot products."""

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..arith.adder import FP16Adder
from ..arith.pipeline import check_latency
from ..arith.multiplier import FP16Multiplier
from .adder_tree import AdderTree, _check_power_of_two
from .delay import delay
from .layouts import collector_payload_layout, lane_sums_layout, tile_meta_layout

__all__ = ["MFU"]


class MFU(wiring.Component):
    """``l`` lanes, each multiplying the broadcast ``d``-element input slice by its own weight
    column and summing the ``d`` products in an :class:`~dfx_hw.mpu.adder_tree.AdderTree`.

    Lane ``j`` computes ``tree_sum([fp16(x[i] * w[i][j]) for i in range(d)])``: every product
    is rounded to FP16, then reduced pairwise in index order (the bit-true model's
    ``reduce.tree_sum``). One tile and one input slice are accepted per clock, sustained; the
    whole pipeline holds while the output is not accepted (``en = ~o.valid | o.ready``), so the
    tile's bookkeeping (``meta``) leaves exactly with its sums.

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
        self._d = _check_power_of_two("d", d)
        self._l = _check_power_of_two("l", l)
        self._mul_latency = check_latency(mul_latency)
        self._add_latency = check_latency(add_latency)
        self._band = band
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
        en = ~self.o.valid | self.o.ready
        m.d.comb += self.i.ready.eq(en)
        x, w = self.i.payload.x, self.i.payload.w
        for j in range(self._l):
            tree = AdderTree(width=self._d, add_latency=self._add_latency)
            m.submodules[f"lane{j}_tree"] = tree
            m.d.comb += tree.en.eq(en)
            for i in range(self._d):
                mul = FP16Multiplier(latency=self._mul_latency)
                m.submodules[f"lane{j}_mul{i}"] = mul
                m.d.comb += [
                    mul.a.eq(x[i]),
                    mul.b.eq(w[j][i]),
                    mul.en.eq(en),
                    tree.inputs[i].eq(mul.result),
                ]
            m.d.comb += self.o.payload.sums[j].eq(tree.result)
        m.d.comb += [
            self.o.valid.eq(delay(m, self.i.valid, self.latency, en=en, name="valid")),
            self.o.payload.meta.eq(delay(m, self.i.payload.meta, self.latency, en=en,
                                         name="meta")),
        ]
        return m
