"""SFU_M: the matrix unit's post-processing of completed column tiles (scale, mask, GELU)."""

import numpy as np
from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..arith.adder import FP16Adder
from ..arith.multiplier import FP16Multiplier
from ..arith.pipeline import check_latency
from ..hdl.delay import delay
from ..model.bittrue.recipes import MASK_VALUE
from ..spec.params import check_power_of_two
from .gelu_rom import GeluUnit, gelu_latency
from .layouts import column_meta_layout, lane_sums_layout

__all__ = ["SFUM", "MASK_BITS", "ONE_BITS"]

#: Bits of the value masked (future) score positions get: the bit-true model's ``MASK_VALUE``.
MASK_BITS = int(np.float16(MASK_VALUE).view(np.uint16))
#: FP16 1.0: the scale factor used when ``scale_en`` is low (``x * 1 = x`` bit for bit, since
#: every value reaching SFU_M comes out of an FP16 adder and is never a non-canonical NaN).
ONE_BITS = 0x3C00


class SFUM(wiring.Component):
    """Per lane, in this order (the bit-true model's order, see
    :func:`dfx_hw.model.bittrue.recipes.attention_scores` and
    :func:`dfx_hw.model.bittrue.functions.gelu`):

    1. scale: ``y = fp16(y * scale)`` when ``meta.scale_en`` (one FP16 multiply);
    2. mask: when ``meta.mask``, output column ``col_tile * l + j > token`` becomes
       ``MASK_VALUE`` (``-inf``);
    3. GELU by table and interpolation when ``meta.gelu``.

    Fully pipelined (fixed latency, disabled steps pass values through); holds while the output
    is not accepted.

    Members
    -------
    i : In(stream.Signature(lane_sums_layout(meta=column_meta_layout)))
    o : Out(stream.Signature(lane_sums_layout(meta=column_meta_layout)))
    """

    def __init__(self, *, l, mul_latency=FP16Multiplier.DEFAULT_LATENCY,
                 add_latency=FP16Adder.DEFAULT_LATENCY):
        self._l = check_power_of_two("l", l)
        self._mul_latency = check_latency(mul_latency)
        self._add_latency = check_latency(add_latency)
        layout = lane_sums_layout(l=l, meta=column_meta_layout(l=l))
        super().__init__({"i": In(stream.Signature(layout)), "o": Out(stream.Signature(layout))})

    @property
    def latency(self):
        """Multiplier + GELU lane (:func:`~dfx_hw.mpu.gelu_rom.gelu_latency`)."""
        return self._mul_latency + gelu_latency(mul_latency=self._mul_latency,
                                                add_latency=self._add_latency)

    def elaborate(self, platform):
        m = Module()
        l = self._l
        en = ~self.o.valid | self.o.ready
        m.d.comb += self.i.ready.eq(en)
        meta = self.i.payload.meta
        scale = Mux(meta.scale_en, meta.scale, ONE_BITS)
        gelu_on = delay(m, meta.gelu, self._mul_latency, en=en, name="gelu_on")
        # The mask decision depends on the bookkeeping only: made at the input and delayed
        # beside the scale multiplier, so the (wide) column comparison is off the data path.
        base = Signal(len(meta.col_tile) + l.bit_length())
        m.d.comb += base.eq(meta.col_tile << (l.bit_length() - 1))
        mask_in = Signal(l)
        for j in range(l):
            m.d.comb += mask_in[j].eq(meta.mask & ((base | j) > meta.token))
        mask = delay(m, mask_in, self._mul_latency, en=en, name="mask")
        for j in range(l):
            mul = FP16Multiplier(latency=self._mul_latency)
            gelu = GeluUnit(mul_latency=self._mul_latency, add_latency=self._add_latency)
            m.submodules[f"scale{j}"] = mul
            m.submodules[f"gelu{j}"] = gelu
            m.d.comb += [
                mul.a.eq(self.i.payload.sums[j]),
                mul.b.eq(scale),
                mul.en.eq(en),
                gelu.x.eq(Mux(mask[j], MASK_BITS, mul.result)),
                gelu.bypass.eq(~gelu_on),
                gelu.en.eq(en),
                self.o.payload.sums[j].eq(gelu.result),
            ]
        m.d.comb += [
            self.o.valid.eq(delay(m, self.i.valid, self.latency, en=en, name="valid")),
            self.o.payload.meta.eq(delay(m, meta, self.latency, en=en, name="meta")),
        ]
        return m
