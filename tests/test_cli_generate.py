"""``dfx generate`` end to end on a tiny random checkpoint: output, determinism, and each user
error printed as one line with exit status 2."""

import re
import subprocess
import sys

import pytest
import safetensors.numpy

from dfx_hw.cli import main
from dfx_hw.model.config import GPT2Config

from conftest import write_tiny_bpe


def _run(capsys, *argv):
    status = main(["generate", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def test_greedy_text_and_summary(capsys, tiny_gpt2_checkpoint):
    status, out, err = _run(capsys, "--model", tiny_gpt2_checkpoint, "--prompt", "abc",
                            "--max-new-tokens", 10)
    assert status == 0
    assert out.startswith("abc") and out.endswith("\n")
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("dfx generate: backend=reference tokens=10 ")
    assert "tokens/s=" in summary and "prefill_ms=" in summary
    again = _run(capsys, "--model", tiny_gpt2_checkpoint, "--prompt", "abc",
                 "--max-new-tokens", 10, "--quiet")
    assert again == (0, out, "")                    # greedy is deterministic; quiet = text only


def test_seeded_sampling(capsys, tiny_gpt2_checkpoint):
    def text(seed):
        status, out, _ = _run(capsys, "--model", tiny_gpt2_checkpoint, "--prompt", "x",
                              "--max-new-tokens", 24, "--temperature", 1.0, "--top-k", 100,
                              "--seed", seed, "--quiet")
        assert status == 0
        return out

    assert text(1) == text(1)
    assert text(1) != text(2)


def test_bpe_model(capsys, make_gpt2_checkpoint):
    config = GPT2Config(vocab_size=259, n_positions=32, n_embd=64, n_layer=2, n_head=4)
    path = make_gpt2_checkpoint("bpe", config)
    write_tiny_bpe(path)
    status, out, err = _run(capsys, "--model", path, "--prompt", " the the", "--max-new-tokens",
                            8)
    assert status == 0 and out.startswith(" the the")
    # " the the" is two BPE tokens: prompt + 8 tokens fit a context of 10.
    config_10 = GPT2Config(vocab_size=259, n_positions=10, n_embd=64, n_layer=2, n_head=4)
    path = make_gpt2_checkpoint("bpe10", config_10)
    write_tiny_bpe(path)
    assert _run(capsys, "--model", path, "--prompt", " the the", "--max-new-tokens", 8)[0] == 0
    status, _, err = _run(capsys, "--model", path, "--prompt", " the the", "--max-new-tokens", 9)
    assert status == 2 and "prompt (2 tokens) + max_new_tokens (9) = 11 tokens" in err


@pytest.mark.parametrize("change, args, message", [
    ("missing", [], r"checkpoint directory '.*' does not exist"),
    ("bad-json", [], r"config\.json is not valid JSON"),
    ("bad-shape", [], r"tensor 'transformer\.wpe\.weight' has shape \(31, 64\), expected "
                      r"\(32, 64\)"),
    (None, ["--backend", "fpga"], r"unknown backend 'fpga'; known backends: reference"),
    (None, ["--cores", "2"], r"backend 'reference' does not take the option cores=2"),
    (None, ["--prompt", "p" * 30, "--max-new-tokens", "5"],
     r"prompt \(30 tokens\) \+ max_new_tokens \(5\) = 35 tokens, more than the model's context "
     r"of 32 positions"),
    (None, ["--prompt", ""], r"the prompt is empty"),
    (None, ["--top-k", "3"], r"top_k=3 needs sampling \(temperature > 0\)"),
    (None, ["--temperature", "-1"], r"temperature must be a finite number >= 0"),
])
def test_errors_are_one_line_with_status_2(capsys, tiny_gpt2_checkpoint, change, args, message):
    path = tiny_gpt2_checkpoint
    if change == "missing":
        path = path.parent / "no-such-model"
    elif change == "bad-json":
        (path / "config.json").write_text("{")
    elif change == "bad-shape":
        file = path / "model.safetensors"
        tensors = safetensors.numpy.load_file(str(file))
        tensors["transformer.wpe.weight"] = tensors["transformer.wpe.weight"][:31]
        safetensors.numpy.save_file(tensors, str(file))
    argv = ["--model", path, "--max-new-tokens", 4, *args]
    status, out, err = _run(capsys, *argv)
    assert status == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dfx: error: "), err
    assert re.search(message, lines[0]), lines[0]


def test_entry_point_process(tiny_gpt2_checkpoint):
    """The installed command path (``python -m dfx_hw.cli``) in a separate process."""
    ok = subprocess.run([sys.executable, "-m", "dfx_hw.cli", "generate", "--model",
                         str(tiny_gpt2_checkpoint), "--prompt", "hi", "--max-new-tokens", "3",
                         "--quiet"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.startswith("hi") and ok.stderr == ""
    bad = subprocess.run([sys.executable, "-m", "dfx_hw.cli", "generate", "--model",
                          str(tiny_gpt2_checkpoint), "--prompt", "hi", "--max-new-tokens", "40"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "more than the model's context of 32" in bad.stderr


def _small_rtl_checkpoint(make_gpt2_checkpoint):
    """A random byte-level checkpoint for the small core build (d=8): 3 heads of 8."""
    config = GPT2Config(vocab_size=256, n_positions=12, n_embd=24, n_layer=1, n_head=3)
    path = make_gpt2_checkpoint("rtl", config, scale=0.3)
    return path


def test_rtl_backend_prints_the_text_and_the_rtl_and_isa_clocks(capsys, make_gpt2_checkpoint):
    """``dfx generate --backend rtl`` on the whole-core RTL (small build): text, then a summary
    with the RTL's clocks per token, the tokens/s they imply at 200 MHz and the ISA simulator's
    own estimate; every token was checked against the ISA simulator."""
    path = _small_rtl_checkpoint(make_gpt2_checkpoint)
    status, out, err = _run(capsys, "--backend", "rtl", "--core", "small", "--cores", 2,
                            "--model", path, "--prompt", "ab", "--max-new-tokens", 3)
    assert status == 0, err
    assert out.startswith("ab") and out.endswith("\n")
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("dfx generate: backend=rtl tokens=3 ")
    for field in ("cores=2", "clocks/token=", "tokens/s@200MHz=", "checked=isasim",
                  "isasim_clocks/token="):
        assert field in summary
    reference = _run(capsys, "--backend", "isasim", "--cores", 2, "--model", path,
                     "--prompt", "ab", "--max-new-tokens", 3, "--quiet")
    assert reference[1] == out                          # the same text as the ISA simulator


def test_rtl_backend_stops_at_the_first_token_that_differs(capsys, make_gpt2_checkpoint,
                                                           monkeypatch):
    """A token the ISA simulator did not produce (here: the simulator is made to expect token
    ids one higher) stops generation with one line naming the token and both values."""
    from dfx_hw.isasim.run import Session

    tokens = Session.tokens

    def shifted(self):
        for token in tokens(self):
            yield token + 1

    monkeypatch.setattr(Session, "tokens", shifted)
    path = _small_rtl_checkpoint(make_gpt2_checkpoint)
    status, out, err = _run(capsys, "--backend", "rtl", "--core", "small", "--model", path,
                            "--prompt", "ab", "--max-new-tokens", 3)
    assert status == 2
    message = err.strip().splitlines()[-1]
    assert re.fullmatch(r"dfx: error: token 0 differs: rtl generated \d+, the ISA simulator "
                        r"\d+ \(prompt \[.*\]\); rerun with --no-check to see the text", message)
