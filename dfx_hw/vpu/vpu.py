"""The vector processing unit: register files, operand collector, VFU, SFU_V (DESIGN.md, 4)."""

from amaranth import *
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ..hdl.delay import delay
from .accumulator import Accumulator
from .layouts import ASource, BSource, Sink, Unary, VPUConfig, written_layout
from .operand_collector import OperandCollector
from .regfile import RegisterFile
from .sfu_v import SFUV
from .vfu import VFU

__all__ = ["VPU", "STORE_DEPTH", "make_vpu"]

#: Store buffer depth (words in flight towards the DMA/router).
STORE_DEPTH = 4


class VPU(wiring.Component):
    """Vector processing unit.

    Executes the micro-ops of :data:`~dfx_hw.vpu.layouts.OP_CONTROL` (every bit-true vector
    primitive of :mod:`dfx_hw.model.bittrue.vector_ops`, plus loads, stores, copies and scalar
    constants) over its vector and scalar register files, bit for bit the bit-true model.

    Datapath, one register-file word (``lanes`` elements) per clock: operand collector (register
    file reads) -> VFU (``lanes`` add/sub/mul/max ALUs, bypass) -> [SFU_V table functions
    (``exp`` per lane, ``recip``/``rsqrt``/``pow2inv`` in lane 0), only for the micro-ops that
    use one] -> vector register file write, or SFU_V accumulator (sum/max/amax) -> scalar
    register file, or both (``VADDAMAX``, ``VMULSACC``, ``VEXPACC``: the vector written and
    reduced in the same pass), or (lane 0) scalar register file.
    Stores leave from the register-file read (bypass) through a :data:`STORE_DEPTH`-word buffer.

    Parameters
    ----------
    config : VPUConfig

    Members
    -------
    instr : In(stream.Signature(config.micro_op_layout))
        Micro-ops.
    load : In(stream.Signature(16 * lanes))
        Words for ``LOAD``/``SLOAD`` (DMA or router buffer), element ``i`` of a word in bits
        ``16 i .. 16 i + 15``; a vector's last word may be partial (extra lanes ignored).
    store : Out(stream.Signature(16 * lanes))
        Words of ``STORE``/``SSTORE`` (a partial last word carries unspecified extra lanes).
    busy : Out(1)
        A micro-op is being issued or has writes outstanding (or has not retired).
    settling : Out(1)
        Nothing pending or issuing, and the outstanding writes land within a few clocks
        (:attr:`OperandCollector.settling`): a dependent micro-op offered now hardly waits at
        the head of the VPU.
    retire : Out(1)
        One pulse per legal micro-op, in order, once its results are in the register files (a
        store: once its last word is in the store buffer); see :class:`OperandCollector`.
    written : Out(:func:`~dfx_hw.vpu.layouts.written_layout`)
        The vector register file's write this clock (``en``: any lane; ``addr``: the word), for
        a unit that keeps a copy of register-file data (the matrix sequencer's kept input).
    error : Out(1)
        Sticky: an illegal micro-op was dropped (see :class:`OperandCollector`).
    """

    def __init__(self, *, config=VPUConfig()):
        if not isinstance(config, VPUConfig):
            raise ValueError(f"config must be a VPUConfig, not {config!r}")
        self._config = config
        lanes = config.lanes
        self._vfu = VFU(lanes=lanes, add_latency=config.add_latency,
                        mul_latency=config.mul_latency, max_latency=config.max_latency)
        self._sfu = SFUV(lanes=lanes, add_latency=config.add_latency,
                         mul_latency=config.mul_latency)
        self._acc = Accumulator(lanes=lanes, add_latency=config.add_latency,
                                max_latency=config.max_latency, acc_latency=config.acc_latency)
        super().__init__({
            "instr": In(stream.Signature(config.micro_op_layout)),
            "load": In(stream.Signature(16 * lanes)),
            "store": Out(stream.Signature(16 * lanes)),
            "busy": Out(1),
            "settling": Out(1),
            "retire": Out(1),
            "written": Out(written_layout(config)),
            "error": Out(1),
        })

    @property
    def config(self):
        return self._config

    @property
    def short_latency(self):
        """Clocks from a beat's issue to its register-file write (no table function)."""
        return 1 + self._vfu.latency

    @property
    def long_latency(self):
        """Clocks from a beat's issue to its register-file write (with a table function)."""
        return self.short_latency + self._sfu.latency

    @property
    def reduction_latency(self):
        """Clocks from the last beat of a reduction to its scalar register-file write."""
        return self.short_latency + self._acc.latency

    @property
    def sum_interval(self):
        return self._acc.sum_interval

    @property
    def max_interval(self):
        return self._acc.max_interval

    @property
    def slots(self):
        """Hazard slots: enough for back-to-back one-beat micro-ops (two clocks each)."""
        return (max(self.long_latency, self.reduction_latency) + 1) // 2 + 1

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        lanes = cfg.lanes
        m.submodules.vrf = vrf = RegisterFile(lanes=lanes, depth=cfg.vrf_words, read_ports=2)
        # Two scalar write ports: reductions (late) and lane-0 scalar results.
        m.submodules.srf = srf = RegisterFile(lanes=1, depth=cfg.srf_words, read_ports=2,
                                              write_ports=2)
        m.submodules.collector = col = OperandCollector(
            config=cfg, short_latency=self.short_latency, long_latency=self.long_latency,
            reduction_latency=self.reduction_latency, sum_interval=self.sum_interval,
            max_interval=self.max_interval, store_depth=STORE_DEPTH, slots=self.slots)
        m.submodules.vfu = vfu = self._vfu
        m.submodules.sfu = sfu = self._sfu
        m.submodules.acc = acc = self._acc
        m.submodules.store_fifo = fifo = SyncFIFOBuffered(width=16 * lanes, depth=STORE_DEPTH)

        wiring.connect(m, wiring.flipped(self.instr), col.instr)
        wiring.connect(m, wiring.flipped(self.load), col.load)
        wiring.connect(m, col.vrf_a, vrf.read[0])
        wiring.connect(m, col.vrf_b, vrf.read[1])
        wiring.connect(m, col.srf_a, srf.read[0])
        wiring.connect(m, col.srf_b, srf.read[1])
        m.d.comb += [self.busy.eq(col.busy), self.settling.eq(col.settling),
                     self.retire.eq(col.retire),
                     self.error.eq(col.error)]

        # Operand selection (the clock after the reads).
        beat = col.beat
        a = Signal(16 * lanes)
        b = Signal(16 * lanes)
        with m.Switch(beat.ctrl.a):
            with m.Case(ASource.VECTOR):
                m.d.comb += a.eq(vrf.read[0].data)
            with m.Case(ASource.SCALAR):
                m.d.comb += a.eq(srf.read[0].data.replicate(lanes))
            with m.Case(ASource.STREAM):
                m.d.comb += a.eq(col.beat_load)
            with m.Case(ASource.IMM):
                m.d.comb += a.eq(beat.imm.replicate(lanes))
        with m.Switch(beat.ctrl.b):
            with m.Case(BSource.VECTOR):
                m.d.comb += b.eq(vrf.read[1].data)
            with m.Case(BSource.SCALAR):
                m.d.comb += b.eq(srf.read[1].data.replicate(lanes))
            with m.Case(BSource.A):
                m.d.comb += b.eq(a)
        m.d.comb += [vfu.a.eq(a), vfu.b.eq(b), vfu.op.eq(beat.ctrl.alu)]

        # Store bypass: straight from the register-file read to the store buffer.
        m.d.comb += [
            fifo.w_en.eq(beat.valid & (beat.ctrl.sink == Sink.STORE)),
            fifo.w_data.eq(a),
            self.store.payload.eq(fifo.r_data),
            self.store.valid.eq(fifo.r_rdy),
            fifo.r_en.eq(self.store.ready),
            col.store_pop.eq(fifo.r_rdy & self.store.ready),
        ]

        # VFU -> (beats with a table function) SFU_V.
        short = delay(m, beat, vfu.latency, name="b_short")
        m.d.comb += [sfu.data.eq(vfu.result),
                     sfu.fn.eq(Mux(short.valid, short.ctrl.unary, Unary.NONE))]
        long = delay(m, short, sfu.latency, name="b_long")
        short_done = short.valid & (short.ctrl.unary == Unary.NONE)
        long_done = long.valid & (long.ctrl.unary != Unary.NONE)
        # The collector spaces beats so that at most one of the two writes back on a clock.
        done = Signal.like(beat)
        result = Signal(16 * lanes)
        m.d.comb += [
            done.eq(Mux(long_done, long, short)),
            done.valid.eq(short_done | long_done),
            result.eq(Mux(long_done, sfu.result, vfu.result)),
        ]
        sink = done.ctrl.sink

        # Vector register-file write (also of a micro-op that reduces the vector it writes).
        writes_vector = (sink == Sink.VECTOR) | (sink == Sink.VECTOR_SUM) | \
            (sink == Sink.VECTOR_AMAX)
        m.d.comb += [
            vrf.write[0].addr.eq(done.dst),
            vrf.write[0].data.eq(result),
            vrf.write[0].en.eq(Mux(done.valid & writes_vector, done.mask, 0)),
            self.written.en.eq(done.valid & writes_vector & done.mask.any()),
            self.written.addr.eq(done.dst),
        ]

        # Reductions and lane-0 scalars. The accumulator takes the written-back result (the
        # VFU's, or for a table function SFU_V's: VEXPACC), so a micro-op that writes a vector
        # and reduces it feeds the accumulator exactly what it writes; its scalar register comes
        # in `imm`. The collector's spacing keeps the beats in issue order here too.
        r_sink = done.ctrl.sink
        pair = (r_sink == Sink.VECTOR_SUM) | (r_sink == Sink.VECTOR_AMAX)
        m.d.comb += [
            acc.valid.eq(done.valid & ((r_sink == Sink.SUM) | (r_sink == Sink.MAX) |
                                       (r_sink == Sink.AMAX) | pair)),
            acc.data.eq(result), acc.mask.eq(done.mask),
            acc.first.eq(done.first), acc.last.eq(done.last),
            acc.is_max.eq((r_sink != Sink.SUM) & (r_sink != Sink.VECTOR_SUM)),
            acc.absolute.eq((r_sink == Sink.AMAX) | (r_sink == Sink.VECTOR_AMAX)),
        ]
        reduction_dst = delay(m, Mux(pair, done.imm[:cfg.srf_addr_width], done.dst),
                              acc.latency, name="r_dst")
        m.d.comb += [
            srf.write[0].addr.eq(reduction_dst),
            srf.write[0].data.eq(acc.result),
            srf.write[0].en.eq(acc.result_valid),
            srf.write[1].addr.eq(done.dst),
            srf.write[1].data.eq(result[:16]),
            srf.write[1].en.eq(done.valid & (sink == Sink.SCALAR)),
        ]
        return m


def make_vpu(**fields):
    """``VPU(config=VPUConfig(**fields))``: the keyword form that :mod:`sim.harness` elaborates
    (its parameters must be JSON values)."""
    return VPU(config=VPUConfig(**fields))
