"""LayerNorm and Softmax as sequences of vector instructions (:data:`.vector_ops.VECTOR_PRIMITIVES`).

Each recipe is a list of :class:`Step` (``dst = MNEMONIC(src, ...)``) that the compiler emits as
instructions, one per step, in this order; :func:`run_steps` executes such a list with the
bit-true primitives, and :func:`layernorm` / :func:`softmax` are nothing but that. Names in a step
are registers (vector or scalar, by the primitive's operand kinds); the inputs and the constants
(immediates the compiler places in scalar registers) are listed with each recipe.
"""

from dataclasses import dataclass

import numpy as np

from ...geometry import U280
from . import fp16
from .reduce import check_power_of_two
from .vector_ops import VECTOR_PRIMITIVES

__all__ = [
    "Step", "run_steps", "LAYERNORM_STEPS", "layernorm_constants", "layernorm",
    "LAYERNORM_SCALE_STEPS", "layernorm_scale", "fold_layernorm_bias", "SOFTMAX_STEPS",
    "attention_scores", "softmax", "MASK_VALUE", "ATTENTION_SCALE",
]


@dataclass(frozen=True)
class Step:
    """One instruction of a recipe: ``dst = op(*srcs)``; ``dst`` is ``"v, s"`` for a primitive
    whose result is a vector and a reduction of it (:attr:`dsts` names both)."""
    dst: str
    op: str
    srcs: tuple

    @property
    def dsts(self):
        """The destination names: one, or the vector's and the scalar's."""
        return tuple(name.strip() for name in self.dst.split(","))

    def __str__(self):
        return f"{self.dst} = {self.op} {', '.join(self.srcs)}"


def _steps(text):
    steps = []
    for line in text.strip().splitlines():
        dst, rhs = (part.strip() for part in line.split("="))
        op, _, args = rhs.partition(" ")
        steps.append(Step(dst, op, tuple(a.strip() for a in args.split(","))))
    return tuple(steps)


def run_steps(steps, env, *, lanes=U280.vpu_lanes):
    """Execute ``steps`` on the registers in ``env`` (name -> float16 array; scalars are shaped
    like the vectors' leading axes, or 0-d and then broadcast) and return the final ``env``."""
    lanes = check_power_of_two("lanes", lanes)
    env = dict(env)
    for step in steps:
        if step.op not in VECTOR_PRIMITIVES:
            raise ValueError(f"unknown vector instruction {step.op!r} in step '{step}'")
        primitive = VECTOR_PRIMITIVES[step.op]
        missing = [name for name in step.srcs if name not in env]
        if missing:
            raise ValueError(f"step '{step}' reads undefined register(s) {missing}")
        args = [env[name] for name in step.srcs]
        kwargs = {"lanes": lanes} if primitive.uses_lanes else {}
        result = primitive.function(*args, **kwargs)
        if primitive.result == "vs":
            env[step.dsts[0]], env[step.dsts[1]] = result
        else:
            env[step.dst] = result
    return env


# ---------------------------------------------------------------------------------------------
#: LayerNorm of ``x`` (inputs ``x``, ``gamma``, ``beta``; constants ``inv_n = fp16(1/n)``,
#: ``eps = fp16(eps)``, ``tiny = 2**-24``). Result register ``out``.
LAYERNORM_STEPS = _steps("""
    amax = VAMAX x
    scale = SPOW2INV amax
    y, total = VMULSACC x, scale
    mean = SMUL total, inv_n
    dev = VSUBS y, mean
    sqsum = SQSUM dev
    var = SMUL sqsum, inv_n
    eps1 = SMUL eps, scale
    eps2 = SMUL eps1, scale
    veps = SADD var, eps2
    vfloor = SMAX veps, tiny
    rstd = SRSQRT vfloor
    norm = VMULS dev, rstd
    scaled = VMUL norm, gamma
    out = VADD scaled, beta
""")


def layernorm_constants(n, eps):
    """The immediates of :data:`LAYERNORM_STEPS` for vectors of ``n`` elements."""
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= 16376:
        raise ValueError(f"layernorm length n must be an integer in [1, 16376] (the bound that keeps "
                         f"the sum of squares finite), not {n!r}")
    if not (isinstance(eps, (int, float)) and 0 < eps < 1):
        raise ValueError(f"eps must be a number in (0, 1), not {eps!r}")
    return {"inv_n": np.float16(1.0 / n), "eps": np.float16(eps),
            "tiny": np.float16(2.0 ** -24)}


