"""The core's matrix sequencer: runs the MATRIX instruction class (CONV1D, MASKEDMM, MM, ARGMAX,
ARGMAXP) over the matrix unit, the DMA's weight stream, the arg-max unit and the register-file
port.

One instruction at a time, in issue order:

* **CONV1D / MASKEDMM / MM.** The word goes to the :class:`~.matrix_decode.MatrixDecoder`,
  whose command gives the matrix unit its descriptor. (The DMA streams the weight tiles and the
  bias straight to the matrix unit; it has the word from the control unit's weight prefetch,
  which offers it before the issue, so the tiles are usually waiting.) The input vector leaves the register file
  through a ``STORE`` micro-op and :class:`~.x_gather.InputGather` (``d``-element slices, zero
  past ``k``). Once the matrix unit offers its first output word, a ``LOAD`` micro-op writes the
  output vector (``l = lanes``: one output beat is one register-file word); MASKEDMM then
  writes the row maximum with an ``SLOAD``. The ``LOAD`` is requested only when its words are
  coming, so the VPU never waits on the matrix unit with a micro-op at its head.
* **ARGMAX / ARGMAXP.** A ``STORE`` micro-op streams the vector (or the pairs) into the
  :class:`~.argmax.ArgmaxUnit`; two ``SLOAD`` micro-ops write its value and index to
  ``s[sdst]`` and ``s[sdst + 1]``.

``done`` pulses when the instruction's last micro-op retires in the VPU (its results are in the
register files). Errors: the decoder's, ``UNIT_FAULT`` for an opcode of another class (info:
the opcode), ``VRF_RANGE`` for a vector address the register file cannot hold, ``FIELD_RANGE``
for an empty arg-max. After an error nothing more is accepted.
"""

from amaranth import *
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out

from ..isa.layouts import LAYOUTS, Opcode
from ..mpu.layouts import MatOp, descriptor_layout, max_layout, output_layout
from ..spec.errors import ErrorCode, ErrorSignature
from ..spec.issue import ISSUE_LAYOUT
from ..vpu.layouts import Opcode as VOp
from ..vpu.layouts import VPUConfig
from .argmax import ArgmaxUnit
from .matrix_decode import MatrixDecoder
from .rf_port import requester_signature
from .x_gather import InputGather

__all__ = ["MatrixSequencer"]


