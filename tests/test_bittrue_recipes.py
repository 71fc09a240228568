"""LayerNorm and Softmax recipes of the bit-true model: sequences of vector primitives, safe at
FP16's extremes, accurate on GPT-2-like vectors."""

import numpy as np
import pytest

from dfx_hw.model.bittrue import fp16
from dfx_hw.model.bittrue.recipes import (LAYERNORM_SCALE_STEPS, LAYERNORM_STEPS, SOFTMAX_STEPS,
                                          Step, fold_layernorm_bias, layernorm,
                                          layernorm_constants, layernorm_scale, run_steps,
                                          softmax)
from dfx_hw.model.bittrue.vector_ops import VECTOR_PRIMITIVES

F16 = np.float16


def layernorm64(x, gamma, beta, eps=1e-5):
    x = x.astype(np.float64)
    mean = x.mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(x.var(-1, keepdims=True) + eps) * gamma + beta


def params(n, seed=0):
    rng = np.random.default_rng(seed)
    return ((1 + 0.2 * rng.standard_normal(n)).astype(F16),
            (0.1 * rng.standard_normal(n)).astype(F16))


def test_recipes_use_only_primitives():
    for step in LAYERNORM_STEPS + SOFTMAX_STEPS:
        assert step.op in VECTOR_PRIMITIVES
        assert len(step.srcs) == len(VECTOR_PRIMITIVES[step.op].operands)


@pytest.mark.parametrize("n", [1, 15, 768, 1600])
def test_layernorm_accuracy_gpt2_like(n):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((4, n)) * 2 + 0.3).astype(F16)
    x[:, :3] = F16(40)  # GPT-2 residual streams have a few large channels
    gamma, beta = params(n)
    got = layernorm(x, gamma, beta).astype(np.float64)
    if n == 1:
        assert np.array_equal(got, np.broadcast_to(beta, got.shape).astype(np.float64))
        return
    ref = layernorm64(x, gamma, beta)
    assert np.max(np.abs(got - ref)) < 0.02 * np.max(np.abs(ref))


@pytest.mark.parametrize("magnitude", [65504.0, 30000.0, 300.0, 1e-3, 6e-8])
def test_layernorm_safe_at_extremes(magnitude):
    n = 1600
    rng = np.random.default_rng(7)
    x = (rng.uniform(-1, 1, (2, n)) * magnitude).astype(F16)
    x[0, 0], x[1, 1] = F16(magnitude), F16(-magnitude)
    gamma, beta = params(n)
    got = layernorm(x, gamma, beta)
    assert np.all(np.isfinite(got))
    ref = layernorm64(x, gamma, beta)
    tolerance = 0.05 if magnitude > 1e-6 else 0.5  # 6e-8: inputs are 1-ulp subnormals
    assert np.max(np.abs(got - ref)) < tolerance * np.max(np.abs(ref)) + 1e-3


def test_layernorm_constant_and_zero_rows_are_finite():
    n = 768
    gamma, beta = params(n)
    for value in (0.0, 65504.0, -65504.0, 1.0, 6e-8):
        got = layernorm(np.full(n, value, F16), gamma, beta)
        assert np.all(np.isfinite(got)), value
    assert np.array_equal(layernorm(np.zeros(n, F16), gamma, beta), beta)


def test_softmax_accuracy_and_masking():
    rng = np.random.default_rng(8)
    raw = (rng.standard_normal((3, 200)) * 24).astype(F16)
    valid = np.array([1, 57, 200])
    p = softmax(raw, valid, lanes=16)
    for r, v in enumerate(valid):
        s = raw[r, :v].astype(np.float64) * 0.125
        ref = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
        assert np.max(np.abs(p[r, :v] - ref)) < 0.01 * ref.max()
        assert np.all(fp16.to_bits(p[r, v:]) == 0)  # masked: exactly +0
    assert p[0, 0] == 1


def test_softmax_all_equal_and_extreme_scores():
    p = softmax(np.full(1024, 7.0, F16), 1024)
    assert np.all(p == p[0]) and abs(float(p[0]) - 1 / 1024) < 1e-6
    extreme = np.array([65504, -65504, 0, 65504], F16)
    p = softmax(extreme, 4, scale=F16(1.0))
    assert p.tolist() == [0.5, 0.0, 0.0, 0.5]


