"""The DMA instructions (LDD, STD, LDTOK, STTOK, STH, STHT): addresses, window checks, jobs."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out

from ..isa.layouts import LAYOUTS, OPCODE_BITS, Opcode
from ..spec.params import check_power_of_two
from ..spec.errors import INFO_BITS, ErrorCode, ErrorSignature
from ..spec.issue import IssueSignature
from .bursts import read_job_layout
from .matrix_front import WINDOW_BITS
from .multiplier import SequentialMultiplier
from .read_align import align_job_layout

__all__ = ["DMAFront", "StoreSink"]

_ELEM_BITS = WINDOW_BITS + 2
_MUL_BITS = 17


class StoreSink(enum.Enum, shape=2):
    """Where the register-file ``store`` words go during an instruction."""
    INDEX = 0     #: the scalar of an indexed LDD (element 0 of one word)
    DDR = 1       #: STD / STTOK
    HBM = 2       #: STH
    SCATTER = 3   #: STHT


class DMAFront(wiring.Component):
    """Executes the DMA instruction class one instruction at a time, with the ISA simulator's
    address arithmetic (:class:`dfx_hw.isasim.core.Core`, ``_ldd`` .. ``_stht``):

    * LDD ``v[vdst:+len] = ddr[a:+len]``, ``a = ddr (+ ddr_offset with layer)
      (+ TOKEN * stride with token) (+ s * stride with index)``, where ``s`` is element 0 of
      one word taken from ``index`` (the core sends ``s[ssrc]`` through the VPU's store path);
    * STD ``ddr[a:+len] = v[vsrc:+len]``, same ``a`` without ``index``;
    * LDTOK / STTOK: one element at ``ddr (+ TOKEN with token)``, as LDD / STD of length 1;
    * STH ``HBM[h:+len] = v[vsrc:+len]``, ``h = hbm * d * l (+ hbm_offset) (+ TOKEN * stride)``;
    * STHT: element ``i`` at ``hbm * d * l (+ hbm_offset) + row_offsets(row, len)[i]``,
      ``row = TOKEN`` with token else 0 (V transposed on write).

    The whole range is checked against the window before a job is handed on
    (``DDR_WINDOW`` / ``HBM_WINDOW``, info = the first element address); after an error
    nothing more is accepted. ``done`` pulses when the instruction has written back: its last
    word taken by the register file (loads) or every write response received (stores).

    Members
    -------
    port : Out(IssueSignature)
    hbm_base, hbm_size, ddr_base, ddr_size : In(WINDOW_BITS)
    index : In(stream.Signature(16))
        Element 0 of a store word, for an indexed LDD.
    read_job : Out(stream.Signature(read_job_layout(...)))
    read_align : Out(stream.Signature(align_job_layout(ddr beat)))
    ddr_write : Out(stream.Signature(WriteAligner job (DDR beats)))
    hbm_write : Out(stream.Signature(WriteAligner job (HBM beats)))
    scatter : Out(stream.Signature(TransposeScatter job))
    store_sink : Out(StoreSink)
    read_idle, write_idle : In(1)
        The load path has delivered everything / the store path has every response.
    error : Out(ErrorSignature)
    halt : In(1)
        Another part of the DMA reported an error: accept nothing more.
    """

    def __init__(self, *, d, l, hbm_beat_bytes, ddr_beat_bytes, ddr_addr_bits, count_bits,
                 write_jobs):
        for name, value in (("d", d), ("l", l), ("hbm_beat_bytes", hbm_beat_bytes),
                            ("ddr_beat_bytes", ddr_beat_bytes)):
            check_power_of_two(name, value)
        self._d, self._l, self._hb, self._db = d, l, hbm_beat_bytes, ddr_beat_bytes
        self._count_bits = count_bits
        self.multiplier = SequentialMultiplier(a_bits=_MUL_BITS, b_bits=_MUL_BITS)
        ddr_job, hbm_job, scatter_job = write_jobs
        super().__init__({
            "port": Out(IssueSignature),
            "hbm_base": In(WINDOW_BITS), "hbm_size": In(WINDOW_BITS),
            "ddr_base": In(WINDOW_BITS), "ddr_size": In(WINDOW_BITS),
            "index": In(stream.Signature(16)),
            "read_job": Out(stream.Signature(read_job_layout(ddr_addr_bits, count_bits))),
            "read_align": Out(stream.Signature(align_job_layout(
                beat_elements=ddr_beat_bytes // 2, count_bits=count_bits))),
            "ddr_write": Out(stream.Signature(ddr_job)),
            "hbm_write": Out(stream.Signature(hbm_job)),
            "scatter": Out(stream.Signature(scatter_job)),
            "store_sink": Out(StoreSink),
            "read_idle": In(1), "write_idle": In(1),
            "error": Out(ErrorSignature),
            "halt": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        d, l = self._d, self._l
        log_d, log_l = d.bit_length() - 1, l.bit_length() - 1
        log_te = log_d + log_l
        log_hb, log_db = self._hb.bit_length() - 1, self._db.bit_length() - 1
        m.submodules.multiplier = mul = self.multiplier

        payload = Signal(self.port.issue.payload.shape())
        word = payload.word
        op = Signal(Opcode, init=Opcode.END)
        m.d.comb += op.eq(word[:OPCODE_BITS])
        ldd = data.View(LAYOUTS[Opcode.LDD], word)
        std = data.View(LAYOUTS[Opcode.STD], word)
        ldtok = data.View(LAYOUTS[Opcode.LDTOK], word)
        sttok = data.View(LAYOUTS[Opcode.STTOK], word)
        sth = data.View(LAYOUTS[Opcode.STH], word)
        stht = data.View(LAYOUTS[Opcode.STHT], word)
        is_ldd, is_std = op == Opcode.LDD, op == Opcode.STD
        is_ldtok, is_sttok = op == Opcode.LDTOK, op == Opcode.STTOK
        is_sth, is_stht = op == Opcode.STH, op == Opcode.STHT
        reads = is_ldd | is_ldtok
        to_hbm = is_sth | is_stht

        # The memory window of the instruction's target, registered (the payload is held for
        # the whole instruction and the windows are configuration): off the CHECK state's adds.
        win_base = Signal(WINDOW_BITS)
        win_size = Signal(WINDOW_BITS)
        m.d.sync += [win_base.eq(Mux(to_hbm, self.hbm_base, self.ddr_base)),
                     win_size.eq(Mux(to_hbm, self.hbm_size, self.ddr_size))]

        count = Signal(16)
        scalar = Signal(16)
        mul_a = Signal(_MUL_BITS)
        mul_b = Signal(_MUL_BITS)
        base = Signal(_ELEM_BITS)
        nt = Signal(16)
        row_in_tile = Signal(range(d))
        span = Signal(_ELEM_BITS)
        e = Signal(_ELEM_BITS)
        last = Signal(_ELEM_BITS)
        field = Signal(_ELEM_BITS)
        addend = Signal(32)
        byte = Signal(_ELEM_BITS + 1)
        outside = Signal()
        beats = Signal(self._count_bits)
        sent = Signal(5)

        error = self.error
        halted = error.valid
        accepting = Signal()
        token = payload.token

        def fail(code, info):
            m.d.sync += [error.valid.eq(1), error.code.eq(code), error.info.eq(info)]
            m.next = "HALT"

        with m.FSM():
            with m.State("IDLE"):
                # A registered ready: up from the clock after the FSM came back to IDLE.
                m.d.comb += self.port.issue.ready.eq(accepting)
                with m.If(self.port.issue.valid & accepting):
                    m.d.sync += [payload.eq(self.port.issue.payload), accepting.eq(0)]
                    m.next = "FIELDS"
                with m.Else():
                    m.d.sync += accepting.eq(~halted & ~self.halt)
            with m.State("FIELDS"):
                m.d.sync += [
                    count.eq(Mux(is_ldtok | is_sttok, 1,
                                 Mux(is_ldd, ldd.len, Mux(is_std, std.len,
                                                          Mux(is_sth, sth.len, stht.len))))),
                    scalar.eq(0),
                ]
                with m.If(~(reads | is_std | is_sttok | to_hbm)):
                    fail(ErrorCode.UNIT_FAULT, op)
                with m.Elif(is_ldd & ldd.flags.index):
                    m.next = "INDEX"
                with m.Else():
                    m.next = "SETUP"
            with m.State("INDEX"):
                m.d.comb += self.index.ready.eq(1)
                with m.If(self.index.valid):
                    m.d.sync += scalar.eq(self.index.payload)
                    m.next = "SETUP"
            with m.State("SETUP"):
                row = Mux(stht.flags.token, token, 0)
                ddr_layer = Mux(is_ldd, ldd.flags.layer, std.flags.layer)
                hbm_field = Mux(is_sth, sth.hbm, stht.hbm)
                hbm_layer = Mux(is_sth, sth.flags.layer, stht.flags.layer)
                tok_flag = Mux(is_ldd, ldd.flags.token,
                               Mux(is_std, std.flags.token, sth.flags.token))
                stride = Mux(is_ldd, ldd.stride, Mux(is_std, std.stride, sth.stride))
                tok_ddr = Mux(is_ldtok, ldtok.flags.token, sttok.flags.token)
                tok_field = Mux(is_ldtok, ldtok.ddr, sttok.ddr)
                ddr_field = Mux(is_ldd, ldd.ddr, std.ddr)
                m.d.sync += [
                    mul_a.eq(Mux(is_stht, (count + l - 1) >> log_l,
                                 Mux(is_ldtok | is_sttok, 0, stride))),
                    mul_b.eq(Mux(is_stht, row >> log_d,
                                 Mux(tok_flag, token, 0) + scalar)),
                    nt.eq((count + l - 1) >> log_l),
                    row_in_tile.eq(row),
                    # the two terms of the base address, added in BASE
                    field.eq(Mux(to_hbm, hbm_field << log_te,
                                 Mux(is_ldtok | is_sttok, tok_field, ddr_field))),
                    addend.eq(Mux(to_hbm, Mux(hbm_layer, payload.hbm_offset, 0),
                                  Mux(is_ldtok | is_sttok, Mux(tok_ddr, token, 0),
                                      Mux(ddr_layer, payload.ddr_offset, 0)))),
                ]
                m.next = "BASE"
            with m.State("BASE"):
                m.d.sync += base.eq(field + addend)
                m.next = "MULTIPLY"
            with m.State("MULTIPLY"):
                m.d.comb += [mul.start.eq(1), mul.a.eq(mul_a), mul.b.eq(mul_b)]
                # span: offset of the last element written or read from the first
                with m.If(is_stht):
                    m.d.sync += [
                        base.eq(base + row_in_tile),
                        # (tile offset and lane offset do not overlap: a concatenation)
                        span.eq(((nt - 1) << log_te) | (((count - 1) & (l - 1)) << log_d)),
                    ]
                with m.Else():
                    m.d.sync += span.eq(count - 1)
                with m.If(count == 0):
                    m.next = "DONE"
                with m.Else():
                    m.next = "PRODUCT"
            with m.State("PRODUCT"):
                with m.If(~mul.busy):
                    m.d.sync += e.eq(base + Mux(is_stht, mul.product << log_te, mul.product))
                    m.next = "END"
            with m.State("END"):
                m.d.sync += last.eq(e + span)
                m.next = "CHECK"
            with m.State("CHECK"):
                m.d.sync += [
                    # the last byte, 2 * last + 1, must be below the window size
                    outside.eq(Cat(Const(1, 1), last) >= win_size),
                    byte.eq(win_base + (e << 1)),
                ]
                m.next = "DECIDE"
            with m.State("DECIDE"):
                m.d.sync += beats.eq((byte[:log_db] + (count << 1) + self._db - 1) >> log_db)
                with m.If(outside):
                    fail(Mux(to_hbm, ErrorCode.HBM_WINDOW, ErrorCode.DDR_WINDOW),
                         e[:INFO_BITS])
                with m.Else():
                    m.next = "ISSUE"
            with m.State("ISSUE"):
                jobs = [(self.read_job, reads), (self.read_align, reads),
                        (self.ddr_write, is_std | is_sttok), (self.hbm_write, is_sth),
                        (self.scatter, is_stht)]
                m.d.comb += [
                    self.read_job.payload.addr.eq(byte >> log_db << log_db),
                    self.read_job.payload.beats.eq(beats),
                    self.read_align.payload.offset.eq(byte[:log_db] >> 1),
                    self.read_align.payload.count.eq(count),
                    self.read_align.payload.beats.eq(beats),
                    self.ddr_write.payload.align.offset.eq(byte[:log_db] >> 1),
                    self.ddr_write.payload.align.count.eq(count),
                    self.ddr_write.payload.align.beats.eq(beats),
                    self.ddr_write.payload.first.eq(byte >> log_db),
                    self.hbm_write.payload.align.offset.eq(byte[:log_hb] >> 1),
                    self.hbm_write.payload.align.count.eq(count),
                    self.hbm_write.payload.first.eq(byte >> log_hb),
                    self.scatter.payload.start.eq(byte >> 1),
                    self.scatter.payload.count.eq(count),
                ]
                all_sent = Const(1, 1)
                for i, (job, needed) in enumerate(jobs):
                    m.d.comb += job.valid.eq(needed & ~sent[i])
                    with m.If(job.valid & job.ready):
                        m.d.sync += sent[i].eq(1)
                    all_sent = all_sent & (~needed | sent[i] | job.ready)
                with m.If(all_sent):
                    m.d.sync += sent.eq(0)
                    m.next = "SETTLE"
            with m.State("SETTLE"):
                m.next = "RUN"
            with m.State("RUN"):
                with m.If(Mux(reads, self.read_idle, self.write_idle)):
                    m.next = "DONE"
            with m.State("DONE"):
                m.d.comb += self.port.done.eq(1)
                m.next = "IDLE"
            with m.State("HALT"):
                pass

        m.d.comb += self.store_sink.eq(Mux(is_sttok | is_std, StoreSink.DDR,
                                           Mux(is_sth, StoreSink.HBM,
                                               Mux(is_stht, StoreSink.SCATTER,
                                                   StoreSink.INDEX))))
        return m
