"""HDL utilities (:mod:`dfx_hw.hdl`): delay lines on the Amaranth simulator, and their errors."""

import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from dfx_hw.hdl.delay import delay


@pytest.mark.parametrize("clocks", [-1, 1.5, True])
def test_delay_bad_clocks_is_a_clear_error(clocks):
    with pytest.raises(ValueError, match=f"clocks must be a non-negative integer, not {clocks!r}"):
        delay(Module(), Signal(4), clocks)


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
