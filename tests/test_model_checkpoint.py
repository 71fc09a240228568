"""Hugging Face GPT-2 checkpoints: round trips through every storage variant and each error."""

import json

import numpy as np
import pytest
import safetensors.numpy

from dfx_hw.model.checkpoint import (CheckpointError, load_checkpoint, random_weights,
                                     save_checkpoint, tensor_shapes)

from conftest import TINY_CONFIG, TINY_SEED


@pytest.mark.parametrize("prefix", [True, False], ids=["prefixed", "bare"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["f32", "f16"])
@pytest.mark.parametrize("lm_head", [False, True], ids=["tied", "lm_head"])
def test_round_trip_every_tensor_exact(tmp_path, prefix, dtype, lm_head):
    weights = random_weights(TINY_CONFIG, seed=TINY_SEED)
    path = save_checkpoint(tmp_path / "ck", TINY_CONFIG, weights, prefix=prefix, dtype=dtype,
                           lm_head=lm_head)
    stored = safetensors.numpy.load_file(str(path / "model.safetensors"))
    head = "transformer." if prefix else ""
    assert f"{head}wte.weight" in stored and ("lm_head.weight" in stored) == lm_head
    assert {t.dtype for t in stored.values()} == {np.dtype(dtype)}

    config, loaded = load_checkpoint(path)
    assert config == TINY_CONFIG
    expected = weights.named_tensors()
    got = loaded.named_tensors()
    assert list(got) == list(expected) == list(tensor_shapes(TINY_CONFIG))
    for name, tensor in expected.items():
        assert got[name].dtype == np.float32 and got[name].flags.c_contiguous, name
        # Exact: float16 storage rounds once, and float16 -> float32 is exact.
        np.testing.assert_array_equal(got[name], tensor.astype(dtype).astype(np.float32),
                                      err_msg=name)


def test_random_weights_init():
    weights = random_weights(TINY_CONFIG, seed=3)
    layer = weights.layers[0]
    assert np.all(layer.ln1_g == 1) and np.all(weights.lnf_g == 1)
    assert 0 < np.abs(layer.attn_b).max() < 0.02          # small but present biases
    assert 0.015 < weights.wte.std() < 0.025
    assert not np.array_equal(weights.wte, random_weights(TINY_CONFIG, seed=4).wte)
    np.testing.assert_array_equal(weights.wte, random_weights(TINY_CONFIG, seed=3).wte)


def test_hf_mask_buffers_are_ignored(tiny_gpt2_checkpoint):
    # Some Hugging Face exports store the causal-mask buffers h.N.attn.bias / masked_bias.
    file = tiny_gpt2_checkpoint / "model.safetensors"
    tensors = safetensors.numpy.load_file(str(file))
    tensors["transformer.h.0.attn.bias"] = np.tril(np.ones((1, 1, 32, 32), np.float32))
    tensors["transformer.h.0.attn.masked_bias"] = np.array(-1e4, np.float32)
    safetensors.numpy.save_file(tensors, str(file))
    config, _ = load_checkpoint(tiny_gpt2_checkpoint)
    assert config == TINY_CONFIG


def test_sharded_checkpoint(tiny_gpt2_checkpoint):
    file = tiny_gpt2_checkpoint / "model.safetensors"
    tensors = safetensors.numpy.load_file(str(file))
    names = sorted(tensors)
    shards = {"model-00001-of-00002.safetensors": names[:10],
              "model-00002-of-00002.safetensors": names[10:]}
    for shard, part in shards.items():
        safetensors.numpy.save_file({n: tensors[n] for n in part},
                                    str(tiny_gpt2_checkpoint / shard))
    file.unlink()
    index = {"weight_map": {n: s for s, part in shards.items() for n in part}}
    (tiny_gpt2_checkpoint / "model.safetensors.index.json").write_text(json.dumps(index))
    _, loaded = load_checkpoint(tiny_gpt2_checkpoint)
    np.testing.assert_array_equal(loaded.wte, tensors["transformer.wte.weight"])


# -- errors ------------------------------------------------------------------------------------

def _rewrite(path, change):
    file = path / "model.safetensors"
    tensors = safetensors.numpy.load_file(str(file))
    change(tensors)
    safetensors.numpy.save_file(tensors, str(file))


def test_missing_directory(tmp_path):
    with pytest.raises(CheckpointError, match=r"checkpoint directory '.*nowhere' does not exist"):
        load_checkpoint(tmp_path / "nowhere")


def test_path_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match=r"checkpoint path '.*file' is not a directory"):
        load_checkpoint(tmp_path / "file")


