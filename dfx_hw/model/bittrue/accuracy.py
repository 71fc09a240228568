"""Accuracy measurements of the bit-true functions and recipes against float64 (used by the report
that generates ``docs/numerics.md`` and by the tests that hold the documented bounds)."""

from dataclasses import dataclass

import numpy as np

from ...geometry import U280
from . import functions, recipes
from .fp16 import from_bits

__all__ = ["UnaryAccuracy", "ulp_at", "unary_accuracy", "gpt2_like_rows", "recipe_accuracy"]


def ulp_at(exact):
    """FP16 ulp at the binade of each exact (float64) value: ``2**(max(floor(log2|v|), -14) - 10)``
    (``2**-24`` for zero and for the subnormal range)."""
    magnitude = np.abs(np.asarray(exact, np.float64))
    with np.errstate(divide="ignore"):
        exponent = np.where(magnitude > 0, np.floor(np.log2(np.where(magnitude > 0, magnitude,
                                                                       1.0))), -14.0)
    return np.ldexp(1.0, (np.maximum(exponent, -14) - 10).astype(np.int64))


@dataclass(frozen=True)
class UnaryAccuracy:
    """Error of one unary function over all non-NaN FP16 inputs.

    ``worst_ulp`` is the largest ``|got - exact| / ulp_at(exact)`` over inputs whose exact result is
    finite and below 65520 in magnitude (where the correctly rounded result is finite), at input
    ``worst_input``; ``correctly_rounded`` the share of all non-NaN inputs whose result has the bits
    of the exact result rounded to FP16 (zeros of either sign accepted for an exact zero, infinities
    by their limit), ``inputs`` their number.
    """
    name: str
    inputs: int
    worst_ulp: float
    worst_input: float
    worst_got: float
    worst_exact: float
    correctly_rounded: float


def _limits(name, x):
    """Exact results at +-inf inputs (limits), where float64 gives NaN or is fine."""
    exact = functions.EXACT[name](x)
    if name == "gelu":
        exact = np.where(x == np.inf, np.inf, np.where(x == -np.inf, 0.0, exact))
    return exact


def unary_accuracy(name, *, min_abs=0.0):
    """Measure function ``name`` (``gelu``, ``exp``, ``recip``, ``rsqrt``) over all 65,536 inputs
    except NaNs (and except inputs with ``|x| < min_abs``)."""
    x16 = from_bits(np.arange(1 << 16, dtype=np.uint32).astype(np.uint16))
    x16 = x16[~np.isnan(x16)]
    x16 = x16[np.abs(x16.astype(np.float64)) >= min_abs]
    x = x16.astype(np.float64)
    with np.errstate(all="ignore"):
        exact = _limits(name, x)
        got = functions.FUNCTIONS[name](x16).astype(np.float64)
        rounded = exact.astype(np.float16).astype(np.float64)
    same = (got == rounded) | (np.isnan(got) & np.isnan(rounded))
    measurable = np.isfinite(exact) & (np.abs(exact) < 65520)
    with np.errstate(invalid="ignore"):
        error = np.abs(got[measurable] - exact[measurable]) / ulp_at(exact[measurable])
    error = np.where(np.isnan(error), np.inf, error)
    k = int(np.argmax(error))
    return UnaryAccuracy(name, len(x), float(error[k]), float(x[measurable][k]),
                         float(got[measurable][k]), float(exact[measurable][k]),
                         float(np.mean(same)))


def gpt2_like_rows(rows, n, seed):
    """Random FP16 rows shaped like GPT-2 residual activations: unit-scale Gaussian values with a
    few large outlier channels (as GPT-2's residual stream has)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, n)) * rng.uniform(0.3, 3.0, (rows, 1))
    x[:, rng.choice(n, 3, replace=False)] *= 30
    return x.astype(np.float16)


def recipe_accuracy(rows=64, *, lanes=U280.vpu_lanes, seed=0):
    """Relative error (max-norm of the error over max-norm of the float64 result, worst row and
    mean over rows) of LayerNorm (n = 768, 1600) and of attention Softmax (n = 64, 1024 scores,
    random causal lengths) against float64 computed from the same FP16 inputs."""
    results = {}
    rng = np.random.default_rng(seed)
    for n in (768, 1600):
        x = gpt2_like_rows(rows, n, seed + n)
        gamma = (1 + 0.2 * rng.standard_normal(n)).astype(np.float16)
        beta = (0.1 * rng.standard_normal(n)).astype(np.float16)
        got = recipes.layernorm(x, gamma, beta, 1e-5, lanes=lanes).astype(np.float64)
        x64 = x.astype(np.float64)
        mean = x64.mean(-1, keepdims=True)
        exact = (x64 - mean) / np.sqrt(x64.var(-1, keepdims=True) + 1e-5) * gamma + beta
        results[f"layernorm n={n}"] = _relative(got, exact)
    for n in (64, 1024):
        scores = (rng.standard_normal((rows, n)) * 16).astype(np.float16)
        valid = rng.integers(1, n + 1, rows)
        got = recipes.softmax(scores, valid, lanes=lanes).astype(np.float64)
        s = scores.astype(np.float64) * 0.125
        s = np.where(np.arange(n) < valid[:, None], s, -np.inf)
        e = np.exp(s - s.max(-1, keepdims=True))
        results[f"softmax n={n}"] = _relative(got, e / e.sum(-1, keepdims=True))
    return results


def _relative(got, exact):
    per_row = np.max(np.abs(got - exact), -1) / np.max(np.abs(exact), -1)
    return float(per_row.max()), float(per_row.mean())
