"""Which leaf modules the whole-core Verilator build compiles once as hierarchical blocks
(:func:`dfx_hw.rtlsim.build.hier_blocks`): the outermost repeated leaves of the hierarchical
Verilog, never a leaf nested in another leaf, never a non-leaf module."""

from dfx_hw.rtlsim.build import hier_blocks


def _module(name, instances=(), lines=1200):
    body = "".join(f"  {child} {child.lower()}_{i} (\n  );\n" for i, child in enumerate(instances))
    return f"module {name}(clk);\n{body}" + "  wire w;\n" * lines + "endmodule\n"


def test_outermost_repeated_leaves_become_blocks():
    verilog = "".join([
        _module("FP16Adder_latency6"),
        _module("FP16Max_latency1", lines=40),                       # too small to pay off
        _module("Lane_d4", ["FP16Adder_latency6"] * 3),              # holds the adders
        _module("Once_d4"),                                          # a single instance
        _module("\\top.vpu", ["FP16Adder_latency6", "FP16Max_latency1", "FP16Max_latency1"]),
        _module("top", ["Lane_d4", "Lane_d4", "\\top.vpu", "Once_d4"]),
    ])
    # The adder is also inside a lane, so it stays inlined there; the lane is the block.
    assert hier_blocks(verilog) == ["Lane_d4"]


def test_a_design_without_leaves_has_no_blocks():
    verilog = _module("\\top.a") + _module("top", ["\\top.a", "\\top.a"])
    assert hier_blocks(verilog) == []