class _State(enum.Enum):
    IDLE = 0
    FORK = 1          # word to the decoder
    COMMAND = 2       # wait for the decoder's command
    START = 3         # descriptor, input length, STORE request
    WAIT_OUT = 4      # LOAD request once the first output word is offered
    STREAM_OUT = 5    # output words to the register file
    WAIT_MAX = 6      # SLOAD request once the maximum is offered
    STREAM_MAX = 7
    ARG_START = 8     # arg-max command and STORE request
    ARG_WAIT = 9      # two SLOAD requests once the result is offered
    ARG_VALUE = 10
    ARG_INDEX = 11
    STOPPED = 12


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
    error : Out(ErrorSignature)
    """

    def __init__(self, *, d, l, band, max_rows, config):
        if not isinstance(config, VPUConfig):
            raise ValueError(f"config must be a VPUConfig, not {config!r}")
        if l != config.lanes:
            raise ValueError(f"the matrix unit's l ({l}) must equal the VPU's lanes "
                             f"({config.lanes}): an output beat is one register-file word")
        self._config = config
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
            "error": Out(ErrorSignature),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        m.submodules.decoder = dec = self.decoder
        m.submodules.gather = gather = self.gather
        m.submodules.argmax = arg = self.argmax
        wiring.connect(m, gather.x, wiring.flipped(self.x))

        state = Signal(_State)
        cur = Signal(ISSUE_LAYOUT)
        cmd = Signal(dec.command.payload.shape())
        taken = Signal(3)          # which of up to three parallel offers have been taken
        rf = self.rf
        req = rf.request.payload
        op_field = LAYOUTS[Opcode.ARGMAX](cur.word)
        argp = LAYOUTS[Opcode.ARGMAXP](cur.word)
        is_pairs = Signal()

        fault = Signal(ErrorCode)
        fault_info = Signal(32)

        def vrf_too_far(*addresses):
            width = cfg.vrf_addr_width
            return Cat(*(a[width:] for a in addresses)).any()

        m.d.comb += self.done.eq(rf.retired)

        # Store words: to the input gather (matrix operations) or the arg-max unit.
        to_argmax = Signal()
        m.d.comb += [
            gather.words.payload.eq(rf.store.payload),
            arg.data.payload.eq(rf.store.payload),
            gather.words.valid.eq(rf.store.valid & ~to_argmax),
            arg.data.valid.eq(rf.store.valid & to_argmax),
            rf.store.ready.eq(Mux(to_argmax, arg.data.ready, gather.words.ready)),
        ]

        with m.Switch(state):
            with m.Case(_State.IDLE):
                m.d.comb += self.issue.ready.eq(1)
                with m.If(self.issue.valid):
                    m.d.sync += [cur.eq(self.issue.payload), taken.eq(0)]
                    opcode = LAYOUTS[Opcode.ARGMAX](self.issue.payload.word).op
                    with m.Switch(opcode):
                        with m.Case(Opcode.CONV1D, Opcode.MASKEDMM, Opcode.MM):
                            m.d.sync += [state.eq(_State.FORK), to_argmax.eq(0)]
                        with m.Case(Opcode.ARGMAX, Opcode.ARGMAXP):
                            m.d.sync += [state.eq(_State.ARG_START), to_argmax.eq(1),
                                         is_pairs.eq(opcode == Opcode.ARGMAXP)]
                        with m.Default():
                            m.d.comb += [fault.eq(ErrorCode.UNIT_FAULT),
                                         fault_info.eq(opcode)]

            with m.Case(_State.FORK):
                m.d.comb += [dec.issue.valid.eq(1), dec.issue.payload.eq(cur)]
                with m.If(dec.issue.ready):
                    m.d.sync += state.eq(_State.COMMAND)

            with m.Case(_State.COMMAND):
                m.d.comb += dec.command.ready.eq(1)
                with m.If(dec.command.valid):
                    m.d.sync += [cmd.eq(dec.command.payload), state.eq(_State.START)]
                    with m.If(vrf_too_far(dec.command.payload.vsrc, dec.command.payload.vdst)):
                        m.d.comb += [fault.eq(ErrorCode.VRF_RANGE), fault_info.eq(
                            Mux(vrf_too_far(dec.command.payload.vsrc),
                                dec.command.payload.vsrc, dec.command.payload.vdst))]

            with m.Case(_State.START):
                m.d.comb += [
                    self.desc.valid.eq(~taken[0]), self.desc.payload.eq(cmd.desc),
                    gather.length.valid.eq(~taken[1]), gather.length.payload.eq(cmd.x_len),
                    rf.request.valid.eq(~taken[2]),
                    req.op.opcode.eq(VOp.STORE), req.op.src1.eq(cmd.vsrc),
                    req.op.length.eq(cmd.x_len), req.notify.eq(0),
                ]
                now = taken | Cat(self.desc.ready, gather.length.ready, rf.request.ready)
                m.d.sync += taken.eq(now)
                with m.If(now == 0b111):
                    m.d.sync += [state.eq(_State.WAIT_OUT), taken.eq(0)]

            with m.Case(_State.WAIT_OUT):
                is_masked = cmd.desc.op == MatOp.MASKED_MM
                m.d.comb += [
                    rf.request.valid.eq(self.out.valid),
                    req.op.opcode.eq(VOp.LOAD), req.op.dst.eq(cmd.vdst),
                    req.op.length.eq(cmd.out_len), req.notify.eq(~is_masked),
                ]
                with m.If(rf.request.valid & rf.request.ready):
                    m.d.sync += state.eq(_State.STREAM_OUT)

            with m.Case(_State.STREAM_OUT):
                m.d.comb += [rf.load.valid.eq(self.out.valid),
                             rf.load.payload.eq(self.out.payload.data),
                             self.out.ready.eq(rf.load.ready)]
                with m.If(self.out.valid & self.out.ready & self.out.payload.last):
                    m.d.sync += state.eq(Mux(cmd.desc.op == MatOp.MASKED_MM, _State.WAIT_MAX,
                                             _State.IDLE))

            with m.Case(_State.WAIT_MAX):
                m.d.comb += [
                    rf.request.valid.eq(self.max.valid),
                    req.op.opcode.eq(VOp.SLOAD), req.op.dst.eq(cmd.sdst), req.notify.eq(1),
                    req.op.length.eq(1),
                ]
                with m.If(rf.request.valid & rf.request.ready):
                    m.d.sync += state.eq(_State.STREAM_MAX)

            with m.Case(_State.STREAM_MAX):
                m.d.comb += [rf.load.valid.eq(self.max.valid),
                             rf.load.payload.eq(self.max.payload.value),
                             self.max.ready.eq(rf.load.ready)]
                with m.If(self.max.valid & self.max.ready):
                    m.d.sync += state.eq(_State.IDLE)

            with m.Case(_State.ARG_START):
                count = Mux(is_pairs, argp.len, op_field.len)
                length = Mux(is_pairs, count << 1, count)
                m.d.comb += [
                    arg.command.valid.eq(~taken[0]),
                    arg.command.payload.pairs.eq(is_pairs),
                    arg.command.payload.len.eq(count),
                    arg.command.payload.base.eq(Mux(is_pairs, 0, op_field.base)),
                    rf.request.valid.eq(~taken[1]),
                    req.op.opcode.eq(VOp.STORE), req.op.src1.eq(op_field.vsrc),
                    req.op.length.eq(length), req.notify.eq(0),
                ]
                with m.If(count == 0):
                    m.d.comb += [fault.eq(ErrorCode.FIELD_RANGE), fault_info.eq(0),
                                 arg.command.valid.eq(0), rf.request.valid.eq(0)]
                with m.Elif(vrf_too_far(op_field.vsrc)):
                    m.d.comb += [fault.eq(ErrorCode.VRF_RANGE), fault_info.eq(op_field.vsrc),
                                 arg.command.valid.eq(0), rf.request.valid.eq(0)]
                now = taken | Cat(arg.command.ready, rf.request.ready)
                m.d.sync += taken.eq(now)
                with m.If(now[:2] == 0b11):
                    m.d.sync += [state.eq(_State.ARG_WAIT), taken.eq(0)]

            with m.Case(_State.ARG_WAIT):
                # Two SLOADs, value then index, once the result is offered.
                m.d.comb += [
                    rf.request.valid.eq(arg.result.valid),
                    req.op.opcode.eq(VOp.SLOAD), req.op.length.eq(1),
                    req.op.dst.eq(op_field.sdst + taken[0]), req.notify.eq(taken[0]),
                ]
                with m.If(rf.request.valid & rf.request.ready):
                    m.d.sync += taken[0].eq(1)
                    with m.If(taken[0]):
                        m.d.sync += [state.eq(_State.ARG_VALUE), taken.eq(0)]

            with m.Case(_State.ARG_VALUE):
                m.d.comb += [rf.load.valid.eq(1),
                             rf.load.payload.eq(arg.result.payload.value)]
                with m.If(rf.load.ready):
                    m.d.sync += state.eq(_State.ARG_INDEX)

            with m.Case(_State.ARG_INDEX):
                m.d.comb += [rf.load.valid.eq(1),
                             rf.load.payload.eq(arg.result.payload.index),
                             arg.result.ready.eq(rf.load.ready)]
                with m.If(rf.load.ready):
                    m.d.sync += state.eq(_State.IDLE)

        with m.If(dec.error.valid & ~self.error.valid):
            m.d.sync += [self.error.valid.eq(1), self.error.code.eq(dec.error.code),
                         self.error.info.eq(dec.error.info), state.eq(_State.STOPPED)]
        with m.Elif((fault != ErrorCode.NONE) & ~self.error.valid):
            m.d.sync += [self.error.valid.eq(1), self.error.code.eq(fault),
                         self.error.info.eq(fault_info), state.eq(_State.STOPPED)]
        return m
