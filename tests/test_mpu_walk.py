"""The MPU's tile walk and descriptor builder: agreement with the compiler's HBM tiling, and the
error messages for bad input."""

import numpy as np
import pytest

from dfx_hw.compiler import tiling
from dfx_hw.spec import walk
from dfx_hw.mpu.descriptor import matrix_descriptor
from dfx_hw.mpu.layouts import MatOp, descriptor_layout


@pytest.mark.parametrize("rows, cols, band", [(10, 13, 4), (64, 16, 4), (130, 70, 3), (7, 5, 8)])
def test_serpentine_walk_and_tiles_equal_compiler_tiling(rows, cols, band):
    d, l = 8, 4
    kt, nt = walk.tile_counts(rows, cols, d=d, l=l)
    rt, ct = tiling.walk(kt, nt, band, serpentine=True)
    assert walk.tile_order(rows, cols, d=d, l=l, band=band, serpentine=True) == \
        list(zip(rt.tolist(), ct.tolist()))
    w = np.random.default_rng(0).standard_normal((rows, cols)).astype(np.float16)
    ours = walk.weight_tiles(w, d=d, l=l, band=band, serpentine=True).reshape(-1)
    theirs = tiling.pack(w, d=d, l=l, band=band, serpentine=True)
    assert np.array_equal(ours.view(np.uint16), theirs.view(np.uint16))


def test_raster_walk_visits_each_column_top_to_bottom():
    order = walk.tile_order(20, 30, d=4, l=4, band=3)
    assert sorted(order) == [(r, c) for r in range(5) for c in range(8)]
    for c in range(8):
        assert [r for r, cc in order if cc == c] == list(range(5))
    assert order[:4] == [(0, 0), (0, 1), (0, 2), (1, 0)]


def test_walk_errors_name_the_bad_value():
    with pytest.raises(ValueError, match="band must be a positive integer, not 0"):
        walk.tile_order(4, 4, d=4, l=4, band=0)
    with pytest.raises(ValueError, match="rows must be a positive integer, not 0"):
        walk.tile_counts(0, 4, d=4, l=4)
    with pytest.raises(ValueError, match="w must be a float16 array, not float32"):
        walk.weight_tiles(np.zeros((4, 4), np.float32), d=4, l=4, band=1)
    with pytest.raises(ValueError, match=r"w must be a 2-D \(rows x cols\) matrix"):
        walk.weight_tiles(np.zeros(4, np.float16), d=4, l=4, band=1)
    with pytest.raises(ValueError, match="x must be a 1-D vector"):
        walk.input_slices(np.zeros((2, 2), np.float16), d=4)


def test_descriptor_fields_round_trip():
    bits = matrix_descriptor("maskedmm", k=64, n=37, scale=0.125, token=36, reduce_max=True,
                             band=4)
    view = descriptor_layout().from_bits(bits)
    assert view.op == MatOp.MASKED_MM
    assert (int(view.k), int(view.n), int(view.token), int(view.band)) == (64, 37, 36, 4)
    assert int(view.scale) == 0x3000 and int(view.scale_en) == 1 and int(view.reduce_max) == 1
    assert int(view.bias) == 0 and int(view.gelu) == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "conv2d", "k": 4, "n": 4}, "kind must be one of"),
    ({"kind": "mm", "k": 0, "n": 4}, r"k must be an integer in \[1, 6400\], not 0"),
    ({"kind": "mm", "k": 6401, "n": 4}, r"k must be an integer in \[1, 6400\], not 6401"),
    ({"kind": "mm", "k": 4, "n": 70000}, r"n must be an integer in \[1, 65535\]"),
    ({"kind": "maskedmm", "k": 4, "n": 5, "token": 5},
     r"token must be an integer in \[0, 4\]"),
    ({"kind": "conv1d", "k": 4, "n": 5, "token": 2}, "token only applies to maskedmm"),
    ({"kind": "mm", "k": 4, "n": 5, "scale": 0.1}, "scale must be a finite number exactly"),
    ({"kind": "mm", "k": 4, "n": 5, "scale": float("inf")}, "scale must be a finite"),
    ({"kind": "mm", "k": 4, "n": 5, "band": 256}, r"band must be an integer in \[0, 255\]"),
])
def test_descriptor_errors_name_the_bad_value(kwargs, message):
    kind = kwargs.pop("kind")
    with pytest.raises(ValueError, match=message):
        matrix_descriptor(kind, max_rows=6400, **kwargs)


def test_compiler_weight_walk_runs_the_mpu_at_one_tile_per_clock():
    """The compiler's weight-stream choice is the MatrixUnit's default walk (raster, band =
    ``DEFAULT_BAND``), whose band covers the accumulator gap: no interlock bubbles."""
    from dfx_hw.mpu.accumulator import gap_for
    from dfx_hw.mpu.matrix_unit import DEFAULT_BAND

    assert tiling.WEIGHT_SERPENTINE is False
    assert tiling.WEIGHT_BAND == DEFAULT_BAND >= gap_for()
    assert walk.issue_clocks(1024, 4096, d=64, l=16, band=tiling.WEIGHT_BAND,
                             gap=gap_for()) == 16 * 256


def test_timing_model_gap_is_the_accumulators():
    """The timing model's accumulator gap (``costs.ACCUMULATOR_GAP``, its row-step bubbles for
    narrow matrices) is the matrix unit's at the default FP16 adder latency."""
    from dfx_hw.mpu.accumulator import gap_for
    from dfx_hw.spec import costs

    assert costs.ACCUMULATOR_GAP == gap_for()
