"""GELU lane of SFU_M on Icarus, bit-exact against the bit-true model over all FP16 inputs."""

from dfx_hw.mpu.gelu_rom import GeluUnit
from sim.harness import run_cocotb


def test_gelu_unit_matches_bittrue_gelu_on_every_input():
    run_cocotb(GeluUnit, {"mul_latency": 2, "add_latency": 3},
               test_module="sim.benches.mpu_gelu", bench={"seed": 1, "stall": 0.1})
