"""The scoreboard's rules in Python: what each instruction reads and writes, and when two conflict.

This is the reference the control unit's bench checks the RTL against (no missed hazard, no false
stall), and the same rules as the ISA simulator's timing model (:mod:`dfx_hw.isasim.timing`):
:func:`accesses` returns exactly the items :class:`~dfx_hw.isasim.core.Core` hands its
:class:`~dfx_hw.isasim.timing.Timeline` (a test checks this on compiled programs):

* ``("vrf", start, stop)`` -- a vector register-file element range (any overlap conflicts, the
  test being ``a.start < b.stop and b.start < a.stop`` as in the timeline);
* ``("srf", r)`` -- a scalar register;
* ``("ddr", address)`` / ``("hbm", address)`` -- a memory *region* named by its address (a token
  slot, a K or V cache); two such items conflict only when equal. Weights, biases and
  LayerNorm parameters are read-only and carry none; an indexed ``LDD`` (embedding lookup) is
  keyed by its table address without the index term (the control unit does not see the scalar).

Two instructions conflict when the later one reads what the earlier writes (RAW), writes what it
writes (WAW) or writes what it reads (WAR). The hardware holds an instruction at the issue stage
while any earlier instruction it conflicts with has not written back, except an earlier one of
the same :data:`SELF_ORDERED` unit (the vector unit), which orders its own instructions
(:func:`blocks`).

Widths as in the hardware: ``LAYER * stride`` offsets are taken modulo 2**32, memory keys modulo
2**:data:`KEY_BITS`, and a ``token`` flag uses the low 16 bits of TOKEN (a TOKEN of 2**16 or more
under a ``token`` flag is a ``FIELD_RANGE`` error).
"""

from dataclasses import dataclass

from ..isa.layouts import Opcode, Register, Signature
from ..spec.units import SELF_ORDERED, UNITS, unit_of

__all__ = ["KEY_BITS", "Context", "accesses", "overlap", "conflicts", "blocks", "check",
           "UNITS", "SELF_ORDERED", "unit_of", "FrontEnd", "Dynamic"]

#: Bits of a memory-region key (element address).
KEY_BITS = 36
_KEY_MASK = (1 << KEY_BITS) - 1
_U32 = (1 << 32) - 1

@dataclass(frozen=True)
class Context:
    """The control registers an instruction sees."""
    token: int = 0
    layer: int = 0
    hbm_stride: int = 0
    ddr_stride: int = 0

    @property
    def hbm_offset(self):
        return (self.layer * self.hbm_stride) & _U32

    @property
    def ddr_offset(self):
        return (self.layer * self.ddr_stride) & _U32

    @property
    def token16(self):
        return self.token & 0xFFFF


def _tok(instr, ctx):
    return ctx.token16 if "token" in instr.flags else 0


def _ddr_key(instr, ctx, stride):
    addr = instr["ddr"]
    if "layer" in instr.flags:
        addr += ctx.ddr_offset
    addr += _tok(instr, ctx) * stride
    return ("ddr", addr & _KEY_MASK)


def _hbm_key(instr, ctx, tile):
    addr = instr["hbm"] * tile
    if "layer" in instr.flags:
        addr += ctx.hbm_offset
    return ("hbm", addr & _KEY_MASK)


