"""The DMA's side of a matrix instruction: which tiles to stream and which bias to read."""

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..isa.layouts import LAYOUTS, OPCODE_BITS, Opcode
from ..spec.params import check_power_of_two
from ..spec.errors import INFO_BITS, ErrorCode, ErrorSignature
from ..spec.issue import IssueSignature
from .bursts import read_job_layout
from .multiplier import SequentialMultiplier
from .read_align import align_job_layout

__all__ = ["MatrixFront", "WINDOW_BITS"]

#: Width of the window base/size ports (bytes).
WINDOW_BITS = 40
_ELEM_BITS = WINDOW_BITS + 2      # element and byte arithmetic with headroom
_DIM_BITS = 17                    # k + TOKEN, n + TOKEN


class MatrixFront(wiring.Component):
    """Decodes the matrix instructions (CONV1D, MASKEDMM, MM; issued to the MPU and, through
    this port, to the DMA) into a weight job and a bias job, exactly as the ISA simulator
    reads them (``_conv1d``, ``_maskedmm``, ``_mm`` of :class:`dfx_hw.isasim.core.Core`):

    * weights: the ``ceil(K / d) * ceil(N / l)`` tiles stored from HBM element
      ``hbm * d * l (+ hbm_offset with layer)``, in storage order (the compiler stores a matrix
      in the MPU's walk order, :mod:`dfx_hw.compiler.tiling`), with ``K = k (+ TOKEN for MM
      with token)``, ``N = n (+ TOKEN for MASKEDMM with token)``;
    * bias (CONV1D without ``nobias``): ``n`` elements from DDR element
      ``ddr (+ ddr_offset with layer)``.

    Both ranges are checked against the windows before any job is handed on: an HBM byte
    address (``hbm_base + 2 * element``) that is not a multiple of the tile is ``HBM_ALIGN``,
    a range past the window end ``HBM_WINDOW`` / ``DDR_WINDOW`` (info = the element address);
    another opcode is ``UNIT_FAULT`` (info = the opcode) and zero tiles ``FIELD_RANGE``. After
    an error nothing more is accepted.

    The decode takes about 10 clocks plus ``log2(ceil(K / d))`` (the tile count is a
    shift-and-add product) and overlaps the previous instruction's stream.

    Members
    -------
    port : Out(IssueSignature)
        ``done`` is driven by the DMA's top level (last tile handed over), 0 here.
    hbm_base, hbm_size, ddr_base, ddr_size : In(WINDOW_BITS)
        The windows, in bytes (a base must be a multiple of the HBM row / DDR beat).
    weight_job : Out(stream.Signature(read_job_layout(...)))
        Channel byte address of the first row and rows (beats per channel).
    tile_count : Out(stream.Signature(24))
        Tiles of each instruction, for the write-back pulse.
    bias_read : Out(stream.Signature(read_job_layout(...)))
    bias_align : Out(stream.Signature(align_job_layout(...)))
    error : Out(ErrorSignature)
    halt : In(1)
        Another part of the DMA reported an error: accept nothing more.
    """

    def __init__(self, *, d, l, channels, hbm_beat_bytes, ddr_beat_bytes, hbm_addr_bits,
                 ddr_addr_bits, count_bits):
        for name, value in (("d", d), ("l", l), ("channels", channels),
                            ("hbm_beat_bytes", hbm_beat_bytes),
                            ("ddr_beat_bytes", ddr_beat_bytes)):
            check_power_of_two(name, value)
        tile_bytes = 2 * d * l
        if tile_bytes % (channels * hbm_beat_bytes):
            raise ValueError(f"a tile ({tile_bytes} bytes) must be a whole number of HBM rows "
                             f"({channels} x {hbm_beat_bytes} bytes)")
        self._d, self._l, self._n = d, l, channels
        self._hb, self._db = hbm_beat_bytes, ddr_beat_bytes
        self._rows = tile_bytes // (channels * hbm_beat_bytes)
        self._count_bits = count_bits
        self.multiplier = SequentialMultiplier(a_bits=_DIM_BITS, b_bits=_DIM_BITS)
        super().__init__({
            "port": Out(IssueSignature),
            "hbm_base": In(WINDOW_BITS), "hbm_size": In(WINDOW_BITS),
            "ddr_base": In(WINDOW_BITS), "ddr_size": In(WINDOW_BITS),
            "weight_job": Out(stream.Signature(read_job_layout(hbm_addr_bits, count_bits))),
            "tile_count": Out(stream.Signature(24)),
            "bias_read": Out(stream.Signature(read_job_layout(ddr_addr_bits, count_bits))),
            "bias_align": Out(stream.Signature(align_job_layout(
                beat_elements=ddr_beat_bytes // 2, count_bits=count_bits))),
            "error": Out(ErrorSignature),
            "halt": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        d, l, n = self._d, self._l, self._n
        log_d, log_l = d.bit_length() - 1, l.bit_length() - 1
        log_te = log_d + log_l
        log_n = n.bit_length() - 1
        log_hb, log_db = self._hb.bit_length() - 1, self._db.bit_length() - 1
        m.submodules.multiplier = mul = self.multiplier

        payload = Signal(self.port.issue.payload.shape())
        word = payload.word
        op = Signal(Opcode, init=Opcode.END)
        m.d.comb += op.eq(word[:OPCODE_BITS])
        conv = data.View(LAYOUTS[Opcode.CONV1D], word)
        mmask = data.View(LAYOUTS[Opcode.MASKEDMM], word)
        mm = data.View(LAYOUTS[Opcode.MM], word)

        rows = Signal(_DIM_BITS)
        cols = Signal(_DIM_BITS)
        kt = Signal(_DIM_BITS)
        nt = Signal(_DIM_BITS)
        hbm_offset = Signal(32)
        e_hbm = Signal(_ELEM_BITS)
        e_ddr = Signal(_ELEM_BITS)
        bias = Signal()
        bias_n = Signal(16)
        tiles = Signal(_ELEM_BITS)
        hbm_end = Signal(_ELEM_BITS)
        ddr_end = Signal(_ELEM_BITS)
        hbm_byte = Signal(_ELEM_BITS + 1)
        ddr_byte = Signal(_ELEM_BITS + 1)
        hbm_out = Signal()
        ddr_out = Signal()
        bias_beats = Signal(self._count_bits)
        sent = Signal(4)
        log_rows = self._rows.bit_length() - 1

        error = self.error
        halted = error.valid
        accepting = Signal()

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
                token = payload.token
                layer = Mux(op == Opcode.CONV1D, conv.flags.layer,
                            Mux(op == Opcode.MASKEDMM, mmask.flags.layer, mm.flags.layer))
                m.d.sync += [
                    rows.eq(Mux(op == Opcode.MM, mm.k + Mux(mm.flags.token, token, 0),
                                Mux(op == Opcode.MASKEDMM, mmask.k, conv.k))),
                    cols.eq(Mux(op == Opcode.MASKEDMM,
                                mmask.n + Mux(mmask.flags.token, token, 0),
                                Mux(op == Opcode.MM, mm.n, conv.n))),
                    hbm_offset.eq(Mux(layer, payload.hbm_offset, 0)),
                    e_ddr.eq(conv.ddr + Mux(conv.flags.layer, payload.ddr_offset, 0)),
                    bias.eq((op == Opcode.CONV1D) & ~conv.flags.nobias),
                    bias_n.eq(conv.n),
                ]
                with m.If((op == Opcode.CONV1D) | (op == Opcode.MASKEDMM) | (op == Opcode.MM)):
                    m.next = "TILES"
                with m.Else():
                    fail(ErrorCode.UNIT_FAULT, op)
            with m.State("TILES"):
                hbm_field = Mux(op == Opcode.CONV1D, conv.hbm,
                                Mux(op == Opcode.MASKEDMM, mmask.hbm, mm.hbm))
                m.d.sync += [
                    kt.eq((rows + d - 1) >> log_d),
                    nt.eq((cols + l - 1) >> log_l),
                    e_hbm.eq((hbm_field << log_te) + hbm_offset),
                    ddr_end.eq(e_ddr + bias_n),
                ]
                m.next = "MULTIPLY"
            with m.State("MULTIPLY"):
                m.d.comb += [mul.start.eq(1), mul.a.eq(nt), mul.b.eq(kt)]
                with m.If((kt == 0) | (nt == 0)):
                    fail(ErrorCode.FIELD_RANGE, 0)
                with m.Else():
                    m.next = "PRODUCT"
            with m.State("PRODUCT"):
                with m.If(~mul.busy):
                    m.d.sync += [tiles.eq(mul.product),
                                 hbm_end.eq(e_hbm + (mul.product << log_te))]
                    m.next = "CHECK"
            with m.State("CHECK"):
                m.d.sync += [
                    hbm_out.eq((hbm_end << 1) > self.hbm_size),
                    ddr_out.eq(bias & ((ddr_end << 1) > self.ddr_size)),
                    hbm_byte.eq(self.hbm_base + (e_hbm << 1)),
                    ddr_byte.eq(self.ddr_base + (e_ddr << 1)),
                ]
                m.next = "DECIDE"
            with m.State("DECIDE"):
                # The flat byte address (window base included) must start a tile.
                with m.If(hbm_byte[:log_te + 1] != 0):
                    fail(ErrorCode.HBM_ALIGN, e_hbm[:INFO_BITS])
                with m.Elif(hbm_out):
                    fail(ErrorCode.HBM_WINDOW, e_hbm[:INFO_BITS])
                with m.Elif(ddr_out):
                    fail(ErrorCode.DDR_WINDOW, e_ddr[:INFO_BITS])
                with m.Else():
                    m.next = "ISSUE"
                m.d.sync += bias_beats.eq(
                    (ddr_byte[:log_db] + (bias_n << 1) + self._db - 1) >> log_db)
            with m.State("ISSUE"):
                # Each job leaves on its own handshake (valid never waits for ready).
                offset = ddr_byte[:log_db]
                always = Const(1, 1)
                jobs = [(self.weight_job, always), (self.tile_count, always),
                        (self.bias_read, bias), (self.bias_align, bias)]
                m.d.comb += [
                    self.weight_job.payload.addr.eq(hbm_byte >> log_n),
                    self.weight_job.payload.beats.eq(tiles << log_rows),
                    self.tile_count.payload.eq(tiles),
                    self.bias_read.payload.addr.eq(ddr_byte >> log_db << log_db),
                    self.bias_read.payload.beats.eq(bias_beats),
                    self.bias_align.payload.offset.eq(offset >> 1),
                    self.bias_align.payload.count.eq(bias_n),
                    self.bias_align.payload.beats.eq(bias_beats),
                ]
                all_sent = Const(1, 1)
                for i, (job, needed) in enumerate(jobs):
                    m.d.comb += job.valid.eq(needed & ~sent[i])
                    with m.If(job.valid & job.ready):
                        m.d.sync += sent[i].eq(1)
                    all_sent = all_sent & (~needed | sent[i] | job.ready)
                with m.If(all_sent):
                    m.d.sync += sent.eq(0)
                    m.next = "IDLE"
            with m.State("HALT"):
                pass
        return m
