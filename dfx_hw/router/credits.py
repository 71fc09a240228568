"""Credit-based flow control of a ring link (:mod:`dfx_hw.spec.ring`): the sender's credit
counter and the receiver's credit return."""

from amaranth import *
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.ring import CREDIT_BATCH

__all__ = ["CreditCounter", "CreditReturn"]


class CreditCounter(wiring.Component):
    """The sender's credits: starts at ``credits``; ``spend`` takes one (the caller spends only
    while ``available``), ``give`` returns ``amount``.

    Spends and gifts are registered before they are added, so no adder sits behind the
    ``spend`` path (it is applied one clock later, and ``available`` already counts it).
    ``excess`` (a registered pulse) says the peer returned more credits than the sender can
    have out (a protocol error).

    Parameters
    ----------
    credits : int
        Initial (and maximum) credits: the receiver's RX FIFO depth.
    amount_bits : int
        Width of ``amount``.
    """

    def __init__(self, *, credits, amount_bits):
        if isinstance(credits, bool) or not isinstance(credits, int) or credits < 1:
            raise ValueError(f"credits must be a positive integer, not {credits!r}")
        self._credits = credits
        super().__init__({
            "spend": In(1),
            "give": In(1),
            "amount": In(amount_bits),
            "available": Out(1),
            "excess": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        limit = self._credits
        count = Signal(range(2 * limit + 2), init=limit)
        spent = Signal()
        gift = Signal(range(limit + 1))
        too_big = Signal()
        m.d.sync += [
            spent.eq(self.spend),
            gift.eq(Mux(self.give & (self.amount <= limit), self.amount, 0)),
            too_big.eq(self.give & (self.amount > limit)),
            self.excess.eq(too_big | (count > limit)),
        ]
        with m.If(count > limit):
            m.d.sync += count.eq(limit)
        with m.Else():
            m.d.sync += count.eq(count - spent + gift)
        m.d.comb += self.available.eq((count != 0) & ~((count == 1) & spent))
        return m


class CreditReturn(wiring.Component):
    """The receiver's credit return: counts the beats taken out of the RX FIFO (``popped``) and
    offers their credits on ``credits`` (a registered stream of counts) once
    :data:`~dfx_hw.spec.ring.CREDIT_BATCH` are pending, or whenever some are pending and
    ``drained`` (the RX FIFO is empty).

    Parameters
    ----------
    max_credits : int
        The most credits that can be pending (the RX FIFO depth).
    """

    def __init__(self, *, max_credits):
        if isinstance(max_credits, bool) or not isinstance(max_credits, int) or max_credits < 1:
            raise ValueError(f"max_credits must be a positive integer, not {max_credits!r}")
        self._max = max_credits
        super().__init__({
            "popped": In(1),
            "drained": In(1),
            "credits": Out(stream.Signature(range(max_credits + 1))),
        })

    def elaborate(self, platform):
        m = Module()
        pending = Signal(range(self._max + 1))
        # The offered count holds still until taken; pops meanwhile stay pending.
        m.d.sync += pending.eq(pending + self.popped)
        with m.If(~self.credits.valid | self.credits.ready):
            m.d.sync += self.credits.valid.eq(0)
            with m.If((pending >= CREDIT_BATCH) | ((pending != 0) & self.drained)):
                m.d.sync += [self.credits.valid.eq(1), self.credits.payload.eq(pending)]
                m.d.sync += pending.eq(self.popped)
        return m
