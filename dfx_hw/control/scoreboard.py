"""The scoreboard: what every in-flight instruction reads and writes, and the overlap test.

An instruction takes an entry of its unit when it is issued (its state becomes *stale*) and
frees it when the unit pulses ``done`` (*valid* again: units write back in issue order, so the
unit's oldest entry is freed). :func:`conflict` is the rule of :func:`dfx_hw.control.rules.
conflicts` in hardware: read-after-write, write-after-write or write-after-read on any vector
range overlap, scalar register or memory-region key.
"""

from amaranth import *
from amaranth.hdl import unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..isa.layouts import VRF_ADDR_BITS
from .params import PC_BITS, ControlConfig
from .rules import KEY_BITS, UNITS

__all__ = ["STOP_BITS", "access_layout", "conflict", "reads_written_key", "Scoreboard"]

#: Bits of a range end: base (17) + length + TOKEN (19).
STOP_BITS = VRF_ADDR_BITS + 3

_RANGE = data.StructLayout({"valid": 1, "start": unsigned(VRF_ADDR_BITS),
                            "stop": unsigned(STOP_BITS)})
_KEY = data.StructLayout({"valid": 1, "addr": unsigned(KEY_BITS + 1)})   # top bit: HBM


def access_layout(srf_words):
    """What one instruction reads (``r1``, ``r2``, ``rmask``, ``rkey``) and writes (``w``,
    ``wmask``, ``wkey``): vector ranges ``[start, stop)``, scalar-register bit masks, memory
    keys."""
    return data.StructLayout({"r1": _RANGE, "r2": _RANGE, "w": _RANGE,
                              "rmask": srf_words, "wmask": srf_words,
                              "rkey": _KEY, "wkey": _KEY})


def _overlap(a, b):
    return a.valid & b.valid & (a.start < b.stop) & (b.start < a.stop)


def _same(a, b):
    return a.valid & b.valid & (a.addr == b.addr)


def conflict(new, old):
    """Whether ``new`` must wait for the earlier in-flight ``old`` (both
    :func:`access_layout` views): RAW, WAW or WAR."""
    raw = (_overlap(new.r1, old.w) | _overlap(new.r2, old.w) | (new.rmask & old.wmask).any()
           | _same(new.rkey, old.wkey))
    waw = _overlap(new.w, old.w) | (new.wmask & old.wmask).any() | _same(new.wkey, old.wkey)
    war = (_overlap(new.w, old.r1) | _overlap(new.w, old.r2) | (new.wmask & old.rmask).any()
           | _same(new.wkey, old.rkey))
    return raw | waw | war


def reads_written_key(new, old):
    """Whether ``new`` reads the memory region the earlier in-flight ``old`` writes (the only
    hazard a weight prefetch, which reads memory and writes nothing, must wait for)."""
    return _same(new.rkey, old.wkey)


class Scoreboard(wiring.Component):
    """``inflight`` entries per unit (:data:`~dfx_hw.control.rules.UNITS` order), each a ring
    of slots allocated in issue order and freed oldest first.

    Entry ``u * inflight + s`` is unit ``u``'s slot ``s``.

    Members
    -------
    alloc : In({valid, unit, access, pc})
        Issue: the instruction takes slot ``tail[unit]`` (registered: it is in flight from the
        next clock).
    done : In(4)
        Write-back pulses, one bit per unit: the unit's oldest entry is freed (from the next
        clock). A pulse with nothing in flight raises ``spurious``.
    probe : In(access_layout)
        An instruction to check (combinational path to ``hits``).
    hits : Out(4 * inflight)
        Entries in flight now that ``probe`` conflicts with.
    key_hits : Out(4 * inflight)
        Entries in flight now that write the memory region ``probe`` reads
        (:func:`reads_written_key`).
    valid : Out(4 * inflight)
        Entries in flight.
    tail : Out(4 * log2(inflight))
        Slot each unit's next instruction takes.
    busy, full : Out(4)
        A unit has at least one / ``inflight`` instructions in flight.
    counts : Out(4 * bits(inflight))
        Instructions in flight per unit.
    head_pc : Out(4 * PC_BITS)
        pc of each unit's oldest in-flight instruction.
    spurious : Out(4)
        Sticky: a ``done`` pulse arrived with nothing in flight.
    """

    def __init__(self, *, config):
        if not isinstance(config, ControlConfig):
            raise ValueError(f"config must be a ControlConfig, not {config!r}")
        self._config = config
        n = len(UNITS) * config.inflight
        slot = (config.inflight - 1).bit_length()
        self._access = access_layout(config.srf_words)
        super().__init__({
            "alloc": In(data.StructLayout({"valid": 1, "unit": range(len(UNITS)),
                                           "access": self._access, "pc": PC_BITS})),
            "done": In(len(UNITS)),
            "probe": In(self._access),
            "hits": Out(n), "key_hits": Out(n), "valid": Out(n),
            "tail": Out(len(UNITS) * slot),
            "busy": Out(len(UNITS)), "full": Out(len(UNITS)),
            "counts": Out(len(UNITS) * config.inflight.bit_length()),
            "head_pc": Out(len(UNITS) * PC_BITS),
            "spurious": Out(len(UNITS)),
        })

    def elaborate(self, platform):
        m = Module()
        depth = self._config.inflight
        slot_bits = (depth - 1).bit_length()
        for u in range(len(UNITS)):
            head = Signal(slot_bits, name=f"head_{u}")
            tail = Signal(slot_bits, name=f"tail_{u}")
            count = Signal(range(depth + 1), name=f"count_{u}")
            take = self.alloc.valid & (self.alloc.unit == u)
            free = self.done[u] & (count != 0)
            with m.If(self.done[u] & (count == 0)):
                m.d.sync += self.spurious[u].eq(1)
            with m.If(take & ~free):            # a mux of precomputed sums, not an adder
                m.d.sync += count.eq(count + 1)      # after the take/free decision
            with m.Elif(free & ~take):
                m.d.sync += count.eq(count - 1)
            with m.If(take):
                m.d.sync += tail.eq(tail + 1)
            with m.If(free):
                m.d.sync += head.eq(head + 1)
            cb = depth.bit_length()
            m.d.comb += [self.tail[u * slot_bits:(u + 1) * slot_bits].eq(tail),
                         self.counts[u * cb:(u + 1) * cb].eq(count),
                         self.busy[u].eq(count != 0), self.full[u].eq(count == depth)]
            pcs = []
            for s in range(depth):
                e = u * depth + s
                entry = Signal(self._access, name=f"entry_{u}_{s}")
                pc = Signal(PC_BITS, name=f"pc_{u}_{s}")
                pcs.append(pc)
                with m.If(take & (tail == s)):
                    m.d.sync += [entry.eq(self.alloc.access), pc.eq(self.alloc.pc),
                                 self.valid[e].eq(1)]
                with m.Elif(free & (head == s)):
                    m.d.sync += self.valid[e].eq(0)
                m.d.comb += [
                    self.hits[e].eq(self.valid[e] & conflict(self.probe, entry)),
                    self.key_hits[e].eq(self.valid[e] & reads_written_key(self.probe, entry)),
                ]
            # a balanced multiplexer as an expression (a case block would start X in Icarus)
            m.d.comb += self.head_pc[u * PC_BITS:(u + 1) * PC_BITS].eq(
                Cat(*pcs).word_select(head, PC_BITS))
        return m
