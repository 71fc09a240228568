"""VPU micro-op programs: encoding, the snippet library (bit-true recipes as micro-ops) and a
micro-op-level reference executor built on the bit-true primitives.

The code generator (or a test) describes vector work as :class:`MicroOp` lists;
:func:`recipe_program` turns a recipe of :mod:`dfx_hw.model.bittrue.recipes` (LayerNorm,
Softmax) into micro-ops over allocated registers, and :func:`execute` runs micro-ops on NumPy
register files with the primitives of :mod:`dfx_hw.model.bittrue.vector_ops` (the expectation
the RTL is compared with).
"""

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Shape

from ..model.bittrue.fp16 import from_bits
from ..model.bittrue.vector_ops import VECTOR_PRIMITIVES
from .layouts import OP_CONTROL, ASource, Opcode, Sink

__all__ = ["MicroOp", "encode", "Allocation", "recipe_program", "execute", "VPUState",
           "words_of"]


@dataclass(frozen=True)
class MicroOp:
    """One VPU micro-op (fields as in :func:`~dfx_hw.vpu.layouts.micro_op_layout`)."""
    opcode: str
    dst: int = 0
    src1: int = 0
    src2: int = 0
    length: int = 1
    imm: int = 0

    def __post_init__(self):
        if self.opcode not in OP_CONTROL:
            raise ValueError(f"unknown VPU opcode {self.opcode!r}; known: {list(OP_CONTROL)}")
        for name in ("dst", "src1", "src2", "length", "imm"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, not {value!r}")

    @property
    def control(self):
        return OP_CONTROL[self.opcode]

    def __str__(self):
        return (f"{self.opcode} dst={self.dst} src1={self.src1} src2={self.src2} "
                f"len={self.length} imm={self.imm:#06x}")


def encode(op, config):
    """The micro-op as the integer value of ``config.micro_op_layout``."""
    layout = config.micro_op_layout
    fields = {"opcode": Opcode[op.opcode], "dst": op.dst, "src1": op.src1, "src2": op.src2,
              "length": op.length, "imm": op.imm}
    for name, value in fields.items():
        width = Shape.cast(layout[name].shape).width
        if name != "opcode" and value >= 1 << width:
            raise ValueError(f"{name}={value} of '{op}' does not fit the "
                             f"{width}-bit field")
    return layout.const(fields).as_value().value


def words_of(op, lanes):
    """Beats (register-file words) the micro-op takes."""
    control = op.control
    if control.a in (ASource.SCALAR, ASource.IMM) or \
            (control.a is ASource.STREAM and control.sink is Sink.SCALAR):
        return 1
    return -(-op.length // lanes)


class Allocation:
    """Register allocation for a recipe: vector names get lane-aligned regions of the vector
    register file, scalar names get scalar registers, in order of first use.

    Parameters
    ----------
    config : VPUConfig
    length : int
        Elements of every vector of the recipe.
    vector_base, scalar_base : int
        First element address / scalar register to allocate.
    """

    def __init__(self, config, length, *, vector_base=0, scalar_base=0):
        if not isinstance(length, int) or length < 1:
            raise ValueError(f"length must be a positive integer, not {length!r}")
        if vector_base % config.lanes:
            raise ValueError(f"vector_base must be a multiple of lanes={config.lanes}, not "
                             f"{vector_base!r}")
        self.config = config
        self.length = length
        self.stride = -(-length // config.lanes) * config.lanes
        self.vectors = {}
        self.scalars = {}
        self._next_vector = vector_base
        self._next_scalar = scalar_base

    def vector(self, name):
        if name not in self.vectors:
            if self._next_vector + self.stride > self.config.vrf_elements:
                raise ValueError(f"vector register file full: cannot place {name!r} "
                                 f"({self.length} elements) at {self._next_vector}, capacity "
                                 f"{self.config.vrf_elements}")
            self.vectors[name] = self._next_vector
            self._next_vector += self.stride
        return self.vectors[name]

    def scalar(self, name):
        if name not in self.scalars:
            if self._next_scalar >= self.config.srf_words:
                raise ValueError(f"scalar register file full: cannot place {name!r}, capacity "
                                 f"{self.config.srf_words}")
            self.scalars[name] = self._next_scalar
            self._next_scalar += 1
        return self.scalars[name]


def recipe_program(steps, allocation):
    """Micro-ops for ``steps`` (a recipe of :mod:`dfx_hw.model.bittrue.recipes`), one per step,
    in order, with registers from ``allocation`` (vector or scalar by the primitive's operand
    kinds)."""
    ops = []
    n = allocation.length
    for step in steps:
        if step.op not in VECTOR_PRIMITIVES:
            raise ValueError(f"unknown vector instruction {step.op!r} in step '{step}'")
        primitive = VECTOR_PRIMITIVES[step.op]
        sources = [allocation.vector(name) if kind == "v" else allocation.scalar(name)
                   for name, kind in zip(step.srcs, primitive.operands)]
        imm = 0
        if primitive.result == "vs":      # the reduction's scalar register rides in `imm`
            dst, imm = allocation.vector(step.dsts[0]), allocation.scalar(step.dsts[1])
        elif primitive.result == "v":
            dst = allocation.vector(step.dst)
        else:
            dst = allocation.scalar(step.dst)
        sources += [0] * (2 - len(sources))
        ops.append(MicroOp(step.op, dst=dst, src1=sources[0], src2=sources[1],
                           length=n if "v" in primitive.operands else 1, imm=imm))
    return ops


class VPUState:
    """NumPy register files of a VPU and its stream queues (for :func:`execute`)."""

    def __init__(self, config):
        self.config = config
        self.vrf = np.zeros(config.vrf_elements, np.float16)
        self.srf = np.zeros(config.srf_words, np.float16)
        self.stored = []          # FP16 arrays, one per STORE/SSTORE


def execute(ops, state, load_words=()):
    """Run micro-ops on ``state`` with the bit-true primitives.

    ``load_words`` supplies the load stream as a list of FP16 arrays of ``lanes`` elements
    (consumed in order by ``LOAD``/``SLOAD``). Stores append to ``state.stored``. Returns
    ``state``.
    """
    cfg = state.config
    lanes = cfg.lanes
    queue = list(load_words)
    vrf, srf = state.vrf, state.srf

    def vector(address, n):
        if address % lanes or address + n > cfg.vrf_elements:
            raise ValueError(f"vector operand at {address} (+{n}) is not lane aligned or leaves "
                             f"the register file")
        return vrf[address:address + n]

    for op in ops:
        control = op.control
        n = op.length
        if op.opcode in VECTOR_PRIMITIVES:
            primitive = VECTOR_PRIMITIVES[op.opcode]
            args = [vector(address, n) if kind == "v" else srf[address]
                    for address, kind in zip((op.src1, op.src2), primitive.operands)]
            kwargs = {"lanes": lanes} if primitive.uses_lanes else {}
            if primitive.operands in ("vs",):
                args[1] = np.asarray(args[1])
            result = primitive.function(*args, **kwargs)
            if primitive.result == "vs":
                vector(op.dst, n)[:], srf[op.imm] = result
            elif primitive.result == "v":
                vector(op.dst, n)[:] = result
            else:
                srf[op.dst] = result
        elif op.opcode == "LOAD":
            words = [queue.pop(0) for _ in range(words_of(op, lanes))]
            vector(op.dst, n)[:] = np.concatenate(words)[:n]
        elif op.opcode == "SLOAD":
            srf[op.dst] = queue.pop(0)[0]
        elif op.opcode == "STORE":
            state.stored.append(vector(op.src1, n).copy())
        elif op.opcode == "SSTORE":
            state.stored.append(srf[op.src1:op.src1 + 1].copy())
        elif op.opcode == "VCOPY":
            vector(op.dst, n)[:] = vector(op.src1, n)
        elif op.opcode == "SETS":
            srf[op.dst] = from_bits(np.uint16(op.imm))
        else:  # pragma: no cover - every opcode is handled above
            raise AssertionError(op.opcode)
    return state
