"""Layouts of the matrix processing unit (MPU): the operation descriptor, the tile formats of
its streams and the per-tile bookkeeping that travels down its pipeline.

This module is the single source of truth for every packed format the MPU's ports carry. The
gateware, the cocotb benches, the weight-tiling helper (:mod:`dfx_hw.spec.walk`) and the core's
instruction decoder (which maps ISA words onto :func:`descriptor_layout`) all use these objects.

The weight tile and the FP16 vector formats it shares with the DMA are the contract in
:mod:`dfx_hw.spec.tiles` (re-exported here).
"""

from amaranth.lib import data, enum

from ..spec.tiles import FP16, tile_layout, vector_layout

__all__ = [
    "MatOp", "FP16", "descriptor_layout", "tile_layout", "vector_layout", "column_meta_layout",
    "tile_meta_layout", "collector_payload_layout", "lane_sums_layout", "output_layout",
    "max_layout", "DIM_BITS", "BAND_BITS",
]


#: Width of the ``k``/``n``/``token`` fields: shapes up to 65,535 (GPT-2's vocabulary of
#: 50,257 on one core fits).
DIM_BITS = 16
#: Width of the descriptor's ``band`` field.
BAND_BITS = 8


class MatOp(enum.Enum, shape=2):
    """The matrix operation a descriptor runs (DESIGN.md, section 4)."""
    CONV1D = 0      #: ``x W + b`` (QKV, proj, fc1, fc2), optionally followed by GELU
    MASKED_MM = 1   #: ``q K^T``: columns past ``token`` forced to the mask value
    MM = 2          #: plain product (``scores V``, LM-head logits)


def descriptor_layout():
    """The decoded matrix operation the operand collector accepts, one per instruction.

    Fields
    ------
    op : :class:`MatOp`
        Operation kind. Only ``MASKED_MM`` masks; the other effects are separate flags.
    k : unsigned(16)
        ``K``: length of the input vector = rows of the weight matrix (1 .. ``max_rows``); the
        ISA's ``k`` field.
    n : unsigned(16)
        ``N``: columns of the weight matrix = length of the output vector (>= 1).
    bias : unsigned(1)
        Read one ``l``-element bias beat per column tile; without it the accumulator starts at
        ``+0`` (the bit-true model's ``bias=None``).
    scale_en : unsigned(1)
        Multiply every output by ``scale`` (the attention head's ``1/sqrt(64)``).
    scale : FP16
        The scale factor (IEEE binary16 bits).
    token : unsigned(16)
        MaskedMM only: output column ``j`` is masked when ``j > token``.
    gelu : unsigned(1)
        Apply the GELU table to every output (after scale and mask).
    reduce_max : unsigned(1)
        Emit the maximum of the outputs and its first index on the ``max`` stream when done.
    band : unsigned(8)
        Column tiles per band of this operation's weight stream; 0 or more than the hardware's
        ``band`` means the hardware's ``band`` (see :mod:`dfx_hw.spec.walk`).
    """
    return data.StructLayout({
        "op": MatOp,
        "k": DIM_BITS,
        "n": DIM_BITS,
        "bias": 1,
        "scale_en": 1,
        "scale": FP16,
        "token": DIM_BITS,
        "gelu": 1,
        "reduce_max": 1,
        "band": BAND_BITS,
    })


def column_meta_layout(*, l):
    """What the stages after the accumulator need to know about one column tile.

    Fields
    ------
    col_tile : unsigned(16)
        Column-tile index ``c``: lane ``j`` holds output column ``c * l + j``.
    lanes : range(1, l + 1)
        Valid lanes (``l`` except in a ragged last column tile).
    last : unsigned(1)
        Last column tile of the operation (flushes the vectorizer, emits the maximum).
    mask, token, scale_en, scale, gelu, reduce_max
        Copied from the descriptor (``mask`` = ``op == MASKED_MM``).
    """
    return data.StructLayout({
        "col_tile": DIM_BITS,
        "lanes": range(l + 1),
        "last": 1,
        "mask": 1,
        "token": DIM_BITS,
        "scale_en": 1,
        "scale": FP16,
        "gelu": 1,
        "reduce_max": 1,
    })


def tile_meta_layout(*, l, band):
    """Bookkeeping that travels with one tile from the collector through the MFU to the
    accumulator.

    Fields
    ------
    slot : range(band)
        Accumulator entry of the tile's column tile (its position inside the band).
    first : unsigned(1)
        First row tile of the column: the accumulator starts from ``bias`` instead of its entry.
    last_row : unsigned(1)
        Last row tile: the accumulated column tile is complete and leaves the accumulator.
    bias : FP16 x l
        The column tile's bias (zeros without bias); meaningful when ``first``.
    column : :func:`column_meta_layout`
    """
    return data.StructLayout({
        "slot": range(band),
        "first": 1,
        "last_row": 1,
        "bias": vector_layout(l),
        "column": column_meta_layout(l=l),
    })


def collector_payload_layout(*, d, l, band):
    """One beat from the operand collector to the MFU: the broadcast input slice, the tile and
    its bookkeeping."""
    return data.StructLayout({
        "x": vector_layout(d),
        "w": tile_layout(d=d, l=l),
        "meta": tile_meta_layout(l=l, band=band),
    })


def lane_sums_layout(*, l, meta):
    """``l`` lane values with the bookkeeping ``meta`` (a layout) that belongs to them."""
    return data.StructLayout({"sums": vector_layout(l), "meta": meta})


def output_layout(*, width):
    """One beat of the output vector (the vectorizer's word for the vector register file).

    Fields
    ------
    data : FP16 x width
        Output columns ``offset * width .. offset * width + width - 1``.
    offset : unsigned(16)
        Word offset inside the output vector.
    count : range(1, width + 1)
        Valid elements in this beat (``width`` except in the operation's last beat).
    last : unsigned(1)
        Last beat of the operation.
    """
    return data.StructLayout({
        "data": vector_layout(width),
        "offset": DIM_BITS,
        "count": range(width + 1),
        "last": 1,
    })


def max_layout():
    """The reduce-max result: the largest output (hardware comparator order, see
    :func:`dfx_hw.model.bittrue.fp16.order_key`) and the index of its first occurrence."""
    return data.StructLayout({"value": FP16, "index": DIM_BITS})
