"""Front end of the VPU: DFX instruction words (:mod:`dfx_hw.isa`) -> VPU micro-ops.

The vector instructions of the ISA are the bit-true primitives (their opcodes are generated from
:data:`~dfx_hw.model.bittrue.vector_ops.VECTOR_PRIMITIVES`), plus ``SETS`` (a scalar constant).
Each is unpacked with its own layout from :data:`dfx_hw.isa.layouts.LAYOUTS` -- no field
position is restated here -- into :func:`~dfx_hw.vpu.layouts.micro_op_layout`.
"""

from amaranth import *
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..isa.layouts import LAYOUTS, OPS, WORD_BITS, InstrClass
from ..isa.layouts import Opcode as IsaOpcode
from .layouts import OP_CONTROL, Opcode, VPUConfig

__all__ = ["IsaDecoder", "DECODED_OPCODES"]

_DESTINATIONS = ("vdst", "sdst")
_SOURCES = ("vsrc", "vsrc2", "ssrc", "ssrc2")

#: ISA opcodes the VPU executes: every vector-class instruction that is a VPU primitive, and SETS.
DECODED_OPCODES = tuple(op for op, info in OPS.items()
                        if (info.cls is InstrClass.VECTOR and op.name in OP_CONTROL)
                        or op is IsaOpcode.SETS)


class IsaDecoder(wiring.Component):
    """Stream of :data:`~dfx_hw.isa.layouts.WORD_BITS`-bit instruction words in, stream of VPU
    micro-ops out (combinational; ``valid``/``ready`` pass through).

    Field mapping: ``dst`` = ``vdst`` or ``sdst`` (both: ``dst`` = ``vdst``, ``imm`` = ``sdst``,
    an instruction that writes a vector and a reduction of it); ``src1``, ``src2`` = the source fields
    (``vsrc``, ``vsrc2``, ``ssrc``, ``ssrc2``) in the order of the instruction's operands;
    ``length`` = ``len`` (plus ``token`` when the instruction's ``token`` flag is set; 1 for
    scalar instructions); ``imm`` = ``imm16``. A word whose opcode is not in
    :data:`DECODED_OPCODES`, whose vector addresses do not fit ``config.vrf_addr_width`` bits or
    whose length exceeds the register file is consumed without a micro-op and sets the sticky
    ``error`` output (the operand collector checks alignment and ranges further).

    Members
    -------
    words : In(stream.Signature(WORD_BITS))
    ops : Out(stream.Signature(config.micro_op_layout))
    token : In(16)
        The controller's TOKEN register (for ``token``-relative lengths).
    error : Out(1)
    """

    def __init__(self, *, config=VPUConfig()):
        if not isinstance(config, VPUConfig):
            raise ValueError(f"config must be a VPUConfig, not {config!r}")
        self._config = config
        super().__init__({
            "words": In(stream.Signature(WORD_BITS)),
            "ops": Out(stream.Signature(config.micro_op_layout)),
            "token": In(16),
            "error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        word = self.words.payload
        op = self.ops.payload
        legal = Signal()
        too_long = Signal()
        too_high = Signal()
        isa_opcode = LAYOUTS[IsaOpcode.SETS](word).op
        with m.Switch(isa_opcode):
            for isa_op in DECODED_OPCODES:
                info = OPS[isa_op]
                view = LAYOUTS[isa_op](word)
                with m.Case(isa_op):
                    m.d.comb += legal.eq(1)
                    m.d.comb += op.opcode.eq(Opcode[isa_op.name])
                    sources = [name for name in info.fields if name in _SOURCES]
                    for field, name in zip(("src1", "src2"), sources):
                        m.d.comb += getattr(op, field).eq(getattr(view, name))
                    if "vdst" in info.fields and "sdst" in info.fields:
                        # a vector and its reduction: the scalar register rides in `imm`
                        m.d.comb += [op.dst.eq(view.vdst), op.imm.eq(view.sdst)]
                    else:
                        for name in info.fields:
                            if name in _DESTINATIONS:
                                m.d.comb += op.dst.eq(getattr(view, name))
                    if "len" in info.fields:
                        total = Signal(18, name=f"len_{isa_op.name.lower()}")
                        if "token" in info.flags:
                            m.d.comb += total.eq(Mux(view.flags.token, view.len + self.token,
                                                     view.len))
                        else:
                            m.d.comb += total.eq(view.len)
                        m.d.comb += [op.length.eq(total),
                                     too_long.eq(total > cfg.vrf_elements)]
                    else:
                        m.d.comb += op.length.eq(1)
                    if "imm16" in info.fields:
                        m.d.comb += op.imm.eq(view.imm16)
                    wide = [getattr(view, name) for name in info.fields
                            if name in ("vdst", "vsrc", "vsrc2")]
                    if wide and cfg.vrf_addr_width < len(wide[0]):
                        m.d.comb += too_high.eq(
                            Cat(*(v[cfg.vrf_addr_width:] for v in wide)).any())
        ok = legal & ~too_long & ~too_high
        m.d.comb += [
            self.ops.valid.eq(self.words.valid & ok),
            self.words.ready.eq(~ok | self.ops.ready),
        ]
        with m.If(self.words.valid & ~ok):
            m.d.sync += self.error.eq(1)
        return m
