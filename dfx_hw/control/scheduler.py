"""The scheduler: fetch, decode, control instructions, scoreboard check and in-order issue.

Pipeline (one instruction per clock when nothing blocks; every stage a register)::

    F  fetch pc -> instruction buffer (synchronous read)
    D  word from the buffer
    P  word and its predecode (dfx_hw.control.decode.Predecoder: opcode one-hot, reserved-bit
       and field checks per opcode), pc-range check
    X  decoded (dfx_hw.control.decode.Decoder, from the P registers)
    Y  control registers applied: SETR/LOOP/END executed (and the watchdog counted) on the
       clock an instruction arrives in the X registers, whether or not it moves on; lengths
       + TOKEN, scalar masks, LAYER offsets, TOKEN * stride
    Z  range ends, memory keys
    H  register-file range checks; conflicts with every in-flight instruction (scoreboard) and
       with the instruction at the issue stage, except, for an instruction of a self-ordered
       unit (``spec.units.SELF_ORDERED``: the vector unit), that unit's own (it issues with
       the ``after`` bit, spec.issue)
    I  issue: to the unit's queue when no conflicting instruction is still in flight and the
       unit has fewer than ``inflight`` in flight; SETR/LOOP retire; END waits until every
       unit has written back; an instruction carrying an error stops the run here, in program
       order

A taken LOOP normally jumps on the clock it arrives at P (two bubbles; its compare is made as
the word leaves the buffer), and from X (three bubbles) when a SETR or LOOP right ahead of it
could change its register under it (see "early LOOP jump at P" below). While stopped the buffer
reads pc 0 on every clock, so the START clock is pc 0's fetch.

The stages from F to X (F, D, P, X) hold while the LAYER offsets (``LAYER * HBM_STRIDE``,
``LAYER * DDR_STRIDE``, a two-clock pipelined multiply) are recomputed after a SETR or LOOP of
LAYER or a stride; the stages from Y to I move on (the issue stage gets a bubble).

Issue queues: one :class:`~amaranth.lib.fifo.SyncFIFOBuffered` of ``inflight``
:data:`~dfx_hw.spec.issue.ISSUE_LAYOUT` entries per unit (registered outputs). After an error
the queues stop handing out instructions; the units finish what they have started.

Weight prefetch: a matrix instruction that streams weights (CONV1D, MASKEDMM, MM) is also
offered on ``prefetch`` (for the DMA's weight stream) as soon as it reaches the issue stage and
no instruction in flight writes the memory region it reads -- usually long before its
register-file inputs are ready, so the weights' memory latency overlaps the wait. It is offered
one stage earlier, at H, when the instruction at I has been offered (or streams no weights)
and neither an instruction in flight nor the one at I writes what it reads: a matrix
instruction right behind one that waits for a softmax gets its weights meanwhile. Every such
instruction is offered exactly once, in program order, and never issues before it has been
offered; the queue (``inflight + 2`` entries, registered output) stops with the others after an
error.
"""

from amaranth import *
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ..isa.layouts import LAYOUTS, OPCODE_BITS, WORD_BITS, InstrClass, Opcode, Register
from ..spec.errors import ErrorCode, ErrorSignature
from ..spec.issue import ISSUE_LAYOUT, TOKEN_BITS, IssueSignature
from .decode import OPCODES, Ctrl, Decoder, Predecoder, decoded_layout, predecoded_layout
from .params import PC_BITS, ControlConfig
from .rules import KEY_BITS, SELF_ORDERED, UNITS
from .scoreboard import STOP_BITS, Scoreboard, access_layout, conflict, reads_written_key

__all__ = ["State", "Scheduler", "PERF_LAYOUT", "TRACE_LAYOUT", "UNIT_PORTS",
           "WEIGHT_OPCODES"]

#: Port-name prefix of each unit (``UNITS`` order).
UNIT_PORTS = tuple(u.name.lower() for u in UNITS)

#: The matrix instructions that stream weights from memory (offered on ``prefetch``).
WEIGHT_OPCODES = (Opcode.CONV1D, Opcode.MASKEDMM, Opcode.MM)

#: What the counters see each clock.
PERF_LAYOUT = data.StructLayout({
    "running": 1, "issued": 1, "stall_dep": 1, "stall_full": 1, "stall_end": 1, "bubble": 1,
    "busy": len(UNITS), "wait": len(UNITS),
})

