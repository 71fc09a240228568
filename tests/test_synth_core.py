"""Whole-core resources by per-module synthesis (``dfx resources core``): module splitting,
instance counting, black-box stubs, clock domains and the multiply-and-sum logic on hand-written
hierarchies whose figures can be counted by hand; one small real Yosys run through the
per-module cache (no whole-core Yosys here)."""

import json
from pathlib import Path

import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from dfx_hw.hdl.leaf import LeafComponent
from dfx_hw.synth.core_report import core_resources, format_core_tables
from dfx_hw.synth.modules import (blackbox_stub, clock_domains, instance_counts,
                                  split_modules, standalone_source)
from dfx_hw.synth.per_module import memory_mapping, module_summary, source_key, sum_modules

# Yosys write_verilog style: `top` has two `\top.mid` (one per clock domain) and one Leaf_a;
# a `\top.mid` has three Leaf_a and one Leaf_b. Leaf_a: 1 + 2 * 3 = 7 instances, Leaf_b: 2.
HIERARCHY = r"""(* generator = "Amaranth" *)
module Leaf_a(clk, d, q);
  input clk;
  input [3:0] d;
  output [3:0] q;
  reg [3:0] q;
  always @(posedge clk) q <= d;
endmodule
module Leaf_b(clk, d, q);
  input clk;
  input d;
  output q;
  reg q;
  always @(posedge clk) q <= ~d;
endmodule
(* src = "x.py:1" *)
module \top.mid (clk, d, q);
  input clk;
  input [3:0] d;
  output [3:0] q;
  wire [3:0] a, b;
  wire \$1 ;
  Leaf_a u0 (
    .clk(clk),
    .d(d),
    .q(a)
  );
  Leaf_a u1 (
    .clk(clk),
    .d(a),
    .q(b)
  );
  Leaf_a u2 (
    .clk(clk),
    .d(b),
    .q(q)
  );
  Leaf_b u3 (
    .clk(clk),
    .d(d[0]),
    .q(\$1 )
  );
endmodule
module top(clk, link_clk, d, q, r);
  input clk;
  input link_clk;
  input [3:0] d;
  output [3:0] q;
  output [3:0] r;
  wire [3:0] m;
  wire lc;
  assign lc = link_clk;
  \top.mid  mid0 (
    .clk(clk),
    .d(d),
    .q(m)
  );
  \top.mid  mid1 (
    .clk(lc),
    .d(d),
    .q(r)
  );
  Leaf_a last (
    .clk(clk),
    .d(m),
    .q(q)
  );
endmodule
"""


def test_modules_split_and_instance_counts_multiply_down_the_hierarchy():
    modules = split_modules(HIERARCHY)
    assert list(modules) == ["Leaf_a", "Leaf_b", "top.mid", "top"]
    assert modules["top"].children == {"top.mid": 2, "Leaf_a": 1}
    assert modules["top.mid"].children == {"Leaf_a": 3, "Leaf_b": 1}
    assert modules["top.mid"].ports == ("input clk", "input [3:0] d", "output [3:0] q")
    assert instance_counts(modules, "top") == {"top": 1, "top.mid": 2, "Leaf_a": 7,
                                               "Leaf_b": 2}
    assert instance_counts(modules, "top.mid") == {"top.mid": 1, "Leaf_a": 3, "Leaf_b": 1}


def test_standalone_source_has_black_box_stubs_of_the_children_only():
    modules = split_modules(HIERARCHY)
    stub = blackbox_stub(modules["top.mid"])
    assert stub == ("(* blackbox *)\nmodule \\top.mid (clk, d, q);\n  input clk;\n"
                    "  input [3:0] d;\n  output [3:0] q;\nendmodule\n")
    source = standalone_source(modules, "top")
    assert source.count("(* blackbox *)") == 2            # Leaf_a and top.mid, not Leaf_b
    assert "always" not in source.split("module top(")[0]   # the children have no body
    assert source.endswith(modules["top"].text)
    # The cache key ignores src attributes (they name the checkout), nothing else.
    assert source_key(source) == source_key(source.replace('"x.py:1"', '"/y/z.py:9"'))
    assert source_key(source) != source_key(source.replace(".d(m)", ".d(d)"))


