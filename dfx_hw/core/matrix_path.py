"""The core's matrix sequencer: runs the MATRIX instruction class (CONV1D, MASKEDMM, MM, ARGMAX,
ARGMAXP) over the matrix unit, the DMA's weight stream, the arg-max unit and the register-file
port.

Instructions in issue order, matrix operations pipelined: a *front* starts each operation and a
*back* writes the results of the started ones, in order, so the matrix unit takes the next
operation's first tile right after the previous one's last (it accepts the next descriptor on
that clock) while the previous results drain:

* **CONV1D / MASKEDMM / MM**, front: the word goes to the
  :class:`~.matrix_decode.MatrixDecoder`, whose command gives the matrix unit its descriptor.
  (The DMA streams the weight tiles and the bias straight to the matrix unit; it has the word
  from the control unit's weight prefetch, which offers it before the issue, so the tiles are
  usually waiting.) The input vector leaves the register file through a ``STORE`` micro-op and
  :class:`~.x_gather.InputGather` (``d``-element slices, zero past ``k``) into an input FIFO
  that holds one whole input (``ceil(max_rows / d)`` slices), so the next operation's input is
  read while the matrix unit still works on the current one. The operation's output
  destination then goes to the back (up to :data:`~dfx_hw.spec.costs.MATRIX_PENDING` started
  operations wait there for their results).
* Back: once the matrix unit offers an operation's first output word (through a FIFO of a
  band's words, so the request's handshake never holds the matrix unit), a ``LOAD`` micro-op
  writes the output vector (``l = lanes``: one output beat is one register-file word);
  MASKEDMM then writes the row maximum with an ``SLOAD``. The ``LOAD`` is requested only when
  its words are coming, so the VPU never waits on the matrix unit with a micro-op at its head;
  the back's requests go first when both halves request on one clock.
* **No deadlock through the VPU** (which takes micro-ops in order): the front starts an
  operation only once the matrix unit has taken every earlier operation's input (no slice of
  one owed). So an input ``STORE`` in the VPU never waits: the input FIFO is empty of earlier
  inputs and holds a whole one. And a ``LOAD`` ahead of it never waits for the ``STORE``: it is
  requested only once its first word is out, and an operation's words need no input after its
  first output (its input was taken during its first band), so the rest of the chunk follows.
  Small operations (attention's MaskedMM and MM: one input slice) thus start every few clocks,
  their pipeline latencies overlapping, instead of waiting for the results of the operation two
  ahead.
* **Kept input** (session 12): a CONV1D's input slices are also written into ``x_kept`` as
  the gather produces them; a later CONV1D of the same vector (``vsrc`` and ``k``) takes them
  from there -- replayed into the input FIFO, one slice per clock, no ``STORE`` through the VPU
  -- as long as no word of the vector has been written since (the VPU reports every write of
  the vector register file, ``vrf_written``; a write into the kept words drops them). The
  QKV projection's groups read the LayerNorm output eight times per layer at the U280 build,
  ``proj`` and ``fc2``'s chunks their inputs seven times: one 64-word (proj), 256-word (fc2)
  ``STORE`` each instead of seven or eight, and the VPU, the register files' only port, is free
  for the softmax and residual work in between. The deadlock rule keeps it simple: a CONV1D
  starts only once every earlier input has been taken, so the gather is idle when its capture
  begins and the input FIFO empty when a replay begins.
* **ARGMAX / ARGMAXP** (front, once every started operation has written back): a ``STORE``
  micro-op streams the vector (or the pairs) into the :class:`~.argmax.ArgmaxUnit`; two
  ``SLOAD`` micro-ops write its value and index to ``s[sdst]`` and ``s[sdst + 1]``.
* **Arg-max tap**: a ``CONV1D +argmax`` gives the arg-max unit its command before its
  descriptor, and the back feeds it the output words as it writes them; an ``ARGMAX +tap`` of
  exactly that output (the next matrix instruction) then only issues the two ``SLOAD`` s (its
  ``base`` added to the index). Otherwise the tap ``ARGMAX`` is ``FIELD_RANGE`` (info: its
  ``vsrc``); any other matrix instruction, or an ``ARGMAX`` without ``tap``, throws the pending
  result away as it comes out.

``done`` pulses when the instruction's last micro-op retires in the VPU (its results are in the
register files). Errors: the decoder's, ``UNIT_FAULT`` for an opcode of another class (info:
the opcode), ``VRF_RANGE`` for a vector address the register file cannot hold, ``FIELD_RANGE``
for an empty arg-max. After an error nothing more is accepted.
"""

