"""Layouts of the VPU: its configuration, the vector micro-op descriptor and its decode table.

This module is the single source of truth for what each vector opcode does inside the VPU: which
operands the collector fetches, which functional units the data passes and where the result goes.
The hardware decoder, the cocotb benches, the throughput model and ``docs/vpu.md`` all read
:data:`OP_CONTROL`.
"""

from dataclasses import dataclass

from amaranth.lib import data, enum

from ..geometry import U280

__all__ = [
    "VPUConfig", "Opcode", "ASource", "BSource", "AluOp", "Unary", "Sink", "OpControl",
    "PRIMITIVE_CONTROL", "TRANSFER_CONTROL", "OP_CONTROL", "micro_op_layout",
    "control_table_markdown", "DEFAULT_VRF_WORDS", "DEFAULT_SRF_WORDS", "written_layout",
]

#: Vector register file words. At 16 lanes this is 131,072 FP16 elements (256 KiB, about 114
#: RAMB36 for the two read ports), every element the ISA's 17-bit addresses name: the
#: activations of any GPT-2 on one core as the compiler lays them out
#: (:mod:`dfx_hw.compiler.memmap`), including the LM head's whole 50,257-element logits vector
#: (345M on one core needs about 73k elements; 4,096 words did not hold it).
DEFAULT_VRF_WORDS = 8192
#: Scalar register file words (FP16 scalars: means, variances, maxima, sums, constants); the
#: ISA names 32 scalar registers (``SRF_ADDR_BITS = 5``).
DEFAULT_SRF_WORDS = 32


class ASource(enum.Enum, shape=2):
    """Where operand ``a`` of every lane comes from."""
    VECTOR = 0   #: vector register file, element ``src1 + lanes * i`` onwards
    SCALAR = 1   #: scalar register ``src1``, broadcast to every lane
    STREAM = 2   #: the load stream (DMA or router buffer)
    IMM    = 3   #: the micro-op's FP16 immediate, broadcast


class BSource(enum.Enum, shape=2):
    """Where operand ``b`` of every lane comes from."""
    VECTOR = 0   #: vector register file, element ``src2 + lanes * i`` onwards
    SCALAR = 1   #: scalar register ``src2``, broadcast
    A      = 2   #: operand ``a`` itself (square)
    NONE   = 3   #: unused


class AluOp(enum.Enum, shape=3):
    """What each VFU lane computes from ``a`` and ``b``."""
    PASS = 0     #: ``a`` unchanged (the load/store/table-function bypass)
    ADD  = 1
    SUB  = 2
    MUL  = 3
    MAX  = 4     #: :func:`dfx_hw.model.bittrue.fp16.maximum`


class Unary(enum.Enum, shape=3):
    """Function applied after the VFU (SFU_V)."""
    NONE    = 0
    EXP     = 1  #: every lane
    RECIP   = 2  #: lane 0 only (scalar)
    RSQRT   = 3  #: lane 0 only (scalar)
    POW2INV = 4  #: lane 0 only (scalar; exponent logic)


class Sink(enum.Enum, shape=3):
    """Where the result goes."""
    VECTOR = 0   #: vector register file from element ``dst`` (tail lanes masked)
    SCALAR = 1   #: lane 0 to scalar register ``dst``
    SUM    = 2   #: accumulated (``vpu_sum`` order) to scalar register ``dst``
    MAX    = 3   #: maximum (``vpu_max``) to scalar register ``dst``
    AMAX   = 4   #: maximum magnitude (``vpu_amax``) to scalar register ``dst``
    STORE  = 5   #: the store stream (DMA or router buffer)
    VECTOR_SUM  = 6  #: vector register file from element ``dst`` and its sum to scalar ``imm``
    VECTOR_AMAX = 7  #: vector register file from element ``dst`` and its ``vpu_amax`` to ``imm``


@dataclass(frozen=True)
class OpControl:
    """Decoded control of one opcode."""
    a: ASource
    b: BSource
    alu: AluOp
    unary: Unary
    sink: Sink

    @property
    def is_reduction(self):
        """Feeds the accumulator (a reduction, or a vector written and reduced in one pass)."""
        return self.sink in (Sink.SUM, Sink.MAX, Sink.AMAX, Sink.VECTOR_SUM, Sink.VECTOR_AMAX)

    @property
    def writes_vector(self):
        return self.sink in (Sink.VECTOR, Sink.VECTOR_SUM, Sink.VECTOR_AMAX)

    @property
    def writes_scalar(self):
        return self.sink not in (Sink.VECTOR, Sink.STORE)


