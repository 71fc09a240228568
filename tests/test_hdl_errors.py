# amaranth: UnusedElaboratable=no
"""Errors and names of the HDL utilities (:mod:`dfx_hw.hdl`).

Components here are built only to read their leaf names or to provoke errors, never elaborated;
the comment on the first line is Amaranth's documented way to turn off its
``UnusedElaboratable`` warning for objects created in this file.
"""

import re

import pytest
from amaranth.hdl import ClockDomain, Module, Signal
from amaranth.lib.wiring import Component, In, Out

from dfx_hw.arith import FP16Adder
from dfx_hw.hdl.delay import delay
from dfx_hw.hdl.leaf import LeafComponent, convert_hierarchical, leaf_key, leaf_name
from dfx_hw.vpu.layouts import Unary
from dfx_hw.vpu.unary_rom import UnaryUnit


@pytest.mark.parametrize("clocks", [-1, 1.5, True])
def test_delay_bad_clocks_is_a_clear_error(clocks):
    with pytest.raises(ValueError, match=f"clocks must be a non-negative integer, not {clocks!r}"):
        delay(Module(), Signal(4), clocks)


def test_leaf_names_hash_arguments_without_a_short_form():
    unit = UnaryUnit(functions=(Unary.EXP,))
    assert re.fullmatch(r"UnaryUnit_[0-9a-f]{10}", leaf_name(unit))
    assert leaf_name(unit) == leaf_name(UnaryUnit(functions=(Unary.EXP,)))
    assert leaf_name(unit) != leaf_name(UnaryUnit(functions=(Unary.EXP, Unary.RECIP)))
    assert leaf_name(FP16Adder()) == leaf_name(FP16Adder(latency=5)) == "FP16Adder_latency5"


def test_leaf_errors_are_clear():
    class Opaque:
        pass

    class Holder(LeafComponent):
        x: In(1)

        def __init__(self, *, thing):
            super().__init__()

        def elaborate(self, platform):
            return Module()

    with pytest.raises(ValueError, match="Holder: a constructor argument has no value repr"):
        leaf_key(Holder(thing=Opaque()))

    class FastLeaf(LeafComponent):
        x: In(8)
        y: Out(8)

        def elaborate(self, platform):
            m = Module()
            reg = Signal(8)
            m.d.fast += reg.eq(self.x)
            m.d.comb += self.y.eq(reg)
            return m

    class Other(Component):
        x: In(8)
        y: Out(8)

        def elaborate(self, platform):
            m = Module()
            m.domains.fast = ClockDomain()
            m.submodules.leaf = leaf = FastLeaf()
            m.d.comb += [leaf.x.eq(self.x), self.y.eq(leaf.y)]
            return m

    with pytest.raises(ValueError, match=r"leaf module 'FastLeaf' has ports "
                                         r"other than its signature and clk/rst: \['fast_clk', "
                                         r"'fast_rst'\]"):
        convert_hierarchical(Other(), "top")
