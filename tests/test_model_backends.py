"""Backends: the registry, request validation, and the reference backend's generation
(greedy against the full recomputation, seeded sampling reproducible)."""

import numpy as np
import pytest

from dfx_hw.backends import BACKENDS, Backend, backend_class, get_backend
from dfx_hw.backends.reference import ReferenceBackend
from dfx_hw.model.checkpoint import CheckpointError
from dfx_hw.model.reference import ReferenceGPT2
from dfx_hw.model.sampling import Sampler

PROMPT = list(b"def f(x):")


def test_reference_is_registered():
    assert backend_class("reference") is ReferenceBackend
    assert set(BACKENDS) >= {"reference"}


def test_unknown_backend_lists_known(tiny_gpt2_checkpoint):
    with pytest.raises(ValueError, match=r"unknown backend 'fpga'; known backends: reference"):
        get_backend("fpga", tiny_gpt2_checkpoint)


def test_option_refused(tiny_gpt2_checkpoint):
    with pytest.raises(ValueError, match=r"backend 'reference' does not take the option "
                                         r"cores=4 \(options it takes: none\)"):
        get_backend("reference", tiny_gpt2_checkpoint, cores=4)
    # None means "not given".
    assert isinstance(get_backend("reference", tiny_gpt2_checkpoint, cores=None),
                      ReferenceBackend)


def test_bad_checkpoint_reaches_caller(tmp_path):
    with pytest.raises(CheckpointError, match=r"does not exist"):
        get_backend("reference", tmp_path / "missing")


def test_greedy_follows_full_recompute(tiny_gpt2_checkpoint):
    backend = get_backend("reference", tiny_gpt2_checkpoint)
    tokens = list(backend.generate(PROMPT, 12, Sampler()))
    assert len(tokens) == 12
    # Independent check: argmax of the cache-free forward pass, one token at a time.
    model = ReferenceGPT2(backend.config, backend.model.weights)
    sequence = list(PROMPT)
    for _ in range(12):
        sequence.append(int(np.argmax(model.forward_full(sequence)[-1])))
    assert tokens == sequence[len(PROMPT):]
    assert "prefill_ms" in backend.stats()


def test_sampling_deterministic_per_seed(tiny_gpt2_checkpoint):
    backend = get_backend("reference", tiny_gpt2_checkpoint)

    def run(seed):
        return list(backend.generate(PROMPT, 20, Sampler(temperature=1.0, seed=seed)))

    first = run(11)
    assert run(11) == first
    assert run(12) != first
    assert len(set(first)) > 5                      # a random model at T=1 is far from greedy


def test_tokens_are_yielded_as_produced(tiny_gpt2_checkpoint):
    backend = get_backend("reference", tiny_gpt2_checkpoint)
    stream = backend.generate(PROMPT, 5, Sampler())
    assert backend.model.position == 0              # nothing computed before the first next()
    next(stream)
    assert backend.model.position == len(PROMPT)
    next(stream)
    assert backend.model.position == len(PROMPT) + 1


@pytest.mark.parametrize("prompt, count, message", [
    ([], 4, r"the prompt is empty"),
    ([1, 256], 4, r"token id 256 is outside the vocabulary \(vocab_size=256, valid ids 0\.\.255\)"),
    ([1, 2], 0, r"max_new_tokens must be a positive integer, not 0"),
    (list(range(30)), 3, r"prompt \(30 tokens\) \+ max_new_tokens \(3\) = 33 tokens, more than "
                         r"the model's context of 32 positions"),
])
def test_request_errors_before_any_work(tiny_gpt2_checkpoint, prompt, count, message):
    backend = get_backend("reference", tiny_gpt2_checkpoint)
    with pytest.raises(ValueError, match=message):
        backend.generate(prompt, count, Sampler())   # raises at the call, not at next()
    assert backend.model.position == 0


def test_greedy_only_backend_refuses_sampling(tiny_gpt2_checkpoint):
    class GreedyOnly(ReferenceBackend):
        name = "greedy-only"
        supports_sampling = False

    backend = GreedyOnly.from_model_dir(tiny_gpt2_checkpoint)
    assert isinstance(backend, Backend)
    with pytest.raises(ValueError, match=r"backend 'greedy-only' decodes greedily only"):
        backend.generate(PROMPT, 3, Sampler(temperature=0.7))
    assert len(list(backend.generate(PROMPT, 3, Sampler()))) == 3
