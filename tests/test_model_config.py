"""GPT2Config: presets, validation and the Hugging Face config.json format."""

import pytest

from dfx_hw.model.config import PRESETS, GPT2Config


@pytest.mark.parametrize("name, alias, shape", [
    ("124M", "gpt2", (768, 12, 12)),
    ("345M", "gpt2-medium", (1024, 24, 16)),
    ("774M", "gpt2-large", (1280, 36, 20)),
    ("1.5B", "gpt2-xl", (1600, 48, 25)),
])
def test_presets(name, alias, shape):
    config = GPT2Config.preset(name)
    assert GPT2Config.preset(alias) == config
    assert (config.n_embd, config.n_layer, config.n_head) == shape
    assert (config.vocab_size, config.n_positions, config.head_dim) == (50257, 1024, 64)


def test_preset_parameter_counts():
    # The published sizes (the "774M" model has 774M parameters with the tied head, etc.).
    counts = {name: config.n_params for name, config in PRESETS.items()}
    assert round(counts["124M"] / 1e6) == 124
    assert round(counts["345M"] / 1e6) == 355
    assert round(counts["774M"] / 1e6) == 774
    assert round(counts["1.5B"] / 1e8) == 16


def test_unknown_preset_lists_known():
    with pytest.raises(ValueError, match=r"unknown GPT-2 preset '7B'; known presets: 124M, "
                                         r"345M, 774M, 1\.5B, gpt2, gpt2-medium"):
        GPT2Config.preset("7B")


@pytest.mark.parametrize("field, value", [
    ("vocab_size", 0), ("n_positions", -1), ("n_embd", 64.0), ("n_layer", True), ("n_head", "4"),
])
def test_invalid_sizes_name_field_and_value(field, value):
    shape = dict(vocab_size=256, n_positions=32, n_embd=64, n_layer=2, n_head=4)
    shape[field] = value
    with pytest.raises(ValueError, match=rf"GPT2Config\.{field} must be a positive integer, "
                                         rf"not {value!r}"):
        GPT2Config(**shape)


def test_heads_must_divide_embedding():
    with pytest.raises(ValueError, match=r"n_embd \(100\) must be a multiple of .*n_head \(3\)"):
        GPT2Config(vocab_size=10, n_positions=8, n_embd=100, n_layer=1, n_head=3)


def test_bad_epsilon():
    with pytest.raises(ValueError, match=r"layer_norm_epsilon must be a positive finite number, "
                                         r"not 0"):
        GPT2Config(vocab_size=10, n_positions=8, n_embd=8, n_layer=1, n_head=2,
                   layer_norm_epsilon=0)


def test_hf_dict_round_trip():
    config = GPT2Config(vocab_size=300, n_positions=48, n_embd=96, n_layer=3, n_head=6,
                        layer_norm_epsilon=1e-6)
    data = config.to_hf_dict()
    assert data["activation_function"] == "gelu_new" and data["n_ctx"] == 48
    assert GPT2Config.from_hf_dict(data) == config


def test_hf_dict_n_ctx_fallback_and_defaults():
    data = {"vocab_size": 50257, "n_ctx": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12,
            "resid_pdrop": 0.1}
    assert GPT2Config.from_hf_dict(data) == GPT2Config.preset("gpt2")


def test_hf_dict_errors():
    base = GPT2Config.preset("gpt2").to_hf_dict()
    with pytest.raises(ValueError, match=r"activation_function 'relu' is not supported"):
        GPT2Config.from_hf_dict({**base, "activation_function": "relu"})
    with pytest.raises(ValueError, match=r"missing the key 'n_head'"):
        GPT2Config.from_hf_dict({k: v for k, v in base.items() if k != "n_head"})
    with pytest.raises(ValueError, match=r"missing the key 'n_positions' \(or 'n_ctx'\)"):
        GPT2Config.from_hf_dict({k: v for k, v in base.items()
                                 if k not in ("n_positions", "n_ctx")})
    with pytest.raises(ValueError, match=r"n_inner=1024 is not supported; GPT-2's MLP width is "
                                         r"4 \* n_embd"):
        GPT2Config.from_hf_dict({**base, "n_inner": 1024})
    assert GPT2Config.from_hf_dict({**base, "n_inner": 3072}) == GPT2Config.preset("gpt2")
    with pytest.raises(ValueError, match=r"scale_attn_weights=False is not supported; GPT-2 has "
                                         r"scale_attn_weights=True"):
        GPT2Config.from_hf_dict({**base, "scale_attn_weights": False})
    with pytest.raises(ValueError, match=r"scale_attn_by_inverse_layer_idx=True is not"):
        GPT2Config.from_hf_dict({**base, "scale_attn_by_inverse_layer_idx": True})
    with pytest.raises(ValueError, match=r"config must be a JSON object, not list"):
        GPT2Config.from_hf_dict([1, 2])
