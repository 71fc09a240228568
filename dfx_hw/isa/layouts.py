"""The DFX instruction words: every field layout, defined once.

An instruction is a :data:`WORD_BITS`-bit word. Bits ``[0:6]`` hold the :class:`Opcode`; the rest
of the word is laid out by that opcode's :class:`amaranth.lib.data.StructLayout` in
:data:`LAYOUTS`, whose last field ``reserved`` pads the word and must be zero. The encoder, the
decoder, the assembler, the simulator, the hardware decoder and ``docs/isa.md`` all read these
layouts; nothing else states a field position or width.

Address units
-------------
``vdst``/``vsrc``/``vsrc2`` : element index in the vector register file (FP16 words).
``sdst``/``ssrc``/``ssrc2`` : index in the scalar register file (32-bit words).
``hbm`` : HBM address in tiles of ``d * l`` FP16 elements (weights and caches are tile aligned).
``ddr`` : DDR address in 16-bit elements.
"""

import types

from amaranth.hdl import unsigned
from amaranth.lib import data, enum

from ..model.bittrue.vector_ops import VECTOR_PRIMITIVES

__all__ = [
    "WORD_BITS", "OPCODE_BITS", "VECTOR_OPCODE_BASE", "Opcode", "InstrClass", "Register",
    "Signature", "OpInfo",
    "OPS", "LAYOUTS", "FIELD_BITS", "FIELD_DOCS", "FLAG_DOCS", "VRF_ADDR_BITS", "SRF_ADDR_BITS",
]

WORD_BITS = 128
OPCODE_BITS = 6
VRF_ADDR_BITS = 17
SRF_ADDR_BITS = 5


class InstrClass(enum.Enum):
    """The unit an instruction is issued to (DESIGN.md, section 4)."""
    CONTROL = 0
    MATRIX = 1
    VECTOR = 2
    DMA = 3
    ROUTER = 4


class Register(enum.Enum, shape=3):
    """Control registers written by ``setr`` (and stepped by ``loop``)."""
    TOKEN = 0        #: position of the token being processed (selects masks, cache rows)
    LAYER = 1        #: decoder layer index (selects weight and cache addresses)
    HBM_STRIDE = 2   #: HBM elements between one layer's block and the next
    DDR_STRIDE = 3   #: DDR elements between one layer's parameters and the next


class Signature(enum.Enum):
    """Operand signature of a vector-unit instruction: the ``(operands, result)`` kinds of its
    :class:`~dfx_hw.model.bittrue.vector_ops.Primitive` (``v`` vector, ``s`` scalar)."""
    VV = ("vv", "v")   #: dst[i] = f(a[i], b[i])
    VS = ("vs", "v")   #: dst[i] = f(a[i], s)
    V = ("v", "v")     #: dst[i] = f(a[i])
    VR = ("v", "s")    #: s = f(a)  (reduction)
    SS = ("ss", "s")   #: s = f(s1, s2)
    S = ("s", "s")     #: s = f(s1)
    VVR = ("vv", "vs")  #: dst[i] = f(a[i], b[i]) and s = a reduction of dst, one pass
    VSR = ("vs", "vs")  #: dst[i] = f(a[i], s1) and s = a reduction of dst, one pass
    VUR = ("v", "vs")   #: dst[i] = f(a[i]) and s = a reduction of dst, one pass

    @property
    def second_vector(self):
        """A second vector source (``vsrc2``)."""
        return self.value[0] == "vv"

    @property
    def scalar_source(self):
        """A scalar source (``ssrc``) beside the vector one."""
        return self.value[0] == "vs"

    @property
    def writes_vector(self):
        """A vector result (``vdst``)."""
        return "v" in self.value[1]

    @property
    def writes_scalar(self):
        """A scalar result (``sdst``): a reduction, a scalar instruction, or both."""
        return "s" in self.value[1]

    @property
    def pair(self):
        """A vector written and a reduction of it to ``sdst``, in one pass."""
        return self.value[1] == "vs"


