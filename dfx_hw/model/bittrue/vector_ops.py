"""The vector-unit instructions as bit-true functions: one function per instruction, named by its
mnemonic, collected in :data:`VECTOR_PRIMITIVES` (the ISA and the VPU are built from that table).

Operand kinds: ``"v"`` a vector (``(..., n)`` float16; leading axes are independent rows, as in
prefill), ``"s"`` a scalar (``(...)`` float16, one per row; broadcast over the vector's elements).
Element-wise instructions are one FP16 operation per element (RNE, canonical NaN); reductions
follow :mod:`.reduce`; unary functions follow :mod:`.functions`. Vector-scalar forms apply the
scalar as the *second* operand (``VSUBS``: ``v[i] - s``).
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...geometry import U280
from . import fp16, functions, reduce

__all__ = [
    "Primitive", "VECTOR_PRIMITIVES", "vadd", "vsub", "vmul", "vsquare", "vadd_s", "vsub_s",
    "vmul_s", "vexp", "accum", "sqsum", "vmax", "vamax", "srecip", "srsqrt", "smul", "sadd", "smax",
    "spow2inv", "vadd_amax", "vmul_s_accum", "vexp_accum",
]


def _vectors(*operands):
    arrays = [fp16.as_fp16(a, name) for a, name in zip(operands, ("a", "b"))]
    if any(a.ndim == 0 for a in arrays):
        raise ValueError("vector operands must have at least one axis, got a 0-d array")
    if len(arrays) == 2 and arrays[0].shape != arrays[1].shape:
        raise ValueError(f"vector operands must have the same shape, got {arrays[0].shape} and "
                         f"{arrays[1].shape}")
    return arrays


def _vector_scalar(v, s):
    (v,) = _vectors(v)
    s = fp16.as_fp16(s, "s")
    if s.shape != v.shape[:-1]:
        raise ValueError(f"the scalar operand must have shape {v.shape[:-1]} (one per vector "
                         f"row), got {s.shape}")
    return v, s[..., None]


def vadd(a, b):
    """``VADD``: ``a[i] + b[i]``."""
    return fp16.add(*_vectors(a, b))


def vsub(a, b):
    """``VSUB``: ``a[i] - b[i]``."""
    return fp16.sub(*_vectors(a, b))


def vmul(a, b):
    """``VMUL``: ``a[i] * b[i]``."""
    return fp16.mul(*_vectors(a, b))


def vsquare(a):
    """``VSQUARE``: ``a[i] * a[i]`` (one FP16 multiply)."""
    (a,) = _vectors(a)
    return fp16.mul(a, a)


def vadd_s(v, s):
    """``VADDS``: ``v[i] + s``."""
    return fp16.add(*_vector_scalar(v, s))


def vsub_s(v, s):
    """``VSUBS``: ``v[i] - s``."""
    return fp16.sub(*_vector_scalar(v, s))


def vmul_s(v, s):
    """``VMULS``: ``v[i] * s``."""
    return fp16.mul(*_vector_scalar(v, s))


def vexp(v):
    """``VEXP``: ``exp(v[i])`` by :func:`dfx_hw.model.bittrue.functions.exp_recipe`."""
    (v,) = _vectors(v)
    return functions.exp(v)


def accum(v, *, lanes=U280.vpu_lanes):
    """``ACCUM``: sum of the vector to a scalar in the order of
    :func:`dfx_hw.model.bittrue.reduce.vpu_sum`."""
    return reduce.vpu_sum(v, lanes=lanes)


def sqsum(v, *, lanes=U280.vpu_lanes):
    """``SQSUM``: sum of the squares of the vector to a scalar, ``ACCUM(VSQUARE(v))`` in one
    pass: each ``v[i] * v[i]`` rounded to FP16 (as ``VSQUARE`` writes it), then summed in the
    order of :func:`dfx_hw.model.bittrue.reduce.vpu_sum` (as ``ACCUM`` reads it back)."""
    return reduce.vpu_sum(vsquare(v), lanes=lanes)


def vmax(v, *, lanes=U280.vpu_lanes):
    """``VMAX``: maximum of the vector (:func:`dfx_hw.model.bittrue.reduce.vpu_max`)."""
    return reduce.vpu_max(v, lanes=lanes)


def vamax(v, *, lanes=U280.vpu_lanes):
    """``VAMAX``: maximum magnitude of the vector (:func:`dfx_hw.model.bittrue.reduce.vpu_amax`)."""
    return reduce.vpu_amax(v, lanes=lanes)


def vadd_amax(a, b, *, lanes=U280.vpu_lanes):
    """``VADDAMAX``: ``VADD`` and ``VAMAX`` of its result in one pass: ``(c, vamax(c))`` with
    ``c = a + b`` (the vector and the maximum magnitude, bit for bit the two instructions).
    The residual additions that feed a LayerNorm use it, so the LayerNorm starts at its scale."""
    total = vadd(a, b)
    return total, reduce.vpu_amax(total, lanes=lanes)


def vmul_s_accum(v, s, *, lanes=U280.vpu_lanes):
    """``VMULSACC``: ``VMULS`` and ``ACCUM`` of its result in one pass: ``(y, accum(y))`` with
    ``y = v * s`` (bit for bit the two instructions; a LayerNorm's scaled input and its sum)."""
    product = vmul_s(v, s)
    return product, reduce.vpu_sum(product, lanes=lanes)


def vexp_accum(v, *, lanes=U280.vpu_lanes):
    """``VEXPACC``: ``VEXP`` and ``ACCUM`` of its result in one pass: ``(e, accum(e))`` with
    ``e = vexp(v)`` (bit for bit the two instructions; a softmax's numerators and their sum).
    The sum is taken of the table function's output, so it adds the accumulator's latency to
    the table's, but saves the second pass over the vector."""
    exponent = vexp(v)
    return exponent, reduce.vpu_sum(exponent, lanes=lanes)


def srecip(s):
    """``SRECIP``: ``1 / s`` (:func:`dfx_hw.model.bittrue.functions.recip_recipe`)."""
    return functions.recip(fp16.as_fp16(s, "s"))


def srsqrt(s):
    """``SRSQRT``: ``1 / sqrt(s)`` (:func:`dfx_hw.model.bittrue.functions.rsqrt_recipe`)."""
    return functions.rsqrt(fp16.as_fp16(s, "s"))


def smul(a, b):
    """``SMUL``: ``a * b`` (scalars)."""
    return fp16.mul(a, b)


def sadd(a, b):
    """``SADD``: ``a + b`` (scalars)."""
    return fp16.add(a, b)


def smax(a, b):
    """``SMAX``: :func:`dfx_hw.model.bittrue.fp16.maximum` (``+0 > -0``, NaN wins)."""
    return fp16.maximum(a, b)


def spow2inv(s):
    """``SPOW2INV``: the power-of-two scale that brings a magnitude into ``[0.5, 1)`` (integer
    logic on the exponent field only; LayerNorm scales by it before squaring).

    For finite ``s`` let ``e = max(E - 15, -14)`` with ``E`` the biased exponent field (so
    ``e = floor(log2 |s|)`` for normal ``s`` and ``-14`` for zeros and subnormals). Result
    ``2**-(e+1)``, in ``[2**-16, 2**13]``: ``|s| * 2**-(e+1)`` lies in ``[0.5, 1)`` for normal
    ``s`` and below ``0.5`` otherwise. For inf or NaN: canonical NaN.
    """
    s = fp16.as_fp16(s, "s")
    biased = (s.view(np.uint16).astype(np.int32) >> 10) & 0x1F
    exponent = np.maximum(biased - 15, -14)
    scale = np.ldexp(1.0, -exponent - 1).astype(np.float16)
    return fp16.canonical_nan(np.where(biased == 0x1F, np.float16(np.nan), scale)
                              .astype(np.float16))


@dataclass(frozen=True)
class Primitive:
    """One vector-unit instruction: mnemonic, bit-true function, operand kinds, result kind,
    whether it takes the ``lanes`` parameter, and the unit that executes it.

    Kinds: ``v`` a vector, ``s`` a scalar; a result ``vs`` is both (the function returns the
    pair): the vector written and a reduction of it in the same pass."""
    mnemonic: str
    function: Callable
    operands: str
    result: str
    unit: str
    uses_lanes: bool = False


#: Mnemonic -> :class:`Primitive`. This is the complete list the ISA encodes and the VPU builds.
VECTOR_PRIMITIVES = {p.mnemonic: p for p in [
    Primitive("VADD", vadd, "vv", "v", "VFU"),
    Primitive("VSUB", vsub, "vv", "v", "VFU"),
    Primitive("VMUL", vmul, "vv", "v", "VFU"),
    Primitive("VSQUARE", vsquare, "v", "v", "VFU"),
    Primitive("VADDS", vadd_s, "vs", "v", "VFU"),
    Primitive("VSUBS", vsub_s, "vs", "v", "VFU"),
    Primitive("VMULS", vmul_s, "vs", "v", "VFU"),
    Primitive("VEXP", vexp, "v", "v", "SFU_V"),
    Primitive("ACCUM", accum, "v", "s", "SFU_V", uses_lanes=True),
    Primitive("VMAX", vmax, "v", "s", "SFU_V", uses_lanes=True),
    Primitive("VAMAX", vamax, "v", "s", "SFU_V", uses_lanes=True),
    Primitive("SRECIP", srecip, "s", "s", "SFU_V"),
    Primitive("SRSQRT", srsqrt, "s", "s", "SFU_V"),
    Primitive("SMUL", smul, "ss", "s", "SFU_V"),
    Primitive("SADD", sadd, "ss", "s", "SFU_V"),
    Primitive("SMAX", smax, "ss", "s", "SFU_V"),
    Primitive("SPOW2INV", spow2inv, "s", "s", "SFU_V"),
    Primitive("SQSUM", sqsum, "v", "s", "SFU_V", uses_lanes=True),
    Primitive("VADDAMAX", vadd_amax, "vv", "vs", "SFU_V", uses_lanes=True),
    Primitive("VMULSACC", vmul_s_accum, "vs", "vs", "SFU_V", uses_lanes=True),
    Primitive("VEXPACC", vexp_accum, "v", "vs", "SFU_V", uses_lanes=True),
]}