def test_run_steps_errors_and_batched_rows():
    with pytest.raises(ValueError, match="unknown vector instruction 'VFOO'"):
        run_steps([Step("a", "VFOO", ("x",))], {"x": np.ones(3, F16)})
    with pytest.raises(ValueError, match=r"reads undefined register\(s\) \['y'\]"):
        run_steps([Step("a", "VADD", ("x", "y"))], {"x": np.ones(3, F16)})
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 50)).astype(F16)
    gamma, beta = params(50)
    rows = layernorm(x, gamma, beta)
    for r in range(3):
        assert np.array_equal(fp16.to_bits(rows[r]), fp16.to_bits(layernorm(x[r], gamma, beta)))


def test_bad_arguments():
    x = np.ones(4, F16)
    with pytest.raises(ValueError, match=r"gamma must have shape \(4,\) to match x"):
        layernorm(x, np.ones(3, F16), x)
    with pytest.raises(ValueError, match=r"valid_len must lie in \[1, 4\] \(a fully masked row"):
        softmax(x, 0)
    with pytest.raises(ValueError, match="lanes must be a positive power of two, not 3"):
        softmax(x, 2, lanes=3)
    with pytest.raises(ValueError, match="eps must be a number in"):
        layernorm(x, x, x, eps=0)


def test_layernorm_scale_is_the_scaled_step_of_layernorm_bit_for_bit():
    """LAYERNORM_SCALE_STEPS is LAYERNORM_STEPS up to ``scaled = norm * gamma``: the same bits
    as that register."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((3, 1024)) * 3).astype(F16)
    x[:, 7] = F16(900)
    gamma, beta = params(1024, seed=2)
    env = {"x": x, "gamma": np.broadcast_to(gamma, x.shape), "beta": np.broadcast_to(beta, x.shape),
           **{k: np.full(3, v, F16) for k, v in layernorm_constants(1024, 1e-5).items()}}
    scaled = run_steps(LAYERNORM_STEPS, env)["scaled"]
    assert LAYERNORM_SCALE_STEPS == LAYERNORM_STEPS[:-1]
    assert (fp16.to_bits(layernorm_scale(x, gamma)) == fp16.to_bits(scaled)).all()


def test_fold_layernorm_bias_is_the_layernorm_bias_before_a_matrix():
    """``layernorm_scale(x) @ W + fold(beta, W, b)`` is ``LN(x) @ W + b``: the folded bias is the
    float64 ``beta @ W + b`` rounded once, and the product on it matches the affine
    LayerNorm's to FP16 accuracy."""
    rng = np.random.default_rng(6)
    k, n = 256, 40
    gamma, beta = params(k, seed=7)
    w = (0.05 * rng.standard_normal((k, n))).astype(F16)
    b = (0.1 * rng.standard_normal(n)).astype(F16)
    folded = fold_layernorm_bias(beta, w, b)
    exact = beta.astype(np.float64) @ w.astype(np.float64) + b.astype(np.float64)
    assert folded.dtype == F16 and (folded == exact.astype(F16)).all()
    no_bias = fold_layernorm_bias(beta, w)
    assert (no_bias == (beta.astype(np.float64) @ w.astype(np.float64)).astype(F16)).all()
    x = (rng.standard_normal((4, k)) * 2).astype(F16)
    want = layernorm64(x, gamma.astype(np.float64), beta.astype(np.float64)) \
        @ w.astype(np.float64) + b.astype(np.float64)
    got = layernorm_scale(x, gamma).astype(np.float64) @ w.astype(np.float64) + folded
    assert np.abs(got - want).max() < 1e-2 * np.abs(want).max()


def test_fold_layernorm_bias_refuses_mismatched_shapes():
    _, beta = params(8)
    with pytest.raises(ValueError, match=r"beta of shape \(K,\) and a K x N weight"):
        fold_layernorm_bias(beta, np.zeros((9, 3), F16))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        fold_layernorm_bias(beta, np.zeros((8, 3), F16), np.zeros(4, F16))
