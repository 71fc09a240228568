"""The float32 reference GPT-2: KV cache against recomputation, against an independent float64
implementation written here, causality, and its input errors."""

import math

import numpy as np
import pytest

from dfx_hw.model.checkpoint import random_weights
from dfx_hw.model.config import GPT2Config
from dfx_hw.model.reference import ReferenceGPT2, gelu_new

from conftest import TINY_CONFIG

# A larger init scale than GPT-2's 0.02 so attention is far from uniform and the logits spread.
SCALE = 0.1


@pytest.fixture(scope="module")
def model():
    return ReferenceGPT2(TINY_CONFIG, random_weights(TINY_CONFIG, seed=5, scale=SCALE))


def _naive_gpt2(config, weights, ids):
    """Float64, one position and one head at a time, straight from the GPT-2 definition."""
    def ln(x, g, b):
        mu = sum(x) / len(x)
        var = sum((v - mu) ** 2 for v in x) / len(x)
        return np.array([(v - mu) / math.sqrt(var + config.layer_norm_epsilon) for v in x]) * g + b

    def gelu(x):
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))

    w = {k: v.astype(np.float64) for k, v in weights.named_tensors().items()}
    e, hd = config.n_embd, config.head_dim
    xs = [w["wte.weight"][t] + w["wpe.weight"][p] for p, t in enumerate(ids)]
    for i in range(config.n_layer):
        p = f"h.{i}."
        qkv = [ln(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"]) @ w[p + "attn.c_attn.weight"]
               + w[p + "attn.c_attn.bias"] for x in xs]
        new = []
        for t, x in enumerate(xs):
            heads = []
            for h in range(config.n_head):
                q = qkv[t][h * hd:(h + 1) * hd]
                ks = [qkv[s][e + h * hd:e + (h + 1) * hd] for s in range(t + 1)]
                vs = [qkv[s][2 * e + h * hd:2 * e + (h + 1) * hd] for s in range(t + 1)]
                scores = np.array([q @ k / math.sqrt(hd) for k in ks])
                prob = np.exp(scores - scores.max())
                prob /= prob.sum()
                heads.append(sum(pr * v for pr, v in zip(prob, vs)))
            x = x + np.concatenate(heads) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
            h2 = ln(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"])
            x = x + (gelu(h2 @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
                     @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"])
            new.append(x)
        xs = new
    return np.array([ln(x, w["ln_f.weight"], w["ln_f.bias"]) @ w["wte.weight"].T for x in xs])


def test_matches_independent_float64_gpt2(model):
    ids = np.random.default_rng(1).integers(0, TINY_CONFIG.vocab_size, 12)
    expected = _naive_gpt2(TINY_CONFIG, model.weights, ids)
    got = model.forward_full(ids)
    # float32 against float64: 1e-4 of the logit range.
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("prompt_len", [1, 9, 31])
def test_prefill_then_decode_equals_full_recompute(model, prompt_len):
    n = TINY_CONFIG.n_positions
    ids = np.random.default_rng(prompt_len).integers(0, TINY_CONFIG.vocab_size, n)
    full = model.forward_full(ids)
    scale = np.abs(full).max()
    assert scale > 1.0                                      # the check is not on tiny numbers
    steps = [model.prefill(ids[:prompt_len])]
    assert model.position == prompt_len
    steps += [model.decode(int(t)) for t in ids[prompt_len:]]
    assert model.position == n
    # Tight float32 tolerance: 2e-6 of the largest logit (about 16 float32 ulps of it; 6e-7 is
    # measured here). The cached and the recomputed paths differ only in the summation order of
    # their matrix products.
    np.testing.assert_allclose(np.array(steps), full[prompt_len - 1:], rtol=0, atol=2e-6 * scale)


def test_prefill_restarts_the_cache(model):
    ids = [3, 1, 4, 1, 5]
    first = model.prefill(ids)
    model.decode(9)
    np.testing.assert_array_equal(model.prefill(ids), first)
    assert model.position == 5
    model.reset()
    assert model.position == 0


def test_causal(model):
    ids = np.arange(10)
    changed = ids.copy()
    changed[6] = 200
    a, b = model.forward_full(ids), model.forward_full(changed)
    np.testing.assert_array_equal(a[:6], b[:6])
    assert not np.allclose(a[6:], b[6:])


def test_gelu_new_values():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0], np.float32)
    expected = [0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))
                for v in x.tolist()]
    np.testing.assert_allclose(gelu_new(x), expected, rtol=1e-6, atol=1e-7)


def test_outputs_are_float32(model):
    assert model.prefill([1, 2]).dtype == np.float32
    assert model.prefill([1, 2]).shape == (TINY_CONFIG.vocab_size,)


# -- errors ------------------------------------------------------------------------------------

def test_empty_prompt(model):
    with pytest.raises(ValueError, match=r"prompt is empty: at least one token is needed"):
        model.prefill([])


def test_prompt_longer_than_context(model):
    with pytest.raises(ValueError, match=r"prompt has 33 tokens, longer than the context of 32 "
                                         r"positions"):
        model.prefill(np.zeros(33, np.int64))


def test_decode_past_context(model):
    model.prefill(np.zeros(32, np.int64))
    with pytest.raises(ValueError, match=r"cannot decode past the context: all 32 positions"):
        model.decode(1)


def test_decode_before_prefill(model):
    model.reset()
    with pytest.raises(ValueError, match=r"needs a prefill\(\) first"):
        model.decode(1)


@pytest.mark.parametrize("bad", [256, -1, 1000])
def test_token_outside_vocabulary(model, bad):
    with pytest.raises(ValueError, match=rf"token id {bad} is outside the vocabulary "
                                         rf"\(vocab_size=256, valid ids 0\.\.255\)"):
        model.prefill([1, bad, 2])
    model.prefill([1])
    with pytest.raises(ValueError, match=rf"token id {bad} is outside the vocabulary"):
        model.decode(bad)


def test_non_integer_ids(model):
    with pytest.raises(ValueError, match=r"prompt token ids must be integers, not float64"):
        model.prefill([1.0, 2.0])


def test_weights_must_match_config():
    other = GPT2Config(vocab_size=256, n_positions=32, n_embd=64, n_layer=3, n_head=4)
    with pytest.raises(ValueError, match=r"weights have 2 layers, config has n_layer=3"):
        ReferenceGPT2(other, random_weights(TINY_CONFIG))
