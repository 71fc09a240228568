"""Weight tiles in HBM: the banded walk the DMA streams, packing and unpacking.

A ``K x N`` matrix is cut into ``(d, l)`` tiles (``Kt = ceil(K/d)`` row tiles, ``Nt = ceil(N/l)``
column tiles, ragged edges padded with +0). Tiles are stored one after another in *walk order*,
the order the MPU consumes them, defined once in :func:`dfx_hw.spec.walk.tile_order`:

* the column tiles are grouped in bands of ``band`` column tiles (the last band may be narrower);
* bands are walked left to right; inside a band, row tile ``rt = 0, 1, ..., Kt-1`` in ascending
  order, visiting the band's column tiles left to right (with ``serpentine``, right to left on odd
  row tiles: the zig-zag).

So each output column's row tiles are visited in ascending order, as the MFU accumulation order
requires (:func:`dfx_hw.model.bittrue.reduce.mfu_matvec`), while ``band`` partial-sum buffers
suffice (the walk is horizontal inside a band, vertical across bands). Inside a tile the ``d``
weights of each lane (column) are contiguous: element ``(r, c)`` of a tile is at ``c * d + r``.

The compiler's choice (:data:`WEIGHT_BAND`, :data:`WEIGHT_SERPENTINE`): bands of 8 column tiles,
no serpentine. A column tile is then revisited every 8 tiles, which is the MPU accumulator's
read-after-write gap at the default FP16 adder latency (:func:`dfx_hw.mpu.accumulator.gap_for`),
so the MPU takes one tile per clock without bubbles; a serpentine walk would revisit the turning
column on the next clock and stall ``gap - 1`` clocks at every turn
(:func:`dfx_hw.spec.walk.issue_clocks`). The output bits do not depend on the walk.

A band as wide as the matrix (``band >= Nt``) makes every prefix of row tiles a prefix of the
storage; the key and value caches use it, so that a cache holding ``t`` tokens is read from its
start.
"""

import functools

import numpy as np

from ..spec.walk import WEIGHT_BAND, tile_order

__all__ = ["WEIGHT_BAND", "WEIGHT_SERPENTINE", "tile_counts", "walk", "pack", "unpack", "row_offsets",
           "tiled_size"]

#: Whether odd row tiles walk a band right to left (the HBM images and the caches use this).
WEIGHT_SERPENTINE = False


def tile_counts(k, n, d, l):
    """``(Kt, Nt)``: row and column tiles of a ``k x n`` matrix."""
    return -(-k // d), -(-n // l)


def tiled_size(k, n, d, l):
    """FP16 elements a tiled ``k x n`` matrix occupies (ragged tiles padded)."""
    kt, nt = tile_counts(k, n, d, l)
    return kt * nt * d * l


@functools.lru_cache(maxsize=256)
def walk(kt, nt, band, serpentine=WEIGHT_SERPENTINE):
    """The tile walk: ``(rt, ct)`` arrays (int64) of the tiles in storage order."""
    # tile_order counts tiles of a (rows x cols) matrix; with d = l = 1 rows and cols are tiles.
    order = np.asarray(tile_order(kt, nt, d=1, l=1, band=band, serpentine=serpentine),
                       np.int64)
    rt, ct = np.ascontiguousarray(order[:, 0]), np.ascontiguousarray(order[:, 1])
    rt.flags.writeable = ct.flags.writeable = False
    return rt, ct


@functools.lru_cache(maxsize=256)
def _inverse(kt, nt, band, serpentine):
    rt, ct = walk(kt, nt, band, serpentine)
    inverse = np.empty(kt * nt, np.int64)
    inverse[rt * nt + ct] = np.arange(kt * nt)
    inverse.flags.writeable = False
    return inverse


def pack(w, *, d, l, band, serpentine=WEIGHT_SERPENTINE):
    """``w`` (K x N, any float dtype) as FP16 tiles in walk order, flat."""
    w = np.asarray(w, dtype=np.float16)
    k, n = w.shape
    kt, nt = tile_counts(k, n, d, l)
    padded = np.zeros((kt * d, nt * l), np.float16)
    padded[:k, :n] = w
    tiles = padded.reshape(kt, d, nt, l).transpose(0, 2, 3, 1)  # (kt, nt, lane, row)
    rt, ct = walk(kt, nt, band, serpentine)
    return np.ascontiguousarray(tiles[rt, ct]).reshape(-1)


def unpack(flat, k, n, *, d, l, band, rows=None, serpentine=WEIGHT_SERPENTINE):
    """The ``k x n`` matrix stored by :func:`pack` in ``flat`` (FP16).

    ``rows``, if given, is the number of leading rows to return; only their tiles are read, which
    is valid when ``band`` covers every column tile (the cache layout).
    """
    kt, nt = tile_counts(k, n, d, l)
    rows = k if rows is None else rows
    need_kt = -(-rows // d)
    if need_kt < kt and band < nt:
        raise ValueError("a row prefix can only be read from a full-width band")
    tiles = np.asarray(flat)[:kt * nt * d * l].reshape(kt * nt, l, d)
    if need_kt < kt:
        tiles = tiles[:need_kt * nt]
        order = _inverse(need_kt, nt, band, serpentine)
    else:
        order = _inverse(kt, nt, band, serpentine)
    grid = tiles[order].reshape(need_kt, nt, l, d).transpose(0, 3, 1, 2)
    return grid.reshape(need_kt * d, nt * l)[:rows, :n]


def row_offsets(row, n, *, d, l):
    """Element offsets, inside a full-width-band tiled matrix with ``n`` columns, of the ``n``
    elements of row ``row`` (how the DMA writes V transposed)."""
    nt = -(-n // l)
    rt, r = divmod(row, d)
    cols = np.arange(n)
    ct, lane = np.divmod(cols, l)
    zig = nt - 1 - ct if WEIGHT_SERPENTINE and rt % 2 else ct
    return (rt * nt + zig) * d * l + lane * d + r
