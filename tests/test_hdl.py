"""HDL utilities (:mod:`dfx_hw.hdl`): delay lines on the Amaranth simulator; hierarchical Verilog
(one module per distinct leaf) against Amaranth's flat Verilog under random stimulus; errors."""

import re

import pytest
from amaranth.back import verilog
from amaranth.hdl import Cat, Fragment, Instance, Module, Signal
from amaranth.lib.wiring import Component, In, Out
from amaranth.sim import Simulator

from dfx_hw.hdl.delay import delay
from dfx_hw.hdl.leaf import LeafComponent, convert_hierarchical
from dfx_hw.mpu.mfu import MFU
from sim.equivalence import compare_designs


@pytest.mark.parametrize("gated", [False, True])
def test_delay_line_moves_only_while_enabled(gated):
    """A 3-register line: the value comes out 3 clocks (3 enabled clocks when gated) later; with
    ``en`` low the line holds. Checked clock by clock against a Python list model."""
    m = Module()
    value, en = Signal(8), Signal(init=1)
    out = delay(m, value, 3, en=en if gated else None, name="t")
    assert delay(m, value, 0) is value
    enables = [1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1]

    async def bench(ctx):
        line = [0, 0, 0]
        for clock, enable in enumerate(enables):
            ctx.set(value, clock + 1)
            ctx.set(en, enable)
            assert ctx.get(out) == line[-1]
            await ctx.tick()
            if enable or not gated:
                line = [clock + 1] + line[:-1]
        assert ctx.get(out) == line[-1]

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


class _Doubler(LeafComponent):
    """A small leaf: ``y`` = ``2 * x`` registered ``stages`` times."""

    x: In(8)
    y: Out(8)

    def __init__(self, *, stages=1):
        self._stages = stages
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.y.eq(delay(m, self.x << 1, self._stages))
        return m


class _Pair(Component):
    """Two identical leaves and a different one: two leaf modules."""

    a: In(8)
    b: In(8)
    y: Out(24)

    def elaborate(self, platform):
        m = Module()
        leaves = {"first": _Doubler(), "second": _Doubler(stages=1), "third": _Doubler(stages=0)}
        for (name, leaf), x in zip(leaves.items(), (self.a, self.b, self.a + self.b)):
            m.submodules[name] = leaf
            m.d.comb += leaf.x.eq(x)
        m.d.comb += self.y.eq(Cat(*(leaf.y for leaf in leaves.values())))
        return m


def _modules(text):
    return re.findall(r"^module (\\\S+|\w+)\s*\(", text, re.M)


def test_each_distinct_leaf_is_one_module():
    text = convert_hierarchical(_Pair(), "top")
    assert sorted(_modules(text)) == ["_Doubler_stages0", "_Doubler_stages1", "top"]
    top = re.search(r"^module top\(.*?^endmodule", text, re.M | re.S).group(0)
    assert len(re.findall(r"^\s*_Doubler_stages1 \w+ \(", top, re.M)) == 2
    # The combinational leaf has no clock or reset port.
    header = re.search(r"^module _Doubler_stages0\((.*)\);", text, re.M).group(1)
    assert sorted(header.split(", ")) == ["x", "y"]


def test_leaf_elaborates_inline_outside_hierarchical_conversion():
    fragment = Fragment.get(_Doubler(), None)
    assert not isinstance(fragment, Instance)
    text = verilog.convert(_Pair(), name="top")       # plain Amaranth: one module per instance
    assert len(_modules(text)) == 4


def test_hierarchical_verilog_behaves_like_the_flat_verilog(tmp_path):
    """A small MFU (leaves: lanes, adder trees, multipliers, adders) converted flat by Amaranth
    and hierarchically: random stimulus gives identical outputs on every clock (Icarus)."""
    design = dict(d=4, l=2, band=2, mul_latency=1, add_latency=1)
    flat = verilog.convert(MFU(**design), name="top")
    hierarchical = convert_hierarchical(MFU(**design), "top_d")
    assert len(_modules(hierarchical)) == 5 < len(_modules(flat))
    mismatches, defined = compare_designs(flat, hierarchical, workdir=tmp_path, cycles=1000)
    assert mismatches == 0
    assert defined > 0.98 * 3 * 1000       # the outputs are known once the pipeline has filled