def test_clock_domains_follow_connections_and_aliases():
    domains = clock_domains(split_modules(HIERARCHY), "top")
    assert domains["top"] == {"clk": ("sync",), "link_clk": ("link",)}
    # top.mid is one module for two instances in two domains (through `assign lc = link_clk`).
    assert domains["top.mid"] == {"clk": ("link", "sync")}
    assert domains["Leaf_a"] == {"clk": ("link", "sync")}


def test_bad_hierarchies_are_clear_errors():
    modules = split_modules(HIERARCHY)
    with pytest.raises(ValueError, match="top module 'nope' is not in the design"):
        instance_counts(modules, "nope")
    cyclic = HIERARCHY.replace("Leaf_b u3 (", "\\top.mid  u3 (")
    with pytest.raises(ValueError, match="cycle: top -> top.mid -> top.mid"):
        instance_counts(split_modules(cyclic), "top")
    with pytest.raises(ValueError, match="defined twice"):
        split_modules(HIERARCHY + HIERARCHY)
    with pytest.raises(ValueError, match="no 'module"):
        split_modules("// nothing\n")


def _cell(kind, inputs, outputs):
    return {"type": kind, "connections": {**inputs, **outputs},
            "port_directions": {**{p: "input" for p in inputs},
                                **{p: "output" for p in outputs}}}


def test_module_summary_counts_lutram_luts_and_levels_per_domain():
    """One module, two clocks: clk (sync) FF -> 2 LUTs -> FF; link_clk FF -> LUT -> output
    port (attributed to the launching FF's clock); a RAM32M is 4 LUTs; the child instance is
    neither a resource nor a clock."""
    ports = {"clk": {"direction": "input", "bits": [2]},
             "link_clk": {"direction": "input", "bits": [3]},
             "o": {"direction": "output", "bits": [30]}}
    cells = {
        "f1": _cell("FDRE", {"C": [2], "D": [20]}, {"Q": [10]}),
        "l1": _cell("LUT2", {"I0": [10], "I1": [10]}, {"O": [11]}),
        "l2": _cell("LUT1", {"I0": [11]}, {"O": [12]}),
        "f2": _cell("FDRE", {"C": [2], "D": [12]}, {"Q": [13]}),
        "g1": _cell("FDRE", {"C": [3], "D": [13]}, {"Q": [14]}),
        "g2": _cell("LUT1", {"I0": [14]}, {"O": [30]}),
        "ram": _cell("RAM32M", {"WCLK": [2], "ADDRA": [13]}, {"DOA": [15]}),
        "kid": _cell("Child", {"a": [15]}, {"y": [20]}),
    }
    netlist = {"modules": {"m": {"ports": ports, "cells": cells}}}
    summary = module_summary(netlist, "m", {"Child": 1},
                             {"clk": ("sync",), "link_clk": ("link_next",)})
    assert summary["totals"] == {"lut": 3 + 4, "ff": 3, "dsp": 0, "bram": 0, "uram": 0}
    assert summary["other"] == {}
    assert summary["lutram_luts"] == 4 and summary["lutrams"] == 1
    assert {d: e["levels"] for d, e in summary["levels_by_domain"].items()} == \
        {"link_next": 1, "sync": 2}
    assert summary["levels_by_domain"]["sync"]["path"] == ["LUT2 l1", "LUT1 l2"]
    assert summary["logic_levels"] == 2


