"""The core's matrix-instruction decoder: an issued CONV1D / MASKEDMM / MM word (with its TOKEN
context) -> the matrix unit's operation descriptor plus where its input comes from and where its
output goes.

The ISA simulator (:mod:`dfx_hw.isasim.core`) defines what each instruction means; this module
restates nothing of the word format (fields are read with :data:`dfx_hw.isa.layouts.LAYOUTS`)
and derives the descriptor exactly as the simulator computes the operation:

=========  =========================  =================================  ======================
opcode     input ``x``                weights                            output
=========  =========================  =================================  ======================
CONV1D     ``v[vsrc:+k]``             ``k x n``, bands of ``WEIGHT_BAND``  ``v[vdst:+n]``, bias
                                                                         unless ``nobias``,
                                                                         GELU with ``gelu``
MASKEDMM   ``v[vsrc:+k]``, ``k <= d``  ``K^T``: one row tile, ``n'`` =    ``v[vdst:+pad(n')]``,
                                      ``n + TOKEN`` with ``token``       scaled by ``imm16``,
                                                                         columns ``>= n'``
                                                                         masked, max to
                                                                         ``s[sdst]``
MM         ``v[vsrc:+k']``, ``k'`` =  ``V``: ``k' x n``, one band of     ``v[vdst:+n]``, no
           ``k + TOKEN`` with         ``ceil(n / l)`` column tiles       bias
           ``token``
=========  =========================  =================================  ======================

``pad(n)`` rounds up to whole column tiles (``l``). :func:`matrix_command` is the Python model of
the decoder (used by the benches and, later, the core's simulation), :class:`MatrixDecoder` the
hardware. Both refuse the same words with the same :class:`~dfx_hw.spec.errors.ErrorCode`.
"""

from amaranth import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.walk import WEIGHT_BAND
from ..isa.encoding import IllegalInstruction, decode
from ..isa.layouts import LAYOUTS, SRF_ADDR_BITS, VRF_ADDR_BITS, Opcode
from ..mpu.layouts import BAND_BITS, DIM_BITS, MatOp, descriptor_layout
from ..spec.params import check_positive, check_power_of_two
from ..spec.errors import ErrorCode, ErrorSignature
from ..spec.issue import ISSUE_LAYOUT

__all__ = ["MatrixDecoder", "MatrixCommandError", "command_layout", "matrix_command",
           "DECODED_OPCODES"]

#: The opcodes this decoder turns into matrix-unit operations.
DECODED_OPCODES = (Opcode.CONV1D, Opcode.MASKEDMM, Opcode.MM)


def command_layout():
    """One decoded matrix operation.

    Fields
    ------
    desc : :func:`~dfx_hw.mpu.layouts.descriptor_layout`
        What the matrix unit's operand collector accepts.
    vsrc, x_len
        The input vector ``v[vsrc:+x_len]`` (``x_len`` = the descriptor's ``k``).
    vdst, out_len
        The output ``v[vdst:+out_len]`` (``n``; MASKEDMM: padded to whole column tiles).
    sdst
        MASKEDMM: the scalar register that receives the row maximum.
    """
    return data.StructLayout({
        "desc": descriptor_layout(),
        "vsrc": VRF_ADDR_BITS,
        "x_len": DIM_BITS,
        "vdst": VRF_ADDR_BITS,
        "out_len": DIM_BITS,
        "sdst": SRF_ADDR_BITS,
    })


class MatrixCommandError(ValueError):
    """A matrix word the hardware refuses; ``code`` is the :class:`ErrorCode` it reports and
    ``info`` the offending value."""

    def __init__(self, message, code, info):
        super().__init__(message)
        self.code = code
        self.info = info


