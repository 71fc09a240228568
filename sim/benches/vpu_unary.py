"""cocotb bench of one SFU_V table-function lane (:class:`dfx_hw.vpu.unary_rom.UnaryUnit`): streams
every FP16 bit pattern through each function, one per clock, and compares the bits with the
bit-true functions (:mod:`dfx_hw.model.bittrue.functions`, ``vector_ops.spow2inv``).

Bench parameters: ``functions`` (``[name, step]`` pairs: a :class:`~dfx_hw.vpu.layouts.Unary`
member name and the stride through the 65,536 bit patterns, 1 = every input), ``latency`` (the
unit's latency, to align outputs).
"""

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from dfx_hw.model.bittrue import functions, vector_ops
from dfx_hw.model.bittrue.fp16 import from_bits
from dfx_hw.vpu.layouts import Unary
from sim.harness import bench_params

REFERENCE = {
    "EXP": functions.exp, "RECIP": functions.recip, "RSQRT": functions.rsqrt,
    "POW2INV": vector_ops.spow2inv, "NONE": lambda x: x,
}


@cocotb.test()
async def every_input(dut):
    """Every ``step``-th input (all 65,536 for step 1) per function, bit for bit against the
    bit-true recipe."""
    bench = bench_params()["bench"]
    latency = bench["latency"]
    cocotb.start_soon(Clock(dut.clk, 5, unit="ns").start())
    dut.rst.value = 0
    failures = []
    for name, step in bench["functions"]:
        inputs = np.arange(0, 1 << 16, step, dtype=np.uint32).astype(np.uint16)
        expected = REFERENCE[name](from_bits(inputs)).view(np.uint16)
        got = np.zeros(len(inputs), np.uint16)
        dut.fn.value = Unary[name].value
        for clock in range(len(inputs) + latency):
            await FallingEdge(dut.clk)
            if clock >= latency:
                got[clock - latency] = int(dut.result.value)
            if clock < len(inputs):
                dut.x.value = int(inputs[clock])
        bad = np.nonzero(got != expected)[0]
        if len(bad):
            i = bad[0]
            failures.append(f"{name}: {len(bad)} of {len(inputs)} inputs differ, first "
                            f"x={inputs[i]:#06x}: hw {got[i]:#06x} model {expected[i]:#06x}")
    assert not failures, "\n".join(failures)
