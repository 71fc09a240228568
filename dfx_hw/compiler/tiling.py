"""Weight tiles in HBM: the zig-zag walk the DMA streams, packing and unpacking.

A ``K x N`` matrix is cut into ``(d, l)`` tiles (``Kt = ceil(K/d)`` row tiles, ``Nt = ceil(N/l)``
column tiles, ragged edges padded with +0). Tiles are stored one after another in *walk order*,
the order the MPU consumes them, defined once in :func:`dfx_hw.mpu.walk.tile_order` and used here
with ``serpentine=True``:

* the column tiles are grouped in bands of ``band`` column tiles (the last band may be narrower);
* bands are walked left to right; inside a band, row tile ``rt = 0, 1, ..., Kt-1`` in ascending
  order, visiting the band's column tiles left to right when ``rt`` is even and right to left
  when it is odd (the zig-zag).

So each output column's row tiles are visited in ascending order, as the MFU accumulation order
requires (:func:`dfx_hw.model.bittrue.reduce.mfu_matvec`), while ``band`` partial-sum buffers
suffice. Inside a tile the ``d`` weights of each lane (column) are contiguous:
element ``(r, c)`` of a tile is at ``c * d + r``.

A band as wide as the matrix (``band >= Nt``) makes every prefix of row tiles a prefix of the
storage; the key and value caches use it, so that a cache holding ``t`` tokens is read from its
start.
"""

import functools

import numpy as np

from ..mpu.walk import tile_order

__all__ = ["WEIGHT_BAND", "tile_counts", "walk", "pack", "unpack", "row_offsets",
           "tiled_size"]

#: Column tiles per zig-zag band for weight matrices (= MFU partial-sum buffers per band).
WEIGHT_BAND = 4


def tile_counts(k, n, d, l):
    """``(Kt, Nt)``: row and column tiles of a ``k x n`` matrix."""
    return -(-k // d), -(-n // l)


def tiled_size(k, n, d, l):
    """FP16 elements a tiled ``k x n`` matrix occupies (ragged tiles padded)."""
    kt, nt = tile_counts(k, n, d, l)
    return kt * nt * d * l


@functools.lru_cache(maxsize=256)
def walk(kt, nt, band):
    """The tile walk: ``(rt, ct)`` arrays (int64) of the tiles in storage order."""
    # tile_order counts tiles of a (rows x cols) matrix; with d = l = 1 rows and cols are tiles.
    order = np.asarray(tile_order(kt, nt, d=1, l=1, band=band, serpentine=True), np.int64)
    rt, ct = np.ascontiguousarray(order[:, 0]), np.ascontiguousarray(order[:, 1])
    rt.flags.writeable = ct.flags.writeable = False
    return rt, ct


@functools.lru_cache(maxsize=256)
def _inverse(kt, nt, band):
    rt, ct = walk(kt, nt, band)
    inverse = np.empty(kt * nt, np.int64)
    inverse[rt * nt + ct] = np.arange(kt * nt)
    inverse.flags.writeable = False
    return inverse


def pack(w, *, d, l, band):
    """``w`` (K x N, any float dtype) as FP16 tiles in walk order, flat."""
    w = np.asarray(w, dtype=np.float16)
    k, n = w.shape
    kt, nt = tile_counts(k, n, d, l)
    padded = np.zeros((kt * d, nt * l), np.float16)
    padded[:k, :n] = w
    tiles = padded.reshape(kt, d, nt, l).transpose(0, 2, 3, 1)  # (kt, nt, lane, row)
    rt, ct = walk(kt, nt, band)
    return np.ascontiguousarray(tiles[rt, ct]).reshape(-1)


def unpack(flat, k, n, *, d, l, band, rows=None):
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
        order = _inverse(need_kt, nt, band)
    else:
        order = _inverse(kt, nt, band)
    grid = tiles[order].reshape(need_kt, nt, l, d).transpose(0, 3, 1, 2)
    return grid.reshape(need_kt * d, nt * l)[:rows, :n]


def row_offsets(row, n, *, d, l):
    """Element offsets, inside a full-width-band tiled matrix with ``n`` columns, of the ``n``
    elements of row ``row`` (how the DMA writes V transposed)."""
    nt = -(-n // l)
    rt, r = divmod(row, d)
    cols = np.arange(n)
    ct, lane = np.divmod(cols, l)
    zig = ct if rt % 2 == 0 else nt - 1 - ct
    return (rt * nt + zig) * d * l + lane * d + r