def _tiles(count, size):
    return -(-count // size)


def matrix_command(word, *, token, d, l, band, max_rows):
    """The decoder's output for one issued matrix word, as a dict of :func:`command_layout`
    fields (``desc`` a dict of descriptor fields).

    Parameters
    ----------
    word : int
        The 128-bit instruction word.
    token : int
        The TOKEN register at issue.
    d, l, band, max_rows
        The matrix unit's geometry (``band`` = its accumulator entries, ``max_rows`` its
        longest input).

    Raises
    ------
    MatrixCommandError
        For a word the hardware cannot execute (the same cases :class:`MatrixDecoder` reports).
    """
    try:
        instr = decode(word)
    except IllegalInstruction as error:
        raise MatrixCommandError(str(error), ErrorCode.ILLEGAL_OPCODE, 0) from None
    op = instr.op
    if op not in DECODED_OPCODES:
        raise MatrixCommandError(f"{op.name.lower()} is not a matrix-unit operation",
                                 ErrorCode.ILLEGAL_OPCODE, 0)
    fields = instr.fields
    flags = {name: int(name in instr.flags) for name in instr.info.flags}
    k, n = fields["k"], fields["n"]
    desc = {"op": None, "k": k, "n": n, "bias": 0, "scale_en": 0, "scale": 0, "token": 0,
            "gelu": 0, "reduce_max": 0, "band": 0}
    out_len, sdst = n, 0
    if op is Opcode.CONV1D:
        desc.update(op=MatOp.CONV1D, bias=int(not flags["nobias"]), gelu=flags["gelu"],
                    band=WEIGHT_BAND)
    elif op is Opcode.MASKEDMM:
        if flags["token"]:
            n += token
        if k > d:
            raise MatrixCommandError(f"maskedmm k = {k} exceeds d = {d}", ErrorCode.FIELD_RANGE,
                                     k)
        out_len = _tiles(n, l) * l
        desc.update(op=MatOp.MASKED_MM, n=out_len, scale_en=1, scale=fields["imm16"],
                    token=max(n - 1, 0), reduce_max=1, band=0)
        sdst = fields["sdst"]
    else:
        if flags["token"]:
            k += token
        desc.update(op=MatOp.MM, k=k, band=_tiles(n, l))
        if _tiles(n, l) > band:
            raise MatrixCommandError(f"mm n = {n} needs {_tiles(n, l)} column tiles in one band, "
                                     f"more than the {band} accumulator entries",
                                     ErrorCode.FIELD_RANGE, n)
    if not 1 <= desc["k"] <= max_rows:
        raise MatrixCommandError(f"{op.name.lower()} input length {desc['k']} is outside "
                                 f"[1, {max_rows}]", ErrorCode.FIELD_RANGE, desc["k"])
    if not 1 <= desc["n"] < 1 << DIM_BITS:
        raise MatrixCommandError(f"{op.name.lower()} output length {desc['n']} is outside "
                                 f"[1, {(1 << DIM_BITS) - 1}]", ErrorCode.FIELD_RANGE, desc["n"])
    return {"desc": desc, "vsrc": fields["vsrc"], "x_len": desc["k"], "vdst": fields["vdst"],
            "out_len": out_len, "sdst": sdst}


class MatrixDecoder(wiring.Component):
    """Issued matrix words in, matrix-unit commands out (:func:`command_layout`), two register
    stages (the token additions, then the padding and the range checks); ``valid`` of ``command``
    comes from a register and never depends on ``command.ready``.

    A word the hardware cannot execute (:func:`matrix_command` raises for it) produces no
    command: ``error`` reports it (sticky, with the offending value in ``info``) and the
    decoder stops accepting words until reset.

    Parameters
    ----------
    d, l : int
        Tile shape.
    band : int
        Accumulator entries of the matrix unit (longest MM band).
    max_rows : int
        Longest input vector of the matrix unit.

    Members
    -------
    issue : In(stream.Signature(ISSUE_LAYOUT))
    command : Out(stream.Signature(command_layout()))
    error : Out(ErrorSignature)
    """

    def __init__(self, *, d, l, band, max_rows):
        self._d = check_power_of_two("d", d)
        self._l = check_power_of_two("l", l)
        self._band = check_positive("band", band)
        if band >= 1 << BAND_BITS:
            raise ValueError(f"band must be below {1 << BAND_BITS}, not {band!r}")
        self._max_rows = check_positive("max_rows", max_rows)
        if max_rows >= 1 << DIM_BITS:
            raise ValueError(f"max_rows must be below {1 << DIM_BITS}, not {max_rows!r}")
        super().__init__({
            "issue": In(stream.Signature(ISSUE_LAYOUT)),
            "command": Out(stream.Signature(command_layout())),
            "error": Out(ErrorSignature),
        })

    def elaborate(self, platform):
        m = Module()
        d, l = self._d, self._l
        log_l = l.bit_length() - 1
        word = self.issue.payload.word
        token = self.issue.payload.token
        conv = LAYOUTS[Opcode.CONV1D](word)
        masked = LAYOUTS[Opcode.MASKEDMM](word)
        mm = LAYOUTS[Opcode.MM](word)

        # Stage 1: opcode, token additions, raw fields.
        s1 = Signal(data.StructLayout({
            "valid": 1, "op": MatOp, "legal": 1, "k": DIM_BITS + 1, "n": DIM_BITS + 1,
            "vsrc": VRF_ADDR_BITS, "vdst": VRF_ADDR_BITS, "sdst": SRF_ADDR_BITS,
            "bias": 1, "gelu": 1, "scale": 16, "k_small": 1,
        }))
        # Stage 2: the command, or an error.
        s2 = Signal(command_layout())
        s2_valid = Signal()
        stopped = Signal()
        advance = Signal()
        m.d.comb += advance.eq(~self.command.valid | self.command.ready)
        m.d.comb += self.issue.ready.eq(advance & ~stopped)

        with m.If(advance):
            m.d.sync += s1.valid.eq(self.issue.valid & ~stopped)
            m.d.sync += [s1.vsrc.eq(conv.vsrc), s1.vdst.eq(conv.vdst), s1.legal.eq(1),
                         s1.k.eq(conv.k), s1.n.eq(conv.n), s1.bias.eq(0), s1.gelu.eq(0),
                         s1.scale.eq(0), s1.sdst.eq(0), s1.k_small.eq(1)]
            with m.Switch(conv.op):
                with m.Case(Opcode.CONV1D):
                    m.d.sync += [s1.op.eq(MatOp.CONV1D), s1.bias.eq(~conv.flags.nobias),
                                 s1.gelu.eq(conv.flags.gelu)]
                with m.Case(Opcode.MASKEDMM):
                    m.d.sync += [s1.op.eq(MatOp.MASKED_MM), s1.vsrc.eq(masked.vsrc),
                                 s1.vdst.eq(masked.vdst), s1.k.eq(masked.k),
                                 s1.n.eq(masked.n + Mux(masked.flags.token, token, 0)),
                                 s1.scale.eq(masked.imm16), s1.sdst.eq(masked.sdst),
                                 s1.k_small.eq(masked.k <= d)]
                with m.Case(Opcode.MM):
                    m.d.sync += [s1.op.eq(MatOp.MM), s1.vsrc.eq(mm.vsrc), s1.vdst.eq(mm.vdst),
                                 s1.k.eq(mm.k + Mux(mm.flags.token, token, 0)),
                                 s1.n.eq(mm.n)]
                with m.Default():
                    m.d.sync += s1.legal.eq(0)

            # Stage 2 from stage 1.
            padded = Signal(DIM_BITS + 2)
            col_tiles = Signal(DIM_BITS + 1)
            m.d.comb += [col_tiles.eq((s1.n + (l - 1)) >> log_l),
                         padded.eq(col_tiles << log_l)]
            is_masked = s1.op == MatOp.MASKED_MM
            is_mm = s1.op == MatOp.MM
            out_n = Mux(is_masked, padded, s1.n)
            # The range checks compare s1.n with constants instead of reading the rounded
            # values (keeps the rounding add off the error path): ceil(n / l) > band iff
            # n > band * l, and the masked length ceil(n / l) * l is below 2**DIM_BITS iff
            # n <= 2**DIM_BITS - l (and zero iff n is).
            too_wide = s1.n > self._band * l
            out_n_bad = (s1.n == 0) | Mux(is_masked, s1.n > (1 << DIM_BITS) - l,
                                          s1.n >= 1 << DIM_BITS)
            fault = Signal(ErrorCode)
            info = Signal(32)
            with m.If(~s1.legal):
                m.d.comb += [fault.eq(ErrorCode.ILLEGAL_OPCODE), info.eq(0)]
            with m.Elif(is_masked & ~s1.k_small):
                m.d.comb += [fault.eq(ErrorCode.FIELD_RANGE), info.eq(s1.k)]
            with m.Elif(is_mm & too_wide):
                m.d.comb += [fault.eq(ErrorCode.FIELD_RANGE), info.eq(s1.n)]
            with m.Elif((s1.k == 0) | (s1.k > self._max_rows)):
                m.d.comb += [fault.eq(ErrorCode.FIELD_RANGE), info.eq(s1.k)]
            with m.Elif(out_n_bad):
                m.d.comb += [fault.eq(ErrorCode.FIELD_RANGE), info.eq(out_n)]
            m.d.sync += s2_valid.eq(s1.valid & (fault == ErrorCode.NONE) & ~stopped)
            with m.If(s1.valid & (fault != ErrorCode.NONE) & ~stopped):
                m.d.sync += [stopped.eq(1), self.error.valid.eq(1), self.error.code.eq(fault),
                             self.error.info.eq(info)]
            m.d.sync += [
                s2.desc.op.eq(s1.op), s2.desc.k.eq(s1.k), s2.desc.n.eq(out_n),
                s2.desc.bias.eq(s1.bias), s2.desc.scale_en.eq(is_masked),
                s2.desc.scale.eq(s1.scale), s2.desc.token.eq(Mux(is_masked, s1.n - 1, 0)),
                s2.desc.gelu.eq(s1.gelu), s2.desc.reduce_max.eq(is_masked),
                s2.desc.band.eq(Mux(is_mm, col_tiles, Mux(is_masked, 0, WEIGHT_BAND))),
                s2.vsrc.eq(s1.vsrc), s2.x_len.eq(s1.k), s2.vdst.eq(s1.vdst),
                s2.out_len.eq(out_n), s2.sdst.eq(s1.sdst),
            ]
        m.d.comb += [self.command.valid.eq(s2_valid), self.command.payload.eq(s2)]
        return m
