"""The control unit of a DFX core: register port, instruction buffer, scheduler, counters."""

from amaranth import *
from amaranth.hdl import ResetInserter
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi4_lite import axi4_lite_signature
from ..isa.layouts import WORD_BITS
from ..spec.errors import ErrorSignature
from ..spec.issue import ISSUE_LAYOUT, IssueSignature
from ..spec.regmap import (ADDRESS_BITS, COUNTER_BITS, COUNTER_NAMES, ID_VALUE, REGMAP,
                           UNIT_NAMES, VERSION_VALUE)
from .counters import PerfCounters
from .ibuf import InstructionBuffer
from .params import ControlConfig
from .regs import RegisterBlock
from .scheduler import TRACE_LAYOUT, UNIT_PORTS, Scheduler, State

__all__ = ["CONFIG_LAYOUT", "ControlUnit", "make_control_unit"]

#: The system configuration the host writes, as the other units see it.
CONFIG_LAYOUT = data.StructLayout({
    "core_id": 16, "core_count": 16, "layer_count": 16, "prompt_len": 16, "new_tokens": 16,
    "hbm_base": 64, "hbm_size": 64, "ddr_base": 64, "ddr_size": 64,
})


class ControlUnit(wiring.Component):
    """Controller, instruction buffer, scheduler and scoreboard of one DFX core (DESIGN.md,
    section 4), with the host's register map (:mod:`dfx_hw.spec.regmap`) on an AXI4-Lite port.
    ``docs/control.md`` describes the behaviour, the ports and the figures.

    Parameters
    ----------
    config : ControlConfig

    Members
    -------
    axil : In(axi4_lite_signature(addr_width=16))
        The host's register port.
    matrix, vector, dma, router : In(IssueSignature)
        Per unit: the issue stream (out) and the write-back pulse (in). SETS goes to
        ``vector`` (the scalar register file is in the VPU).
    matrix_error, vector_error, dma_error, router_error : In(ErrorSignature)
        Each unit's sticky error report.
    prefetch : Out(stream.Signature(ISSUE_LAYOUT))
        The weight-streaming matrix instructions (CONV1D, MASKEDMM, MM), each once and in
        order, offered as soon as they reach the issue stage and the memory they read is
        written: for the DMA's weight stream (:class:`~.scheduler.Scheduler`).
    sysconfig : Out(CONFIG_LAYOUT)
        The system configuration registers (for the DMA windows and the router's core id and
        count).
    soft_reset : Out(1)
        One-clock pulse when the host writes CONTROL.CLEAR: reset the units with it.
    running, done : Out(1)
        STATUS.RUNNING and STATUS.DONE.
    head : Out(TRACE_LAYOUT)
        The issue stage (valid, pc, fire) for benches and debug; leave unconnected.
    """

    def __init__(self, *, config=ControlConfig()):
        if not isinstance(config, ControlConfig):
            raise ValueError(f"config must be a ControlConfig, not {config!r}")
        self._config = config
        members = {"axil": In(axi4_lite_signature(addr_width=ADDRESS_BITS))}
        for name in UNIT_PORTS:
            members[name] = In(IssueSignature)
        for name in UNIT_PORTS:
            members[f"{name}_error"] = In(ErrorSignature)
        members.update({"prefetch": Out(stream.Signature(ISSUE_LAYOUT)),
                        "sysconfig": Out(CONFIG_LAYOUT), "soft_reset": Out(1), "running": Out(1),
                        "done": Out(1), "head": Out(TRACE_LAYOUT)})
        super().__init__(members)

    @property
    def control_config(self):
        return self._config

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        m.submodules.regs = regs = RegisterBlock(external=("IBUF_ADDR",),
                                                 refusable=("IBUF_DATA3",))
        m.submodules.ibuf = ibuf = InstructionBuffer(config=cfg)
        clear = Signal()
        start = Signal()
        sched = Scheduler(config=cfg)
        m.submodules.scheduler = ResetInserter(clear)(sched)
        m.submodules.counters = counters = PerfCounters()
        wiring.connect(m, wiring.flipped(self.axil), regs.bus)

        # commands
        control = REGMAP["CONTROL"]
        m.d.sync += [
            start.eq(regs.control_wr & regs.wdata[control.field("START").lsb]),
            clear.eq(regs.control_wr & regs.wdata[control.field("CLEAR").lsb]),
        ]
        running = sched.state == State.RUNNING
        m.d.comb += [self.soft_reset.eq(clear), sched.start.eq(start), regs.lock.eq(running),
                     self.running.eq(running), self.done.eq(sched.state == State.DONE)]

        # identification and status
        def fields(name, **values):
            reg = REGMAP[name]
            return sum((v << reg.field(f).lsb for f, v in values.items()), 0)

        status = REGMAP["STATUS"]
        m.d.comb += [
            regs.id_rd.eq(ID_VALUE), regs.version_rd.eq(VERSION_VALUE),
            regs.ibuf_depth_rd.eq(cfg.ibuf_depth),
            regs.params_rd.eq(fields("PARAMS", INFLIGHT=cfg.inflight, SRF_WORDS=cfg.srf_words,
                                     VRF_LOG2=cfg.vrf_elements.bit_length() - 1)),
            regs.status_rd[status.field("IDLE").lsb].eq(~running & sched.drained),
            regs.status_rd[status.field("RUNNING").lsb].eq(running),
            regs.status_rd[status.field("DONE").lsb].eq(sched.state == State.DONE),
            regs.status_rd[status.field("ERROR").lsb].eq(sched.state == State.ERROR),
            regs.pc_rd.eq(sched.pc),
            regs.err_code_rd.eq(sched.err_code), regs.err_info_rd.eq(sched.err_info),
            regs.err_pc_rd.eq(sched.err_pc),
            regs.xdma_probe_2000_rd.eq(0), regs.xdma_probe_3000_rd.eq(0),
        ]
        for i in range(4):
            m.d.comb += getattr(regs, f"err_word{i}_rd").eq(sched.err_word[32 * i:32 * (i + 1)])

        # system configuration
        c = self.sysconfig
        m.d.comb += [
            c.core_id.eq(regs.core_id), c.core_count.eq(regs.core_count),
            c.layer_count.eq(regs.layer_count), c.prompt_len.eq(regs.prompt_len),
            c.new_tokens.eq(regs.new_tokens),
            c.hbm_base.eq(Cat(regs.hbm_base_lo, regs.hbm_base_hi)),
            c.hbm_size.eq(Cat(regs.hbm_size_lo, regs.hbm_size_hi)),
            c.ddr_base.eq(Cat(regs.ddr_base_lo, regs.ddr_base_hi)),
            c.ddr_size.eq(Cat(regs.ddr_size_lo, regs.ddr_size_hi)),
            sched.program_len.eq(regs.program_len), sched.watchdog.eq(regs.watchdog),
            sched.cores.eq(regs.core_count),
        ]

        # instruction buffer: host writes, scheduler reads
        ibuf_addr = Signal(32)
        staged = [Signal(32, name=f"ibuf_data{i}") for i in range(3)]
        m.d.comb += [regs.ibuf_addr_rd.eq(ibuf_addr),
                     regs.ibuf_data3_refuse.eq(ibuf_addr >= cfg.ibuf_depth)]
        with m.If(regs.ibuf_addr_wr):
            m.d.sync += ibuf_addr.eq(regs.wdata)
        for i, reg in enumerate(staged):
            with m.If(getattr(regs, f"ibuf_data{i}_wr")):
                m.d.sync += reg.eq(regs.wdata)
        with m.If(regs.ibuf_data3_wr):
            m.d.sync += ibuf_addr.eq(ibuf_addr + 1)
        m.d.comb += [ibuf.waddr.eq(ibuf_addr), ibuf.wdata.eq(Cat(*staged, regs.wdata)),
                     ibuf.we.eq(regs.ibuf_data3_wr),
                     ibuf.raddr.eq(sched.raddr), ibuf.ren.eq(sched.ren),
                     sched.rdata.eq(ibuf.rdata)]
        assert len(ibuf.wdata) == WORD_BITS

        # units
        for name in UNIT_PORTS:
            wiring.connect(m, wiring.flipped(getattr(self, name)), getattr(sched, name))
            wiring.connect(m, wiring.flipped(getattr(self, f"{name}_error")),
                           getattr(sched, f"{name}_error"))
        m.d.comb += self.head.eq(sched.trace)
        wiring.connect(m, wiring.flipped(self.prefetch), sched.prefetch)

        # performance counters
        perf = sched.perf
        events = {"CYCLES": perf.running, "ISSUED": perf.issued, "STALL_DEP": perf.stall_dep,
                  "STALL_FULL": perf.stall_full, "STALL_END": perf.stall_end,
                  "BUBBLE": perf.bubble}
        for u, unit in enumerate(UNIT_NAMES):
            events[f"{unit}_BUSY"] = perf.busy[u]
            events[f"{unit}_WAIT"] = perf.wait[u]
            events[f"{unit}_IDLE"] = perf.running & ~perf.busy[u] & ~perf.wait[u]
        m.d.comb += [counters.events[i].eq(events[name]) for i, name in enumerate(COUNTER_NAMES)]
        startable = (sched.state == State.IDLE) | (sched.state == State.DONE)
        m.d.comb += counters.clear.eq(clear | (start & startable))
        for i, name in enumerate(COUNTER_NAMES):
            value = counters.values[i * COUNTER_BITS:(i + 1) * COUNTER_BITS]
            m.d.comb += [getattr(regs, f"perf_{name.lower()}_lo_rd").eq(value[:32]),
                         getattr(regs, f"perf_{name.lower()}_hi_rd").eq(value[32:])]
        return m


def make_control_unit(**fields):
    """``ControlUnit(config=ControlConfig(**fields))`` (for the synthesis and bench registries,
    whose parameters are plain values)."""
    return ControlUnit(config=ControlConfig(**fields))
