"""SFU_M: the matrix unit's post-processing of completed column tiles (scale, mask, GELU)."""

import numpy as np
from amaranth.hdl import C, Cat, Module, Mux, Signal
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

    Fully pipelined; holds while the output is not accepted. Two latencies: a beat with
    ``meta.gelu`` takes the GELU lane (:attr:`latency`); a beat without it leaves right after
    the scale and mask (:attr:`short_latency`, :func:`gelu_latency` clocks sooner) -- unless a
    GELU-lane beat is still in flight, in which case it goes through the lane too (bypassed), so
    beats never overtake or collide and leave in the order they came. Only FC1 uses GELU: every
    other matrix operation drains that much sooner.

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
        """Multiplier + GELU lane (:func:`~dfx_hw.mpu.gelu_rom.gelu_latency`): a GELU beat's."""
        return self._mul_latency + gelu_latency(mul_latency=self._mul_latency,
                                                add_latency=self._add_latency)

    @property
    def short_latency(self):
        """Multiplier only: a beat without GELU while no GELU beat is in flight (= :attr:`latency`
        when the multiplier has no register: no short path then, so no output depends on an
        input on the same clock)."""
        return self._mul_latency if self._mul_latency else self.latency

    def elaborate(self, platform):
        m = Module()
        l = self._l
        en = ~self.o.valid | self.o.ready
        m.d.comb += self.i.ready.eq(en)
        meta = self.i.payload.meta
        # Which path a beat takes: the GELU lane's (long) if it needs GELU or if a long beat is
        # still in flight (a short beat would overtake it or leave on the same clock).
        two_paths = self.short_latency < self.latency
        long_line = [Signal(name=f"long{k}") for k in range(self.latency)]
        short_line = [Signal(name=f"short{k}") for k in range(self.short_latency if two_paths
                                                              else 0)]
        go_long = Signal()
        m.d.comb += go_long.eq(meta.gelu | Cat(*long_line).any() | (not two_paths))
        with m.If(en):
            m.d.sync += [a.eq(b) for a, b in zip(long_line, [self.i.valid & go_long] + long_line)]
            m.d.sync += [a.eq(b) for a, b in zip(short_line,
                                                  [self.i.valid & ~go_long] + short_line)]
        long_out = long_line[-1] if long_line else self.i.valid
        short_out = short_line[-1] if two_paths else C(0, 1)
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
                self.o.payload.sums[j].eq(Mux(short_out, gelu.x, gelu.result)),
            ]
        short_meta = delay(m, meta, self.short_latency, en=en, name="short_meta")
        m.d.comb += [
            self.o.valid.eq(long_out | short_out),
            self.o.payload.meta.eq(Mux(short_out, short_meta,
                                       delay(m, short_meta, self.latency - self.short_latency,
                                             en=en, name="meta"))),
        ]
        return m
