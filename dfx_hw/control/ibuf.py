"""The instruction buffer: a block RAM of 128-bit words, written by the host, read by fetch."""

from amaranth import *
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..isa.layouts import WORD_BITS
from .params import ControlConfig

__all__ = ["InstructionBuffer"]


class InstructionBuffer(wiring.Component):
    """``config.ibuf_depth`` instruction words.

    The host side stores whole words: the register block collects the four 32-bit parts
    (``IBUF_DATA0..3``) and the write of the last one presents ``wdata`` with ``we``. The
    scheduler reads one word per clock with a synchronous read (``data`` holds the word at the
    ``raddr`` of the previous clock on which ``ren`` was high).

    Members
    -------
    waddr : In(range(depth)), wdata : In(WORD_BITS), we : In(1)
    raddr : In(range(depth)), ren : In(1), rdata : Out(WORD_BITS)
    """

    def __init__(self, *, config):
        if not isinstance(config, ControlConfig):
            raise ValueError(f"config must be a ControlConfig, not {config!r}")
        self._depth = config.ibuf_depth
        super().__init__({
            "waddr": In(range(self._depth)), "wdata": In(WORD_BITS), "we": In(1),
            "raddr": In(range(self._depth)), "ren": In(1), "rdata": Out(WORD_BITS),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = memory.Memory(shape=WORD_BITS, depth=self._depth, init=[])
        w = mem.write_port()
        r = mem.read_port(domain="sync")
        m.d.comb += [w.addr.eq(self.waddr), w.data.eq(self.wdata), w.en.eq(self.we),
                     r.addr.eq(self.raddr), r.en.eq(self.ren), self.rdata.eq(r.data)]
        return m
