"""The matrix processing unit: operand collector -> MFU -> accumulator -> SFU_M (scale, mask,
GELU) -> reduce-max -> vectorizer, joined by streams with back-pressure."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect, flipped

from ..arith.adder import FP16Adder
from ..arith.maximum import FP16Max
from ..arith.multiplier import FP16Multiplier
from ..arith.pipeline import check_latency
from ..geometry import U280
from ..spec.params import check_positive, check_power_of_two
from ..spec.walk import WEIGHT_BAND
from .accumulator import Accumulator, gap_for
from .gelu_rom import gelu_latency
from .mfu import MFU
from .operand_collector import OperandCollector, check_max_rows
from .reduce_max import ReduceMax
from .sfu_m import SFUM
from .vectorizer import Vectorizer

__all__ = ["MatrixUnit", "DEFAULT_BAND", "DEFAULT_MAX_ROWS", "pipeline_latency"]

#: Column tiles per band: the weights' band in HBM (:data:`~dfx_hw.spec.walk.WEIGHT_BAND`, the
#: walk the compiler packs), at least the accumulator gap (adder latency + 2 = 7 at the default
#: adder latency), so wide matrices never stall.
DEFAULT_BAND = WEIGHT_BAND
assert DEFAULT_BAND >= gap_for(), "the weight band must cover the accumulator's gap"
#: Longest input vector: GPT-2 1.5B's FC hidden (4 x 1600).
DEFAULT_MAX_ROWS = 6400


def pipeline_latency(*, d, mul_latency=FP16Multiplier.DEFAULT_LATENCY,
                     add_latency=FP16Adder.DEFAULT_LATENCY, max_latency=FP16Max.DEFAULT_LATENCY,
                     gelu=True):
    """Clocks from the edge that accepts a column's last weight tile to the edge that can hand
    its word to ``out``: collector register (1) + MFU (multiplier + ``log2 d`` adders) +
    accumulator (adder + 1) + SFU_M (multiplier, + the GELU lane for a ``gelu`` operation or
    while a GELU beat is ahead in it: :class:`~dfx_hw.mpu.sfu_m.SFUM`) + reduce-max
    pass-through register (1) + vectorizer register (1). (``max_latency`` only delays ``max``.)"""
    mfu = mul_latency + (d.bit_length() - 1) * add_latency
    accumulator = add_latency + 1
    sfu = mul_latency + (gelu_latency(mul_latency=mul_latency, add_latency=add_latency)
                         if gelu or not mul_latency else 0)
    return 1 + mfu + accumulator + sfu + 1 + 1


class MatrixUnit(wiring.Component):
    """One matrix operation per accepted descriptor (see :mod:`dfx_hw.mpu.layouts`):
    ``y = post(x @ W + b)``, bit for bit the bit-true model's ``reduce.mfu_matvec`` followed by
    SFU_M's scale, mask and GELU.

    Parameters
    ----------
    d, l : int
        Tile shape; U280: 64 x 16.
    band : int
        Column tiles per zig-zag band (accumulator entries).
    max_rows : int
        Largest ``K``.
    serpentine : bool
        Walk odd row tiles right to left (:mod:`dfx_hw.spec.walk`).
    mul_latency, add_latency, max_latency : int
        Latencies of the FP16 units.

    Members
    -------
    desc : In(stream.Signature(descriptor_layout()))
    x : In(stream.Signature(ArrayLayout(16, d)))
    weights : In(stream.Signature(tile_layout(d, l)))
    bias : In(stream.Signature(ArrayLayout(16, l)))
    out : Out(stream.Signature(output_layout(width=l)))
    max : Out(stream.Signature(max_layout()))
    busy : Out(1)
    """

    def __init__(self, *, d=U280.d, l=U280.l, band=DEFAULT_BAND, max_rows=DEFAULT_MAX_ROWS,
                 serpentine=False, mul_latency=FP16Multiplier.DEFAULT_LATENCY,
                 add_latency=FP16Adder.DEFAULT_LATENCY, max_latency=FP16Max.DEFAULT_LATENCY):
        # Every parameter is checked before any part is built, so that a bad value leaves no
        # part behind (built, never elaborated: Amaranth would warn about it).
        check_power_of_two("d", d)
        check_power_of_two("l", l)
        check_positive("band", band)
        check_max_rows(max_rows)
        for latency in (mul_latency, add_latency, max_latency):
            check_latency(latency)
        self._d = d
        self._latencies = (mul_latency, add_latency, max_latency)
        self.collector = OperandCollector(d=d, l=l, band=band, max_rows=max_rows,
                                          serpentine=serpentine)
        self.mfu = MFU(d=d, l=l, band=band, mul_latency=mul_latency, add_latency=add_latency)
        self.accumulator = Accumulator(l=l, band=band, add_latency=add_latency)
        self.sfu = SFUM(l=l, mul_latency=mul_latency, add_latency=add_latency)
        self.reduce_max = ReduceMax(l=l, max_latency=max_latency)
        self.vectorizer = Vectorizer(l=l)
        super().__init__({
            "desc": In(self.collector.desc.signature.flip()),
            "x": In(self.collector.x.signature.flip()),
            "weights": In(self.collector.weights.signature.flip()),
            "bias": In(self.collector.bias.signature.flip()),
            "out": Out(self.vectorizer.o.signature),
            "max": Out(self.reduce_max.max.signature),
            "busy": Out(1),
        })

    @property
    def latency(self):
        """Clocks from the collector accepting a last-row tile to its word on ``out`` (the
        longest: a GELU operation's, :func:`pipeline_latency`)."""
        return pipeline_latency(d=self._d, mul_latency=self._latencies[0],
                                add_latency=self._latencies[1], max_latency=self._latencies[2])

    @property
    def gap(self):
        """Tiles between two visits of one accumulator entry that never stall."""
        return self.accumulator.gap

    def elaborate(self, platform):
        m = Module()
        m.submodules.collector = self.collector
        m.submodules.mfu = self.mfu
        m.submodules.accumulator = self.accumulator
        m.submodules.sfu = self.sfu
        m.submodules.reduce_max = self.reduce_max
        m.submodules.vectorizer = self.vectorizer
        connect(m, flipped(self.desc), self.collector.desc)
        connect(m, flipped(self.x), self.collector.x)
        connect(m, flipped(self.weights), self.collector.weights)
        connect(m, flipped(self.bias), self.collector.bias)
        connect(m, self.collector.o, self.mfu.i)
        connect(m, self.mfu.o, self.accumulator.i)
        connect(m, self.accumulator.o, self.sfu.i)
        connect(m, self.sfu.o, self.reduce_max.i)
        connect(m, self.reduce_max.o, self.vectorizer.i)
        connect(m, self.vectorizer.o, flipped(self.out))
        connect(m, self.reduce_max.max, flipped(self.max))
        m.d.comb += self.busy.eq(self.collector.busy)
        return m