#: First opcode of the vector-unit instructions; they follow in the order of
#: :data:`~dfx_hw.model.bittrue.vector_ops.VECTOR_PRIMITIVES`.
VECTOR_OPCODE_BASE = 0x10
_FIXED_OPCODES = [
    # control
    ("END", 0x01), ("SETR", 0x02), ("LOOP", 0x03), ("SETS", 0x04),
    # matrix unit (MPU) and its SFU_M comparator tree
    ("CONV1D", 0x08), ("MASKEDMM", 0x09), ("MM", 0x0A), ("ARGMAX", 0x0B), ("ARGMAXP", 0x0C),
    # DMA
    ("LDD", 0x28), ("STD", 0x29), ("LDTOK", 0x2A), ("STTOK", 0x2B), ("STH", 0x2C),
    ("STHT", 0x2D),
    # router
    ("SYNC", 0x30), ("SYNCS", 0x31),
]
_VECTOR_OPCODES = [(name, VECTOR_OPCODE_BASE + index)
                   for index, name in enumerate(VECTOR_PRIMITIVES)]
if VECTOR_OPCODE_BASE + len(_VECTOR_OPCODES) > 0x28:  # pragma: no cover - caught at import
    raise AssertionError("too many vector primitives for the vector opcode range")


def _opcode_body(namespace):
    for name, value in _FIXED_OPCODES + _VECTOR_OPCODES:
        namespace[name] = value


#: Every instruction's operation code (an Amaranth enum of :data:`OPCODE_BITS` bits). Code 0 is
#: illegal so that erased memory traps. The vector-unit opcodes are generated from the bit-true
#: primitive table, so the ISA's vector instructions are exactly those primitives.
Opcode = types.new_class("Opcode", (enum.Enum,), {"shape": OPCODE_BITS}, _opcode_body)
Opcode.__doc__ = """Operation codes (see :data:`OPS` for what each does)."""


# Width and meaning of every operand field (a field name means the same thing in every opcode).
FIELD_BITS = {
    "vdst": VRF_ADDR_BITS, "vsrc": VRF_ADDR_BITS, "vsrc2": VRF_ADDR_BITS,
    "sdst": SRF_ADDR_BITS, "ssrc": SRF_ADDR_BITS, "ssrc2": SRF_ADDR_BITS,
    "hbm": 24, "ddr": 28, "k": 16, "n": 16, "len": 16, "stride": 16, "total": 18, "base": 16,
    "tag": 8, "imm16": 16, "imm32": 32, "limit": 16, "target": 16, "reg": Register,
}

FIELD_DOCS = {
    "vdst": "destination vector register-file element address",
    "vsrc": "source vector register-file element address",
    "vsrc2": "second source vector register-file element address",
    "sdst": "destination scalar register",
    "ssrc": "source scalar register",
    "ssrc2": "second source scalar register",
    "hbm": "HBM address in tiles (d*l elements); + layer * HBM_STRIDE with `layer`",
    "ddr": "DDR element address; + layer * DDR_STRIDE with `layer`",
    "k": "rows of the weight matrix = input vector length",
    "n": "columns of the weight matrix = output vector length",
    "len": "vector length in elements (>= 1)",
    "stride": "elements added per token (`token`) or per index value (`index`)",
    "total": "length of the gathered vector (sum of every core's `len`); all cores must agree",
    "base": "added to the local index (this core's first vocabulary row)",
    "tag": "sync sequence tag; all cores must agree",
    "imm16": "16-bit immediate (FP16 bit pattern; MaskedMM: the head scale)",
    "imm32": "32-bit immediate",
    "limit": "loop bound: jump while the stepped register is below it",
    "target": "program counter jumped to",
    "reg": "control register (TOKEN, LAYER, HBM_STRIDE, DDR_STRIDE)",
}

