"""The weight-stream formats shared by the DMA (which produces them) and the matrix unit (which
consumes them): one ``d x l`` weight tile per beat, and ``n``-element FP16 vectors (bias beats,
input slices).

Element order of a tile (the order of :func:`dfx_hw.compiler.tiling.pack`): ``l`` lane columns
of ``d`` FP16 values each, element ``(row i, lane j)`` at bits ``16 * (j * d + i)``; this is the
byte order of ``tile.T.astype(numpy.float16).tobytes()`` for a ``(d, l)`` NumPy array.
"""

from amaranth.lib import data

__all__ = ["FP16", "tile_layout", "vector_layout"]

#: One IEEE binary16 value, as raw bits.
FP16 = 16


def tile_layout(*, d, l):
    """One weight tile as the DMA delivers it: ``l`` lane columns of ``d`` FP16
    (``tile[j][i]`` = row ``i`` of lane ``j``)."""
    return data.ArrayLayout(data.ArrayLayout(FP16, d), l)


def vector_layout(n):
    """``n`` FP16 values (an input slice, a bias beat, the lane results)."""
    return data.ArrayLayout(FP16, n)
