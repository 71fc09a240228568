"""The DFX core: control unit, DMA, matrix unit, vector unit and router joined (DESIGN.md,
section 4).

::

    host AXI4-Lite ─► ControlUnit (registers, instruction buffer, scheduler, scoreboard)
                          │ MATRIX        │ VECTOR        │ DMA            │ ROUTER
                          ▼               ▼               ▼                ▼
                   MatrixSequencer   IsaDecoder     DMASequencer      Router ◄─► ring links
                    │  │  │  └─ArgmaxUnit  │         │      │          │ rf requests
                    │  │  └─► DMA matrix port ──────►DMA◄───┘          ▼
                    │  ▼   weights, bias ──► MatrixUnit             RouterAdapter
                    │ desc, x ─────────────►     │ out, max              │
                    ▼                            ▼                       ▼
                  RegisterFilePort (requesters: vector, dma, matrix, router) ─► VPU
                                                                  (vector/scalar register files)

Every register-file access is a VPU micro-op (:mod:`.rf_port`); each instruction class has a
sequencer that turns its words into the unit's work plus those micro-ops and reports the
class's write-backs, in order, to the scheduler's scoreboard (:mod:`dfx_hw.spec.issue`). Errors
of every unit reach the control unit, which latches the first with its pc and word and stops.

Ports: ``axil`` (the register map, :mod:`dfx_hw.spec.regmap`), ``hbm`` (``hbm_channels`` AXI4
masters), ``ddr`` (an AXI4 master), ``link_next`` / ``link_prev`` (Aurora-shaped ring links in
the clock domains ``link_next`` / ``link_prev``).
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect, flipped

from ..bus.aurora import AuroraLinkSignature
from ..bus.axi4_lite import axi4_lite_signature
from ..control.params import PC_BITS, ControlConfig
from ..control.unit import ControlUnit
from ..dma.dma import DMA
from ..mpu.matrix_unit import DEFAULT_BAND, MatrixUnit
from ..router.router import RF_REQUEST_LAYOUT, PAIR_LAYOUT, RfOp, Router
from ..spec.errors import ErrorCode, ErrorSignature
from ..spec.regmap import ADDRESS_BITS, UNIT_NAMES
from ..vpu.isa_decoder import IsaDecoder
from ..vpu.vpu import VPU
from .config import CoreConfig
from .dma_path import DMASequencer
from .matrix_path import MatrixSequencer
from .rf_port import RegisterFilePort
from .router_path import RouterAdapter

__all__ = ["DFXCore", "make_core", "REQUESTERS", "TRACE_SIGNATURE", "TRACE_UNITS"]

#: The register-file port's requesters, in priority order of the round robin's start.
REQUESTERS = ("vector", "dma", "matrix", "router")


#: The units whose write-backs the trace port reports, in the order of its ``done`` bits.
TRACE_UNITS = tuple(name.lower() for name in UNIT_NAMES)

#: The core's trace port (its members are separate ports in the Verilog), registered (one clock after the events): ``issue`` = the instruction at
#: ``pc`` left the control unit's issue stage (every instruction, control ones included);
#: ``done[u]`` = unit ``TRACE_UNITS[u]`` wrote back its oldest instruction in flight (each unit
#: writes back in issue order). For simulation and debug; nothing on the board reads it.
TRACE_SIGNATURE = wiring.Signature({"issue": Out(1), "pc": Out(PC_BITS),
                                    "done": Out(len(TRACE_UNITS))})


def _first_error(m, out, *reports):
    """Drive the ErrorSignature ``out`` from the first of ``reports`` to be raised (sticky)."""
    held = Signal()
    for report in reports:
        with m.If(report.valid & ~held & ~out.valid):
            m.d.sync += [out.valid.eq(1), out.code.eq(report.code), out.info.eq(report.info),
                         held.eq(1)]


class DFXCore(wiring.Component):
    """Parameters
    ----------
    config : CoreConfig

    Members
    -------
    axil : In(axi4_lite_signature(addr_width=ADDRESS_BITS))
    hbm : Out(AXI4Signature).array(hbm_channels)
    ddr : Out(AXI4Signature)
    link_next, link_prev : Out(AuroraLinkSignature(16 * l))
    running, done : Out(1)
    trace : Out(TRACE_SIGNATURE)
        Issue and write-back events, one clock late (:data:`TRACE_SIGNATURE`).
    """

    def __init__(self, *, config=CoreConfig()):
        if not isinstance(config, CoreConfig):
            raise ValueError(f"config must be a CoreConfig, not {config!r}")
        self._config = c = config
        vpu_cfg = c.vpu
        self.control = ControlUnit(config=ControlConfig(
            ibuf_depth=c.ibuf_depth, inflight=c.inflight,
            vrf_elements=vpu_cfg.vrf_elements, srf_words=c.srf_words, d=c.d, l=c.l))
        self.vpu = VPU(config=vpu_cfg)
        self.mpu = MatrixUnit(d=c.d, l=c.l, band=DEFAULT_BAND, max_rows=c.max_rows)
        self.dma = DMA(d=c.d, l=c.l, lanes=c.l, hbm_channels=c.hbm_channels,
                       hbm_data_bits=c.hbm_data_bits, ddr_data_bits=c.ddr_data_bits,
                       hbm_depth=c.hbm_depth, read_bursts=c.read_bursts)
        self.router = Router(lanes=c.l, max_cores=c.max_cores, max_total=c.max_total,
                             rx_depth=c.rx_depth)
        self.rf_port = RegisterFilePort(config=vpu_cfg, requesters=REQUESTERS)
        self.vector_decoder = IsaDecoder(config=vpu_cfg)
        self.matrix_seq = MatrixSequencer(d=c.d, l=c.l, band=DEFAULT_BAND, max_rows=c.max_rows,
                                          config=vpu_cfg)
        self.dma_seq = DMASequencer(config=vpu_cfg)
        self.router_adapter = RouterAdapter(
            config=vpu_cfg, request_layout=RF_REQUEST_LAYOUT, pair_layout=PAIR_LAYOUT,
            read_vector=RfOp.READ_VECTOR.value, read_pair=RfOp.READ_PAIR.value,
            write_vector=RfOp.WRITE_VECTOR.value)
        super().__init__({
            "axil": In(axi4_lite_signature(addr_width=ADDRESS_BITS)),
            "hbm": self.dma.signature.members["hbm"],
            "ddr": self.dma.signature.members["ddr"],
            "link_next": Out(AuroraLinkSignature(data_bits=16 * c.l)),
            "link_prev": Out(AuroraLinkSignature(data_bits=16 * c.l)),
            "running": Out(1),
            "done": Out(1),
            "trace": Out(TRACE_SIGNATURE),
        })

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        m = Module()
        c = self._config
        ctl, vpu, mpu, dma, router = self.control, self.vpu, self.mpu, self.dma, self.router
        port, vdec = self.rf_port, self.vector_decoder
        mseq, dseq, radapt = self.matrix_seq, self.dma_seq, self.router_adapter
        for name, unit in (("control", ctl), ("vpu", vpu), ("mpu", mpu), ("dma", dma),
                           ("router", router), ("rf_port", port), ("vector_decoder", vdec),
                           ("matrix_seq", mseq), ("dma_seq", dseq),
                           ("router_adapter", radapt)):
            m.submodules[name] = unit

        connect(m, flipped(self.axil), ctl.axil)
        m.d.comb += [self.running.eq(ctl.running), self.done.eq(ctl.done)]

        # ---- the register files: every requester through the port into the VPU ------------------
        connect(m, port.vpu_instr, vpu.instr)
        connect(m, port.vpu_load, vpu.load)
        connect(m, vpu.store, port.vpu_store)
        m.d.comb += port.vpu_retire.eq(vpu.retire)

        # ---- VECTOR: words -> micro-ops; written back when the micro-op retires -----------------
        # An instruction marked `after` (it depends on an earlier vector instruction) enters the
        # decoder once every earlier one has retired, or a few clocks before: when none waits
        # in the port's register and the VPU is settling (nothing pending or issuing, every
        # outstanding write lands within SETTLE_LEAD clocks), so that it reaches the VPU's
        # pending register about when its operands are written. The VPU's hazard slots keep the
        # order either way; entering early does not hold the VPU's in-order acceptance (every
        # other requester's micro-ops) for the length of a pass or a reduction.
        issue = ctl.vector.issue
        vector_open = Signal(range(c.inflight + 2))     # vector micro-ops not yet retired
        vector_index = self.rf_port.requesters.index("vector")
        operands_soon = ~port.holding[vector_index] & vpu.settling
        may_enter = ~issue.payload.after | (vector_open == 0) | operands_soon
        entered = vdec.words.valid & vdec.words.ready
        m.d.sync += vector_open.eq(vector_open + entered - port.vector.retired)
        m.d.comb += [
            vdec.words.valid.eq(issue.valid & may_enter),
            vdec.words.payload.eq(issue.payload.word),
            vdec.token.eq(issue.payload.token), issue.ready.eq(vdec.words.ready & may_enter),
            port.vector.request.valid.eq(vdec.ops.valid),
            port.vector.request.payload.op.eq(vdec.ops.payload),
            port.vector.request.payload.notify.eq(1),
            vdec.ops.ready.eq(port.vector.request.ready),
            ctl.vector.done.eq(port.vector.retired),
            port.vector.load.valid.eq(0), port.vector.store.ready.eq(0),
        ]

        # ---- MATRIX: sequencer, matrix unit, DMA weight stream --------------------------------
        connect(m, ctl.matrix.issue, mseq.issue)
        m.d.comb += ctl.matrix.done.eq(mseq.done)
        connect(m, ctl.prefetch, dma.matrix.issue)     # weights stream ahead of the issue
        connect(m, mseq.desc, mpu.desc)
        connect(m, mseq.x, mpu.x)
        connect(m, dma.weights, mpu.weights)
        connect(m, dma.bias, mpu.bias)
        connect(m, mpu.out, mseq.out)
        connect(m, mpu.max, mseq.max)
        connect(m, mseq.rf, port.matrix)
        m.d.comb += mseq.vrf_written.eq(vpu.written)

        # ---- DMA instructions ---------------------------------------------------------------
        connect(m, ctl.dma.issue, dseq.issue)
        m.d.comb += [ctl.dma.done.eq(dseq.done), dseq.dma_done.eq(dma.dma.done)]
        connect(m, dseq.dma, dma.dma.issue)
        connect(m, dma.load, dseq.dma_load)
        connect(m, dseq.dma_store, dma.store)
        connect(m, dseq.rf, port.dma)
        for channel in range(c.hbm_channels):
            connect(m, dma.hbm[channel], flipped(self.hbm[channel]))
        connect(m, dma.ddr, flipped(self.ddr))
        sysconfig = ctl.sysconfig
        m.d.comb += [dma.hbm_base.eq(sysconfig.hbm_base), dma.hbm_size.eq(sysconfig.hbm_size),
                     dma.ddr_base.eq(sysconfig.ddr_base), dma.ddr_size.eq(sysconfig.ddr_size)]

        # ---- ROUTER --------------------------------------------------------------------------
        connect(m, ctl.router.issue, router.issue)
        m.d.comb += [ctl.router.done.eq(radapt.done), router.core_id.eq(sysconfig.core_id),
                     router.cores.eq(sysconfig.core_count), router.timeout.eq(c.sync_timeout)]
        connect(m, router.rf_request, radapt.request)
        connect(m, radapt.local, router.local)
        connect(m, radapt.pair, router.pair)
        connect(m, router.gathered, radapt.gathered)
        connect(m, radapt.rf, port.router)
        connect(m, router.link_next, flipped(self.link_next))
        connect(m, router.link_prev, flipped(self.link_prev))

        # ---- trace ---------------------------------------------------------------------------
        m.d.sync += [
            self.trace.issue.eq(ctl.head.valid & ctl.head.fire), self.trace.pc.eq(ctl.head.pc),
            self.trace.done.eq(Cat(*(getattr(ctl, unit).done for unit in TRACE_UNITS))),
        ]

        # ---- errors --------------------------------------------------------------------------
        vpu_report = ErrorSignature.create(path=("vpu_report",))
        with m.If((vpu.error | vdec.error) & ~vpu_report.valid):
            # An illegal vector micro-op: an unaligned or out-of-range register-file access or
            # an opcode the VPU does not execute (the scheduler's decoder checks ranges first).
            m.d.sync += [vpu_report.valid.eq(1), vpu_report.code.eq(ErrorCode.VRF_RANGE),
                         vpu_report.info.eq(0)]
        _first_error(m, ctl.vector_error, vpu_report)
        _first_error(m, ctl.matrix_error, mseq.error)
        _first_error(m, ctl.dma_error, dseq.error, dma.error)
        _first_error(m, ctl.router_error, radapt.error, router.error)
        return m


def make_core(**fields):
    """``DFXCore(config=CoreConfig(**fields))``, for the harness and the registries."""
    return DFXCore(config=CoreConfig(**fields))