def test_sum_modules_multiplies_by_instances_and_leaves_out_missing_modules():
    def row(lut, ff, dsp, bram, uram, levels):
        return {"totals": {"lut": lut, "ff": ff, "dsp": dsp, "bram": bram, "uram": uram},
                "levels_by_domain": {"sync": {"levels": levels, "path": [f"L{levels}"]}}}

    instances = {"top": 1, "top.mid": 2, "Leaf_a": 7, "Leaf_b": 2}
    summaries = {"top": row(10, 1, 0, 0.5, 0, 3), "top.mid": row(5, 2, 1, 0, 1, 6),
                 "Leaf_a": row(2, 4, 0, 1.5, 0, 4), "Leaf_b": row(1, 1, 2, 0, 0, 1)}
    totals, worst = sum_modules(summaries, instances)
    # lut 10 + 2*5 + 7*2 + 2*1; ff 1 + 4 + 28 + 2; dsp 2 + 4; bram 0.5 + 10.5; uram 2
    assert totals == {"lut": 36, "ff": 35, "dsp": 6, "bram": 11.0, "uram": 2}
    assert worst == {"sync": {"levels": 6, "module": "top.mid", "path": ["L6"]}}
    del summaries["Leaf_a"]
    totals, _ = sum_modules(summaries, instances)
    assert totals == {"lut": 22, "ff": 7, "dsp": 6, "bram": 0.5, "uram": 2}


def test_memory_mapping_reads_memory_libmap_lines():
    log = ("mapping memory top.vpu.vrf.mem via $__XILINX_BLOCKRAM_TDP_\n"
           "using FF mapping for memory top.vpu.srf.mem\n"
           "mapping memory top.x.fifo via $__XILINX_LUTRAM_SDP_\n")
    assert memory_mapping(log) == {"top.vpu.vrf.mem": "$__XILINX_BLOCKRAM_TDP_",
                                   "top.vpu.srf.mem": "FF",
                                   "top.x.fifo": "$__XILINX_LUTRAM_SDP_"}


class _MulReg(LeafComponent):
    """Leaf: ``p`` = ``a * b`` (16 x 16 bits), registered (one DSP48E2)."""

    def __init__(self, width):
        self._width = width
        super().__init__({"a": In(width), "b": In(width), "p": Out(2 * width)})

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.p.eq(self.a * self.b)
        return m


class _Pair(wiring.Component):
    """Non-leaf: two leaves side by side."""

    a: In(16)
    b: In(16)
    p: Out(32)

    def elaborate(self, platform):
        m = Module()
        m.submodules.x = x = _MulReg(16)
        m.submodules.y = y = _MulReg(16)
        m.d.comb += [x.a.eq(self.a), x.b.eq(self.b), y.a.eq(self.b), y.b.eq(self.a)]
        m.d.sync += self.p.eq(x.p ^ y.p)
        return m


class _Tiny(wiring.Component):
    """Two identical `_Pair`s (merged into one module) and one more leaf: 5 multipliers."""

    a: In(16)
    b: In(16)
    p: Out(32)

    def elaborate(self, platform):
        m = Module()
        m.submodules.p0 = p0 = _Pair()
        m.submodules.p1 = p1 = _Pair()
        m.submodules.z = z = _MulReg(16)
        m.d.comb += [p0.a.eq(self.a), p0.b.eq(self.b), p1.a.eq(self.b), p1.b.eq(self.a),
                     z.a.eq(p0.p[:16]), z.b.eq(p1.p[16:])]
        m.d.sync += self.p.eq(z.p)
        return m


class _TinyTarget:
    name, factory, params = "tiny", "tests.test_synth_core:_Tiny", {}

    def build(self):
        return _Tiny()


