"""The matrix unit on Icarus, bit-exact against the bit-true model (``reduce.mfu_matvec``,
``recipes.attention_scores``, ``functions.gelu``, ``reduce.argmax``), plus its throughput."""

import pytest

from dfx_hw.spec import walk
from dfx_hw.mpu.accumulator import gap_for
from dfx_hw.mpu.matrix_unit import MatrixUnit, pipeline_latency
from sim.harness import run_cocotb

#: Small geometry, short latencies; band 3 < accumulator gap 4, so the interlock is exercised.
SMALL = {"d": 4, "l": 4, "band": 3, "max_rows": 64, "mul_latency": 2, "add_latency": 2,
         "max_latency": 1}
#: The FP16 units' default latencies (gap 8) and a serpentine walk with band 4 (stalls at turns).
SERPENTINE = {"d": 8, "l": 4, "band": 4, "max_rows": 64, "serpentine": True}

MIXED_OPS = [
    {"kind": "conv1d", "rows": 10, "cols": 13, "bias": True},
    {"kind": "conv1d", "rows": 7, "cols": 9, "bias": True, "gelu": True},
    {"kind": "maskedmm", "rows": 4, "cols": 11, "scale": 0.125, "token": 6, "reduce_max": True},
    {"kind": "maskedmm", "rows": 8, "cols": 5, "scale": 0.125, "token": 0, "reduce_max": True},
    {"kind": "maskedmm", "rows": 3, "cols": 16, "scale": 0.125, "token": 15},
    {"kind": "mm", "rows": 17, "cols": 6, "reduce_max": True},
    {"kind": "mm", "rows": 12, "cols": 20, "band": 2},
    {"kind": "conv1d", "rows": 3, "cols": 2, "bias": True},
]


@pytest.mark.parametrize("idle, backpressure, seed", [(0.0, 0.0, 7), (0.3, 0.4, 7), (0.3, 0.4, 8),
                                                     (0.2, 0.6, 9)])
def test_matrix_unit_small_matches_bittrue_model(idle, backpressure, seed):
    """Conv1D (with/without GELU), MaskedMM at several tokens, MM; ragged shapes; with and
    without idle source clocks and output back-pressure (seeds 8 and 9 caught a word offered twice
    while a pending maximum held reduce-max); every output word and maximum compared bit for bit
    with the bit-true model."""
    run_cocotb(MatrixUnit, SMALL, test_module="sim.benches.mpu_matrix",
               bench={"ops": MIXED_OPS, "seed": seed, "idle": idle,
                      "backpressure": backpressure})


def test_matrix_unit_serpentine_default_latencies_matches_bittrue_model():
    """A serpentine walk at the default FP16 latencies, bit-exact with the model,
    including maxima over column tiles that finish out of order (and ties)."""
    ops = [
        {"kind": "conv1d", "rows": 30, "cols": 27, "bias": True, "gelu": True},
        {"kind": "mm", "rows": 21, "cols": 16, "reduce_max": True},
        {"kind": "maskedmm", "rows": 8, "cols": 9, "scale": 0.125, "token": 4,
         "reduce_max": True},
        # 4 row tiles: the last row runs right to left, so column tiles finish out of order;
        # an input of signed zeros makes every output +-0 (ties: the first +0 must win).
        {"kind": "mm", "rows": 30, "cols": 27, "reduce_max": True, "x_scale": 0.0},
        {"kind": "mm", "rows": 30, "cols": 27, "reduce_max": True},
    ]
    run_cocotb(MatrixUnit, SERPENTINE, test_module="sim.benches.mpu_matrix",
               bench={"ops": ops, "seed": 3, "idle": 0.2, "backpressure": 0.2})


def test_matrix_unit_throughput_one_tile_per_clock():
    """With a band of at least the accumulator gap and streams that never stall, N tiles (here
    4 row tiles x 16 column tiles) go in on N consecutive clocks and the last output word leaves
    at most N + latency clocks after the first tile (and the outputs are still bit-exact)."""
    params = {"d": 4, "l": 4, "band": 4, "max_rows": 64, "mul_latency": 2, "add_latency": 2,
              "max_latency": 1}
    assert gap_for(add_latency=params["add_latency"]) <= params["band"]
    latency = pipeline_latency(d=4, mul_latency=2, add_latency=2, max_latency=1)
    ops = [{"kind": "conv1d", "rows": 16, "cols": 64, "bias": True},
           {"kind": "conv1d", "rows": 13, "cols": 61, "bias": True, "gelu": True}]
    run_cocotb(MatrixUnit, params, test_module="sim.benches.mpu_matrix",
               bench={"ops": ops, "seed": 11, "throughput": True, "latency": latency})


@pytest.mark.parametrize("serpentine, band", [(False, 2), (True, 4)])
def test_matrix_unit_interlock_stalls_match_the_stall_model(serpentine, band):
    """Bands narrower than the accumulator gap (raster) and the serpentine turn stall the walk:
    first tile to last word takes exactly :func:`dfx_hw.spec.walk.issue_clocks` + the pipeline
    latency (no GELU: SFU_M's short path), and the results stay bit-exact with the model."""
    params = {"d": 4, "l": 4, "band": band, "max_rows": 64, "mul_latency": 1, "add_latency": 3,
              "max_latency": 0, "serpentine": serpentine}
    rows, cols = 18, 30
    clocks = walk.issue_clocks(rows, cols, d=4, l=4, band=band, serpentine=serpentine,
                               gap=gap_for(add_latency=3))
    run_cocotb(MatrixUnit, params, test_module="sim.benches.mpu_matrix",
               bench={"ops": [{"kind": "conv1d", "rows": rows, "cols": cols, "bias": True}],
                      "seed": 5, "issue_clocks": clocks,
                      "latency": pipeline_latency(d=4, mul_latency=1, add_latency=3,
                                                  max_latency=0, gelu=False)})


#: The U280 geometry (d = 64, l = 16). The harness writes hierarchical Verilog (one module per
#: distinct leaf: MFU lane, adder tree, FP16 units; :mod:`dfx_hw.hdl.leaf`), which keeps
#: elaboration and the Icarus compile short; short FP16 latencies keep the run to a few dozen
#: clocks (Icarus simulates this design at a few clocks per second).
FULL = {"d": 64, "l": 16, "band": 8, "max_rows": 256, "mul_latency": 2, "add_latency": 2,
        "max_latency": 1}


def test_matrix_unit_full_size_matches_bittrue_model():
    """d = 64, l = 16: a ragged Conv1D with bias and GELU (2 x 2 tiles) and a MaskedMM with
    scale, mask and row maximum, bit-exact with the bit-true model."""
    ops = [
        {"kind": "conv1d", "rows": 100, "cols": 20, "bias": True, "gelu": True},
        {"kind": "maskedmm", "rows": 64, "cols": 19, "scale": 0.125, "token": 10,
         "reduce_max": True},
    ]
    run_cocotb(MatrixUnit, FULL, test_module="sim.benches.mpu_matrix",
               bench={"ops": ops, "seed": 2, "max_clocks": 400})
