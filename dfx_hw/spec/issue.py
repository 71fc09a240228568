"""What the scheduler hands a unit with each instruction, and how the unit reports write-back.

The scheduler issues instruction words in program order to one queue per unit
(:class:`~dfx_hw.isa.layouts.InstrClass`). Each queue entry is an :data:`ISSUE_LAYOUT` struct: the
128-bit word itself (the unit decodes it with the ISA's layouts) plus the control-register
context the word is relative to, captured at issue so that a later SETR/LOOP cannot change an
instruction that is already queued:

``token``
    The TOKEN register (``token`` flag: lengths add it, addresses add ``token * stride``).
``hbm_offset``
    ``LAYER * HBM_STRIDE`` in FP16 elements (``layer`` flag on an HBM address).
``ddr_offset``
    ``LAYER * DDR_STRIDE`` in FP16 elements (``layer`` flag on a DDR address).
``after``
    The instruction conflicts with an earlier instruction of its own unit that had not written
    back when it issued (only for a self-ordered unit, :data:`dfx_hw.spec.units.SELF_ORDERED`,
    whose conflicts among its own instructions do not hold the issue stage): the unit starts it
    only once everything it was given before has written back.

A unit executes its queue in order and pulses its ``done`` output for one clock when an
instruction has *written back* (every result it produces is visible to a later reader: register
file written, memory write response received, gathered vector placed). The scoreboard retires
the unit's oldest in-flight instruction on each pulse. A unit that fails raises its ``error``
(:mod:`dfx_hw.spec.errors`) instead of ``done``.
"""

from amaranth.hdl import unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..isa.layouts import WORD_BITS

__all__ = ["ISSUE_LAYOUT", "TOKEN_BITS", "OFFSET_BITS", "IssueSignature"]

TOKEN_BITS = 16
OFFSET_BITS = 32

#: One issued instruction with its context.
ISSUE_LAYOUT = data.StructLayout({
    "word": unsigned(WORD_BITS),
    "token": unsigned(TOKEN_BITS),
    "hbm_offset": unsigned(OFFSET_BITS),
    "ddr_offset": unsigned(OFFSET_BITS),
    "after": unsigned(1),
})

#: A unit's instruction port, from the unit's side: an issue stream in, a write-back pulse out.
IssueSignature = wiring.Signature({
    "issue": In(stream.Signature(ISSUE_LAYOUT)),
    "done": Out(1),
})
