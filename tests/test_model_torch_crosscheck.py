"""Cross-check of the float32 reference against a short GPT-2 forward written here with PyTorch
(float64, PyTorch's own LayerNorm, tanh GELU and causal scaled-dot-product attention).

Skipped when PyTorch is not installed: it is not a project dependency (only the demo-model
training tool uses it).
"""

import numpy as np
import pytest

from dfx_hw.model.checkpoint import random_weights
from dfx_hw.model.reference import ReferenceGPT2

from conftest import TINY_CONFIG

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _torch_gpt2(config, weights, ids):
    t = {k: torch.from_numpy(v.astype(np.float64)) for k, v in weights.named_tensors().items()}
    e, eps = config.n_embd, config.layer_norm_epsilon
    n = len(ids)
    x = t["wte.weight"][torch.tensor(ids)] + t["wpe.weight"][:n]
    for i in range(config.n_layer):
        p = f"h.{i}."
        h = F.layer_norm(x, (e,), t[p + "ln_1.weight"], t[p + "ln_1.bias"], eps)
        q, k, v = (h @ t[p + "attn.c_attn.weight"] + t[p + "attn.c_attn.bias"]).split(e, dim=-1)
        q, k, v = (z.view(n, config.n_head, config.head_dim).transpose(0, 1) for z in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + a.transpose(0, 1).reshape(n, e) @ t[p + "attn.c_proj.weight"] \
            + t[p + "attn.c_proj.bias"]
        h = F.layer_norm(x, (e,), t[p + "ln_2.weight"], t[p + "ln_2.bias"], eps)
        m = F.gelu(h @ t[p + "mlp.c_fc.weight"] + t[p + "mlp.c_fc.bias"], approximate="tanh")
        x = x + m @ t[p + "mlp.c_proj.weight"] + t[p + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (e,), t["ln_f.weight"], t["ln_f.bias"], eps)
    return (x @ t["wte.weight"].T).numpy()


def test_reference_matches_torch_gpt2():
    weights = random_weights(TINY_CONFIG, seed=21, scale=0.1)
    ids = np.random.default_rng(2).integers(0, TINY_CONFIG.vocab_size, TINY_CONFIG.n_positions)
    expected = _torch_gpt2(TINY_CONFIG, weights, ids.tolist())
    model = ReferenceGPT2(TINY_CONFIG, weights)
    # float32 against float64: within 1e-5 of the largest logit.
    np.testing.assert_allclose(model.forward_full(ids), expected, rtol=0,
                               atol=1e-5 * np.abs(expected).max())
    last = model.prefill(ids[:20])
    np.testing.assert_allclose(last, expected[19], rtol=0, atol=1e-5 * np.abs(expected).max())
