"""Shared fixtures.

``tiny_gpt2_checkpoint``
    Path of a small random-weight Hugging Face GPT-2 checkpoint written into a temporary
    directory (byte-level vocabulary of 256, so ``dfx generate`` and the tokenizers accept it).
``make_gpt2_checkpoint``
    Factory for checkpoints of other shapes, dtypes and naming variants.

Helpers (import them with ``from conftest import ...``): ``TINY_CONFIG``, ``TINY_SEED``,
``write_gpt2_checkpoint`` and ``write_tiny_bpe`` (GPT-2-style ``vocab.json`` + ``merges.txt``).
"""

import json

import os

# One BLAS thread per test process, set before NumPy loads: under `pytest -n auto` on a small
# machine OpenBLAS's own threads oversubscribe the cores (measured on the 2-core machine: GPT-2
# 124M decoding 2.5x slower with the library default).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dfx_hw.model.checkpoint import random_weights, save_checkpoint  # noqa: E402
from dfx_hw.model.config import GPT2Config  # noqa: E402

#: Shape of ``tiny_gpt2_checkpoint``: byte vocabulary, 2 layers, 4 heads of 16, context 32.
TINY_CONFIG = GPT2Config(vocab_size=256, n_positions=32, n_embd=64, n_layer=2, n_head=4)
#: Seed of the random weights of ``tiny_gpt2_checkpoint``.
TINY_SEED = 1234


def write_gpt2_checkpoint(path, config=TINY_CONFIG, *, seed=TINY_SEED, scale=0.02, prefix=True,
                          dtype=np.float32, lm_head=False):
    """Write a random-weight (:func:`~dfx_hw.model.checkpoint.random_weights`) Hugging Face
    GPT-2 checkpoint (``config.json`` + ``model.safetensors``) to ``path``; return ``path``."""
    weights = random_weights(config, seed=seed, scale=scale)
    return save_checkpoint(path, config, weights, prefix=prefix, dtype=dtype, lm_head=lm_head)


def write_tiny_bpe(directory):
    """Write a GPT-2-style byte-level BPE (``vocab.json`` + ``merges.txt``) into ``directory``:
    the 256 byte symbols (ids 0..255, sorted) plus the merges ``Ġ t``, ``h e``, ``Ġt he``
    (ids 256..258). Returns the vocabulary (symbol -> id)."""
    from tokenizers import pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {symbol: index for index, symbol in enumerate(alphabet)}
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he")]
    for left, right in merges:
        vocab[left + right] = len(vocab)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (directory / "merges.txt").write_text(
        "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf-8")
    return vocab


@pytest.fixture
def tiny_gpt2_checkpoint(tmp_path):
    """Path of a directory holding a small random-weight GPT-2 checkpoint in Hugging Face format
    (``TINY_CONFIG``, seed ``TINY_SEED``, float32, ``transformer.`` prefix, no ``lm_head``).

    A fresh copy per test, so a test may modify or break it.
    """
    return write_gpt2_checkpoint(tmp_path / "tiny-gpt2")


@pytest.fixture
def make_gpt2_checkpoint(tmp_path):
    """Factory ``make(name="ckpt", config=TINY_CONFIG, **options) -> Path`` writing a random-weight
    checkpoint under the test's temporary directory; ``options`` are those of
    ``write_gpt2_checkpoint`` (``seed``, ``scale``, ``prefix``, ``dtype``, ``lm_head``)."""

    def make(name="ckpt", config=TINY_CONFIG, **options):
        return write_gpt2_checkpoint(tmp_path / name, config, **options)

    return make