FLAG_DOCS = {
    "layer": "layer-relative address (adds layer * stride register)",
    "token": "token-relative: lengths (`len`, MaskedMM `n`, MM `k`) add TOKEN; addresses add "
             "TOKEN * stride (DMA) or use row TOKEN (STHT)",
    "index": "indexed address: adds s[ssrc] * stride (embedding lookup)",
    "gelu": "apply GELU (SFU_M table) to the result",
    "nobias": "no bias: the column accumulators start at +0",
    "argmax": "also find the arg-max of the result as it is written, for the `ARGMAX` with `tap` "
              "that follows (CONV1D)",
    "tap": "take the arg-max found while the preceding `argmax` CONV1D wrote v[vsrc:+len] (it "
           "must be the last matrix instruction before this one and have written exactly that "
           "range) instead of streaming the vector again; same result",
}


class OpInfo:
    """Static facts about one opcode: class, operand fields, flags, and (vector unit) signature
    and the bit-true primitive it executes."""

    def __init__(self, opcode, cls, fields, flags=(), *, signature=None, primitive=None,
                 doc=""):
        self.opcode = opcode
        self.cls = cls
        self.fields = tuple(fields)
        self.flags = tuple(flags)
        self.signature = signature
        self.primitive = primitive
        self.doc = doc

    @property
    def mnemonic(self) -> str:
        return self.opcode.name.lower()


_C, _M, _V, _D, _R = (InstrClass.CONTROL, InstrClass.MATRIX, InstrClass.VECTOR, InstrClass.DMA,
                      InstrClass.ROUTER)
_VV = ("vdst", "vsrc", "vsrc2", "len")
_VS = ("vdst", "vsrc", "ssrc", "len")
_V1 = ("vdst", "vsrc", "len")
_VR = ("sdst", "vsrc", "len")
_SS = ("sdst", "ssrc", "ssrc2")
_S1 = ("sdst", "ssrc")
_VVR = ("vdst", "sdst", "vsrc", "vsrc2", "len")
_VSR = ("vdst", "sdst", "vsrc", "ssrc", "len")
_VUR = ("vdst", "sdst", "vsrc", "len")


_SIGNATURE_FIELDS = {"VV": _VV, "VS": _VS, "V": _V1, "VR": _VR, "SS": _SS, "S": _S1,
                     "VVR": _VVR, "VSR": _VSR, "VUR": _VUR}
#: Signatures whose first source is a vector (``len`` elements, the ``token`` flag allowed).
VECTOR_SIGNATURES = (Signature.VV, Signature.VS, Signature.V, Signature.VR, Signature.VVR,
                     Signature.VSR, Signature.VUR)


def _vector_info(mnemonic, primitive):
    signature = Signature((primitive.operands, primitive.result))
    doc = (primitive.function.__doc__ or mnemonic).strip().split("\n\n")[0]
    doc = " ".join(doc.split())
    return OpInfo(Opcode[mnemonic], _V, _SIGNATURE_FIELDS[signature.name], ("token",)
                  if signature in VECTOR_SIGNATURES else (),
                  signature=signature, primitive=primitive, doc=doc)


