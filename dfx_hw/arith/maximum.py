"""Pipelined FP16 maximum/compare unit (for reduce-max and arg-max)."""

from amaranth.hdl import Cat, Const, Module, Mux
from amaranth.lib.wiring import In, Out

from .format import QNAN, SIGN_BIT, WIDTH, unpack
from .pipeline import PipelinedUnit

__all__ = ["FP16Max", "order_key"]

_PRIORITY = ("output", "compare")


def order_key(value):
    """16-bit unsigned key whose integer order is the FP16 order with ``-0 < +0``.

    Positive values map to ``0x8000 | magnitude`` and negative values to ``0x7FFF - magnitude``
    (the magnitude bits inverted), so ``-inf < ... < -0 < +0 < ... < +inf``. NaNs get keys too
    but are handled separately.
    """
    sign = value[SIGN_BIT]
    return Cat(value[:SIGN_BIT] ^ sign.replicate(SIGN_BIT), ~sign)


class FP16Max(PipelinedUnit):
    """FP16 maximum: ``result`` is the larger of ``a`` and ``b``; ``b_greater`` says which.

    Ordering rule (it is the order of ``numpy.argmax``, with ``-0 < +0`` added):

    - ``-inf < ... < -0 < +0 < ... < +inf``, and NaN is larger than every number.
    - ``b_greater`` is 1 when ``b`` is strictly larger than ``a`` in that order, or when ``b`` is
      a NaN and ``a`` is not. On a tie (equal values, or two NaNs) it is 0: the first operand
      wins, so a reduction that feeds the running maximum as ``a`` keeps the first index of the
      maximum, like ``numpy.argmax``.
    - ``result`` is 0x7E00 when either operand is a NaN, else the operand selected by
      ``b_greater`` (so ``max(+0, -0) = max(-0, +0) = +0``).

    Fully pipelined; ``result`` and ``b_greater`` come ``latency`` enabled clocks after their
    operands. Pipeline: *compare* (order keys, comparison, NaN flags; cut ``compare``), then
    *select* (multiplexer; cut ``output``). Default latency 1 (register on ``output``).

    ``latency`` (default 1) and the ports ``a``, ``en`` and ``result`` (the larger operand, or
    0x7E00): see :class:`~dfx_hw.arith.pipeline.PipelinedUnit`. Other members:

    b : In(16)
        Second operand.
    b_greater : Out(1)
        ``b`` was selected.
    """

    CUTS = _PRIORITY
    DEFAULT_LATENCY = 1

    b: In(WIDTH)
    b_greater: Out(1)

    def elaborate(self, platform):
        m = Module()
        pipe = self.pipeline(m)
        a, b = unpack(m, self.a, name="a"), unpack(m, self.b, name="b")
        b_greater = Mux(a.is_nan | b.is_nan, b.is_nan & ~a.is_nan,
                        order_key(self.b) > order_key(self.a))
        s0 = pipe.cut("compare", a=self.a, b=self.b, b_greater=b_greater,
                      nan=a.is_nan | b.is_nan)
        s1 = pipe.cut("output", result=Mux(s0.nan, Const(QNAN, WIDTH),
                                           Mux(s0.b_greater, s0.b, s0.a)),
                      b_greater=s0.b_greater)
        m.d.comb += [self.result.eq(s1.result), self.b_greater.eq(s1.b_greater)]
        return m
