"""The core's DMA sequencer: the register-file side of the DMA instruction class.

Each issued DMA word goes to the DMA (which moves the memory side) and, in order, becomes the
VPU micro-ops that move the register-file side:

=======  ===========================================  ==================================
opcode   micro-ops                                    written back when
=======  ===========================================  ==================================
LDD      ``SSTORE ssrc`` (with ``index``), ``LOAD``   the ``LOAD`` retired and the DMA done
         ``vdst, len``
LDTOK    ``SLOAD sdst``                               the ``SLOAD`` retired and the DMA done
STD      ``STORE vsrc, len``                          the DMA done (write responses in)
STTOK    ``SSTORE ssrc``                              the DMA done
STH      ``STORE vsrc, len``                          the DMA done
STHT     ``STORE vsrc, len``                          the DMA done
=======  ===========================================  ==================================

A ``LOAD``/``SLOAD`` is requested only once the DMA offers a load word, so the VPU does not wait
on memory latency with the micro-op at its head. ``done`` pulses once per instruction, in issue
order, when both of its completions (the DMA's and, for loads, the VPU's) have happened.
"""

from amaranth import *
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ..isa.layouts import LAYOUTS, Opcode
from ..spec.errors import ErrorCode, ErrorSignature
from ..spec.issue import ISSUE_LAYOUT
from ..vpu.layouts import Opcode as VOp
from ..vpu.layouts import VPUConfig
from .rf_port import requester_signature

__all__ = ["DMASequencer", "PENDING_DEPTH"]

#: Register-file words the DMA's store path buffers (a 64-element key or value at 4 lanes).
STORE_BUFFER_WORDS = 16

#: DMA instructions the sequencer holds between issue and write-back.
PENDING_DEPTH = 16


class _State(enum.Enum):
    IDLE = 0
    FORK = 1
    INDEX = 2     # SSTORE of the index scalar
    LOAD = 3      # LOAD / SLOAD, once the DMA offers a word
    STORE = 4     # STORE / SSTORE
    STOPPED = 5


