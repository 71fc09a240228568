"""The core's router adapter: turns the router's register-file requests into VPU micro-ops.

The router (:class:`dfx_hw.router.router.Router`) asks for what a sync needs when it needs it:

================  ===================================  ======================================
request           micro-ops                            words
================  ===================================  ======================================
``READ_VECTOR``   ``STORE addr, length``               register file -> the router's ``local``
``READ_PAIR``     ``SSTORE addr``, ``SSTORE addr+1``   two scalars -> one ``pair``
``WRITE_VECTOR``  ``LOAD addr, length``                the router's ``gathered`` -> register
                                                       file
================  ===================================  ======================================

``WRITE_VECTOR`` comes once per complete slice (an even, word-aligned split) or once per sync
(after every slice has arrived), so its ``LOAD`` never waits on the ring; the sync has written
back when the ``LOAD`` of its ``final`` request retires (``done``; only that one is marked
``notify``). One request at a time, each with its words, in order. A register-file address the
VPU cannot hold is a ``VRF_RANGE`` error.
"""

from amaranth import *
from amaranth.lib import enum, stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.errors import ErrorCode, ErrorSignature
from ..vpu.layouts import Opcode as VOp
from ..vpu.layouts import VPUConfig
from .rf_port import requester_signature

__all__ = ["RouterAdapter"]


class _State(enum.Enum):
    IDLE = 0
    READ = 1         # STORE words -> local
    PAIR_LO = 2      # second SSTORE request
    PAIR_WORD0 = 3
    PAIR_WORD1 = 4
    PAIR_OUT = 5
    WRITE_REQ = 6    # LOAD request once a gathered word is offered
    WRITE = 7        # gathered words -> register file
    STOPPED = 8


