"""Decode of the router's instruction words (SYNC, SYNCS) with the ISA's layouts."""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..isa.layouts import FIELD_BITS, LAYOUTS, WORD_BITS, Opcode

__all__ = ["SyncDecoder"]


class SyncDecoder(wiring.Component):
    """Combinational decode of one instruction word (fields from
    :data:`dfx_hw.isa.layouts.LAYOUTS`; no field position is restated).

    Members
    -------
    word : In(WORD_BITS)
    opcode : Out(Opcode)
    legal : Out(1)
        ``SYNC`` or ``SYNCS``.
    reserved : Out(1)
        The word's reserved bits are not all zero.
    is_syncs : Out(1)
    vsrc, vdst, length, total, tag, ssrc : Out
        The fields; for ``SYNCS`` ``length`` = 2 (the pair) and ``vsrc``/``total`` = 0
        (``total`` of SYNCS is ``2 * cores``, the router's business).
    """

    def __init__(self):
        super().__init__({
            "word": In(WORD_BITS),
            "opcode": Out(Opcode, init=Opcode.SYNC),
            "legal": Out(1),
            "reserved": Out(1),
            "is_syncs": Out(1),
            "vsrc": Out(FIELD_BITS["vsrc"]),
            "vdst": Out(FIELD_BITS["vdst"]),
            "ssrc": Out(FIELD_BITS["ssrc"]),
            "length": Out(FIELD_BITS["len"]),
            "total": Out(FIELD_BITS["total"]),
            "tag": Out(FIELD_BITS["tag"]),
        })

    def elaborate(self, platform):
        m = Module()
        sync = LAYOUTS[Opcode.SYNC](self.word)
        syncs = LAYOUTS[Opcode.SYNCS](self.word)
        m.d.comb += self.opcode.eq(sync.op)
        with m.If(sync.op == Opcode.SYNC):
            m.d.comb += [self.legal.eq(1), self.reserved.eq(sync.reserved != 0),
                         self.vsrc.eq(sync.vsrc), self.vdst.eq(sync.vdst),
                         self.length.eq(sync.len), self.total.eq(sync.total),
                         self.tag.eq(sync.tag)]
        with m.If(sync.op == Opcode.SYNCS):
            m.d.comb += [self.legal.eq(1), self.is_syncs.eq(1),
                         self.reserved.eq(syncs.reserved != 0),
                         self.ssrc.eq(syncs.ssrc), self.vdst.eq(syncs.vdst),
                         self.length.eq(2), self.tag.eq(syncs.tag)]
        return m