#: The issue stage, for benches and debug: the instruction there and whether it leaves.
TRACE_LAYOUT = data.StructLayout({"valid": 1, "pc": PC_BITS, "fire": 1})


class State(enum.Enum, shape=2):
    IDLE = 0
    RUNNING = 1
    DONE = 2
    ERROR = 3


_U32 = 32
_LEN_BITS = STOP_BITS - 1


def _below(value, limit):
    """``value < limit`` for a 32-bit ``value`` and a narrower ``limit``: a compare as wide as
    ``limit`` (a short carry chain) and a zero test of the rest."""
    n = len(limit)
    return (value[n:] == 0) & (value[:n] < limit)


def _mul_lo32(m, a, b, name):
    """``(a * b) mod 2**32`` of two 32-bit registers, two clocks later, from 16-bit partial
    products (three DSP multiplies, then one 16-bit three-input sum)."""
    p0 = Signal(32, name=f"{name}_p0")
    p1 = Signal(16, name=f"{name}_p1")
    p2 = Signal(16, name=f"{name}_p2")
    out = Signal(32, name=name)
    m.d.sync += [p0.eq(a[:16] * b[:16]), p1.eq(a[16:] * b[:16]), p2.eq(a[:16] * b[16:])]
    m.d.sync += out.eq(Cat(p0[:16], p0[16:] + p1 + p2))
    return out