@pytest.mark.slow
def test_core_resources_of_a_tiny_hierarchy_real_yosys_and_cache(tmp_path):
    """Real per-module Yosys on a 3-module design: instance counts, 5 DSP48E2 (one per
    multiplier, counted by hand), totals = sum of the module rows times their instances; the
    rerun takes every module from the cache; a timed-out module is reported missing and left out
    of the totals, never extrapolated."""
    lines = []
    record = core_resources(_TinyTarget(), tmp_path, log=lines.append)
    assert record["complete"] and not record["missing"] and not record["pending"]
    rows = record["modules"]
    assert {name: row["instances"] for name, row in rows.items()} == \
        {"_MulReg_width16": 5, "top.p0": 2, "top": 1}
    assert rows["_MulReg_width16"]["dsp48e2"] == 1
    assert record["totals"]["dsp"] == 5
    for key in ("lut", "ff", "dsp", "bram", "uram"):
        assert record["totals"][key] == sum(row["totals"][key] * row["instances"]
                                            for row in rows.values())
    # p0/p1 register 32 bits each, the top 32 more: at least 96 FFs outside the leaves.
    assert rows["top.p0"]["ffs"] >= 32 and rows["top"]["ffs"] >= 32
    assert record["levels_by_domain"]["sync"]["levels"] >= 1
    assert record["per_module_estimate"] and "not Vivado" in record["note"]
    assert json.loads((tmp_path / "core.json").read_text())["totals"] == record["totals"]
    assert "| DSP48E2 | 5 |" in format_core_tables(record)
    assert not any(row["cached"] for row in rows.values())

    again = core_resources(_TinyTarget(), tmp_path, log=lines.append)
    assert all(row["cached"] for row in again["modules"].values())
    assert again["totals"] == record["totals"]

    # A module whose cache entry is gone and whose Yosys run times out: reported, left out.
    folder = Path(rows["top"]["cache"])
    assert folder.parent == tmp_path / "modules" and folder.name.startswith("top-")
    (folder / "done.json").unlink()
    partial = core_resources(_TinyTarget(), tmp_path, timeout=0.01, log=lines.append)
    assert not partial["complete"] and list(partial["missing"]) == ["top"]
    assert "did not finish" in partial["missing"]["top"]["reason"]
    assert "INCOMPLETE" in partial["note"]
    assert partial["totals"]["dsp"] == 5 and partial["totals"]["ff"] == \
        record["totals"]["ff"] - rows["top"]["totals"]["ff"]


def test_stub_of_escaped_port_names_keeps_the_space_before_the_semicolon():
    """`\\a$1;` would be one identifier `a$1;` to a Verilog parser; the stub writes `\\a$1 ;`."""
    text = "module m(clk, \\port$5$0 );\n  input clk;\n  input [3:0] \\port$5$0 ;\nendmodule\n"
    stub = blackbox_stub(split_modules(text)["m"])
    assert "  input [3:0] \\port$5$0 ;\n" in stub and "  input clk;\n" in stub
    assert stub.startswith("(* blackbox *)\nmodule m(clk, \\port$5$0 );\n")


def test_a_yosys_failure_is_retried_with_splitnets_and_recorded(tmp_path, monkeypatch):
    """Yosys issue 4349 (an assert after ABC9) on a module: synthesize_module runs it again with
    `splitnets` before LUT mapping, keeps the failed log and records the flow; a timeout is not
    retried. Yosys itself is replaced by a stand-in here."""
    from dfx_hw.synth import per_module
    from dfx_hw.synth.yosys import SynthesisError, SynthesisTimeout

    calls = []

    def fake_synthesize(verilog, *, top, workdir, splitnets=False, timeout=None, **_):
        calls.append(splitnets)
        (workdir / "yosys.log").write_text("attempt\n")
        if not splitnets:
            raise SynthesisError("yosys failed (exit 1)")
        (workdir / "netlist.json").write_text(json.dumps({"modules": {top: {"cells": {}}}}))

    monkeypatch.setattr(per_module, "synthesize", fake_synthesize)
    modules = split_modules(HIERARCHY)
    result = per_module.synthesize_module(modules, "top.mid", tmp_path)
    assert calls == [False, True] and not result.cached
    assert result.flow == per_module.FALLBACK_FLOW
    assert (result.folder / "yosys-failed.log").exists()
    again = per_module.synthesize_module(modules, "top.mid", tmp_path)
    assert again.cached and again.flow == per_module.FALLBACK_FLOW and calls == [False, True]

    def timing_out(verilog, *, timeout=None, **_):
        calls.append("timeout")
        raise SynthesisTimeout("yosys did not finish")

    monkeypatch.setattr(per_module, "synthesize", timing_out)
    with pytest.raises(SynthesisTimeout):
        per_module.synthesize_module(modules, "Leaf_a", tmp_path, timeout=1)
    assert calls[-1] == "timeout" and calls.count("timeout") == 1
