"""Reset sequencing for the Aurora 64B/66B cores (PG074 "Reset and Power Down").

PG074's duplex sequence: ``reset_pb`` and ``pma_init`` asserted (both are, from the ``init``
reset on); hold ``pma_init`` long enough for the link partner to see the channel drop; release
``pma_init``, then ``reset_pb`` ``pb_cycles`` later. At power-up
u280.md notes the open designs hold the core in reset for about a second. Runs in the ``init``
domain (the free-running 100 MHz ``init_clk``), so it works before any GT clock exists.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

__all__ = ["AuroraResetSequencer"]


class AuroraResetSequencer(wiring.Component):
    """Drives ``reset_pb`` and ``pma_init`` after the ``init`` domain leaves reset.

    Parameters
    ----------
    pma_cycles : int
        ``init`` clocks ``pma_init`` stays high (2**27 = 1.34 s at 100 MHz on the board).
    pb_cycles : int
        ``init`` clocks ``reset_pb`` stays high after ``pma_init`` falls (and the clocks before
        that on top of ``pma_cycles``).

    Members
    -------
    reset_pb, pma_init : Out(1)
        To the Aurora core (asynchronous inputs there). Both are high out of reset.
    """

    reset_pb: Out(1, init=1)
    pma_init: Out(1, init=1)

    def __init__(self, *, pma_cycles=1 << 27, pb_cycles=128):
        for name, value in (("pma_cycles", pma_cycles), ("pb_cycles", pb_cycles)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        self._pma_cycles, self._pb_cycles = pma_cycles, pb_cycles
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        total = self._pb_cycles + self._pma_cycles + self._pb_cycles
        count = Signal(range(total + 1))
        with m.If(count != total):
            m.d.init += count.eq(count + 1)
        m.d.comb += [
            self.pma_init.eq(count < self._pb_cycles + self._pma_cycles),
            self.reset_pb.eq(count != total),
        ]
        return m