from amaranth import *
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from ..isa.layouts import LAYOUTS, Opcode
from ..mpu.layouts import DIM_BITS, MatOp, descriptor_layout, max_layout, output_layout
from ..spec.costs import MATRIX_PENDING
from ..spec.errors import ErrorCode, ErrorSignature
from ..spec.issue import ISSUE_LAYOUT
from ..vpu.layouts import Opcode as VOp
from ..vpu.layouts import VPUConfig, written_layout
from .argmax import ArgmaxUnit
from .matrix_decode import MatrixDecoder
from .rf_port import requester_signature
from .x_gather import InputGather

__all__ = ["MatrixSequencer"]


class _Front(enum.Enum):
    IDLE = 0
    FORK = 1          # word to the decoder
    COMMAND = 2       # wait for the decoder's command
    START = 3         # descriptor, input length, STORE request, output to the back
    ARG_START = 4     # arg-max command and STORE request
    ARG_WAIT = 5      # two SLOAD requests once the result is offered
    ARG_VALUE = 6
    ARG_INDEX = 7
    STOPPED = 8


class _Back(enum.Enum):
    IDLE = 0
    WAIT_OUT = 1      # LOAD request of the next chunk once its first word is offered
    STREAM_OUT = 2    # the chunk's words to the register file
    WAIT_MAX = 3      # SLOAD request once the maximum is offered
    STREAM_MAX = 4


def _pending_layout(command):
    """What the back needs of a started operation."""
    return data.StructLayout({"vdst": command["vdst"].shape, "out_len": command["out_len"].shape,
                              "sdst": command["sdst"].shape, "masked": 1, "tap": 1})


