"""Cutting a contiguous read into AXI4 bursts, within a read buffer's credit."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi4 import BOUNDARY_BYTES, MAX_BURST_BEATS
from ..spec.params import check_positive, check_power_of_two

__all__ = ["BurstGenerator", "read_job_layout", "burst_layout"]


def read_job_layout(addr_bits, count_bits):
    """A contiguous read: ``addr`` (byte address of its first beat, beat aligned) and ``beats``
    (>= 1)."""
    return data.StructLayout({"addr": addr_bits, "beats": count_bits})


def burst_layout(addr_bits):
    """One burst: ``addr`` and ``len`` (beats - 1, the AXI ``AxLEN``)."""
    return data.StructLayout({"addr": addr_bits, "len": 8})


class BurstGenerator(wiring.Component):
    """Cuts each read job into INCR bursts of at most ``max_burst`` beats that never cross a
    4 KB boundary, and issues a burst only when the read buffer behind it has room for all of
    its beats (a credit counter of ``depth`` beats: issuing takes credit, ``release`` returns
    one beat's). Data therefore never waits on the R channel, whatever the latency.

    One burst every three clocks at most (the length is computed two clocks ahead).

    Parameters
    ----------
    addr_bits, count_bits : int
        Widths of the job's address and beat count.
    beat_bytes : int
        Bytes per beat (power of two).
    max_burst : int
        Longest burst in beats (power of two, <= 256 and <= 4096 / beat_bytes).
    depth : int
        Beats the read buffer holds (>= max_burst).

    Members
    -------
    job : In(stream.Signature(read_job_layout(addr_bits, count_bits)))
    cmd : Out(stream.Signature(burst_layout(addr_bits)))
    release : In(1)
        One beat left the read buffer this clock.
    idle : Out(1)
        No job in progress.
    """

    def __init__(self, *, addr_bits, count_bits, beat_bytes, max_burst, depth):
        check_power_of_two("beat_bytes", beat_bytes)
        check_power_of_two("max_burst", max_burst)
        if max_burst > MAX_BURST_BEATS or max_burst * beat_bytes > BOUNDARY_BYTES:
            raise ValueError(f"max_burst must be <= {MAX_BURST_BEATS} beats and <= "
                             f"{BOUNDARY_BYTES} bytes, not {max_burst} beats of {beat_bytes}")
        check_positive("depth", depth)
        if depth < max_burst:
            raise ValueError(f"depth ({depth}) must be >= max_burst ({max_burst})")
        self._addr_bits, self._count_bits = addr_bits, count_bits
        self._beat_bytes, self._max_burst, self._depth = beat_bytes, max_burst, depth
        super().__init__({
            "job": In(stream.Signature(read_job_layout(addr_bits, count_bits))),
            "cmd": Out(stream.Signature(burst_layout(addr_bits))),
            "release": In(1),
            "idle": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        b, depth, mb = self._beat_bytes, self._depth, self._max_burst
        log_b = b.bit_length() - 1
        page_beats = BOUNDARY_BYTES // b
        addr = Signal(self._addr_bits)
        remaining = Signal(self._count_bits)
        blen = Signal(range(mb + 1))
        free = Signal(range(depth + 1), init=depth)

        to_page = Signal(range(page_beats + 1))
        beat_in_page = addr[log_b:log_b + (page_beats.bit_length() - 1)]
        m.d.comb += to_page.eq(page_beats - beat_in_page)

        shortest = Signal(range(mb + 1))
        page_left = Signal(range(page_beats + 1))
        issue = Signal()
        taken = Signal(range(depth + 1))
        m.d.comb += taken.eq(Mux(issue, free - blen, free))
        m.d.sync += free.eq(taken + self.release)
        with m.If(self.cmd.ready):
            m.d.sync += self.cmd.valid.eq(0)

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += [self.job.ready.eq(1), self.idle.eq(1)]
                with m.If(self.job.valid & (self.job.payload.beats != 0)):
                    m.d.sync += [addr.eq(self.job.payload.addr),
                                 remaining.eq(self.job.payload.beats)]
                    m.next = "CALC"
            with m.State("CALC"):
                m.d.sync += [shortest.eq(Mux(remaining < mb, remaining, mb)),
                             page_left.eq(to_page)]
                m.next = "CLIP"
            with m.State("CLIP"):
                m.d.sync += blen.eq(Mux(page_left < shortest, page_left, shortest))
                m.next = "ISSUE"
            with m.State("ISSUE"):
                m.d.comb += issue.eq((free >= blen) & (~self.cmd.valid | self.cmd.ready))
                with m.If(issue):
                    m.d.sync += [
                        self.cmd.valid.eq(1),
                        self.cmd.payload.addr.eq(addr),
                        self.cmd.payload.len.eq(blen - 1),
                        addr.eq(addr + (blen << log_b)),
                        remaining.eq(remaining - blen),
                    ]
                    with m.If(remaining == blen):
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "CALC"
        return m
