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
