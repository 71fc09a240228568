"""Vector operand collector: decodes VPU micro-ops into per-word beats over the register files,
the load stream (DMA/router buffers) and the store stream, and resolves data hazards."""

from amaranth import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from .layouts import OP_CONTROL, ASource, AluOp, BSource, Opcode, Sink, Unary
from .regfile import read_port_signature

__all__ = ["OperandCollector", "control_layout", "beat_layout", "decode", "SETTLE_LEAD"]

#: Clocks ahead of its operands' last write that :attr:`OperandCollector.settling` rises: about
#: the path of a micro-op offered to the core's register-file port into the pending register.
SETTLE_LEAD = 3

#: Decoded control of a micro-op (the fields of :class:`~dfx_hw.vpu.layouts.OpControl`).
control_layout = data.StructLayout({
    "a": ASource, "b": BSource, "alu": AluOp, "unary": Unary, "sink": Sink,
})


def beat_layout(config):
    """One word of work for the datapath, one clock after the register-file reads it names.

    ``dst`` is the destination word (vector sink) or scalar register (scalar sinks); ``mask``
    the lanes holding elements (the tail of a vector is partial); ``first``/``last`` delimit a
    micro-op.
    """
    return data.StructLayout({
        "valid": 1,
        "ctrl": control_layout,
        "mask": config.lanes,
        "first": 1,
        "last": 1,
        "dst": max(config.word_addr_width, config.srf_addr_width),
        "imm": 16,
    })


def decode(m, opcode, ctrl):
    """Drive the :data:`control_layout` view ``ctrl`` from ``opcode`` (combinational), by
    :data:`~dfx_hw.vpu.layouts.OP_CONTROL`."""
    with m.Switch(opcode):
        for name, control in OP_CONTROL.items():
            with m.Case(Opcode[name]):
                m.d.comb += ctrl.eq(control_layout.const({
                    "a": control.a, "b": control.b, "alu": control.alu,
                    "unary": control.unary, "sink": control.sink,
                }))


