"""The ``isasim`` backend and ``dfx generate --backend isasim --cores N``; the bench registry."""

import pytest

from conftest import TINY_CONFIG
from dfx_hw.backends import get_backend
from dfx_hw.bench import get_benchmark
from dfx_hw.cli import main
from dfx_hw.isasim.expected import BitTrueGPT2
from dfx_hw.model.checkpoint import load_checkpoint
from dfx_hw.model.sampling import Sampler


def test_backend_tokens_equal_the_bittrue_expectation(make_gpt2_checkpoint):
    path = make_gpt2_checkpoint("ck", TINY_CONFIG, scale=0.3)
    backend = get_backend("isasim", path, cores=3)
    prompt = list(b"hi there")
    tokens = list(backend.generate(prompt, 6, Sampler()))
    config, weights = load_checkpoint(path)
    assert tokens == BitTrueGPT2(config, weights).generate(prompt, 6)[0]
    stats = backend.stats()
    assert stats["cores"] == 3 and stats["instructions"] > 0 and stats["cycles"] > 0


def test_cli_generate_on_the_isasim_backend(capsys, tiny_gpt2_checkpoint):
    argv = ["generate", "--backend", "isasim", "--cores", "2", "--model",
            str(tiny_gpt2_checkpoint), "--prompt", "ab", "--max-new-tokens", "4"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("ab")
    assert "backend=isasim" in captured.err and "cores=2" in captured.err


def test_backend_refuses_sampling_and_bad_core_counts(tiny_gpt2_checkpoint):
    backend = get_backend("isasim", tiny_gpt2_checkpoint)
    with pytest.raises(ValueError, match=r"backend 'isasim' decodes greedily only"):
        backend.generate([1, 2], 3, Sampler(temperature=1.0, seed=0))
    with pytest.raises(ValueError, match=r"5 cores for a model with 4 heads"):
        get_backend("isasim", tiny_gpt2_checkpoint, cores=5)
    with pytest.raises(ValueError, match=r"cores must be a positive integer, not 0"):
        get_backend("isasim", tiny_gpt2_checkpoint, cores=0)


def test_unknown_benchmark(capsys):
    with pytest.raises(ValueError, match=r"unknown benchmark 'nope'; known benchmarks: isasim"):
        get_benchmark("nope")
    assert main(["bench", "nope", "--out", "/nonexistent/never-written"]) == 2
    assert "unknown benchmark 'nope'" in capsys.readouterr().err


def test_isasim_bench_figures_on_a_small_model():
    from dfx_hw.bench.isasim import _measure
    from dfx_hw.model.checkpoint import random_weights
    from dfx_hw.model.reference import ReferenceGPT2

    weights = random_weights(TINY_CONFIG, seed=5, scale=0.3)
    figures = _measure("tiny", TINY_CONFIG, weights, 2, [1, 2, 3], 3,
                       reference=ReferenceGPT2(TINY_CONFIG, weights))
    assert figures["cores"] == 2 and figures["new_tokens"] == 3
    per_token = figures["instructions_per_token_core0"]
    assert per_token["router"] == 4 * TINY_CONFIG.n_layer + 1
    assert figures["estimated_cycles_per_token"] > 0
    assert 0 <= figures["max_logit_error_vs_float"] < 0.05


def test_bench_command_writes_json_per_benchmark(tmp_path, monkeypatch, capsys):
    import json

    import dfx_hw.commands.bench as bench_command

    monkeypatch.setattr(bench_command, "BENCHMARKS", {"fake": "fake:run"})
    monkeypatch.setattr(bench_command, "get_benchmark",
                        lambda name: lambda quick: {"quick": quick, "summary": ["fast: 1 tok/s"]})
    assert main(["bench", "--quick", "--out", str(tmp_path / "out")]) == 0
    assert "fast: 1 tok/s" in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "fake.json").read_text()) == {
        "quick": True, "summary": ["fast: 1 tok/s"]}