OPS = {info.opcode: info for info in [
    OpInfo(Opcode.END, _C, (), doc="stop this core; the run is done when every core has ended"),
    OpInfo(Opcode.SETR, _C, ("reg", "imm32"), doc="control register `reg` = imm32"),
    OpInfo(Opcode.LOOP, _C, ("reg", "limit", "target"),
           doc="`reg` += 1; if reg < limit jump to target (a do-while loop)"),
    OpInfo(Opcode.SETS, _C, ("sdst", "imm16"), doc="s[sdst] = imm16 (an FP16 constant)"),
    OpInfo(Opcode.CONV1D, _M, ("vdst", "vsrc", "hbm", "ddr", "k", "n"),
           ("layer", "gelu", "nobias", "argmax"),
           doc="v[vdst:+n] = x @ W + b: x = v[vsrc:+k], W (k x n) streamed from HBM as zig-zag "
               "tiles, b = ddr[ddr:+n]; MFU order; optional GELU"),
    OpInfo(Opcode.MASKEDMM, _M, ("vdst", "vsrc", "hbm", "sdst", "k", "n", "imm16"),
           ("layer", "token"),
           doc="scores v[vdst:+n] = mask(imm16 * q K^T), q = v[vsrc:+k] (k <= d), K^T (k x n) "
               "from HBM "
               "(one band); columns >= n (n + TOKEN with `token`) up to the tile edge are "
               "masked to -inf; s[sdst] = row maximum"),
    OpInfo(Opcode.MM, _M, ("vdst", "vsrc", "hbm", "k", "n"), ("layer", "token"),
           doc="v[vdst:+n] = p @ V: p = v[vsrc:+k] (k + TOKEN with `token`), V (k x n) from "
               "HBM (one band, stored transposed on write), accumulators start at +0"),
    OpInfo(Opcode.ARGMAX, _M, ("sdst", "vsrc", "len", "base"), ("tap",),
           doc="s[sdst] = max of a (FP16 bits), s[sdst+1] = base + its lowest index"),
    OpInfo(Opcode.ARGMAXP, _M, ("sdst", "vsrc", "len"),
           doc="reduce `len` (value, index) pairs at v[vsrc] (2 words each, core order): "
               "s[sdst], s[sdst+1] = the pair with the largest value, earliest pair on ties"),
    OpInfo(Opcode.LDD, _D, ("vdst", "ddr", "len", "stride", "ssrc"), ("layer", "token", "index"),
           doc="v[vdst:+len] = ddr[addr:+len]"),
    OpInfo(Opcode.STD, _D, ("ddr", "vsrc", "len", "stride"), ("layer", "token"),
           doc="ddr[addr:+len] = v[vsrc:+len]"),
    OpInfo(Opcode.LDTOK, _D, ("sdst", "ddr"), ("token",),
           doc="s[sdst] = ddr[addr] (a token id; `token` adds TOKEN)"),
    OpInfo(Opcode.STTOK, _D, ("ddr", "ssrc"), ("token",),
           doc="ddr[addr] = s[ssrc] (a token id; `token` adds TOKEN)"),
    OpInfo(Opcode.STH, _D, ("hbm", "vsrc", "len", "stride"), ("layer", "token"),
           doc="HBM[addr:+len] = v[vsrc:+len] (a K row = a column of the tiled K^T)"),
    OpInfo(Opcode.STHT, _D, ("hbm", "vsrc", "len"), ("layer", "token"),
           doc="write v[vsrc:+len] as row TOKEN of the tiled (rows x len) matrix at HBM[addr] "
               "(V, transposed on write)"),
    OpInfo(Opcode.SYNC, _R, ("vdst", "vsrc", "len", "total", "tag"),
           doc="ring all-gather: v[vdst:+total] = every core's v[vsrc:+len], in core-id order"),
    OpInfo(Opcode.SYNCS, _R, ("vdst", "ssrc", "tag"),
           doc="ring all-gather of (s[ssrc], s[ssrc+1]) pairs into v[vdst:+2*cores], core order"),
]}
OPS.update({Opcode[name]: _vector_info(name, primitive)
            for name, primitive in VECTOR_PRIMITIVES.items()})


def _layout(info: OpInfo) -> data.StructLayout:
    members = {"op": Opcode}
    if info.flags:
        members["flags"] = data.StructLayout({name: 1 for name in info.flags})
    for name in info.fields:
        width = FIELD_BITS[name]
        members[name] = width if isinstance(width, type) else unsigned(width)
    used = data.StructLayout(members).size
    if used > WORD_BITS:  # pragma: no cover - a layout bug, caught at import
        raise AssertionError(f"{info.mnemonic} needs {used} bits, more than {WORD_BITS}")
    if used < WORD_BITS:
        members["reserved"] = unsigned(WORD_BITS - used)
    return data.StructLayout(members)


#: The word layout of every opcode.
LAYOUTS = {opcode: _layout(info) for opcode, info in OPS.items()}