class MatrixSequencer(wiring.Component):
    """Parameters
    ----------
    d, l : int
        Tile shape (``l`` must equal ``config.lanes``).
    band, max_rows : int
        The matrix unit's accumulator entries and longest input.
    config : VPUConfig

    Members
    -------
    issue : In(stream.Signature(ISSUE_LAYOUT))
    done : Out(1)
    desc : Out(stream.Signature(descriptor_layout()))
    x : Out(stream.Signature(ArrayLayout(16, d)))
    out : In(stream.Signature(output_layout(width=l)))
    max : In(stream.Signature(max_layout()))
    rf : Out(requester_signature(config).flip())
    vrf_written : In(:func:`~dfx_hw.vpu.layouts.written_layout`)
        The VPU's vector register-file write port this clock (``en``: any lane written,
        ``addr``: the word): what invalidates the kept CONV1D input.
    error : Out(ErrorSignature)
    """

    def __init__(self, *, d, l, band, max_rows, config):
        if not isinstance(config, VPUConfig):
            raise ValueError(f"config must be a VPUConfig, not {config!r}")
        if l != config.lanes:
            raise ValueError(f"the matrix unit's l ({l}) must equal the VPU's lanes "
                             f"({config.lanes}): an output beat is one register-file word")
        self._config = config
        self._band = band
        self._x_slices = -(-max_rows // d)
        self._d = d
        self.decoder = MatrixDecoder(d=d, l=l, band=band, max_rows=max_rows)
        self.gather = InputGather(d=d, lanes=config.lanes)
        self.argmax = ArgmaxUnit(lanes=config.lanes)
        super().__init__({
            "issue": In(stream.Signature(ISSUE_LAYOUT)),
            "done": Out(1),
            "desc": Out(stream.Signature(descriptor_layout())),
            "x": Out(self.gather.x.signature),
            "out": In(stream.Signature(output_layout(width=l))),
            "max": In(stream.Signature(max_layout())),
            "rf": Out(requester_signature(config).flip()),
            "vrf_written": In(written_layout(config)),
            "error": Out(ErrorSignature),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        m.submodules.decoder = dec = self.decoder
        m.submodules.gather = gather = self.gather
        m.submodules.argmax = arg = self.argmax
        x_width = len(gather.x.payload.as_value())
        # room for one whole input: an operation starts once the matrix unit has taken every
        # earlier one's input (see the deadlock rule)
        m.submodules.x_fifo = x_fifo = SyncFIFOBuffered(width=x_width, depth=self._x_slices)
        # The kept input: the slices of the last CONV1D's input vector, replayed into the input
        # FIFO (no STORE through the VPU) for a CONV1D of the same vector while no write to it
        # has been seen (the QKV projection's groups, the chunks of proj and fc2).
        m.submodules.x_kept = x_kept = Memory(shape=x_width, depth=self._x_slices, init=[])
        kept_w = x_kept.write_port()
        kept_r = x_kept.read_port()
        kept_valid = Signal()                   # x_kept holds the input named below, unwritten
        kept_vsrc = Signal(cfg.vrf_addr_width)
        kept_len = Signal(DIM_BITS)
        kept_lo = Signal(cfg.word_addr_width + 1)
        kept_hi = Signal(cfg.word_addr_width + 1)
        capturing = Signal()                    # the gather's slices are this CONV1D's input
        capture_at = Signal(range(self._x_slices + 1))
        capture_end = Signal(range(self._x_slices + 1))
        replaying = Signal()                    # x_kept's slices into the input FIFO
        replay_at = Signal(range(self._x_slices + 1))
        replay_end = Signal(range(self._x_slices + 1))
        replay_data = Signal()                  # kept_r's data is a slice to write (one clock on)
        m.d.comb += [
            x_fifo.w_data.eq(Mux(replay_data, kept_r.data, gather.x.payload)),
            x_fifo.w_en.eq(replay_data | gather.x.valid),
            gather.x.ready.eq(x_fifo.w_rdy & ~replay_data),
            self.x.payload.eq(x_fifo.r_data), self.x.valid.eq(x_fifo.r_rdy),
            x_fifo.r_en.eq(self.x.ready),
            kept_w.addr.eq(capture_at), kept_w.data.eq(gather.x.payload),
            kept_w.en.eq(capturing & gather.x.valid & gather.x.ready),
            kept_r.addr.eq(replay_at), kept_r.en.eq(1),
        ]
        with m.If(capturing & gather.x.valid & gather.x.ready):
            m.d.sync += capture_at.eq(capture_at + 1)
            with m.If(capture_at + 1 == capture_end):
                m.d.sync += [capturing.eq(0), kept_valid.eq(1)]
        m.d.sync += replay_data.eq(replaying)
        with m.If(replaying):
            m.d.sync += replay_at.eq(replay_at + 1)
            with m.If(replay_at + 1 == replay_end):
                m.d.sync += replaying.eq(0)
        # a write into the kept vector's words (or while it is captured) forgets it: compared
        # on the registered write, so the kept input is dropped the clock after next -- before
        # any instruction that reads the written words can reach the front
        written = Signal(written_layout(cfg))
        m.d.sync += written.eq(self.vrf_written)
        hit_kept = written.en & (written.addr >= kept_lo) & (written.addr <= kept_hi)
        with m.If(hit_kept):
            m.d.sync += [kept_valid.eq(0), capturing.eq(0)]

        # The matrix unit's output words wait here (a band's worth) while the back's LOAD request
        # reaches the VPU, a few clocks per band: the matrix unit's pipeline holds whenever its
        # output is not taken, so without this slack every band's request would also stop the
        # weight stream (SFU_M's short path leaves a band's words no room inside the pipeline).
        m.submodules.out_fifo = out_fifo = SyncFIFOBuffered(
            width=len(self.out.payload.as_value()), depth=self._band)
        out_valid, out_ready = out_fifo.r_rdy, Signal()
        out_data = Signal(self.out.payload.shape())
        m.d.comb += [
            out_fifo.w_data.eq(self.out.payload), out_fifo.w_en.eq(self.out.valid),
            self.out.ready.eq(out_fifo.w_rdy),
            out_data.eq(out_fifo.r_data), out_fifo.r_en.eq(out_ready),
        ]

        front = Signal(_Front)
        back = Signal(_Back)
        reuse = Signal()           # the operation at START takes the kept input
        cur = Signal(ISSUE_LAYOUT)
        cmd = Signal(dec.command.payload.shape())
        taken = Signal(5)          # which of up to five parallel offers have been taken
        rf = self.rf
        op_field = LAYOUTS[Opcode.ARGMAX](cur.word)
        argp = LAYOUTS[Opcode.ARGMAXP](cur.word)
        is_pairs = Signal()
        tapped = Signal()          # the ARGMAX at the front takes a tapped CONV1D's result
        m.d.comb += tapped.eq(~is_pairs & op_field.flags.tap)
        # the arg-max instruction's fields (ARGMAX and ARGMAXP lay them out differently)
        arg_vsrc = Mux(is_pairs, argp.vsrc, op_field.vsrc)
        arg_sdst = Mux(is_pairs, argp.sdst, op_field.sdst)

        # started operations whose results the back writes, in order
        pending_layout = _pending_layout(dec.command.payload.shape())
        m.submodules.pending = pending = SyncFIFOBuffered(width=pending_layout.size,
                                                          depth=MATRIX_PENDING)
        now_pending = Signal(pending_layout)
        m.d.comb += now_pending.eq(pending.r_data)
        head = Signal(pending_layout)
        # the output in chunks of `band` words (what one band of the matrix unit's walk writes
        # back together): the next chunk's destination, the elements left, the chunk's words left
        chunk = self._band * cfg.lanes
        out_dst = Signal.like(head.vdst)
        out_left = Signal.like(head.out_len)
        words_left = Signal(range(self._band + 1))
        last_chunk = Signal()
        m.d.comb += last_chunk.eq(out_left <= chunk)
        # started operations whose last LOAD has not been requested (an arg-max waits for none)
        unloaded = Signal(range(MATRIX_PENDING + 2))
        started, loaded = Signal(), Signal()
        m.d.sync += unloaded.eq(unloaded + started - loaded)
        # input slices of started operations the matrix unit has not taken yet (the deadlock
        # rule: an operation starts only when there are none)
        x_owed = Signal(range(self._x_slices + 1))
        x_added = Signal.like(x_owed)
        m.d.sync += x_owed.eq(x_owed + x_added - (self.x.valid & self.x.ready))
        # the arg-max tap: a CONV1D with `argmax` has its output words fed to the arg-max unit
        # as the back writes them; an ARGMAX with `tap` then only reads the result. `tap_armed`:
        # the last matrix instruction started was such a CONV1D, of output v[tap_vdst:+tap_len];
        # `tap_discard`: a result nobody will read is still to come out of the arg-max unit
        tap_armed, tap_discard, tap_take = Signal(), Signal(), Signal()
        tap_vdst = Signal.like(dec.command.payload.vdst)
        tap_len = Signal.like(dec.command.payload.out_len)
        with m.If(tap_discard & arg.result.valid):
            m.d.comb += arg.result.ready.eq(1)
            m.d.sync += tap_discard.eq(0)

        fault = Signal(ErrorCode)
        fault_info = Signal(32)

        def vrf_too_far(*addresses):
            width = cfg.vrf_addr_width
            return Cat(*(a[width:] for a in addresses)).any()

        m.d.comb += self.done.eq(rf.retired)

        # The two halves' register-file requests: the back's first.
        front_req = Signal(rf.request.payload.shape())
        back_req = Signal(rf.request.payload.shape())
        front_valid, back_valid = Signal(), Signal()
        front_ready = Signal()
        m.d.comb += [
            rf.request.valid.eq(front_valid | back_valid),
            rf.request.payload.eq(Mux(back_valid, back_req, front_req)),
            front_ready.eq(rf.request.ready & ~back_valid),
        ]
        back_fire = back_valid & rf.request.ready

        # Store words: to the input gather (matrix operations) or the arg-max unit; and the
        # output words of a tapped CONV1D to the arg-max unit as the back writes them.
        to_argmax = Signal()
        tapping = Signal()
        m.d.comb += [
            gather.words.payload.eq(rf.store.payload),
            arg.data.payload.eq(Mux(tapping, out_data.data, rf.store.payload)),
            gather.words.valid.eq(rf.store.valid & ~to_argmax),
            arg.data.valid.eq(Mux(tapping, out_valid & out_ready, rf.store.valid & to_argmax)),
            rf.store.ready.eq(Mux(to_argmax, arg.data.ready, gather.words.ready)),
        ]
        # Load words: the back's, or the arg-max results (only while the back is idle).
        back_load_valid = Signal()
        back_load_data = Signal(len(rf.load.payload))
        front_load_valid = Signal()
        front_load_data = Signal(len(rf.load.payload))
        arg_phase = (front == _Front.ARG_VALUE) | (front == _Front.ARG_INDEX)
        m.d.comb += [
            rf.load.valid.eq(Mux(arg_phase, front_load_valid, back_load_valid)),
            rf.load.payload.eq(Mux(arg_phase, front_load_data, back_load_data)),
        ]

        # ---- front ---------------------------------------------------------------------------
        idle_back = (back == _Back.IDLE) & ~pending.r_rdy & (unloaded == 0)
        with m.Switch(front):
            with m.Case(_Front.IDLE):
                opcode = LAYOUTS[Opcode.ARGMAX](self.issue.payload.word).op
                arg_field = LAYOUTS[Opcode.ARGMAX](self.issue.payload.word)
                is_matrix = ((opcode == Opcode.CONV1D) | (opcode == Opcode.MASKEDMM)
                             | (opcode == Opcode.MM))
                is_arg = (opcode == Opcode.ARGMAX) | (opcode == Opcode.ARGMAXP)
                # a matrix operation at once (it is decoded while the matrix unit takes the
                # earlier inputs; it starts once it has taken them all); an arg-max once
                # everything started has written back
                can = Mux(is_arg, idle_back, 1)
                m.d.comb += self.issue.ready.eq(can)
                with m.If(self.issue.valid & can):
                    m.d.sync += [cur.eq(self.issue.payload), taken.eq(0)]
                    with m.If(is_matrix | is_arg):
                        # any later matrix instruction ends a tap; its result, if not read
                        # by this one (an ARGMAX with `tap` of the same range), is thrown away
                        taps = (opcode == Opcode.ARGMAX) & arg_field.flags.tap
                        match = tap_armed & (arg_field.vsrc == tap_vdst) & \
                            (arg_field.len == tap_len)
                        m.d.sync += [tap_armed.eq(0), tap_take.eq(taps & match)]
                        with m.If(tap_armed & ~(taps & match)):
                            m.d.sync += tap_discard.eq(1)
                    with m.If(is_matrix):
                        m.d.sync += [front.eq(_Front.FORK), to_argmax.eq(0)]
                    with m.Elif(is_arg):
                        m.d.sync += [front.eq(_Front.ARG_START), to_argmax.eq(1),
                                     is_pairs.eq(opcode == Opcode.ARGMAXP)]
                    with m.Else():
                        m.d.comb += [fault.eq(ErrorCode.UNIT_FAULT), fault_info.eq(opcode)]

            with m.Case(_Front.FORK):
                m.d.comb += [dec.issue.valid.eq(1), dec.issue.payload.eq(cur)]
                with m.If(dec.issue.ready):
                    m.d.sync += front.eq(_Front.COMMAND)

            with m.Case(_Front.COMMAND):
                # the deadlock rule: start only once every earlier input has been taken
                m.d.comb += dec.command.ready.eq(x_owed == 0)
                with m.If(dec.command.valid & (x_owed == 0)):
                    payload = dec.command.payload
                    is_conv = LAYOUTS[Opcode.CONV1D](cur.word).op == Opcode.CONV1D
                    m.d.sync += [cmd.eq(payload), front.eq(_Front.START),
                                 reuse.eq(is_conv & kept_valid & ~capturing &
                                          (payload.vsrc == kept_vsrc) &
                                          (payload.x_len == kept_len))]
                    with m.If(vrf_too_far(dec.command.payload.vsrc, dec.command.payload.vdst)):
                        m.d.comb += [fault.eq(ErrorCode.VRF_RANGE), fault_info.eq(
                            Mux(vrf_too_far(dec.command.payload.vsrc),
                                dec.command.payload.vsrc, dec.command.payload.vdst))]

            with m.Case(_Front.START):
                entry = Signal(pending_layout)
                conv = LAYOUTS[Opcode.CONV1D](cur.word)
                tap_op = (conv.op == Opcode.CONV1D) & conv.flags.argmax
                # a tapped CONV1D's arg-max command goes first, so no output word can come
                # before it
                arg_given = taken[4] | ~tap_op
                slices = (cmd.x_len + self._d - 1) >> exact_log2(self._d)
                m.d.comb += [
                    entry.vdst.eq(cmd.vdst), entry.out_len.eq(cmd.out_len),
                    entry.sdst.eq(cmd.sdst), entry.masked.eq(cmd.desc.op == MatOp.MASKED_MM),
                    entry.tap.eq(tap_op),
                    arg.command.valid.eq(~arg_given), arg.command.payload.pairs.eq(0),
                    arg.command.payload.len.eq(cmd.out_len), arg.command.payload.base.eq(0),
                    self.desc.valid.eq(~taken[0] & arg_given),
                    self.desc.payload.eq(cmd.desc),
                    gather.length.valid.eq(~taken[1] & ~reuse),
                    gather.length.payload.eq(cmd.x_len),
                    front_valid.eq(~taken[2] & ~reuse),
                    front_req.op.opcode.eq(VOp.STORE), front_req.op.src1.eq(cmd.vsrc),
                    front_req.op.length.eq(cmd.x_len), front_req.notify.eq(0),
                    pending.w_en.eq(~taken[3]), pending.w_data.eq(entry),
                ]
                now = taken | Cat(self.desc.ready & arg_given, gather.length.ready | reuse,
                                  front_ready | reuse, pending.w_rdy, arg.command.ready | ~tap_op)
                m.d.sync += taken.eq(now)
                m.d.comb += started.eq(~taken[3] & pending.w_rdy)
                with m.If(~taken[1] & (gather.length.ready | reuse)):
                    m.d.comb += x_added.eq(slices)
                    with m.If(reuse):
                        # the input is the kept one: replayed from x_kept, no STORE
                        m.d.sync += [replaying.eq(1), replay_at.eq(0), replay_end.eq(slices)]
                    with m.Elif(conv.op == Opcode.CONV1D):
                        # a CONV1D's input: kept as the gather writes it (every earlier slice
                        # is out of the gather: the deadlock rule)
                        shift = exact_log2(cfg.lanes)
                        m.d.sync += [capturing.eq(1), capture_at.eq(0), capture_end.eq(slices),
                                     kept_valid.eq(0), kept_vsrc.eq(cmd.vsrc),
                                     kept_len.eq(cmd.x_len), kept_lo.eq(cmd.vsrc >> shift),
                                     kept_hi.eq((cmd.vsrc + cmd.x_len - 1) >> shift)]
                with m.If(now == 0b11111):
                    m.d.sync += [front.eq(_Front.IDLE), taken.eq(0)]
                    with m.If(tap_op):
                        m.d.sync += [tap_armed.eq(1), tap_vdst.eq(cmd.vdst),
                                     tap_len.eq(cmd.out_len)]

            with m.Case(_Front.ARG_START):
                count = Mux(is_pairs, argp.len, op_field.len)
                length = Mux(is_pairs, count << 1, count)
                m.d.comb += [
                    arg.command.valid.eq(~taken[0] & ~tapped),
                    arg.command.payload.pairs.eq(is_pairs),
                    arg.command.payload.len.eq(count),
                    arg.command.payload.base.eq(Mux(is_pairs, 0, op_field.base)),
                    front_valid.eq(~taken[1] & ~tapped),
                    front_req.op.opcode.eq(VOp.STORE), front_req.op.src1.eq(arg_vsrc),
                    front_req.op.length.eq(length), front_req.notify.eq(0),
                ]
                with m.If(~tapped & (count == 0)):
                    m.d.comb += [fault.eq(ErrorCode.FIELD_RANGE), fault_info.eq(0),
                                 arg.command.valid.eq(0), front_valid.eq(0)]
                with m.Elif(~tapped & vrf_too_far(arg_vsrc)):
                    m.d.comb += [fault.eq(ErrorCode.VRF_RANGE), fault_info.eq(arg_vsrc),
                                 arg.command.valid.eq(0), front_valid.eq(0)]
                now = taken | Cat(arg.command.ready, front_ready)
                m.d.sync += taken.eq(now)
                with m.If((now[:2] == 0b11) & ~tapped):
                    m.d.sync += [front.eq(_Front.ARG_WAIT), taken.eq(0)]
                with m.If(tapped):
                    # the result was found while the CONV1D wrote the vector: only read it
                    with m.If(tap_take):
                        m.d.sync += [front.eq(_Front.ARG_WAIT), taken.eq(0)]
                    with m.Else():
                        m.d.comb += [fault.eq(ErrorCode.FIELD_RANGE),
                                     fault_info.eq(op_field.vsrc)]

            with m.Case(_Front.ARG_WAIT):
                # Two SLOADs, value then index, once the result is offered.
                m.d.comb += [
                    front_valid.eq(arg.result.valid),
                    front_req.op.opcode.eq(VOp.SLOAD), front_req.op.length.eq(1),
                    front_req.op.dst.eq(arg_sdst + taken[0]), front_req.notify.eq(taken[0]),
                ]
                with m.If(front_valid & front_ready):
                    m.d.sync += taken[0].eq(1)
                    with m.If(taken[0]):
                        m.d.sync += [front.eq(_Front.ARG_VALUE), taken.eq(0)]

            with m.Case(_Front.ARG_VALUE):
                m.d.comb += [front_load_valid.eq(1),
                             front_load_data.eq(arg.result.payload.value)]
                with m.If(rf.load.ready):
                    m.d.sync += front.eq(_Front.ARG_INDEX)

            with m.Case(_Front.ARG_INDEX):
                m.d.comb += [front_load_valid.eq(1),
                             front_load_data.eq(arg.result.payload.index +
                                                Mux(tapped, op_field.base, 0)),
                             arg.result.ready.eq(rf.load.ready)]
                with m.If(rf.load.ready):
                    m.d.sync += front.eq(_Front.IDLE)

        # ---- back ----------------------------------------------------------------------------
        m.d.comb += tapping.eq((back == _Back.STREAM_OUT) & head.tap)
        with m.Switch(back):
            with m.Case(_Back.IDLE):
                m.d.comb += pending.r_en.eq(1)
                with m.If(pending.r_rdy):
                    m.d.sync += [head.eq(now_pending), back.eq(_Back.WAIT_OUT),
                                 out_dst.eq(now_pending.vdst),
                                 out_left.eq(now_pending.out_len)]

            with m.Case(_Back.WAIT_OUT):
                # one LOAD per chunk, so the VPU is held only while a chunk's words come
                length = Mux(last_chunk, out_left, chunk)
                m.d.comb += [
                    back_valid.eq(out_valid),
                    back_req.op.opcode.eq(VOp.LOAD), back_req.op.dst.eq(out_dst),
                    back_req.op.length.eq(length),
                    back_req.notify.eq(last_chunk & ~head.masked),
                ]
                with m.If(back_fire):
                    m.d.comb += loaded.eq(last_chunk)
                    m.d.sync += [back.eq(_Back.STREAM_OUT), out_dst.eq(out_dst + chunk),
                                 out_left.eq(out_left - length),
                                 words_left.eq(self._band)]

            with m.Case(_Back.STREAM_OUT):
                m.d.comb += [back_load_valid.eq(out_valid),
                             back_load_data.eq(out_data.data),
                             out_ready.eq(rf.load.ready)]
                with m.If(out_valid & out_ready):
                    m.d.sync += words_left.eq(words_left - 1)
                    with m.If(out_data.last):
                        m.d.sync += back.eq(Mux(head.masked, _Back.WAIT_MAX, _Back.IDLE))
                    with m.Elif(words_left == 1):
                        m.d.sync += back.eq(_Back.WAIT_OUT)

            with m.Case(_Back.WAIT_MAX):
                m.d.comb += [
                    back_valid.eq(self.max.valid),
                    back_req.op.opcode.eq(VOp.SLOAD), back_req.op.dst.eq(head.sdst),
                    back_req.notify.eq(1), back_req.op.length.eq(1),
                ]
                with m.If(back_fire):
                    m.d.sync += back.eq(_Back.STREAM_MAX)

            with m.Case(_Back.STREAM_MAX):
                m.d.comb += [back_load_valid.eq(self.max.valid),
                             back_load_data.eq(self.max.payload.value),
                             self.max.ready.eq(rf.load.ready)]
                with m.If(self.max.valid & self.max.ready):
                    m.d.sync += back.eq(_Back.IDLE)

        with m.If(dec.error.valid & ~self.error.valid):
            m.d.sync += [self.error.valid.eq(1), self.error.code.eq(dec.error.code),
                         self.error.info.eq(dec.error.info), front.eq(_Front.STOPPED)]
        with m.Elif((fault != ErrorCode.NONE) & ~self.error.valid):
            m.d.sync += [self.error.valid.eq(1), self.error.code.eq(fault),
                         self.error.info.eq(fault_info), front.eq(_Front.STOPPED)]
        return m
