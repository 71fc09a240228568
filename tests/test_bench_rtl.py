"""``dfx bench rtl --quick``: the RTL benchmark on the small core build writes its JSON (the
fields issue 13 names) and its chart; every point's token equals the ISA simulator's (the bench
asserts it)."""

import json

from dfx_hw.cli import main


def test_bench_rtl_quick_writes_results_and_chart(tmp_path, capsys):
    assert main(["bench", "rtl", "--quick", "--out", str(tmp_path)]) == 0
    figures = json.loads((tmp_path / "rtl.json").read_text())
    assert (tmp_path / "rtl.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    simulated = [r for r in figures["results"] if r["source"] == "simulated (RTL)"]
    assert {(r["model"], r["cores"]) for r in simulated} == {
        ("small layer", 1), ("small head", 1), ("small layer", 4), ("small head", 4)}
    for row in figures["results"]:
        for key in ("model", "cores", "context", "clocks_per_token",
                    "roofline_clocks_per_token", "efficiency"):
            assert key in row, (key, row)
        assert row["efficiency"] == round(row["roofline_clocks_per_token"]
                                          / row["clocks_per_token"], 4)
    for row in simulated:
        # the breakdown splits the section's clocks exactly; the counters cover every unit
        assert sum(row["breakdown"].values()) == row["clocks_per_token"]
        for unit in ("MATRIX", "VECTOR", "DMA", "ROUTER"):
            states = [row["counters"][f"{unit}_{s}"] for s in ("BUSY", "WAIT", "IDLE")]
            assert sum(states) == row["counters"]["CYCLES"]
        assert row["largest_loss"]["clocks"] == max(
            v for k, v in row["breakdown"].items() if k != "tiles")
    assert "largest loss" in capsys.readouterr().out
