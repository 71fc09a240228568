"""The shared cocotb harness (sim/harness.py): Verilog cache, module merging, failure reporting."""

import re
import subprocess

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from dfx_hw.arith import FP16Adder, FP16Multiplier
from sim.equivalence import compare_designs
from sim.harness import dedupe_modules, run_cocotb, source_files, source_hash, verilog_for


class _TwoMultipliers(wiring.Component):
    """Two identical multiplier instances (their Verilog modules must merge)."""

    a: In(16)
    b: In(16)
    ab: Out(16)
    ba: Out(16)

    def elaborate(self, platform):
        m = Module()
        m.submodules.first = first = FP16Multiplier(latency=1)
        m.submodules.second = second = FP16Multiplier(latency=1)
        m.d.comb += [first.a.eq(self.a), first.b.eq(self.b), second.a.eq(self.b),
                     second.b.eq(self.a), self.ab.eq(first.result), self.ba.eq(second.result)]
        return m


def test_dedupe_merges_identical_instances_and_still_compiles(tmp_path):
    from amaranth.back import verilog
    text = verilog.convert(_TwoMultipliers(), name="top")
    merged = dedupe_modules(text)
    assert len(re.findall(r"^module ", text, re.M)) == 3
    assert re.findall(r"^module (\\\S+|\w+)", merged, re.M) == ["top", "\\top.first"]
    assert merged.count("\\top.first ") == 3          # declaration + two instantiations
    path = tmp_path / "merged.v"
    path.write_text(merged)
    subprocess.run(["iverilog", "-o", str(tmp_path / "merged.vvp"), str(path)], check=True)


def test_verilog_cache_is_reused_and_keyed_by_parameters():
    first = verilog_for(FP16Adder, {"latency": 2})
    stamp = first.stat().st_mtime_ns
    assert verilog_for(FP16Adder, {"latency": 2}) == first
    assert first.stat().st_mtime_ns == stamp
    assert verilog_for(FP16Adder, {"latency": 3}) != first


def test_source_files_follow_dfx_hw_imports():
    files = source_files("dfx_hw.arith.multiplier")
    assert {"dfx_hw.arith.bits", "dfx_hw.arith.rounding", "dfx_hw.arith", "dfx_hw"} <= set(files)
    assert not any(name.startswith(("dfx_hw.vpu", "dfx_hw.synth", "amaranth")) for name in files)
    assert source_hash("dfx_hw.arith.multiplier") != source_hash("dfx_hw.geometry")


def test_failing_bench_fails_the_pytest_test_with_its_message():
    # The bench expects products, the design adds: the cocotb test must fail and say why.
    with pytest.raises(AssertionError, match=r"1 of 1 cocotb tests failed(.|\n)*differ from "
                                             r"numpy.float16"):
        run_cocotb(FP16Adder, {"latency": 0}, test_module="sim.benches.fp16_units",
                   testcase="stream", bench={"op": "mul", "corners": True})


def test_merged_verilog_behaves_like_the_original(tmp_path):
    """Random stimulus into the original and the merged design: identical outputs."""
    from amaranth.back import verilog
    original = verilog.convert(_TwoMultipliers(), name="top")
    merged = dedupe_modules(original)
    renamed = merged.replace("\\top.", "\\top_d.").replace("module top(", "module top_d(", 1)
    mismatches, defined = compare_designs(original, renamed, workdir=tmp_path, cycles=2000)
    assert mismatches == 0
    assert defined > 2 * 2000 - 10          # both outputs known on (nearly) every clock