def _c(a, b, alu, unary, sink):
    return OpControl(ASource[a], BSource[b], AluOp[alu], Unary[unary], Sink[sink])


#: Decode of every bit-true vector primitive (keys of
#: :data:`dfx_hw.model.bittrue.vector_ops.VECTOR_PRIMITIVES`, which a test checks are all here).
PRIMITIVE_CONTROL = {
    "VADD":     _c("VECTOR", "VECTOR", "ADD",  "NONE",    "VECTOR"),
    "VSUB":     _c("VECTOR", "VECTOR", "SUB",  "NONE",    "VECTOR"),
    "VMUL":     _c("VECTOR", "VECTOR", "MUL",  "NONE",    "VECTOR"),
    "VSQUARE":  _c("VECTOR", "A",      "MUL",  "NONE",    "VECTOR"),
    "VADDS":    _c("VECTOR", "SCALAR", "ADD",  "NONE",    "VECTOR"),
    "VSUBS":    _c("VECTOR", "SCALAR", "SUB",  "NONE",    "VECTOR"),
    "VMULS":    _c("VECTOR", "SCALAR", "MUL",  "NONE",    "VECTOR"),
    "VEXP":     _c("VECTOR", "NONE",   "PASS", "EXP",     "VECTOR"),
    "ACCUM":    _c("VECTOR", "NONE",   "PASS", "NONE",    "SUM"),
    "SQSUM":    _c("VECTOR", "A",      "MUL",  "NONE",    "SUM"),
    "VADDAMAX": _c("VECTOR", "VECTOR", "ADD",  "NONE",    "VECTOR_AMAX"),
    "VMULSACC": _c("VECTOR", "SCALAR", "MUL",  "NONE",    "VECTOR_SUM"),
    "VEXPACC":  _c("VECTOR", "NONE",   "PASS", "EXP",     "VECTOR_SUM"),
    "VMAX":     _c("VECTOR", "NONE",   "PASS", "NONE",    "MAX"),
    "VAMAX":    _c("VECTOR", "NONE",   "PASS", "NONE",    "AMAX"),
    "SRECIP":   _c("SCALAR", "NONE",   "PASS", "RECIP",   "SCALAR"),
    "SRSQRT":   _c("SCALAR", "NONE",   "PASS", "RSQRT",   "SCALAR"),
    "SMUL":     _c("SCALAR", "SCALAR", "MUL",  "NONE",    "SCALAR"),
    "SADD":     _c("SCALAR", "SCALAR", "ADD",  "NONE",    "SCALAR"),
    "SMAX":     _c("SCALAR", "SCALAR", "MAX",  "NONE",    "SCALAR"),
    "SPOW2INV": _c("SCALAR", "NONE",   "PASS", "POW2INV", "SCALAR"),
}

#: Data movement executed by the same pipeline (the VFU bypass): the register-file side of DMA
#: and router transfers, copies and scalar constants (the ISA's ``SETS``).
TRANSFER_CONTROL = {
    "LOAD":   _c("STREAM", "NONE", "PASS", "NONE", "VECTOR"),   #: v[dst:+len] = load stream
    "STORE":  _c("VECTOR", "NONE", "PASS", "NONE", "STORE"),    #: store stream = v[src1:+len]
    "SLOAD":  _c("STREAM", "NONE", "PASS", "NONE", "SCALAR"),   #: s[dst] = element 0 of a beat
    "SSTORE": _c("SCALAR", "NONE", "PASS", "NONE", "STORE"),    #: store stream = s[src1]
    "VCOPY":  _c("VECTOR", "NONE", "PASS", "NONE", "VECTOR"),   #: v[dst:+len] = v[src1:+len]
    "SETS":   _c("IMM",    "NONE", "PASS", "NONE", "SCALAR"),   #: s[dst] = imm
}

#: Every opcode of the VPU, in opcode-number order.
OP_CONTROL = {**PRIMITIVE_CONTROL, **TRANSFER_CONTROL}


def _opcode_enum(names):
    namespace = enum.EnumType.__prepare__("Opcode", (enum.Enum,))
    for number, name in enumerate(names):
        namespace[name] = number
    return enum.EnumType("Opcode", (enum.Enum,), namespace,
                         shape=max(1, (len(names) - 1).bit_length()))


