"""Control unit RTL (cocotb, sim.harness): hazards and stalls checked clock by clock against the
Python model of the scoreboard rules (dfx_hw.control.rules), every error code read back over
AXI4-Lite, the register map."""

from dfx_hw.control.unit import make_control_unit
from sim.harness import run_cocotb

BENCH = "sim.benches.control_unit"
#: Small buffer and queues; the U280 register-file sizes and tile geometry (the compiled
#: programs' addresses need them).
SMALL = {"ibuf_depth": 256, "inflight": 4, "d": 64, "l": 16}


def test_control_register_map_over_axi_lite():
    run_cocotb(make_control_unit, SMALL, test_module=BENCH, testcase="regs")


def test_control_every_error_code_read_back_with_pc():
    run_cocotb(make_control_unit, SMALL, test_module=BENCH, testcase="errors")