class Scheduler(wiring.Component):
    """Runs a program from the instruction buffer: see the module docstring.

    Parameters
    ----------
    config : ControlConfig

    Members
    -------
    start : In(1)
        Start at pc 0 (acted on when IDLE or DONE): control registers and watchdog reset.
    program_len, watchdog : In(32)
        Instructions loaded; instruction limit (0: none).
    cores : In(16)
        Ring size.
    raddr, ren : Out, rdata : In(WORD_BITS)
        Instruction-buffer read port.
    <unit> : In(IssueSignature)
        Per unit (``matrix``, ``vector``, ``dma``, ``router``): instructions out, write-back in.
    <unit>_error : In(ErrorSignature)
    prefetch : Out(stream.Signature(ISSUE_LAYOUT))
        The weight-streaming matrix instructions, each once, in order, ahead of their issue
        (module docstring).
    state : Out(State)
    err_code, err_info, err_pc, err_word : Out
        The first error (the word is read back from the buffer two clocks after the error).
    drained : Out(1)
        Nothing started in any unit is still waiting for write-back.
    pc : Out(PC_BITS)
        pc of the instruction at the issue stage.
    trace : Out(TRACE_LAYOUT)
    perf : Out(PERF_LAYOUT)
    """

    def __init__(self, *, config):
        if not isinstance(config, ControlConfig):
            raise ValueError(f"config must be a ControlConfig, not {config!r}")
        self._config = config
        members = {
            "start": In(1), "program_len": In(32), "watchdog": In(32), "cores": In(16),
            "raddr": Out(range(config.ibuf_depth)), "ren": Out(1), "rdata": In(WORD_BITS),
            "state": Out(State), "err_code": Out(ErrorCode), "err_info": Out(32),
            "err_pc": Out(PC_BITS), "err_word": Out(WORD_BITS), "drained": Out(1),
            "pc": Out(PC_BITS), "trace": Out(TRACE_LAYOUT), "perf": Out(PERF_LAYOUT),
            "prefetch": Out(stream.Signature(ISSUE_LAYOUT)),
        }
        for name in UNIT_PORTS:
            members[name] = In(IssueSignature)
            members[f"{name}_error"] = In(ErrorSignature)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        access = access_layout(cfg.srf_words)
        dec_layout = decoded_layout()
        n_units = len(UNITS)
        slot_bits = (cfg.inflight - 1).bit_length()

        m.submodules.predecoder = predecoder = Predecoder(l=cfg.l, d=cfg.d)
        m.submodules.decoder = decoder = Decoder(l=cfg.l, d=cfg.d)
        m.submodules.scoreboard = sb = Scoreboard(config=cfg)
        fifos = []
        for name in UNIT_PORTS:
            fifo = SyncFIFOBuffered(width=ISSUE_LAYOUT.size, depth=cfg.inflight)
            m.submodules[f"queue_{name}"] = fifo
            fifos.append(fifo)
        m.submodules.queue_prefetch = pf_queue = SyncFIFOBuffered(width=ISSUE_LAYOUT.size,
                                                                  depth=cfg.inflight + 2)

        running = Signal()
        halted = Signal()           # an error stopped the queues
        m.d.comb += [running.eq(self.state == State.RUNNING)]
        fetching = Signal()         # running and no END/error seen at Y
        fetch_on = Signal()
        m.d.comb += fetching.eq(fetch_on)
        adv_front, adv_back, y_hold = Signal(), Signal(), Signal()

        # ---- F / D: fetch --------------------------------------------------------------------
        fetch_pc = Signal(PC_BITS)
        d_valid, d_pc = Signal(), Signal(PC_BITS)
        capture, capture_d = Signal(), Signal()
        m.d.comb += [
            self.raddr.eq(Mux(capture, self.err_pc, fetch_pc)),
            self.ren.eq(capture | adv_back),
        ]
        with m.If(adv_back):
            m.d.sync += [d_valid.eq(fetching), d_pc.eq(fetch_pc), fetch_pc.eq(fetch_pc + 1)]

        # ---- P: word and predecode (nothing after the block RAM but the predecode) -----------
        p_valid, p_pc = Signal(), Signal(PC_BITS)
        p_word = Signal(WORD_BITS)
        p_pre = Signal(predecoded_layout())
        p_oop = Signal()            # the pc is beyond the program: PC_RANGE
        m.d.comb += predecoder.word.eq(self.rdata)
        with m.If(adv_back):
            m.d.sync += [p_valid.eq(d_valid), p_pc.eq(d_pc), p_word.eq(self.rdata),
                         p_pre.eq(predecoder.out),
                         p_oop.eq((d_pc >= self.program_len) | (d_pc >= cfg.ibuf_depth))]

        # ---- X: decode -----------------------------------------------------------------------
        x_valid, x_pc = Signal(), Signal(PC_BITS)
        x_word = Signal(WORD_BITS)
        x = Signal(dec_layout)
        x_imm1 = Signal(32)
        x_early = Signal()          # a LOOP whose jump was already taken at P
        x_bad = Signal()            # x.error != NONE (a register: off the execute path)
        early, p_taken = Signal(), Signal()
        m.d.comb += [decoder.word.eq(p_word), decoder.pre.eq(p_pre), decoder.cores.eq(self.cores)]
        with m.If(adv_back):
            m.d.sync += [x_valid.eq(p_valid), x_pc.eq(p_pc), x_word.eq(p_word),
                         x.eq(decoder.out), x_early.eq(early | p_taken), p_taken.eq(0),
                         # SETR's imm32 + 1 from the raw word: an adder, not after the decoder
                         x_imm1.eq(LAYOUTS[Opcode.SETR](p_word).imm32 + 1)]
            m.d.sync += x_bad.eq(p_oop | (decoder.out.error != ErrorCode.NONE))
            with m.If(p_oop):
                m.d.sync += [x.error.eq(ErrorCode.PC_RANGE), x.info.eq(p_pc)]

        # ---- Y: control registers ------------------------------------------------------------
        regs = [Signal(32, name=f"reg_{r.name.lower()}") for r in Register]
        regs1 = [Signal(32, name=f"reg_{r.name.lower()}_plus1", init=1) for r in Register]
        token, layer = regs[Register.TOKEN.value], regs[Register.LAYER.value]
        hbm_off = _mul_lo32(m, layer, regs[Register.HBM_STRIDE.value], "hbm_offset")
        ddr_off = _mul_lo32(m, layer, regs[Register.DDR_STRIDE.value], "ddr_offset")
        stale = Signal(2)
        with m.If(stale != 0):
            m.d.sync += stale.eq(stale - 1)
        m.d.comb += y_hold.eq((stale != 0) & x_valid)
        remaining = Signal(32)      # watchdog: instructions still allowed
        wd_on = Signal()            # WATCHDOG != 0 at START
        wd_hit = Signal()           # wd_on and remaining == 0 (a register: off the decode path)
        tok16 = token[:TOKEN_BITS]
        tok_big = Signal()          # TOKEN >= 2**16, a register written with TOKEN

        # errors found at Y
        y_err, y_info = Signal(ErrorCode), Signal(32)
        # (expressions, not If blocks: an If block whose inputs never change stays X in Icarus)
        srf_err, srf_info = Signal(), Signal(8)
        info = C(0, 8)
        for sr in (x.sw, x.sr2, x.sr1):      # sr1 first
            last = sr.idx + sr.pair
            bad = sr.valid & (last >= cfg.srf_words)
            info = Mux(bad, Mux(sr.idx >= cfg.srf_words, sr.idx, last), info)
        m.d.comb += [srf_err.eq(Cat(*(sr.valid & ((sr.idx + sr.pair) >= cfg.srf_words)
                                      for sr in (x.sr1, x.sr2, x.sw))).any()),
                     srf_info.eq(info)]
        # An instruction is checked and (SETR/LOOP/END) executed on the clock it arrives in the
        # X registers, whether or not it moves on then: nothing here waits for the issue stage.
        x_new = Signal()
        arrive = Signal()
        m.d.sync += x_new.eq(0)
        with m.If(adv_back):
            m.d.sync += x_new.eq(p_valid)
        m.d.comb += arrive.eq(x_valid & x_new)
        # the checks made on arrival (a_*), kept for the clocks the instruction stays (kept_*)
        a_err, a_info = Signal(ErrorCode), Signal(32)
        kept_err, kept_info = Signal(ErrorCode), Signal(32)
        m.d.comb += [a_err.eq(Mux(wd_hit, ErrorCode.WATCHDOG,
                                  Mux(x.token & tok_big, ErrorCode.FIELD_RANGE,
                                      Mux(srf_err, ErrorCode.SRF_RANGE, ErrorCode.NONE)))),
                     a_info.eq(Mux(wd_hit, self.watchdog,
                                   Mux(x.token & tok_big, token, srf_info)))]
        with m.If(arrive):
            m.d.sync += [kept_err.eq(a_err), kept_info.eq(a_info)]
        # the decoder's error first
        m.d.comb += [y_err.eq(Mux(x_bad, x.error, Mux(arrive, a_err, kept_err))),
                     y_info.eq(Mux(x_bad, x.info, Mux(arrive, a_info, kept_info)))]

        faulty = Signal()      # the same condition as y_err != NONE on arrival, as a flat OR
        m.d.comb += faulty.eq(x_bad | wd_hit | (x.token & tok_big) | srf_err)
        execute = arrive & ~faulty
        redirect, stop = Signal(), Signal()
        with m.If(arrive & wd_on & ~wd_hit):
            m.d.sync += [remaining.eq(remaining - 1), wd_hit.eq(remaining == 1)]
        reg_index = x.reg
        with m.If(execute & (x.ctrl == Ctrl.SETR)):
            for r in Register:
                with m.If(reg_index == r.value):
                    m.d.sync += [regs[r.value].eq(x.imm32), regs1[r.value].eq(x_imm1)]
                    if r is Register.TOKEN:
                        m.d.sync += tok_big.eq(x.imm32[TOKEN_BITS:].any())
                    if r is not Register.TOKEN:
                        m.d.sync += stale.eq(2)
        stepped = Signal(32)
        m.d.comb += stepped.eq(Array(regs1)[reg_index])
        with m.If(execute & (x.ctrl == Ctrl.LOOP)):
            for r in Register:
                with m.If(reg_index == r.value):
                    m.d.sync += [regs[r.value].eq(regs1[r.value]),
                                 regs1[r.value].eq(regs1[r.value] + 1)]
                    if r is Register.TOKEN:
                        m.d.sync += tok_big.eq(regs1[r.value][TOKEN_BITS:].any())
                    if r is Register.LAYER:
                        m.d.sync += stale.eq(2)
        m.d.comb += [
            redirect.eq(execute & (x.ctrl == Ctrl.LOOP) & _below(stepped, x.limit) & ~x_early),
            stop.eq(arrive & ((x.ctrl == Ctrl.END) | faulty)),
        ]

        # Y registers
        y_valid, y_pc = Signal(), Signal(PC_BITS)
        y_unit, y_issue, y_ctrl = Signal(range(n_units)), Signal(), Signal(2)
        y_e, y_i = Signal(ErrorCode), Signal(32)
        y_ctx = Signal(ISSUE_LAYOUT)
        y_rng = {k: (Signal(x[k].base.shape(), name=f"y_{k}_base"),
                     Signal(_LEN_BITS, name=f"y_{k}_len"), Signal(name=f"y_{k}_valid"))
                 for k in ("r1", "r2", "w")}
        y_pad = Signal()
        y_rmask, y_wmask = Signal(cfg.srf_words), Signal(cfg.srf_words)
        y_keys = {k: (Signal(KEY_BITS, name=f"y_{k}_part"), Signal(32, name=f"y_{k}_product"),
                      Signal(name=f"y_{k}_valid"), Signal(name=f"y_{k}_hbm"))
                  for k in ("rkey", "wkey")}

        def mask_of(sr):
            one = Signal(cfg.srf_words + 1)
            m.d.comb += one.eq(Mux(sr.valid, C(1, cfg.srf_words + 1) << sr.idx, 0))
            return (one | Mux(sr.pair, one << 1, 0))[:cfg.srf_words]

        with m.If(adv_front):
            m.d.sync += [
                y_valid.eq(x_valid & ~y_hold), y_pc.eq(x_pc),
                y_unit.eq(x.unit), y_issue.eq(x.issue), y_ctrl.eq(x.ctrl),
                y_e.eq(y_err), y_i.eq(y_info),
                y_ctx.word.eq(x_word), y_ctx.token.eq(tok16),
                y_ctx.hbm_offset.eq(hbm_off), y_ctx.ddr_offset.eq(ddr_off),
                y_pad.eq(x.w.pad),
                y_rmask.eq(mask_of(x.sr1) | mask_of(x.sr2)), y_wmask.eq(mask_of(x.sw)),
            ]
            for k, (base, length, valid) in y_rng.items():
                src = x[k]
                m.d.sync += [base.eq(src.base), valid.eq(src.valid),
                             length.eq(src.n + Mux(src.tok, tok16, 0))]
            for k, (part, product, valid, hbm) in y_keys.items():
                src = x[k]
                addr = Mux(src.hbm, src.base << cfg.tile_shift, src.base)
                offset = Mux(src.layer, Mux(src.hbm, hbm_off, ddr_off), 0)
                m.d.sync += [part.eq(addr + offset), valid.eq(src.valid), hbm.eq(src.hbm),
                             product.eq(Mux(src.tok, tok16 * src.stride, 0))]
            with m.If(y_hold):
                m.d.sync += y_valid.eq(0)

        # ---- Z: range ends and keys ----------------------------------------------------------
        z_valid, z_pc = Signal(), Signal(PC_BITS)
        z_unit, z_issue, z_ctrl = Signal(range(n_units)), Signal(), Signal(2)
        z_e, z_i = Signal(ErrorCode), Signal(32)
        z_ctx = Signal(ISSUE_LAYOUT)
        z = Signal(access)
        with m.If(adv_front):
            m.d.sync += [z_valid.eq(y_valid), z_pc.eq(y_pc), z_unit.eq(y_unit),
                         z_issue.eq(y_issue), z_ctrl.eq(y_ctrl), z_e.eq(y_e), z_i.eq(y_i),
                         z_ctx.eq(y_ctx), z.rmask.eq(y_rmask), z.wmask.eq(y_wmask)]
            for k, (base, length, valid) in y_rng.items():
                if k == "w":
                    keep = C(((1 << _LEN_BITS) - 1) ^ (cfg.l - 1), _LEN_BITS)
                    length = Mux(y_pad, length & keep, length)
                m.d.sync += [z[k].valid.eq(valid), z[k].start.eq(base),
                             z[k].stop.eq(base + length)]
            for k, (part, product, valid, hbm) in y_keys.items():
                m.d.sync += [z[k].valid.eq(valid),
                             z[k].addr.eq(Cat((part + product)[:KEY_BITS], hbm))]

        # ---- H: range checks and conflicts ---------------------------------------------------
        i_valid, i_pc = Signal(), Signal(PC_BITS)
        i_unit, i_issue, i_ctrl = Signal(range(n_units)), Signal(), Signal(2)
        i_e, i_i = Signal(ErrorCode), Signal(32)
        i_enone = Signal()          # i_e == NONE
        i_ctx = Signal(ISSUE_LAYOUT)
        i = Signal(access)
        i_hits = Signal(n_units * cfg.inflight)
        i_own_hits = Signal(n_units * cfg.inflight)   # conflicts with its own self-ordered unit
        i_key_hits = Signal(n_units * cfg.inflight)   # in-flight writers of what I's prefetch reads
        i_weights = Signal()                          # I streams weights (WEIGHT_OPCODES)
        i_fire = Signal()

        h_err, h_info = Signal(ErrorCode), Signal(32)
        m.d.comb += [h_err.eq(z_e), h_info.eq(z_i)]
        with m.If(z_e == ErrorCode.NONE):
            for k in ("w", "r2", "r1"):       # the last assignment wins: r1 first
                with m.If(z[k].valid & (z[k].stop > cfg.vrf_elements)):
                    m.d.comb += [h_err.eq(ErrorCode.VRF_RANGE), h_info.eq(z[k].start)]

        m.d.comb += sb.probe.eq(z)
        # (plain expressions, no If blocks: Icarus evaluates continuous assignments at time 0)
        ahead = Signal()     # the instruction at I issues now and z conflicts with it
        m.d.comb += ahead.eq(i_fire & i_issue & conflict(z, i))
        tails = [sb.tail[u * slot_bits:(u + 1) * slot_bits] for u in range(n_units)]
        # an instruction for a self-ordered unit (spec.units.SELF_ORDERED) does not wait for that
        # unit's own in-flight instructions: the unit orders them itself
        foreign = [~(z_unit == u) if UNITS[u] in SELF_ORDERED else C(1, 1)
                   for u in range(n_units)]
        raw_hits = [sb.hits[u * cfg.inflight + s] | (ahead & (i_unit == u) & (tails[u] == s))
                    for u in range(n_units) for s in range(cfg.inflight)]
        hits = Cat(raw_hits[u * cfg.inflight + s] & foreign[u]
                   for u in range(n_units) for s in range(cfg.inflight))
        # ... but it is marked `after` (spec.issue) so that its unit waits for them
        own_hits = Cat(raw_hits[u * cfg.inflight + s] & ~foreign[u]
                       for u in range(n_units) for s in range(cfg.inflight))
        key_ahead = Signal()
        m.d.comb += key_ahead.eq(i_fire & i_issue & reads_written_key(z, i))
        key_hits = Cat(sb.key_hits[u * cfg.inflight + s]
                       | (key_ahead & (i_unit == u) & (tails[u] == s))
                       for u in range(n_units) for s in range(cfg.inflight))
        z_opcode = z_ctx.word[:OPCODE_BITS]
        z_weights = (z_unit == UNITS.index(InstrClass.MATRIX)) & Cat(
            z_opcode == op for op in WEIGHT_OPCODES).any()

        with m.If(adv_front):
            m.d.sync += [i_valid.eq(z_valid), i_pc.eq(z_pc), i_unit.eq(z_unit),
                         i_issue.eq(z_issue), i_ctrl.eq(z_ctrl), i_e.eq(h_err), i_i.eq(h_info),
                         i_enone.eq(h_err == ErrorCode.NONE),
                         i_ctx.eq(z_ctx), i.eq(z), i_hits.eq(hits), i_key_hits.eq(key_hits),
                         i_own_hits.eq(own_hits),
                         i_weights.eq(z_weights)]

        # ---- I: issue ------------------------------------------------------------------------
        dep = Signal()
        full = Signal()
        empty = Signal()
        m.d.comb += [dep.eq((i_hits & sb.valid).any()), full.eq(sb.full.bit_select(i_unit, 1)),
                     empty.eq(~sb.busy.any())]
        ok = running & i_valid & i_enone
        # weight prefetch: offered once per instruction at I, when no writer of its memory
        # region is in flight; it may not issue before (pf_ok). The instruction behind I (at
        # H) is offered too, once I has been (program order) and when neither an instruction
        # in flight nor the one at I writes what it reads: while I waits for its operands, the
        # next matrix instruction's weights are already on their way.
        pf_sent, pf_go = Signal(), Signal()
        key_dep = (i_key_hits & sb.valid).any()
        m.d.comb += pf_go.eq(ok & i_weights & ~pf_sent & ~key_dep & pf_queue.w_rdy)
        h_sent, h_go = Signal(), Signal()    # the instruction at H was offered (early)
        # (from the scoreboard's own hits: the slot I would take this clock is not valid yet,
        # and the second term covers I whether it fires or not -- so I's issue, a long path,
        # stays out of the prefetch decision)
        h_key_dep = (sb.key_hits & sb.valid).any() | \
            (i_valid & i_issue & reads_written_key(z, i))
        m.d.comb += h_go.eq(running & z_valid & (h_err == ErrorCode.NONE) & z_weights &
                            ~h_sent & ~h_key_dep & pf_queue.w_rdy & ~pf_go &
                            (~i_valid | ~i_weights | pf_sent))
        m.d.comb += [pf_queue.w_en.eq(pf_go | h_go),
                     pf_queue.w_data.eq(Mux(pf_go, i_ctx, z_ctx))]
        pf_ok = ~i_weights | pf_sent | pf_queue.w_rdy
        m.d.comb += i_fire.eq(ok & Mux(i_issue, ~dep & ~full & pf_ok,
                                       Mux(i_ctrl == Ctrl.END, empty, 1)))
        m.d.comb += [adv_front.eq(~i_valid | i_fire), adv_back.eq(adv_front & ~y_hold)]
        m.d.comb += [sb.alloc.valid.eq(i_fire & i_issue), sb.alloc.unit.eq(i_unit),
                     sb.alloc.access.eq(i), sb.alloc.pc.eq(i_pc)]
        issued = Signal(ISSUE_LAYOUT)
        m.d.comb += [issued.eq(i_ctx), issued.after.eq((i_own_hits & sb.valid).any())]
        for u, (name, fifo) in enumerate(zip(UNIT_PORTS, fifos)):
            port = getattr(self, name)
            m.d.comb += [
                fifo.w_en.eq(i_fire & i_issue & (i_unit == u)), fifo.w_data.eq(issued),
                port.issue.valid.eq(fifo.r_rdy & ~halted), port.issue.payload.eq(fifo.r_data),
                fifo.r_en.eq(port.issue.ready & ~halted), sb.done[u].eq(port.done),
            ]

        m.d.comb += [
            self.prefetch.valid.eq(pf_queue.r_rdy & ~halted),
            self.prefetch.payload.eq(pf_queue.r_data),
            pf_queue.r_en.eq(self.prefetch.ready & ~halted),
        ]
        with m.If(adv_front):
            # the next instruction enters I (offered already if it was at H), H a new one
            m.d.sync += [pf_sent.eq(h_sent | h_go), h_sent.eq(0)]
        with m.Else():
            with m.If(pf_go):
                m.d.sync += pf_sent.eq(1)
            with m.If(h_go):
                m.d.sync += h_sent.eq(1)

        # ---- early LOOP jump at P -------------------------------------------------------------
        # A LOOP jumps on the clock it arrives at P when the control registers cannot change
        # under it: its compare (``reg + 1 < limit``) is made as the word leaves the buffer
        # (D -> P), so no SETR or LOOP may have executed at X on that clock or this one. It then
        # executes at X as usual (register stepped) but does not jump again. Otherwise (and for
        # a LOOP at X that did not jump at P) X decides as before: one bubble more.
        loop_d = LAYOUTS[Opcode.LOOP](self.rdata)
        p_lt, p_new, wrote_prev = Signal(), Signal(), Signal()
        wrote_now = arrive & ((x.ctrl == Ctrl.SETR) | (x.ctrl == Ctrl.LOOP))
        m.d.sync += [p_new.eq(0), wrote_prev.eq(wrote_now)]
        with m.If(adv_back):
            m.d.sync += [p_new.eq(d_valid),
                         p_lt.eq(_below(Array(regs1)[loop_d.reg.as_value()[:2]], loop_d.limit))]
        m.d.comb += early.eq(p_valid & p_new & p_pre.onehot[OPCODES.index(Opcode.LOOP)] & p_lt
                             & ~wrote_now & ~wrote_prev)
        with m.If(early):
            m.d.sync += [d_valid.eq(0), fetch_pc.eq(LAYOUTS[Opcode.LOOP](p_word).target)]
            with m.If(adv_back):
                m.d.sync += p_valid.eq(0)
            with m.Else():
                m.d.sync += p_taken.eq(1)

        # ---- run state, errors ---------------------------------------------------------------
        # squash what was fetched behind a taken LOOP / END / error (x_valid only if the X
        # registers take the next word now; otherwise they still hold the LOOP itself)
        with m.If(redirect | stop):
            m.d.sync += [d_valid.eq(0), p_valid.eq(0)]
            with m.If(adv_back):
                m.d.sync += x_valid.eq(0)
        with m.If(redirect):
            m.d.sync += fetch_pc.eq(x.target)
        with m.If(stop):
            m.d.sync += fetch_on.eq(0)

        def flush():
            return [fetch_on.eq(0), fetch_pc.eq(0), d_valid.eq(0), p_valid.eq(0), p_taken.eq(0),
                    x_valid.eq(0), y_valid.eq(0), z_valid.eq(0), i_valid.eq(0)]

        unit_err = Signal()
        unit_code, unit_info, unit_pc = Signal(ErrorCode), Signal(32), Signal(PC_BITS)
        # SPURIOUS_DONE's pc: the instruction at the issue stage, or the last one that was there
        # when the stage holds a bubble (a bubble's pc register holds a squashed instruction's)
        last_pc = Signal(PC_BITS)
        with m.If(i_valid):
            m.d.sync += last_pc.eq(i_pc)
        reports = Cat(*(getattr(self, f"{name}_error").valid for name in UNIT_PORTS))
        m.d.comb += unit_err.eq(reports.any() | sb.spurious.any())
        with m.If(~reports.any()):
            m.d.comb += [unit_code.eq(ErrorCode.SPURIOUS_DONE),
                         unit_pc.eq(Mux(i_valid, i_pc, last_pc))]
            for u in reversed(range(n_units)):
                with m.If(sb.spurious[u]):
                    m.d.comb += unit_info.eq(u)
        for u, name in reversed(list(enumerate(UNIT_PORTS))):   # lowest unit index wins
            report = getattr(self, f"{name}_error")
            with m.If(report.valid):
                m.d.comb += [unit_code.eq(report.code), unit_info.eq(report.info),
                             unit_pc.eq(sb.head_pc[u * PC_BITS:(u + 1) * PC_BITS])]

        with m.Switch(self.state):
            with m.Case(State.IDLE, State.DONE):
                # while stopped the buffer reads pc 0 every clock: the START clock is pc 0's
                # fetch (F), so the word is at D on the next clock
                with m.If(self.start):
                    m.d.sync += [self.state.eq(State.RUNNING), fetch_on.eq(1), fetch_pc.eq(1),
                                 d_valid.eq(1), d_pc.eq(0),
                                 remaining.eq(self.watchdog), stale.eq(2), tok_big.eq(0),
                                 wd_on.eq(self.watchdog != 0), wd_hit.eq(0)]
                    m.d.sync += [r.eq(0) for r in regs] + [r.eq(1) for r in regs1]
                with m.Else():
                    m.d.sync += fetch_pc.eq(0)
            with m.Case(State.ERROR):
                m.d.sync += fetch_pc.eq(0)
            with m.Case(State.RUNNING):
                with m.If(unit_err):
                    m.d.sync += [self.state.eq(State.ERROR), self.err_code.eq(unit_code),
                                 self.err_info.eq(unit_info), self.err_pc.eq(unit_pc),
                                 halted.eq(1)]
                    m.d.sync += flush()
                with m.Elif(i_valid & ~i_enone):
                    m.d.sync += [self.state.eq(State.ERROR), self.err_code.eq(i_e),
                                 self.err_info.eq(i_i), self.err_pc.eq(i_pc), halted.eq(1)]
                    m.d.sync += flush()
                with m.Elif(i_fire & (i_ctrl == Ctrl.END) & ~i_issue):
                    m.d.sync += self.state.eq(State.DONE)
                    m.d.sync += flush()
        m.d.sync += [capture.eq(0), capture_d.eq(capture)]
        with m.If(self.state == State.RUNNING):
            with m.If(unit_err | (i_valid & ~i_enone)):
                m.d.sync += capture.eq(~(~unit_err & (i_e == ErrorCode.PC_RANGE)))
        with m.If(capture_d):
            m.d.sync += self.err_word.eq(self.rdata)

        started = Signal(n_units)
        count_bits = cfg.inflight.bit_length()
        for u, fifo in enumerate(fifos):
            count = sb.counts[u * count_bits:(u + 1) * count_bits]
            m.d.comb += started[u].eq(fifo.level != count)
        m.d.comb += self.drained.eq(~started.any())

        # ---- observation ---------------------------------------------------------------------
        m.d.comb += [
            self.pc.eq(i_pc),
            self.trace.valid.eq(running & i_valid), self.trace.pc.eq(i_pc),
            self.trace.fire.eq(i_fire),
            self.perf.running.eq(running),
            self.perf.issued.eq(i_fire),
            self.perf.stall_dep.eq(ok & i_issue & dep),
            self.perf.stall_full.eq(ok & i_issue & ~dep & (full | ~pf_ok)),
            self.perf.stall_end.eq(ok & ~i_issue & (i_ctrl == Ctrl.END) & ~empty),
            self.perf.bubble.eq(running & ~i_valid),
            self.perf.busy.eq(Mux(running, sb.busy, 0)),
        ]
        for u in range(n_units):
            m.d.comb += self.perf.wait[u].eq(running & ~sb.busy[u] & ok & i_issue
                                             & (i_unit == u) & dep)
        return m

