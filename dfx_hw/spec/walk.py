"""The zig-zag tile walk of a matrix operation: the order in which the MPU consumes weight tiles
and bias beats, and the helpers that put a weight matrix and a bias into that stream order.

This is the single source of truth for the weight stream's order: the compiler's HBM image, the
DMA model and the benches all call :func:`tile_order` / :func:`weight_tiles`.

Walk
----
The ``ceil(N / l)`` column tiles are cut into *bands* of ``band`` column tiles (the last band may
be narrower). Bands are walked left to right; inside a band the walk goes row tile by row tile
(``0 .. ceil(K / d) - 1``) and, inside a row tile, across the band's column tiles: left to right
(``serpentine=False``, the MPU's full-throughput walk), or left to right on even row tiles and right
to left on odd ones (``serpentine=True``, the order of :func:`dfx_hw.compiler.tiling.walk`)::

    for band_start in range(0, col_tiles, band):
        for r in range(row_tiles):
            cols = range(band_start, min(band_start + band, col_tiles))
            for c in (reversed(cols) if serpentine and r % 2 else cols):
                yield r, c

Every column therefore receives its tile sums in ascending row-tile order (the bit-true model's
accumulation order). Without serpentine an accumulator entry is revisited once per band width of
tiles; with it, the column at a turn is revisited on the next clock (see ``docs/mpu.md``).
"""

import numpy as np

from .params import check_positive

__all__ = ["WEIGHT_BAND", "tile_counts", "tile_order", "issue_clocks", "weight_tiles",
           "bias_beats", "input_slices"]

#: Column tiles per band of a weight matrix in HBM (= MPU accumulator entries used; at least the
#: accumulator's read-after-write gap, so the MPU takes one tile per clock): the compiler packs
#: weights in this walk and the matrix decoder walks them the same way.
WEIGHT_BAND = 8


def tile_counts(rows, cols, *, d, l):
    """``(row_tiles, col_tiles)`` = ``(ceil(rows / d), ceil(cols / l))``."""
    for name, value in (("rows", rows), ("cols", cols), ("d", d), ("l", l)):
        check_positive(name, value)
    return -(-rows // d), -(-cols // l)


def tile_order(rows, cols, *, d, l, band, serpentine=False):
    """The ``(row_tile, col_tile)`` pairs of a ``rows x cols`` weight matrix in stream order."""
    check_positive("band", band)
    row_tiles, col_tiles = tile_counts(rows, cols, d=d, l=l)
    order = []
    for band_start in range(0, col_tiles, band):
        for r in range(row_tiles):
            cols_in_band = list(range(band_start, min(band_start + band, col_tiles)))
            if serpentine and r % 2:
                cols_in_band.reverse()
            order.extend((r, c) for c in cols_in_band)
    return order


def issue_clocks(rows, cols, *, d, l, band, gap, serpentine=False):
    """Clocks the MPU needs to accept every tile of one operation when no stream stalls: one per
    tile plus the bubbles of the accumulator interlock (a column tile's tile can follow the
    previous tile of the same column tile no sooner than ``gap`` clocks later, see
    :class:`dfx_hw.mpu.accumulator.Accumulator`).

    Raster walk, band width ``B``: ``max(0, gap - B)`` bubbles per row-tile step; serpentine:
    ``gap - 1`` bubbles at every turn (the turning column is revisited at once).
    """
    check_positive("gap", gap)
    last = {}
    clock = -1
    for r, c in tile_order(rows, cols, d=d, l=l, band=band, serpentine=serpentine):
        clock += 1
        if r > 0:
            clock = max(clock, last[c] + gap)
        last[c] = clock
    return clock + 1


def _padded(array, shape, name):
    array = np.asarray(array)
    if array.dtype != np.float16:
        raise ValueError(f"{name} must be a float16 array, not {array.dtype}")
    out = np.zeros(shape, dtype=np.float16)
    out[tuple(slice(0, n) for n in array.shape)] = array
    return out


def weight_tiles(w, *, d, l, band, serpentine=False):
    """The weight stream of ``w`` (``K x N`` float16): an array ``(tiles, l, d)`` (lane-major, the
    element order of :func:`dfx_hw.mpu.layouts.tile_layout`) in :func:`tile_order`, ragged edges
    padded with ``+0``."""
    w = np.asarray(w)
    if w.ndim != 2:
        raise ValueError(f"w must be a 2-D (rows x cols) matrix, not shape {w.shape}")
    row_tiles, col_tiles = tile_counts(*w.shape, d=d, l=l)
    padded = _padded(w, (row_tiles * d, col_tiles * l), "w")
    order = tile_order(*w.shape, d=d, l=l, band=band, serpentine=serpentine)
    return np.stack([padded[r * d:(r + 1) * d, c * l:(c + 1) * l].T for r, c in order])


def bias_beats(bias, *, l):
    """The bias stream: ``(col_tiles, l)`` float16, one beat per column tile in ascending order
    (the order the walk first touches them), padded with ``+0``."""
    bias = np.asarray(bias)
    if bias.ndim != 1:
        raise ValueError(f"bias must be a 1-D vector, not shape {bias.shape}")
    _, col_tiles = tile_counts(1, bias.shape[0], d=1, l=l)
    return _padded(bias, (col_tiles * l,), "bias").reshape(col_tiles, l)


def input_slices(x, *, d):
    """The input stream: ``(row_tiles, d)`` float16 slices of ``x``, padded with ``+0``."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D vector, not shape {x.shape}")
    row_tiles, _ = tile_counts(x.shape[0], 1, d=d, l=1)
    return _padded(x, (row_tiles * d,), "x").reshape(row_tiles, d)
