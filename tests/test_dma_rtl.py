"""The DMA RTL (:class:`dfx_hw.dma.DMA`) under cocotb with cocotbext-axi RAMs on every port,
compared with the ISA simulator on a compiled GPT-2 (``sim/benches/dma_programs.py``), and every
error it reports provoked (``sim/benches/dma_errors.py``)."""

import pytest

from dfx_hw.dma import DMA
from sim.harness import run_cocotb

#: n = 4 channels, d x l = 16 x 8 (one tile = one row of 4 x 512-bit beats), 4 register lanes,
#: a 128-bit DDR port.
SMALL = {"d": 16, "l": 8, "lanes": 4, "hbm_channels": 4, "hbm_data_bits": 512,
         "ddr_data_bits": 128, "hbm_depth": 64, "ddr_depth": 32, "read_bursts": 8}
MODEL_SMALL = {"n_embd": 32, "n_head": 2, "n_layer": 2, "vocab": 50, "ctx": 12,
               "prompt": [3, 17, 5], "n_new": 2}


def test_dma_matches_isa_simulator_on_a_compiled_program_with_axi_stalls():
    """n = 4: tiles, bias, loads and final memories equal the ISA simulator's, with random
    pauses on AR, R, AW, W, B and random back-pressure / idle on the streams."""
    run_cocotb(DMA, SMALL, test_module="sim.benches.dma_programs", testcase="program",
               bench={"model": MODEL_SMALL, "seed": 3, "pause": 0.3, "idle": 0.2,
                      "backpressure": 0.3, "hbm_base": 2 * 256, "ddr_base": 48})


def test_dma_errors_are_reported_and_nothing_is_written():
    run_cocotb(DMA, SMALL, test_module="sim.benches.dma_errors",
               bench={"seed": 5, "hbm_base": 256, "ddr_base": 48})