def test_missing_config(tiny_gpt2_checkpoint):
    (tiny_gpt2_checkpoint / "config.json").unlink()
    with pytest.raises(CheckpointError, match=r"has no config\.json"):
        load_checkpoint(tiny_gpt2_checkpoint)


def test_missing_weights_file(tiny_gpt2_checkpoint):
    (tiny_gpt2_checkpoint / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"has no model\.safetensors"):
        load_checkpoint(tiny_gpt2_checkpoint)


def test_malformed_config_json(tiny_gpt2_checkpoint):
    (tiny_gpt2_checkpoint / "config.json").write_text('{"n_embd": 64,')
    with pytest.raises(CheckpointError, match=r"config\.json is not valid JSON: .*line 1"):
        load_checkpoint(tiny_gpt2_checkpoint)


def test_invalid_config_values(tiny_gpt2_checkpoint):
    data = json.loads((tiny_gpt2_checkpoint / "config.json").read_text())
    data["n_head"] = 5
    (tiny_gpt2_checkpoint / "config.json").write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match=r"config\.json: GPT2Config\.n_embd \(64\) must be "
                                              r"a multiple of GPT2Config\.n_head \(5\)"):
        load_checkpoint(tiny_gpt2_checkpoint)


def test_wrong_tensor_shape(tiny_gpt2_checkpoint):
    def change(t):
        t["transformer.h.1.mlp.c_fc.weight"] = np.zeros((256, 64), np.float32)  # transposed
    _rewrite(tiny_gpt2_checkpoint, change)
    with pytest.raises(CheckpointError, match=r"tensor 'transformer\.h\.1\.mlp\.c_fc\.weight' "
                                              r"has shape \(256, 64\), expected \(64, 256\)"):
        load_checkpoint(tiny_gpt2_checkpoint)


def test_missing_tensor(tiny_gpt2_checkpoint):
    _rewrite(tiny_gpt2_checkpoint, lambda t: t.pop("transformer.h.1.ln_2.bias"))
    with pytest.raises(CheckpointError, match=r"missing tensor 'transformer\.h\.1\.ln_2\.bias'"):
        load_checkpoint(tiny_gpt2_checkpoint)


def test_unexpected_tensor(tiny_gpt2_checkpoint):
    # A checkpoint with more layers than its config.json says.
    def change(t):
        t["transformer.h.2.ln_1.weight"] = np.ones(64, np.float32)
    _rewrite(tiny_gpt2_checkpoint, change)
    with pytest.raises(CheckpointError, match=r"unexpected tensors 'transformer\.h\.2\.ln_1\."
                                              r"weight' for .*n_layer=2"):
        load_checkpoint(tiny_gpt2_checkpoint)


def test_lm_head_shape_must_match_wte(tiny_gpt2_checkpoint):
    def change(t):
        t["lm_head.weight"] = np.zeros((255, 64), np.float32)
    _rewrite(tiny_gpt2_checkpoint, change)
    with pytest.raises(CheckpointError, match=r"'lm_head\.weight' has shape \(255, 64\), "
                                              r"expected \(256, 64\) \(the LM head is tied"):
        load_checkpoint(tiny_gpt2_checkpoint)


def test_unexpected_dtype(tiny_gpt2_checkpoint):
    def change(t):
        t["transformer.wpe.weight"] = np.zeros((32, 64), np.int32)
    _rewrite(tiny_gpt2_checkpoint, change)
    with pytest.raises(CheckpointError, match=r"tensor 'transformer\.wpe\.weight' has dtype I32; "
                                              r"expected one of F16, F32, F64"):
        load_checkpoint(tiny_gpt2_checkpoint)


def test_unreadable_safetensors(tiny_gpt2_checkpoint):
    (tiny_gpt2_checkpoint / "model.safetensors").write_bytes(b"this is not a safetensors file")
    with pytest.raises(CheckpointError, match=r"cannot read safetensors file '.*model\."
                                              r"safetensors': "):
        load_checkpoint(tiny_gpt2_checkpoint)


def test_save_rejects_other_dtypes(tmp_path):
    with pytest.raises(ValueError, match=r"dtype must be float32 or float16, not float64"):
        save_checkpoint(tmp_path, TINY_CONFIG, random_weights(TINY_CONFIG), dtype=np.float64)