def layernorm(x, gamma, beta, eps=1e-5, *, lanes=U280.vpu_lanes):
    """LayerNorm of each row of ``x`` (``(..., n)`` float16) exactly as :data:`LAYERNORM_STEPS`.

    Mathematically ``(x - mean) / sqrt(var + eps) * gamma + beta``, computed on ``y = x * scale``
    where ``scale = 2**-(e+1)`` (``SPOW2INV`` of ``max |x|``) puts ``max |y|`` in ``[0.5, 1)``
    (exact power-of-two scaling; only elements below ``2**-8`` of the maximum can lose low bits):
    ``(y - mean_y) / sqrt(var_y + eps * scale**2)`` is the same normalised value. Why this order
    is safe for every finite input up to ``+-65504`` and ``n <= 16376``:

    * ``|y| < 1``: ``|total| <= n``, ``|mean| <= 1``, ``|dev| <= 2``, ``dev**2 <= 4``, ``sqsum <= 4 n``
      -- no overflow. Without the scale, ``x**2`` overflows for ``|x| >= 256``.
    * Tiny inputs are scaled *up* (up to ``2**13``), so their squares do not underflow.
    * ``eps * scale**2`` underflows to 0 when ``scale`` is small; the floor ``SMAX(., 2**-24)``
      keeps ``rstd <= 4096`` finite, so ``dev = 0`` (e.g. an all-zero row) gives
      ``0 * rstd = 0`` and the output ``beta``, never ``0 * inf = NaN``.

    Limitation (inherent to FP16 accumulation): for a constant row whose FP16 mean is off by one
    ulp (e.g. 768 copies of 65504), ``dev = +-1 ulp`` for every element and the output is about
    ``+-gamma + beta`` instead of ``beta`` -- finite, but not the float64 answer.

    Parameters
    ----------
    x, gamma, beta : float16 arrays, ``gamma`` and ``beta`` of shape ``(n,)``
    eps : float
        Rounded to FP16 once (GPT-2: ``1e-5`` -> ``1.0014e-05``, a subnormal).
    lanes : int
        VPU width (power of two), fixes the accumulation order.
    """
    x = fp16.as_fp16(x, "x")
    gamma, beta = fp16.as_fp16(gamma, "gamma"), fp16.as_fp16(beta, "beta")
    if x.ndim == 0:
        raise ValueError("layernorm needs a vector x, got a 0-d array")
    n = x.shape[-1]
    for name, value in (("gamma", gamma), ("beta", beta)):
        if value.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},) to match x, got {value.shape}")
    constants = {k: np.full(x.shape[:-1], v, np.float16)
                 for k, v in layernorm_constants(n, eps).items()}
    env = {"x": x, "gamma": np.broadcast_to(gamma, x.shape),
           "beta": np.broadcast_to(beta, x.shape), **constants}
    return run_steps(LAYERNORM_STEPS, env, lanes=lanes)["out"]


#: Why the programs run :data:`LAYERNORM_SCALE_STEPS` (quoted in ``docs/numerics.md``).
LAYERNORM_SCALE_NOTE = (
    "The programs run LAYERNORM_STEPS up to `scaled = VMUL norm, gamma` "
    "(`LAYERNORM_SCALE_STEPS`) and fold the LayerNorm's bias into the bias of the matrix that "
    "reads the result (`fold_layernorm_bias`): one vector pass fewer per LayerNorm. Folding the "
    "gain into that matrix's weights too would save a second pass but rounds every weight once "
    "more; on the demo model its greedy text then leaves the float reference's within 48 tokens, "
    "which the bias fold alone does not.")
#: LayerNorm without its bias (result register ``scaled``), :data:`LAYERNORM_SCALE_NOTE`.
LAYERNORM_SCALE_STEPS = LAYERNORM_STEPS[:-1]
assert LAYERNORM_SCALE_STEPS[-1].dst == "scaled"


def layernorm_scale(x, gamma, eps=1e-5, *, lanes=U280.vpu_lanes):
    """``(x - mean) / sqrt(var + eps) * gamma`` of each row of ``x`` exactly as
    :data:`LAYERNORM_SCALE_STEPS` (the ``scaled`` register of :func:`layernorm`, bit for bit)."""
    x = fp16.as_fp16(x, "x")
    gamma = fp16.as_fp16(gamma, "gamma")
    if x.ndim == 0:
        raise ValueError("layernorm_scale needs a vector x, got a 0-d array")
    if gamma.shape != (x.shape[-1],):
        raise ValueError(f"gamma must have shape ({x.shape[-1]},) to match x, got {gamma.shape}")
    constants = {k: np.full(x.shape[:-1], v, np.float16)
                 for k, v in layernorm_constants(x.shape[-1], eps).items()}
    env = {"x": x, "gamma": np.broadcast_to(gamma, x.shape), **constants}
    return run_steps(LAYERNORM_SCALE_STEPS, env, lanes=lanes)["scaled"]


