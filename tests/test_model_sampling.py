"""Token choice: greedy argmax and seeded temperature / top-k sampling."""

import numpy as np
import pytest

from dfx_hw.model.sampling import Sampler, greedy


def test_greedy_lowest_index_on_ties():
    assert greedy([0.0, 3.0, 1.0, 3.0]) == 1
    assert Sampler()([5.0, 5.0]) == 0 and Sampler().is_greedy


def test_seeded_sampling_is_reproducible_and_seed_dependent():
    logits = np.random.default_rng(0).standard_normal(50)
    a = Sampler(temperature=1.0, seed=7)
    b = Sampler(temperature=1.0, seed=7)
    seq_a = [a(logits) for _ in range(40)]
    assert seq_a == [b(logits) for _ in range(40)]
    c = Sampler(temperature=1.0, seed=8)
    assert seq_a != [c(logits) for _ in range(40)]
    a.reset()
    assert seq_a == [a(logits) for _ in range(40)]
    assert all(0 <= t < 50 for t in seq_a) and len(set(seq_a)) > 5


def test_sampling_distribution_follows_temperature():
    logits = np.log(np.array([0.5, 0.3, 0.2]))
    sampler = Sampler(temperature=1.0, seed=1)
    counts = np.bincount([sampler(logits) for _ in range(6000)], minlength=3) / 6000
    np.testing.assert_allclose(counts, [0.5, 0.3, 0.2], atol=0.03)
    cold = Sampler(temperature=0.05, seed=1)
    assert all(cold(logits) == 0 for _ in range(200))


def test_top_k_restricts_choice():
    logits = np.array([1.0, 4.0, 3.0, 4.0, 0.0])
    sampler = Sampler(temperature=5.0, top_k=2, seed=3)
    seen = {sampler(logits) for _ in range(300)}
    assert seen == {1, 3}
    ties = Sampler(temperature=1.0, top_k=1, seed=3)
    assert {ties(logits) for _ in range(50)} == {1}      # boundary tie -> lower index


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperature=-1.0), r"temperature must be a finite number >= 0 \(0 = greedy\), not -1"),
    (dict(temperature=float("nan")), r"temperature must be a finite number >= 0"),
    (dict(temperature=1.0, top_k=0), r"top_k must be a positive integer, not 0"),
    (dict(top_k=5), r"top_k=5 needs sampling \(temperature > 0\)"),
    (dict(seed=1.5), r"seed must be an integer, not 1\.5"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Sampler(**kwargs)
