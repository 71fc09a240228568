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


#: The U280 build: 32 channels x 512 bits, 64 x 16 tiles (one tile = one beat of every channel),
#: 16 register lanes, 512-bit DDR; Verilator (Icarus is too slow at this size).
U280_DMA = {"d": 64, "l": 16, "lanes": 16, "hbm_channels": 32}
MODEL_U280 = {"n_embd": 128, "n_head": 2, "n_layer": 2, "vocab": 50, "ctx": 8,
              "prompt": [3, 17], "n_new": 2}


@pytest.mark.slow
def test_dma_full_size_matches_isa_simulator_with_axi_stalls():
    """n = 32, d x l = 64 x 16: the same check as the small bench, AxiRam on all 33 ports."""
    run_cocotb(DMA, U280_DMA, test_module="sim.benches.dma_programs", testcase="program",
               bench={"model": MODEL_U280, "seed": 4, "pause": 0.2, "idle": 0.1,
                      "backpressure": 0.2, "hbm_base": 2048, "ddr_base": 64},
               simulator="verilator")


@pytest.mark.slow
def test_dma_weight_stream_throughput_n32():
    """Fixed 200-clock read latency, no back-pressure, two long CONV1D weight streams back to
    back (1,654 tiles): at least 0.97 tiles per clock from first tile to last, every tile's
    data checked (figures in build/bench/dma_throughput.json)."""
    run_cocotb(DMA, U280_DMA, test_module="sim.benches.dma_throughput",
               bench={"latency": 200, "json": "dma_throughput.json", "min_rate": 0.97,
                      "ops": [{"hbm": 5, "k": 1024, "n": 1024},
                              {"hbm": 2000, "k": 640, "n": 1000}]},
               simulator="verilator")