def fold_layernorm_bias(beta, weight, bias=None):
    """The bias of the matrix that reads a LayerNorm, with the LayerNorm's bias folded in:
    ``(s + beta) @ W + b = s @ W + (beta @ W + b)`` for ``s`` = :func:`layernorm_scale`.

    Returns ``fp16(beta @ W + b)``: the dot products and the sum in float64, rounded once (more
    exact than the ``VADD`` of ``beta`` it replaces, whose every element was rounded).
    ``beta`` (``K``), ``weight`` (``K x N``) and ``bias`` (``N``, or ``None`` for none) are the
    FP16 parameters. The programs and the bit-true expectation both use this: the fold is part
    of the numerics contract.
    """
    beta, weight = fp16.as_fp16(beta, "beta"), fp16.as_fp16(weight, "weight")
    if beta.ndim != 1 or weight.ndim != 2 or weight.shape[0] != beta.shape[0]:
        raise ValueError(f"fold_layernorm_bias needs beta of shape (K,) and a K x N weight, "
                         f"got {beta.shape} and {weight.shape}")
    if bias is not None:
        bias = fp16.as_fp16(bias, "bias")
        if bias.shape != (weight.shape[1],):
            raise ValueError(f"bias must have shape ({weight.shape[1]},), got {bias.shape}")
    folded = np.empty(weight.shape[1], np.float16)
    b64 = beta.astype(np.float64)
    step = 8192                       # columns at a time (an LM head has 50,257)
    with np.errstate(over="ignore"):
        for start in range(0, weight.shape[1], step):
            cols = slice(start, start + step)
            total = b64 @ weight[:, cols].astype(np.float64)
            if bias is not None:
                total = total + bias[cols].astype(np.float64)
            folded[cols] = total.astype(np.float16)
    return folded


# ---------------------------------------------------------------------------------------------
#: The value SFU_M writes to masked (future) score positions.
MASK_VALUE = np.float16(-np.inf)
#: The attention head scale ``1 / sqrt(64)``, applied by SFU_M as one FP16 multiply.
ATTENTION_SCALE = np.float16(0.125)

#: Softmax of a score row ``s`` (already scaled and masked by SFU_M). Result register ``p``.
SOFTMAX_STEPS = _steps("""
    m = VMAX s
    t = VSUBS s, m
    e, z = VEXPACC t
    r = SRECIP z
    p = VMULS e, r
""")


def _valid_lengths(valid_len, shape):
    lengths = np.asarray(valid_len)
    if lengths.dtype.kind not in "iu":
        raise ValueError(f"valid_len must be an integer (or integer array), not {valid_len!r}")
    lengths = np.broadcast_to(lengths, shape[:-1]) if lengths.ndim <= len(shape) - 1 else None
    if lengths is None:
        raise ValueError(f"valid_len must have shape {shape[:-1]} or be a single integer")
    if lengths.size and (lengths.min() < 1 or lengths.max() > shape[-1]):
        raise ValueError(f"valid_len must lie in [1, {shape[-1]}] (a fully masked row cannot occur "
                         f"in causal attention: position 0 is always visible), got "
                         f"{int(lengths.min())}..{int(lengths.max())}")
    return lengths


def attention_scores(raw, valid_len, *, scale=ATTENTION_SCALE):
    """SFU_M's post-processing of ``MaskedMM`` outputs: ``fp16(raw[j] * scale)`` (one FP16
    multiply; exact for the power-of-two 1/8 except in the subnormal range), then every position
    ``j >= valid_len`` is replaced by :data:`MASK_VALUE` (``-inf``)."""
    raw = fp16.as_fp16(raw, "raw")
    if raw.ndim == 0:
        raise ValueError("attention_scores needs a vector of scores, got a 0-d array")
    lengths = _valid_lengths(valid_len, raw.shape)
    scaled = fp16.mul(raw, fp16.as_fp16(scale, "scale"))
    visible = np.arange(raw.shape[-1]) < lengths[..., None]
    return np.where(visible, scaled, MASK_VALUE).astype(np.float16)


def softmax(scores, valid_len, *, lanes=U280.vpu_lanes, scale=ATTENTION_SCALE):
    """Attention softmax: :func:`attention_scores` (scale, mask) then :data:`SOFTMAX_STEPS`.

    Subtracting the row maximum first keeps every ``t <= 0``, so ``exp(t)`` is in ``[0, 1]`` and
    ``z = ACCUM e`` lies in ``[1, n]`` (the maximum's own term is ``exp(0) = 1``): no overflow,
    no division by zero. Masked positions give ``t = -inf``, ``exp(-inf) = +0``, ``p = +0``.
    All-equal scores give ``t = 0`` everywhere and ``p = recip(z)``. ``valid_len >= 1`` always
    holds in causal attention (a row sees at least its own position); 0 is refused.

    Parameters
    ----------
    scores : (..., n) float16
        Raw ``q . k`` dot products (before the head scale).
    valid_len : int or integer array of shape (...)
        Visible positions per row (``1..n``).
    """
    s = attention_scores(scores, valid_len, scale=scale)
    return run_steps(SOFTMAX_STEPS, {"s": s}, lanes=lanes)["p"]
