"""A small sequential multiplier for address arithmetic (one partial product per clock)."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..spec.params import check_positive

__all__ = ["SequentialMultiplier"]


class SequentialMultiplier(wiring.Component):
    """``product = a * b`` (unsigned), ``b_bits`` clocks after ``start``: one shift-and-add per
    clock, so the address arithmetic of the DMA's decoders needs no DSP and no deep logic.

    Members
    -------
    start : In(1)
        Latch ``a`` and ``b`` and begin (ignored while ``busy``).
    a : In(a_bits)
    b : In(b_bits)
    busy : Out(1)
    product : Out(a_bits + b_bits)
        Valid once ``busy`` has fallen after a start.
    """

    def __init__(self, *, a_bits, b_bits):
        check_positive("a_bits", a_bits)
        check_positive("b_bits", b_bits)
        self._a_bits, self._b_bits = a_bits, b_bits
        super().__init__({
            "start": In(1), "a": In(a_bits), "b": In(b_bits),
            "busy": Out(1), "product": Out(a_bits + b_bits),
        })

    def elaborate(self, platform):
        m = Module()
        shifted = Signal(self._a_bits + self._b_bits)
        rest = Signal(self._b_bits)
        with m.If(self.busy):
            with m.If(rest[0]):
                m.d.sync += self.product.eq(self.product + shifted)
            m.d.sync += [shifted.eq(shifted << 1), rest.eq(rest >> 1)]
            with m.If((rest >> 1) == 0):
                m.d.sync += self.busy.eq(0)
        with m.Elif(self.start):
            m.d.sync += [self.product.eq(0), shifted.eq(self.a), rest.eq(self.b),
                         self.busy.eq(self.b != 0)]
        return m