class DMASequencer(wiring.Component):
    """Parameters
    ----------
    config : VPUConfig

    Members
    -------
    issue : In(stream.Signature(ISSUE_LAYOUT))
    done : Out(1)
    dma : Out(stream.Signature(ISSUE_LAYOUT))
        To the DMA's instruction port.
    dma_done : In(1)
        The DMA's write-back pulse (one per instruction, in order).
    dma_load : In(stream.Signature(16 * lanes))
        The DMA's load words (to the register file).
    dma_store : Out(stream.Signature(16 * lanes))
        The DMA's store words (from the register file).
    rf : Out(requester_signature(config).flip())
    error : Out(ErrorSignature)
    """

    def __init__(self, *, config):
        if not isinstance(config, VPUConfig):
            raise ValueError(f"config must be a VPUConfig, not {config!r}")
        self._config = config
        word = 16 * config.lanes
        super().__init__({
            "issue": In(stream.Signature(ISSUE_LAYOUT)),
            "done": Out(1),
            "dma": Out(stream.Signature(ISSUE_LAYOUT)),
            "dma_done": In(1),
            "dma_load": In(stream.Signature(word)),
            "dma_store": Out(stream.Signature(word)),
            "rf": Out(requester_signature(config).flip()),
            "error": Out(ErrorSignature),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        rf = self.rf
        req = rf.request.payload
        # Load words pass straight from the DMA to the register-file port. Store words go
        # through a FIFO of STORE_BUFFER_WORDS, so that the STORE of a short vector (a key or
        # a value: STH, STHT) leaves the VPU at once instead of holding its in-order acceptance
        # while the DMA writes the elements out (STHT writes one element per clock, slower
        # while the weight stream keeps the HBM channels busy).
        m.d.comb += [rf.load.valid.eq(self.dma_load.valid),
                     rf.load.payload.eq(self.dma_load.payload),
                     self.dma_load.ready.eq(rf.load.ready)]
        m.submodules.store_buffer = buffer = SyncFIFOBuffered(width=len(rf.store.payload),
                                                              depth=STORE_BUFFER_WORDS)
        m.d.comb += [buffer.w_data.eq(rf.store.payload), buffer.w_en.eq(rf.store.valid),
                     rf.store.ready.eq(buffer.w_rdy),
                     self.dma_store.payload.eq(buffer.r_data),
                     self.dma_store.valid.eq(buffer.r_rdy), buffer.r_en.eq(self.dma_store.ready)]

        state = Signal(_State)
        cur = Signal(ISSUE_LAYOUT)
        taken = Signal(2)
        fault = Signal(ErrorCode)
        fault_info = Signal(32)
        ldd = LAYOUTS[Opcode.LDD](cur.word)
        opcode = ldd.op
        std = LAYOUTS[Opcode.STD](cur.word)
        ldtok = LAYOUTS[Opcode.LDTOK](cur.word)
        sttok = LAYOUTS[Opcode.STTOK](cur.word)
        sth = LAYOUTS[Opcode.STH](cur.word)
        stht = LAYOUTS[Opcode.STHT](cur.word)
        # The store source of STD / STH / STHT (each layout places it differently).
        store_src = Signal.like(std.vsrc)
        store_len = Signal.like(std.len)
        with m.Switch(opcode):
            with m.Case(Opcode.STH):
                m.d.comb += [store_src.eq(sth.vsrc), store_len.eq(sth.len)]
            with m.Case(Opcode.STHT):
                m.d.comb += [store_src.eq(stht.vsrc), store_len.eq(stht.len)]
            with m.Default():
                m.d.comb += [store_src.eq(std.vsrc), store_len.eq(std.len)]

        # Write-back: in issue order, when the DMA is done and (loads) the VPU has retired.
        m.submodules.pending = pending = SyncFIFOBuffered(width=1, depth=PENDING_DEPTH)
        dma_count = Signal(range(PENDING_DEPTH + 2))
        vpu_count = Signal(range(PENDING_DEPTH + 2))
        needs_vpu = pending.r_data[0]
        complete = pending.r_rdy & (dma_count != 0) & (~needs_vpu | (vpu_count != 0))
        m.d.comb += pending.r_en.eq(complete)
        m.d.sync += [
            dma_count.eq(dma_count + self.dma_done - complete),
            vpu_count.eq(vpu_count + rf.retired - (complete & needs_vpu)),
            self.done.eq(complete),
        ]

        def too_far(address):
            return address[cfg.vrf_addr_width:].any()

        with m.Switch(state):
            with m.Case(_State.IDLE):
                m.d.comb += self.issue.ready.eq(1)
                with m.If(self.issue.valid):
                    m.d.sync += [cur.eq(self.issue.payload), taken.eq(0),
                                 state.eq(_State.FORK)]

            with m.Case(_State.FORK):
                # The DMA's instruction and this instruction's write-back entry.
                is_load = (opcode == Opcode.LDD) | (opcode == Opcode.LDTOK)
                m.d.comb += [self.dma.valid.eq(~taken[0]), self.dma.payload.eq(cur),
                             pending.w_en.eq(~taken[1]), pending.w_data.eq(is_load)]
                now = taken | Cat(self.dma.ready, pending.w_rdy)
                m.d.sync += taken.eq(now)
                with m.If(now == 0b11):
                    m.d.sync += taken.eq(0)
                    with m.Switch(opcode):
                        with m.Case(Opcode.LDD):
                            m.d.sync += state.eq(Mux(ldd.flags.index, _State.INDEX,
                                                     _State.LOAD))
                        with m.Case(Opcode.LDTOK):
                            m.d.sync += state.eq(_State.LOAD)
                        with m.Case(Opcode.STD, Opcode.STTOK, Opcode.STH, Opcode.STHT):
                            m.d.sync += state.eq(_State.STORE)
                        with m.Default():
                            m.d.comb += [fault.eq(ErrorCode.UNIT_FAULT), fault_info.eq(opcode)]
                with m.Switch(opcode):
                    with m.Case(Opcode.LDD):
                        with m.If(too_far(ldd.vdst)):
                            m.d.comb += [fault.eq(ErrorCode.VRF_RANGE), fault_info.eq(ldd.vdst)]
                    with m.Case(Opcode.STD, Opcode.STH, Opcode.STHT):
                        with m.If(too_far(store_src)):
                            m.d.comb += [fault.eq(ErrorCode.VRF_RANGE), fault_info.eq(store_src)]

            with m.Case(_State.INDEX):
                m.d.comb += [rf.request.valid.eq(1), req.op.opcode.eq(VOp.SSTORE),
                             req.op.src1.eq(ldd.ssrc), req.op.length.eq(1), req.notify.eq(0)]
                with m.If(rf.request.ready):
                    m.d.sync += state.eq(_State.LOAD)

            with m.Case(_State.LOAD):
                m.d.comb += [rf.request.valid.eq(self.dma_load.valid), req.notify.eq(1)]
                with m.If(opcode == Opcode.LDTOK):
                    m.d.comb += [req.op.opcode.eq(VOp.SLOAD), req.op.dst.eq(ldtok.sdst),
                                 req.op.length.eq(1)]
                with m.Else():
                    m.d.comb += [req.op.opcode.eq(VOp.LOAD), req.op.dst.eq(ldd.vdst),
                                 req.op.length.eq(ldd.len)]
                with m.If(rf.request.valid & rf.request.ready):
                    m.d.sync += state.eq(_State.IDLE)

            with m.Case(_State.STORE):
                m.d.comb += [rf.request.valid.eq(1), req.notify.eq(0)]
                with m.If(opcode == Opcode.STTOK):
                    m.d.comb += [req.op.opcode.eq(VOp.SSTORE), req.op.src1.eq(sttok.ssrc),
                                 req.op.length.eq(1)]
                with m.Else():
                    m.d.comb += [req.op.opcode.eq(VOp.STORE), req.op.src1.eq(store_src),
                                 req.op.length.eq(store_len)]
                with m.If(rf.request.ready):
                    m.d.sync += state.eq(_State.IDLE)

        with m.If((fault != ErrorCode.NONE) & ~self.error.valid):
            m.d.sync += [self.error.valid.eq(1), self.error.code.eq(fault),
                         self.error.info.eq(fault_info), state.eq(_State.STOPPED)]
        return m