def accesses(instr, ctx, *, geometry, cores):
    """``(reads, writes)`` of ``instr`` executed with the control registers ``ctx`` on a ring of
    ``cores`` cores (tuples of items, see the module docstring)."""
    op, f = instr.op, instr.fields
    tok = _tok(instr, ctx)
    tile = geometry.tile_elements

    def v(addr, length):
        return ("vrf", addr, addr + length)

    def s(*regs):
        return tuple(("srf", r) for r in regs)

    if op in (Opcode.END, Opcode.SETR, Opcode.LOOP):
        return (), ()
    if op is Opcode.SETS:
        return (), s(f["sdst"])
    if op is Opcode.CONV1D:
        return (v(f["vsrc"], f["k"]),), (v(f["vdst"], f["n"]),)
    if op is Opcode.MASKEDMM:
        n = f["n"] + tok
        padded = -(-n // geometry.l) * geometry.l
        return ((v(f["vsrc"], f["k"]), _hbm_key(instr, ctx, tile)),
                (v(f["vdst"], padded),) + s(f["sdst"]))
    if op is Opcode.MM:
        return (v(f["vsrc"], f["k"] + tok), _hbm_key(instr, ctx, tile)), (v(f["vdst"], f["n"]),)
    if op is Opcode.ARGMAX:
        return (v(f["vsrc"], f["len"]),), s(f["sdst"], f["sdst"] + 1)
    if op is Opcode.ARGMAXP:
        return (v(f["vsrc"], 2 * f["len"]),), s(f["sdst"], f["sdst"] + 1)
    if op is Opcode.LDD:
        reads = (_ddr_key(instr, ctx, f["stride"]),)
        if "index" in instr.flags:
            reads += s(f["ssrc"])
        return reads, (v(f["vdst"], f["len"]),)
    if op is Opcode.STD:
        return (v(f["vsrc"], f["len"]),), (_ddr_key(instr, ctx, f["stride"]),)
    if op is Opcode.LDTOK:
        return (_ddr_key(instr, ctx, 1),), s(f["sdst"])
    if op is Opcode.STTOK:
        return s(f["ssrc"]), (_ddr_key(instr, ctx, 1),)
    if op in (Opcode.STH, Opcode.STHT):
        return (v(f["vsrc"], f["len"]),), (_hbm_key(instr, ctx, tile),)
    if op is Opcode.SYNC:
        return (v(f["vsrc"], f["len"]),), (v(f["vdst"], f["total"]),)
    if op is Opcode.SYNCS:
        return s(f["ssrc"], f["ssrc"] + 1), (v(f["vdst"], 2 * cores),)
    sig = instr.info.signature
    if sig in (Signature.SS, Signature.S):
        srcs = (f["ssrc"], f["ssrc2"]) if sig is Signature.SS else (f["ssrc"],)
        return s(*srcs), s(f["sdst"])
    length = f["len"] + tok
    reads = [v(f["vsrc"], length)]
    if sig.second_vector:
        reads.append(v(f["vsrc2"], length))
    elif sig.scalar_source:
        reads += s(f["ssrc"])
    writes = (v(f["vdst"], length),) if sig.writes_vector else ()
    if sig.writes_scalar:
        writes += s(f["sdst"])
    return tuple(reads), tuple(writes)


def overlap(a, b):
    """Whether two items name the same state (vrf ranges: the timeline's overlap test)."""
    if a[0] == "vrf":
        return b[0] == "vrf" and a[1] < b[2] and b[1] < a[2]
    return a == b


def conflicts(new, old):
    """Whether ``new`` (reads, writes) must wait for the earlier ``old`` (reads, writes):
    read-after-write, write-after-write or write-after-read."""
    nr, nw = new
    orr, ow = old
    return (any(overlap(a, b) for a in nr for b in ow)
            or any(overlap(a, b) for a in nw for b in ow)
            or any(overlap(a, b) for a in nw for b in orr))


def blocks(new_unit, new, old_unit, old):
    """Whether an instruction for ``new_unit`` with accesses ``new`` is held at the issue stage
    while the earlier ``old`` (for ``old_unit``) is in flight: they conflict
    (:func:`conflicts`) and are not both for the same :data:`SELF_ORDERED` unit."""
    if new_unit is old_unit and new_unit in SELF_ORDERED:
        return False
    return conflicts(new, old)


def check(instr, ctx, *, geometry, cores, vrf_elements, srf_words):
    """The execution-time error of ``instr`` as ``(ErrorCode name, info)``, or ``None``:
    MaskedMM ``k > d`` or a ``token`` flag with TOKEN >= 2**16 (FIELD_RANGE), a scalar register
    beyond the file (SRF_RANGE, info = the register), a vector range beyond the file
    (VRF_RANGE, info = the range's first element). Checked in that order, ranges in the order
    reads then writes."""
    if instr.op is Opcode.MASKEDMM and instr["k"] > geometry.d:
        return "FIELD_RANGE", instr["k"]
    if "token" in instr.flags and ctx.token >= 1 << 16:
        return "FIELD_RANGE", ctx.token & _U32
    reads, writes = accesses(instr, ctx, geometry=geometry, cores=cores)
    for item in reads + writes:
        if item[0] == "srf" and item[1] >= srf_words:
            return "SRF_RANGE", item[1]
    for item in reads + writes:
        if item[0] == "vrf" and item[2] > vrf_elements:
            return "VRF_RANGE", item[1]
    return None


@dataclass(frozen=True)
class Dynamic:
    """One executed instruction: its pc, the instruction, the context it saw, its unit
    (``None`` for SETR/LOOP/END) and its accesses."""
    pc: int
    instr: object
    ctx: Context
    unit: object
    access: tuple


class FrontEnd:
    """The scheduler's control flow in Python: runs SETR/LOOP/END over a decoded program and
    lists the dynamic instruction sequence the units receive, with the contexts (the
    ``token``/``hbm_offset``/``ddr_offset`` issued with each)."""

    def __init__(self, program, *, geometry, cores):
        self.program = list(program)
        self.geometry, self.cores = geometry, cores

    def run(self, limit=1_000_000):
        """The list of :class:`Dynamic`, END included (raises ``RuntimeError`` past ``limit``)."""
        regs = {r: 0 for r in Register}
        pc, out = 0, []
        while True:
            if len(out) >= limit:
                raise RuntimeError(f"more than {limit} instructions: a runaway program?")
            instr = self.program[pc]
            ctx = Context(regs[Register.TOKEN], regs[Register.LAYER], regs[Register.HBM_STRIDE],
                          regs[Register.DDR_STRIDE])
            out.append(Dynamic(pc, instr, ctx, unit_of(instr),
                               accesses(instr, ctx, geometry=self.geometry, cores=self.cores)))
            if instr.op is Opcode.END:
                return out
            if instr.op is Opcode.SETR:
                regs[instr["reg"]] = instr["imm32"]
            elif instr.op is Opcode.LOOP:
                regs[instr["reg"]] = (regs[instr["reg"]] + 1) & _U32
                if regs[instr["reg"]] < instr["limit"]:
                    pc = instr["target"]
                    continue
            pc += 1
