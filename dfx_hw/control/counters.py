"""Performance counters: one :data:`~dfx_hw.spec.regmap.COUNTER_BITS`-bit counter per event."""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..spec.regmap import COUNTER_BITS, COUNTER_NAMES

__all__ = ["PerfCounters"]

_SEGMENT = 24


class PerfCounters(wiring.Component):
    """Counts the clocks on which each bit of ``events`` is high (order of
    :data:`~dfx_hw.spec.regmap.COUNTER_NAMES`).

    Each counter is two :data:`_SEGMENT`-bit halves with a registered carry between them (short
    carry chains): the upper half catches up one clock after the lower half wraps, so a value
    is exact from the second clock after the last event (the counters are read when the core
    has stopped).

    Members
    -------
    clear : In(1)
        Zero every counter (wins over a simultaneous event).
    events : In(len(COUNTER_NAMES))
    values : Out(len(COUNTER_NAMES) * COUNTER_BITS)
        Counter ``i`` at bits ``[i * COUNTER_BITS, (i + 1) * COUNTER_BITS)``.
    """

    def __init__(self):
        n = len(COUNTER_NAMES)
        super().__init__({"clear": In(1), "events": In(n), "values": Out(n * COUNTER_BITS)})

    def elaborate(self, platform):
        m = Module()
        for i, name in enumerate(COUNTER_NAMES):
            lo = Signal(_SEGMENT, name=f"{name.lower()}_lo")
            hi = Signal(COUNTER_BITS - _SEGMENT, name=f"{name.lower()}_hi")
            carry = Signal(name=f"{name.lower()}_carry")
            event = self.events[i]
            m.d.sync += carry.eq(event & lo.all())
            with m.If(event):
                m.d.sync += lo.eq(lo + 1)
            with m.If(carry):
                m.d.sync += hi.eq(hi + 1)
            with m.If(self.clear):
                m.d.sync += [lo.eq(0), hi.eq(0), carry.eq(0)]
            m.d.comb += self.values[i * COUNTER_BITS:(i + 1) * COUNTER_BITS].eq(Cat(lo, hi))
        return m
