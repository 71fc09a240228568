"""FP16 units: register placement, and latency-0 runs on the Amaranth simulator
compared bit for bit with numpy.float16 (the Verilog is checked in test_arith_fp16_cocotb.py)."""

import numpy as np
import pytest
from amaranth.hdl import Fragment, Module, Signal
from amaranth.sim import Simulator

from dfx_hw.arith import (FP16Adder, FP16Max, FP16Multiplier, FP16Square, fp16_abs,
                          fp16_negate)
from dfx_hw.arith.pipeline import register_counts
from dfx_hw.arith.reference import as_bits, fp16_add, fp16_max, fp16_mul
from dfx_hw.arith.vectors import CORNER_VALUES, corner_pairs, random_pairs

UNITS = [FP16Adder, FP16Multiplier, FP16Square, FP16Max]


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.__name__)
def test_latency_attribute(unit):
    for latency, dut in ((unit.DEFAULT_LATENCY, unit()), (7, unit(latency=7))):
        assert dut.latency == latency
        Fragment.get(dut, None)          # elaborates (and so is not reported as unused)


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.__name__)
def test_default_latency_registers_the_output(unit):
    """Registered outputs between units: at its default latency every unit's ``output`` cut
    holds a register (the adder's default 5 leaves only ``normalize`` unregistered)."""
    counts = register_counts(unit.CUTS, output="output", latency=unit.DEFAULT_LATENCY)
    assert counts["output"] >= 1


def test_register_counts_fill_priority_then_output():
    priority = ("b", "a", "out")
    assert register_counts(priority, output="out", latency=0) == {"b": 0, "a": 0, "out": 0}
    assert register_counts(priority, output="out", latency=2) == {"b": 1, "a": 1, "out": 0}
    assert register_counts(priority, output="out", latency=5) == {"b": 1, "a": 1, "out": 3}
    with pytest.raises(ValueError, match="output cut 'x' is not one of the cut points"):
        register_counts(priority, output="x", latency=1)


def _simulate(dut, a, b, subtract=None, outputs=("result",)):
    got = {name: [] for name in outputs}

    async def bench(ctx):
        for i in range(len(a)):
            ctx.set(dut.a, int(a[i]))
            if b is not None:
                ctx.set(dut.b, int(b[i]))
            if subtract is not None:
                ctx.set(dut.subtract, int(subtract[i]))
            for name in outputs:
                got[name].append(ctx.get(getattr(dut, name)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return {name: np.array(values) for name, values in got.items()}


def _pairs():
    ca, cb = corner_pairs()
    ra, rb = random_pairs(1500, seed=3)
    return np.concatenate([ca, ra]), np.concatenate([cb, rb])


def test_adder_latency0_amaranth_sim_matches_numpy_bits():
    a, b = _pairs()
    subtract = np.arange(len(a)) % 3 == 0
    got = _simulate(FP16Adder(latency=0), a, b, subtract)["result"]
    assert np.array_equal(got, fp16_add(a, b, subtract))


def test_multiplier_latency0_amaranth_sim_matches_numpy_bits():
    a, b = _pairs()
    got = _simulate(FP16Multiplier(latency=0), a, b)["result"]
    assert np.array_equal(got, fp16_mul(a, b))


def test_max_latency0_amaranth_sim_matches_rule():
    a, b = _pairs()
    got = _simulate(FP16Max(latency=0), a, b, outputs=("result", "b_greater"))
    want, want_flag = fp16_max(a, b)
    assert np.array_equal(got["result"], want)
    assert np.array_equal(got["b_greater"], want_flag)


def test_max_rule_examples():
    pz, nz, nan = 0x0000, 0x8000, 0x7E00
    result, flag = fp16_max(np.array([nz, pz, pz, 0x3C00, nan, 0x3C00]),
                            np.array([pz, nz, pz, 0x7C01, 0x3C00, 0x4000]))
    assert result.tolist() == [pz, pz, pz, nan, nan, 0x4000]
    assert flag.tolist() == [True, False, False, True, False, True]


def test_square_latency0_amaranth_sim_matches_numpy_bits():
    got = _simulate(FP16Square(latency=0), CORNER_VALUES, None)["result"]
    assert np.array_equal(got, fp16_mul(CORNER_VALUES, CORNER_VALUES))


def test_negate_and_abs_flip_and_clear_the_sign_bit():
    m = Module()
    x = Signal(16)
    neg, mag = Signal(16), Signal(16)
    m.d.comb += [neg.eq(fp16_negate(x)), mag.eq(fp16_abs(x))]
    got = _simulate_comb(m, x, (neg, mag), CORNER_VALUES)
    values = CORNER_VALUES.view(np.float16)
    assert np.array_equal(got[0], as_bits(-values))
    assert np.array_equal(got[1], as_bits(np.abs(values)))


def _simulate_comb(m, x, outputs, values):
    got = [[] for _ in outputs]

    async def bench(ctx):
        for value in values:
            ctx.set(x, int(value))
            for store, out in zip(got, outputs):
                store.append(ctx.get(out))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    return [np.array(g) for g in got]