Opcode = _opcode_enum(OP_CONTROL)
Opcode.__doc__ = "VPU micro-op codes: the keys of :data:`OP_CONTROL`, numbered in order."


@dataclass(frozen=True)
class VPUConfig:
    """Parameters of one VPU.

    Parameters
    ----------
    lanes : int
        FP16 elements per clock and per register-file word; the accumulation chunk width of the
        bit-true model (``U280.vpu_lanes``).
    vrf_words, srf_words : int
        Depth of the vector register file (words of ``lanes`` elements) and of the scalar
        register file (FP16 scalars).
    add_latency, mul_latency, max_latency : int or None
        Pipeline latencies of the FP16 units (``None``: the unit's default).
    acc_latency : int or None
        Latency of the accumulating adder of ``ACCUM`` (``None``: the adder default), at most
        :data:`~dfx_hw.model.bittrue.reduce.SUM_PARTIALS` (the sum interleaves that many partial
        sums, so it takes one beat per clock).
    """
    lanes: int = U280.vpu_lanes
    vrf_words: int = DEFAULT_VRF_WORDS
    srf_words: int = DEFAULT_SRF_WORDS
    add_latency: int | None = None
    mul_latency: int | None = None
    max_latency: int | None = None
    acc_latency: int | None = None

    def __post_init__(self):
        if isinstance(self.lanes, bool) or not isinstance(self.lanes, int) or self.lanes < 1 \
                or self.lanes & (self.lanes - 1):
            raise ValueError(f"lanes must be a positive power of two, not {self.lanes!r}")
        for name in ("vrf_words", "srf_words"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2 \
                    or value & (value - 1):
                raise ValueError(f"{name} must be a power of two of at least 2, not {value!r}")
        for name in ("add_latency", "mul_latency", "max_latency", "acc_latency"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 0):
                raise ValueError(f"{name} must be a non-negative integer or None, not {value!r}")

    @property
    def vrf_elements(self):
        """Capacity of the vector register file in FP16 elements."""
        return self.lanes * self.vrf_words

    @property
    def vrf_addr_width(self):
        """Bits of a vector register-file *element* address."""
        return (self.vrf_elements - 1).bit_length()

    @property
    def word_addr_width(self):
        """Bits of a vector register-file word address."""
        return (self.vrf_words - 1).bit_length()

    @property
    def srf_addr_width(self):
        return (self.srf_words - 1).bit_length()

    @property
    def length_width(self):
        """Bits of a length: 1 .. :attr:`vrf_elements`."""
        return self.vrf_elements.bit_length()

    @property
    def micro_op_layout(self):
        return micro_op_layout(self)


def micro_op_layout(config):
    """The vector micro-op descriptor the operand collector decodes.

    Fields (named as in the ISA, :mod:`dfx_hw.isa.layouts`):

    ``opcode``
        :class:`Opcode`.
    ``dst``, ``src1``, ``src2``
        Vector register-file *element* addresses (multiples of ``config.lanes``) or scalar
        register numbers, as the opcode's :class:`OpControl` says.
    ``length``
        Elements of a vector operation (``1 .. config.vrf_elements``); ignored (one element) by
        scalar operations.
    ``imm``
        FP16 bit pattern (``SETS``), or the scalar register of the reduction of a micro-op
        that writes a vector and reduces it (sinks ``VECTOR_SUM``, ``VECTOR_AMAX``).
    """
    addr = max(config.vrf_addr_width, config.srf_addr_width)
    return data.StructLayout({
        "opcode": Opcode,
        "dst": addr,
        "src1": addr,
        "src2": addr,
        "length": config.length_width,
        "imm": 16,
    })


def control_table_markdown():
    """:data:`OP_CONTROL` as a Markdown table (``docs/vpu.md`` embeds it; a test keeps it
    current)."""
    lines = ["| opcode | # | operand a | operand b | VFU | SFU_V function | result to |",
             "|---|---|---|---|---|---|---|"]
    for number, (name, c) in enumerate(OP_CONTROL.items()):
        lines.append(f"| `{name}` | {number} | {c.a.name.lower()} | {c.b.name.lower()} | "
                     f"{c.alu.name.lower()} | {c.unary.name.lower()} | {c.sink.name.lower()} |")
    return "\n".join(lines) + "\n"


def written_layout(config):
    """The vector register file's write on a clock, as the VPU reports it (``VPU.written``):
    ``en`` (any lane written) and the word ``addr``."""
    return data.StructLayout({"en": 1, "addr": config.word_addr_width})
