"""docs/numerics.md is generated from the bit-true numerics module and must be current."""

from pathlib import Path

from dfx_hw.cli import main
from dfx_hw.model.bittrue.report import numerics_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "numerics.md"


def test_numerics_doc_is_current():
    assert DOC.read_text() == numerics_markdown(), (
        "docs/numerics.md is stale: regenerate it with `dfx numerics` and commit it")


def test_numerics_command_check(tmp_path, capsys):
    out = tmp_path / "numerics.md"
    assert main(["numerics", "--out", str(out), "--check"]) == 1
    assert "is stale" in capsys.readouterr().out
    assert main(["numerics", "--out", str(out)]) == 0
    assert main(["numerics", "--out", str(out), "--check"]) == 0
    assert out.read_text() == DOC.read_text()


def test_numerics_prove_reports_mismatches(monkeypatch, capsys):
    """`dfx numerics --prove` prints each check's mismatch count and fails on any (the full run
    takes minutes, so the proof itself is replaced by a small slice here)."""
    from dfx_hw.model.bittrue import prove

    real = prove.prove_fast_paths
    monkeypatch.setattr(prove, "prove_fast_paths",
                        lambda progress=None: real([0x3C00, 0x0001], rows=2, progress=progress))
    assert main(["numerics", "--prove"]) == 0
    assert "add float32 path: 0 mismatching pairs" in capsys.readouterr().out
    monkeypatch.setattr(prove, "prove_fast_paths",
                        lambda progress=None: {"add float32 path": 3, "mul float32 path": 0})
    assert main(["numerics", "--prove"]) == 1
    assert "add float32 path: 3 mismatching pairs" in capsys.readouterr().out