class RouterAdapter(wiring.Component):
    """Parameters
    ----------
    config : VPUConfig
    request_layout, pair_layout : Layout
        The router's ``rf_request`` and ``pair`` payload layouts
        (:data:`dfx_hw.router.router.RF_REQUEST_LAYOUT`, ``PAIR_LAYOUT``).
    read_vector, read_pair, write_vector : int
        The values of the router's request ``op`` field.

    Members
    -------
    request : In(stream.Signature(request_layout))
    local : Out(stream.Signature(16 * lanes))
    pair : Out(stream.Signature(pair_layout))
    gathered : In(stream.Signature(16 * lanes))
    done : Out(1)
    rf : Out(requester_signature(config).flip())
    error : Out(ErrorSignature)
    """

    def __init__(self, *, config, request_layout, pair_layout, read_vector, read_pair,
                 write_vector):
        if not isinstance(config, VPUConfig):
            raise ValueError(f"config must be a VPUConfig, not {config!r}")
        self._config = config
        self._ops = (read_vector, read_pair, write_vector)
        word = 16 * config.lanes
        super().__init__({
            "request": In(stream.Signature(request_layout)),
            "local": Out(stream.Signature(word)),
            "pair": Out(stream.Signature(pair_layout)),
            "gathered": In(stream.Signature(word)),
            "done": Out(1),
            "rf": Out(requester_signature(config).flip()),
            "error": Out(ErrorSignature),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        lanes = cfg.lanes
        shift = (lanes - 1).bit_length()
        read_vector, read_pair, write_vector = self._ops
        rf = self.rf
        req = rf.request.payload
        m.d.comb += self.done.eq(rf.retired)

        state = Signal(_State)
        addr = Signal.like(self.request.payload.addr)
        length = Signal.like(self.request.payload.length)
        words = Signal(len(length) + 1)
        count = Signal(len(length) + 1)
        final = Signal()
        value = Signal(16)
        index = Signal(16)
        fault = Signal(ErrorCode)
        fault_info = Signal(32)

        with m.Switch(state):
            with m.Case(_State.IDLE):
                m.d.comb += self.request.ready.eq(1)
                with m.If(self.request.valid):
                    p = self.request.payload
                    op = Value.cast(p.op)
                    m.d.sync += [addr.eq(p.addr), length.eq(p.length), count.eq(0),
                                 words.eq((p.length + lanes - 1) >> shift), final.eq(p.final)]
                    with m.If(p.addr[cfg.vrf_addr_width:].any()):
                        m.d.comb += [fault.eq(ErrorCode.VRF_RANGE), fault_info.eq(p.addr)]
                    with m.Elif((op == read_vector) & (p.length == 0)):
                        pass                   # an empty slice: no micro-op, no words
                    with m.Elif(op == read_vector):
                        m.d.comb += [rf.request.valid.eq(1), req.op.opcode.eq(VOp.STORE),
                                     req.op.src1.eq(p.addr), req.op.length.eq(p.length)]
                        m.d.comb += self.request.ready.eq(rf.request.ready)
                        with m.If(rf.request.ready):
                            m.d.sync += state.eq(_State.READ)
                    with m.Elif(op == read_pair):
                        m.d.comb += [rf.request.valid.eq(1), req.op.opcode.eq(VOp.SSTORE),
                                     req.op.src1.eq(p.addr), req.op.length.eq(1),
                                     self.request.ready.eq(rf.request.ready)]
                        with m.If(rf.request.ready):
                            m.d.sync += state.eq(_State.PAIR_LO)
                    with m.Elif(op == write_vector):
                        m.d.sync += state.eq(_State.WRITE_REQ)
                    with m.Else():
                        m.d.comb += [fault.eq(ErrorCode.UNIT_FAULT), fault_info.eq(op)]

            with m.Case(_State.READ):
                m.d.comb += [self.local.valid.eq(rf.store.valid),
                             self.local.payload.eq(rf.store.payload),
                             rf.store.ready.eq(self.local.ready)]
                with m.If(rf.store.valid & rf.store.ready):
                    m.d.sync += count.eq(count + 1)
                    with m.If(count + 1 == words):
                        m.d.sync += state.eq(_State.IDLE)

            with m.Case(_State.PAIR_LO):
                m.d.comb += [rf.request.valid.eq(1), req.op.opcode.eq(VOp.SSTORE),
                             req.op.src1.eq(addr + 1), req.op.length.eq(1)]
                with m.If(rf.request.ready):
                    m.d.sync += state.eq(_State.PAIR_WORD0)

            with m.Case(_State.PAIR_WORD0):
                m.d.comb += rf.store.ready.eq(1)
                with m.If(rf.store.valid):
                    m.d.sync += [value.eq(rf.store.payload[:16]), state.eq(_State.PAIR_WORD1)]

            with m.Case(_State.PAIR_WORD1):
                m.d.comb += rf.store.ready.eq(1)
                with m.If(rf.store.valid):
                    m.d.sync += [index.eq(rf.store.payload[:16]), state.eq(_State.PAIR_OUT)]

            with m.Case(_State.PAIR_OUT):
                m.d.comb += [self.pair.valid.eq(1), self.pair.payload.value.eq(value),
                             self.pair.payload.index.eq(index)]
                with m.If(self.pair.ready):
                    m.d.sync += state.eq(_State.IDLE)

            with m.Case(_State.WRITE_REQ):
                m.d.comb += [rf.request.valid.eq(self.gathered.valid),
                             req.op.opcode.eq(VOp.LOAD), req.op.dst.eq(addr),
                             req.op.length.eq(length), req.notify.eq(final)]
                with m.If(rf.request.valid & rf.request.ready):
                    m.d.sync += state.eq(_State.WRITE)

            with m.Case(_State.WRITE):
                m.d.comb += [rf.load.valid.eq(self.gathered.valid),
                             rf.load.payload.eq(self.gathered.payload),
                             self.gathered.ready.eq(rf.load.ready)]
                with m.If(rf.load.valid & rf.load.ready):
                    m.d.sync += count.eq(count + 1)
                    with m.If(count + 1 == words):
                        m.d.sync += state.eq(_State.IDLE)

        with m.If((fault != ErrorCode.NONE) & ~self.error.valid):
            m.d.sync += [self.error.valid.eq(1), self.error.code.eq(fault),
                         self.error.info.eq(fault_info), state.eq(_State.STOPPED)]
        return m