class OperandCollector(wiring.Component):
    """Turns VPU micro-ops into beats, one register-file word per clock.

    A micro-op (``instr`` stream, :func:`~dfx_hw.vpu.layouts.micro_op_layout`) is decoded into a
    pending register (its address ranges precomputed), then, of ``length`` elements, becomes ``ceil(length / lanes)`` beats (scalar micro-ops: one). On the clock a beat
    is issued the collector drives the vector register file read ports (``vrf_a`` with word
    ``src1 / lanes + i``, ``vrf_b`` with ``src2 / lanes + i``), the scalar register file read
    ports (registers ``src1``, ``src2``) and, for loads, takes one word from ``load``; on the next
    clock ``beat`` (and ``beat_load``) describe that word to the datapath.

    Write-back: a beat without a table function writes ``short_latency`` clocks after its issue
    (VFU result), a beat with one (``VEXP``, ``SRECIP``, ``SRSQRT``, ``SPOW2INV``)
    ``long_latency`` clocks after (SFU_V result), a reduction ``reduction_latency`` clocks after
    its last beat (accumulator), ``long_latency - short_latency`` more when it reduces a table
    function's results (``VEXPACC``: the accumulator takes the beats as they are written). A
    short beat is not issued until every earlier long beat has written, so the register-file
    writes of beats (and the accumulator's inputs) happen in issue order, one per clock.

    Hazards: every micro-op that writes a register file holds a *slot* (the written word range or
    scalar register) from its acceptance until its last write is done. A micro-op is accepted only
    when none of the words or scalars it reads (and no scalar it writes: reductions write late,
    through their own port) is in an active slot, so a dependent micro-op waits exactly until its
    operands are written; independent micro-ops follow back to back (one idle clock between
    micro-ops). Reads happen at issue, before any later write, so there are no write-after-read
    hazards. A micro-op whose destination overlaps its own source other than exactly (same start)
    is not supported. Word ranges are compared slot by slot; scalar registers through a
    scoreboard (one bit per register, the union of the active slots' guarded registers,
    registered from the slots' state of the clock before: exact whenever a micro-op can be
    accepted, since none can be on the clock after one was).

    Reductions: beats of ``ACCUM`` are issued every ``sum_interval`` clocks (1 with the
    interleaved partial sums of :class:`~dfx_hw.vpu.accumulator.Accumulator`), of
    ``VMAX``/``VAMAX`` every ``max_interval`` clocks (the running maximum's comparator latency). Stores: at most
    ``store_depth`` beats are in the store buffer or on their way to it (``store_pop`` returns a
    credit).

    Retirement: ``retire`` pulses once per legal micro-op, in acceptance order, on the clock
    after everything the micro-op writes is in its register file (a ``STORE``/``SSTORE``: after
    its last word has entered the store buffer). Every legal micro-op holds its slot until it
    retires (a store's slot guards nothing), so ``slots`` also bounds the micro-ops in flight;
    this is the write-back report the core's scoreboard counts (:mod:`dfx_hw.spec.issue`).

    ``settling`` (registered) is high when no micro-op waits in the pending register or still
    has beats to issue, and every outstanding write lands within :data:`SETTLE_LEAD` clocks: a
    dependent micro-op offered now reaches the pending register about when its operands are
    written, so it hardly holds the in-order acceptance for the other requesters. It is a hint
    for when to offer work; the hazard slots keep every order correct whatever is offered.

    Illegal micro-ops (a vector address that is not a multiple of ``lanes``, a vector range past
    the end of the register file, a scalar register past the end, a zero length) are consumed
    without effect and set the sticky ``error`` output.

    Parameters
    ----------
    config : VPUConfig
    short_latency, long_latency, reduction_latency : int
        Clocks from a beat's issue to its register-file write: without a table function, with
        one, and from the last beat of a reduction (``2 <= short <= long``, ``short <=
        reduction``).
    sum_interval, max_interval : int
        Clocks between reduction beats (>= 1).
    store_depth : int
        Store buffer depth (credits).
    slots : int
        Hazard slots (micro-ops that may be in flight).
    """

    def __init__(self, *, config, short_latency, long_latency, reduction_latency, sum_interval,
                 max_interval, store_depth, slots):
        for name, value, low in (("short_latency", short_latency, 2),
                                 ("long_latency", long_latency, 2),
                                 ("reduction_latency", reduction_latency, 2),
                                 ("sum_interval", sum_interval, 1),
                                 ("max_interval", max_interval, 1),
                                 ("store_depth", store_depth, 1), ("slots", slots, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer of at least {low}, not {value!r}")
        if not short_latency <= long_latency or not short_latency <= reduction_latency:
            raise ValueError(f"short_latency ({short_latency}) must not exceed long_latency "
                             f"({long_latency}) or reduction_latency ({reduction_latency})")
        self._config = config
        self._w_short = short_latency
        self._w_long = long_latency
        self._w_reduction = reduction_latency
        self._sum_interval = sum_interval
        self._max_interval = max_interval
        self._store_depth = store_depth
        self._slots = slots
        lanes = config.lanes
        super().__init__({
            "instr": In(stream.Signature(config.micro_op_layout)),
            "load": In(stream.Signature(16 * lanes)),
            "vrf_a": Out(read_port_signature(addr_width=config.word_addr_width,
                                             data_width=16 * lanes)),
            "vrf_b": Out(read_port_signature(addr_width=config.word_addr_width,
                                             data_width=16 * lanes)),
            "srf_a": Out(read_port_signature(addr_width=config.srf_addr_width, data_width=16)),
            "srf_b": Out(read_port_signature(addr_width=config.srf_addr_width, data_width=16)),
            "beat": Out(beat_layout(config)),
            "beat_load": Out(16 * lanes),
            "store_pop": In(1),
            "busy": Out(1),
            "settling": Out(1),
            "retire": Out(1),
            "error": Out(1),
        })

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        lanes = cfg.lanes
        shift = (lanes - 1).bit_length()
        wbits = cfg.word_addr_width + 1              # word counts and ends (no wrap-around)
        # a reduction of a table function's results (VEXPACC) writes its scalar the table's
        # extra clocks after a plain one
        w_long_reduction = self._w_reduction + self._w_long - self._w_short
        tbits = max(self._w_long, w_long_reduction).bit_length()

        # ---- decode of the micro-op offered on `instr`, into the pending register -----------
        # Everything the hazard check needs (control, word counts, address ranges, legality) is
        # computed here and registered, so the check itself starts from registers.
        d_op = self.instr.payload
        d_ctrl = Signal(control_layout)
        decode(m, d_op.opcode, d_ctrl)
        d_a_vec = d_ctrl.a == ASource.VECTOR
        d_a_scalar = d_ctrl.a == ASource.SCALAR
        d_b_vec = d_ctrl.b == BSource.VECTOR
        d_b_scalar = d_ctrl.b == BSource.SCALAR
        # a vector and a reduction of it (the reduction's scalar register rides in `imm`)
        d_pair = (d_ctrl.sink == Sink.VECTOR_SUM) | (d_ctrl.sink == Sink.VECTOR_AMAX)
        d_sink_vec = (d_ctrl.sink == Sink.VECTOR) | d_pair
        d_writes = d_ctrl.sink != Sink.STORE
        # Scalar micro-ops (a scalar or an immediate in, or a single stream word to a scalar).
        d_one_word = (d_ctrl.a == ASource.SCALAR) | (d_ctrl.a == ASource.IMM) | \
            ((d_ctrl.a == ASource.STREAM) & (d_ctrl.sink == Sink.SCALAR))
        d_words = Signal(wbits + 1)
        m.d.comb += d_words.eq(Mux(d_one_word, 1, (d_op.length + lanes - 1) >> shift))
        d_src1_w = d_op.src1 >> shift
        d_src2_w = d_op.src2 >> shift
        d_dst_w = d_op.dst >> shift
        misaligned = ((d_a_vec & (d_op.src1[:shift] != 0)) | (d_b_vec & (d_op.src2[:shift] != 0))
                      | (d_sink_vec & (d_op.dst[:shift] != 0))) if shift else C(0, 1)
        # w + words > vrf_words for a vector operand at word w, through element addresses so
        # that no add follows another: w lanes + len > vrf_words lanes (len 1 for a one-word
        # micro-op; a misaligned address is illegal anyway)
        d_len = Mux(d_one_word, 1, d_op.length)

        def beyond(address):
            aligned = Cat(C(0, shift), address[shift:]) if shift else address
            return aligned + d_len > cfg.vrf_words * lanes

        past_end = ((d_a_vec & beyond(d_op.src1)) |
                    (d_b_vec & beyond(d_op.src2)) |
                    (d_sink_vec & beyond(d_op.dst)) |
                    (d_a_scalar & (d_op.src1 >= cfg.srf_words)) |
                    (d_b_scalar & (d_op.src2 >= cfg.srf_words)) |
                    (~d_sink_vec & d_writes & (d_op.dst >= cfg.srf_words)) |
                    (d_pair & (d_op.imm >= cfg.srf_words)))
        d_illegal = misaligned | past_end | (~d_one_word & (d_op.length == 0))

        # The scalar registers the micro-op touches (scoreboard mask, below), one bit per
        # register: its scalar sources, its scalar destination, a reduction's register.
        srf_bits = cfg.srf_addr_width
        srf_words = 1 << srf_bits

        def onehot(address, when):
            return Mux(when, C(1, srf_words) << address[:srf_bits], 0)

        d_smask = (onehot(d_op.src1, d_a_scalar) | onehot(d_op.src2, d_b_scalar) |
                   onehot(d_op.dst, ~d_sink_vec & d_writes) | onehot(d_op.imm, d_pair))

        p_valid = Signal()
        p_smask = Signal(srf_words)
        op = Signal.like(d_op)
        ctrl = Signal(control_layout)
        words = Signal(wbits + 1)
        illegal = Signal()
        ranges = {}
        for name in ("src1", "src2", "dst"):
            ranges[name] = (Signal(wbits, name=f"p_{name}_lo"), Signal(wbits, name=f"p_{name}_hi"))
        accept = Signal()
        m.d.comb += self.instr.ready.eq(~p_valid | accept)
        with m.If(self.instr.valid & self.instr.ready):
            m.d.sync += [p_valid.eq(1), op.eq(d_op), ctrl.eq(d_ctrl), words.eq(d_words),
                         illegal.eq(d_illegal), p_smask.eq(d_smask)]
            # the last word's offset, (len - 1) / lanes (0 for one word), the subtraction in
            # parallel with the decode
            d_last_offset = Mux(d_one_word, 0, (d_op.length - 1) >> shift)
            for name, word, vector in (("src1", d_src1_w, d_a_vec), ("src2", d_src2_w, d_b_vec),
                                       ("dst", d_dst_w, d_sink_vec)):
                lo, hi = ranges[name]
                scalar_address = getattr(d_op, name)
                # the last word: w + ceil(len / lanes) - 1 = w + (len - 1) / lanes (len >= 1
                # for a vector operand of a legal micro-op)
                m.d.sync += [lo.eq(Mux(vector, word, scalar_address)),
                             hi.eq(Mux(vector, word + d_last_offset, scalar_address))]
        with m.Elif(accept):
            m.d.sync += p_valid.eq(0)
        a_vec = ctrl.a == ASource.VECTOR
        b_vec = ctrl.b == BSource.VECTOR
        pair = (ctrl.sink == Sink.VECTOR_SUM) | (ctrl.sink == Sink.VECTOR_AMAX)
        sink_vec = (ctrl.sink == Sink.VECTOR) | pair
        pair_reg = op.imm[:cfg.srf_addr_width]
        writes = Signal()
        m.d.comb += writes.eq(ctrl.sink != Sink.STORE)

        # ---- hazard slots ------------------------------------------------------------------
        slot_valid = [Signal(name=f"slot{k}_valid") for k in range(self._slots)]
        slot_issuing = [Signal(name=f"slot{k}_issuing") for k in range(self._slots)]
        slot_scalar = [Signal(name=f"slot{k}_scalar") for k in range(self._slots)]
        slot_guards = [Signal(name=f"slot{k}_guards") for k in range(self._slots)]
        slot_lo = [Signal(wbits, name=f"slot{k}_lo") for k in range(self._slots)]
        slot_hi = [Signal(wbits, name=f"slot{k}_hi") for k in range(self._slots)]
        slot_timer = [Signal(tbits, name=f"slot{k}_timer") for k in range(self._slots)]
        # valid & (issuing | timer != 0), kept as a register beside the three (the bookkeeping
        # below updates it with them), so the hazard check starts from flip-flops
        active = [Signal(name=f"slot{k}_active") for k in range(self._slots)]

        def overlaps(k, lo, hi):
            return active[k] & slot_guards[k] & ~slot_scalar[k] & \
                (slot_lo[k] <= hi) & (lo <= slot_hi[k])

        # ---- scalar scoreboard -------------------------------------------------------------
        # A legal micro-op's scalar addresses are below srf_words (a power of two), so their
        # low bits name them (an illegal micro-op is accepted whatever the hazards). Each slot
        # keeps the scalar registers it guards as a mask, one bit per register (its scalar
        # destination; a vector-and-reduction micro-op's reduction register), set when it is
        # taken. `busy_s` is the union over the active slots, registered from the slots'
        # registers of the clock before: `valid & (issuing | timer > 1)` is then a slot's
        # `active` now (an issuing slot stays active, its timer starting at 1 or more; a timer
        # of 1 has reached 0), a superset when a write timer starts at 0 (a clock later, never
        # early). Only a slot taken on the clock before is missing, and no micro-op can be
        # accepted on the clock after one was (it issues first), so the check is exact when it
        # matters.
        slot_smask = [Signal(srf_words, name=f"slot{k}_smask") for k in range(self._slots)]
        busy_s = Signal(srf_words)
        lingering = [slot_valid[k] & (slot_issuing[k] | (slot_timer[k] > 1))
                     for k in range(self._slots)]
        busy_next = C(0, srf_words)
        for k in range(self._slots):
            busy_next = busy_next | Mux(lingering[k], slot_smask[k], 0)
        m.d.sync += busy_s.eq(busy_next)

        conflicts = [(p_smask & busy_s).any()]
        for k in range(self._slots):
            conflicts.append(a_vec & overlaps(k, *ranges["src1"]))
            conflicts.append(b_vec & overlaps(k, *ranges["src2"]))
        hazard = Signal()
        m.d.comb += hazard.eq(Cat(*conflicts).any())
        free = Signal(self._slots)
        m.d.comb += free.eq(Cat(*(~v for v in slot_valid)))
        # Lowest free slot, as one expression (no process: Icarus never evaluates an `always @*`
        # block whose inputs keep their initial values), registered to keep the priority encoder
        # off the accept path. One clock stale is safe: a slot freed last clock is only used a
        # clock later, and a slot taken last clock cannot be taken again now, because an accepted
        # micro-op issues for at least one clock before the next can be accepted.
        free_index = Signal(range(self._slots))
        has_free = Signal()
        lowest = C(0, len(free_index))
        for k in reversed(range(self._slots)):
            lowest = Mux(free[k], k, lowest)
        m.d.sync += [free_index.eq(lowest), has_free.eq(free.any())]

        # ---- the micro-op being issued -----------------------------------------------------
        busy_issuing = Signal()
        cur = Signal(control_layout)
        cur_words = Signal(wbits + 1)
        cur_length = Signal(cfg.length_width)
        cur_src1 = Signal(len(op.src1))
        cur_src2 = Signal(len(op.src2))
        cur_dst = Signal(len(op.dst))
        cur_imm = Signal(16)
        # registered at acceptance beside `cur`, so the issue decision and the slot update
        # start from flip-flops: the slot one-hot, and the control facts it reads
        cur_slot_onehot = Signal(self._slots)
        is_stream = Signal()
        is_store = Signal()
        is_long = Signal()
        index = Signal(wbits + 1)                    # beat number
        last = Signal()                              # index == cur_words - 1, registered
        wait = Signal(max(self._sum_interval, self._max_interval).bit_length())
        store_out = Signal(range(self._store_depth + 1))
        error = Signal()
        m.d.comb += self.error.eq(error)

        m.d.comb += accept.eq(p_valid & ~busy_issuing & (illegal | (~hazard & has_free)))
        # accept & ~illegal, written so that only its last gate follows the hazard check
        take = Signal()
        can_take = p_valid & ~busy_issuing & ~illegal & has_free
        m.d.comb += take.eq(can_take & ~hazard)
        with m.If(accept):
            with m.If(illegal):
                m.d.sync += error.eq(1)
            with m.Else():
                m.d.sync += [
                    busy_issuing.eq(1), cur.eq(ctrl), cur_words.eq(words),
                    cur_length.eq(op.length), cur_src1.eq(op.src1), cur_src2.eq(op.src2),
                    cur_dst.eq(op.dst), cur_imm.eq(op.imm),
                    cur_slot_onehot.eq(1 << free_index),
                    is_stream.eq(ctrl.a == ASource.STREAM), is_store.eq(ctrl.sink == Sink.STORE),
                    is_long.eq(ctrl.unary != Unary.NONE),
                    index.eq(0), last.eq(words == 1),
                ]

        # Issue one beat when its operands can be taken this clock.
        # Clocks until a short beat's write would follow the last long beat's write.
        shadow = Signal(range(self._w_long - self._w_short + 1))
        # wait == 0 and shadow == 0, registered from the counters' next values (no compare
        # in front of the issue decision)
        wait_zero = Signal(init=1)
        shadow_zero = Signal(init=1)
        can_issue = busy_issuing & wait_zero & (~is_stream | self.load.valid) & \
            (~is_store | (store_out < self._store_depth)) & (is_long | shadow_zero)
        issue = Signal()
        m.d.comb += issue.eq(can_issue)
        m.d.comb += self.load.ready.eq(can_issue & is_stream)
        interval = Mux((cur.sink == Sink.SUM) | (cur.sink == Sink.VECTOR_SUM),
                       self._sum_interval - 1,
                       Mux((cur.sink == Sink.MAX) | (cur.sink == Sink.AMAX) |
                           (cur.sink == Sink.VECTOR_AMAX),
                           self._max_interval - 1, 0))
        wait_next = Signal.like(wait)
        m.d.comb += wait_next.eq(wait)
        with m.If(take):
            m.d.comb += wait_next.eq(0)
        with m.If(wait != 0):
            m.d.comb += wait_next.eq(wait - 1)
        with m.If(issue):
            m.d.comb += wait_next.eq(interval)
        shadow_next = Signal.like(shadow)
        m.d.comb += shadow_next.eq(shadow)
        with m.If(issue & is_long):
            m.d.comb += shadow_next.eq(self._w_long - self._w_short)
        with m.Elif(shadow != 0):
            m.d.comb += shadow_next.eq(shadow - 1)
        m.d.sync += [wait.eq(wait_next), wait_zero.eq(wait_next == 0),
                     shadow.eq(shadow_next), shadow_zero.eq(shadow_next == 0)]
        with m.If(issue):
            m.d.sync += [index.eq(index + 1), last.eq(index + 2 == cur_words)]
            with m.If(last):
                m.d.sync += busy_issuing.eq(0)
        pop = self.store_pop
        with m.If(issue & is_store & ~pop):
            m.d.sync += store_out.eq(store_out + 1)
        with m.Elif(~(issue & is_store) & pop):
            m.d.sync += store_out.eq(store_out - 1)

        # In-order retirement: the slots of accepted micro-ops, oldest first.
        m.submodules.order = order = SyncFIFOBuffered(width=len(free_index), depth=self._slots)
        head_done = Signal()
        retiring = Signal()
        m.d.comb += [
            order.w_en.eq(take),
            order.w_data.eq(free_index),
            # valid & ~issuing & timer == 0 is valid & ~active (registers: no timer compare)
            head_done.eq(Array(slot_valid)[order.r_data] & ~Array(active)[order.r_data]),
            retiring.eq(order.r_rdy & head_done),
            order.r_en.eq(retiring),
        ]
        m.d.sync += self.retire.eq(retiring)

        # Slot bookkeeping.
        cur_reduction = (cur.sink == Sink.SUM) | (cur.sink == Sink.MAX) | \
            (cur.sink == Sink.AMAX) | (cur.sink == Sink.VECTOR_SUM) | \
            (cur.sink == Sink.VECTOR_AMAX)
        cur_vector = (cur.sink == Sink.VECTOR) | (cur.sink == Sink.VECTOR_SUM) | \
            (cur.sink == Sink.VECTOR_AMAX)
        for k in range(self._slots):
            with m.If(slot_valid[k] & ~slot_issuing[k] & (slot_timer[k] != 0)):
                m.d.sync += [slot_timer[k].eq(slot_timer[k] - 1),
                             active[k].eq(slot_timer[k] != 1)]
            with m.If(take & (free_index == k)):
                m.d.sync += [
                    slot_valid[k].eq(1), slot_issuing[k].eq(1), active[k].eq(1),
                    slot_scalar[k].eq(~sink_vec),
                    slot_guards[k].eq(writes),
                    slot_lo[k].eq(ranges["dst"][0]),
                    slot_hi[k].eq(ranges["dst"][1]),
                    slot_smask[k].eq(onehot(ranges["dst"][0], ~sink_vec & writes) |
                                     onehot(pair_reg, pair)),
                ]
            with m.If(issue & last & cur_slot_onehot[k]):
                timer = Mux(is_store, 0,
                            Mux(cur_reduction,
                                Mux(is_long, w_long_reduction - 1, self._w_reduction - 1),
                                Mux(is_long, self._w_long - 1, self._w_short - 1)))
                m.d.sync += [slot_issuing[k].eq(0), slot_timer[k].eq(timer),
                             active[k].eq(timer != 0)]
            with m.If(retiring & (order.r_data == k)):
                m.d.sync += [slot_valid[k].eq(0), active[k].eq(0)]

        # Register-file reads for the beat.
        m.d.comb += [
            self.vrf_a.addr.eq((cur_src1 >> shift) + index),
            self.vrf_a.en.eq(issue),
            self.vrf_b.addr.eq((cur_src2 >> shift) + index),
            self.vrf_b.en.eq(issue),
            self.srf_a.addr.eq(cur_src1),
            self.srf_a.en.eq(issue),
            self.srf_b.addr.eq(cur_src2),
            self.srf_b.en.eq(issue),
        ]

        # The beat, one clock later (aligned with the read data).
        tail = cur_length[:shift] if shift else C(0, 1)
        full = C((1 << lanes) - 1, lanes)
        one_word_cur = (cur.a == ASource.SCALAR) | (cur.a == ASource.IMM) | \
            (is_stream & (cur.sink == Sink.SCALAR))
        mask = Mux(one_word_cur, 1,
                   Mux(last & (tail != 0), (C(1, lanes + 1) << tail) - 1, full))
        beat = self.beat
        m.d.sync += beat.valid.eq(issue)
        with m.If(issue):
            m.d.sync += [
                beat.ctrl.eq(cur), beat.mask.eq(mask), beat.first.eq(index == 0),
                beat.last.eq(last),
                beat.dst.eq(Mux(cur_vector, (cur_dst >> shift) + index, cur_dst)),
                beat.imm.eq(cur_imm),
            ]
            with m.If(is_stream):
                m.d.sync += self.beat_load.eq(self.load.payload)

        m.d.comb += self.busy.eq(busy_issuing | Cat(*slot_valid).any())
        # Registered: evaluated one clock early, so against a lead one clock longer.
        soon = [~slot_valid[k] | (~slot_issuing[k] & (slot_timer[k] <= SETTLE_LEAD + 1))
                for k in range(self._slots)]
        arriving = self.instr.valid & self.instr.ready
        m.d.sync += self.settling.eq(~p_valid & ~arriving & ~busy_issuing & ~accept &
                                     Cat(*soon).all())
        return m
