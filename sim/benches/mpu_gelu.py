"""cocotb bench: one GELU lane (:class:`dfx_hw.mpu.gelu_rom.GeluUnit`) against the bit-true
:func:`dfx_hw.model.bittrue.functions.gelu` over every FP16 input, with enable stalls."""

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from dfx_hw.model.bittrue import fp16, functions
from dfx_hw.mpu.gelu_rom import gelu_latency
from sim.harness import bench_params


@cocotb.test()
async def gelu_all_inputs(dut):
    """Every FP16 bit pattern through the ROM path, and a sample through the bypass, bit-exact."""
    params = bench_params()
    latency = gelu_latency(mul_latency=params["component"]["mul_latency"],
                           add_latency=params["component"]["add_latency"])
    rng = np.random.default_rng(params["bench"].get("seed", 0))
    inputs = np.arange(1 << 16, dtype=np.uint16)
    bypass = np.zeros(inputs.size, dtype=bool)
    bypass[rng.integers(0, inputs.size, 512)] = True
    expected = fp16.to_bits(functions.gelu(fp16.from_bits(inputs)))
    expected = np.where(bypass, inputs, expected)
    issued = 0
    stall = rng.random(inputs.size + 4 * latency) < params["bench"].get("stall", 0.0)

    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.en.value = 1
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    got = []            # (input index, result bits)
    history = []        # the input index accepted on each enabled clock
    last_enabled = False
    step = 0
    while len(got) < inputs.size:
        await FallingEdge(dut.clk)
        # Outputs now show the state after the last rising edge.
        if last_enabled and len(history) >= latency and history[-latency] is not None:
            got.append((history[-latency], int(dut.result.value)))
        en = not stall[step % stall.size]
        step += 1
        current = issued if issued < inputs.size else None
        if current is not None:
            dut.x.value = int(inputs[current])
            dut.bypass.value = int(bypass[current])
        dut.en.value = int(en)
        if en:
            history.append(current)
            if current is not None:
                issued += 1
        last_enabled = en
    got_bits = np.array([value for _, value in got], dtype=np.uint16)
    order = np.array([index for index, _ in got])
    bad = np.nonzero(got_bits != expected[order])[0]
    assert bad.size == 0, (
        f"{bad.size} mismatches, first: x=0x{int(inputs[order[bad[0]]]):04x} "
        f"bypass={bool(bypass[order[bad[0]]])} got 0x{int(got_bits[bad[0]]):04x} "
        f"expected 0x{int(expected[order[bad[0]]]):04x}")
