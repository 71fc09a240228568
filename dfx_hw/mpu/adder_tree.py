"""A pipelined pairwise FP16 adder tree (one MFU lane's reduction)."""

from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from ..arith.adder import FP16Adder
from ..arith.pipeline import check_latency
from ..hdl.leaf import LeafComponent
from ..spec.params import check_power_of_two
from .layouts import FP16, vector_layout

__all__ = ["AdderTree"]


class AdderTree(LeafComponent):
    """Sum of ``width`` FP16 values by a pairwise tree of depth ``log2(width)``.

    Level ``k`` adds neighbours: ``s[k+1][i] = s[k][2i] + s[k][2i+1]`` (``s[0]`` is the input),
    one FP16 rounding per addition: the order of
    :func:`dfx_hw.model.bittrue.reduce.tree_sum`. Fully pipelined: one vector per enabled clock.

    Parameters
    ----------
    width : int
        Number of inputs (a power of two; 1 gives a wire).
    add_latency : int
        Latency of each :class:`~dfx_hw.arith.adder.FP16Adder` level.

    Members
    -------
    inputs : In(ArrayLayout(16, width))
    en : In(1)
        Clock enable (init 1): when low the whole tree holds.
    result : Out(16)
        The sum of the inputs applied :attr:`latency` enabled clocks earlier.
    """

    def __init__(self, *, width, add_latency=FP16Adder.DEFAULT_LATENCY):
        self._width = check_power_of_two("width", width)
        self._add_latency = check_latency(add_latency)
        self._levels = width.bit_length() - 1
        super().__init__({
            "inputs": In(vector_layout(width)),
            "en": In(1, init=1),
            "result": Out(FP16),
        })

    @property
    def width(self):
        return self._width

    @property
    def latency(self):
        """Clocks from input to result: ``log2(width) * add_latency``."""
        return self._levels * self._add_latency

    def elaborate(self, platform):
        m = Module()
        level = [self.inputs[i] for i in range(self._width)]
        for k in range(self._levels):
            sums = []
            for i in range(len(level) // 2):
                adder = FP16Adder(latency=self._add_latency)
                m.submodules[f"add_l{k}_{i}"] = adder
                m.d.comb += [
                    adder.a.eq(level[2 * i]),
                    adder.b.eq(level[2 * i + 1]),
                    adder.en.eq(self.en),
                ]
                sums.append(adder.result)
            level = sums
        m.d.comb += self.result.eq(level[0])
        return m
