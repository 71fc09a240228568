"""Write-back pulses of the weight streams: one per instruction, when its last tile is taken."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.params import check_positive

__all__ = ["TileProgress"]


class TileProgress(wiring.Component):
    """Counts the tiles handed to the matrix unit against each instruction's tile count (>= 1,
    queued on ``counts`` before any of its tiles can arrive) and pulses ``done`` on the clock
    after an instruction's last tile was taken. ``pending`` is high while an instruction's
    tiles are still owed.

    Members
    -------
    counts : In(stream.Signature(count_bits))
    tile : In(1)
        A tile was taken this clock.
    done : Out(1)
    pending : Out(1)
    """

    def __init__(self, *, count_bits):
        check_positive("count_bits", count_bits)
        self._bits = count_bits
        super().__init__({
            "counts": In(stream.Signature(count_bits)),
            "tile": In(1),
            "done": Out(1),
            "pending": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        remaining = Signal(self._bits)      # tiles left of the current instruction, 0 = none
        m.d.comb += self.pending.eq((remaining != 0) | self.counts.valid)
        m.d.sync += self.done.eq(0)
        with m.If(self.tile):
            with m.If(remaining == 0):
                m.d.comb += self.counts.ready.eq(1)
                m.d.sync += [remaining.eq(self.counts.payload - 1),
                             self.done.eq(self.counts.payload == 1)]
            with m.Else():
                m.d.sync += [remaining.eq(remaining - 1), self.done.eq(remaining == 1)]
        return m
