"""Reductions: the adder trees and accumulation orders of the MFU lanes and the vector unit, and
the comparator tree of reduce-max / argmax.

Every function returns exactly the bits the hardware produces; each docstring states the
operation order completely (every ``+`` below is one FP16 addition rounded to nearest even, see
:func:`dfx_hw.model.bittrue.fp16.add`). NaN results are the canonical NaN ``0x7E00``.

Implementation note: values are carried in float32 arrays that always hold FP16 values; after each
float32 operation the result is rounded to FP16 (``_round``). float32 represents every FP16 product
exactly, and float32 addition followed by rounding to FP16 equals one correctly rounded FP16
addition (24 >= 2*11 + 2), so this is bit-identical to ``numpy.float16`` op by op (tested).
"""

import functools

import numpy as np

from ...geometry import U280
from .fp16 import as_fp16, canonical_nan, order_key

__all__ = [
    "check_power_of_two", "tree_sum", "mfu_matvec", "mfu_matmul", "mfu_matmul_numpy", "vpu_sum", "vpu_max",
    "vpu_amax", "argmax", "SUM_PARTIALS",
]

_F16 = np.float16
_F32 = np.float32

#: Partial sums of :func:`vpu_sum`: chunk ``j`` is added into partial ``j mod SUM_PARTIALS``, so
#: the vector unit can take one chunk per clock while each partial's adder loop has
#: ``SUM_PARTIALS`` clocks (>= the accumulating adder's latency) to complete. A power of two (the
#: partials are combined by a pairwise tree). Part of the numerics contract: the RTL accumulator
#: (:class:`dfx_hw.vpu.accumulator.Accumulator`) imports it from here.
SUM_PARTIALS = 8

#: Largest number of float32 temporaries an MFU call materialises at once (memory bound).
_CHUNK_ELEMENTS = 1 << 22


def check_power_of_two(name, value):
    """Raise ``ValueError`` unless ``value`` is a positive power-of-two ``int``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1 \
            or value & (value - 1):
        raise ValueError(f"{name} must be a positive power of two, not {value!r}")
    return int(value)


def _quiet(function):
    """Run ``function`` with numpy's overflow/invalid warnings off: inf and NaN are defined results
    of FP16 arithmetic here, not errors."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return function(*args, **kwargs)
    return wrapper


def _round(a):
    """float32 array -> the same values rounded to FP16 (RNE), still as float32."""
    with np.errstate(over="ignore"):
        return a.astype(_F16).astype(_F32)


def _pad_last(a, multiple):
    """Pad the last axis of ``a`` with +0 up to a multiple of ``multiple``."""
    pad = -a.shape[-1] % multiple
    if pad:
        a = np.concatenate([a, np.zeros(a.shape[:-1] + (pad,), a.dtype)], axis=-1)
    return a


def _tree32(a, axis):
    """Pairwise tree over ``axis`` (length a power of two) of float32-held FP16 values."""
    a = np.moveaxis(a, axis, -1) if axis != -1 else a
    while a.shape[-1] > 1:
        pairs = a.reshape(a.shape[:-1] + (a.shape[-1] // 2, 2))
        a = _round(pairs[..., 0] + pairs[..., 1])
    return a[..., 0]


@_quiet
def tree_sum(x, axis=-1):
    """Sum of ``x`` along ``axis`` by the pairwise adder tree of an MFU lane.

    Operation order: let ``n`` be the length of the axis (``n >= 1``) and ``P`` the smallest power
    of two ``>= n``. Pad with ``+0`` to ``P`` elements ``y[0..P-1]``. Then, level by level until
    one element is left, replace ``y`` by ``y'[i] = y[2i] + y[2i+1]`` for ``i = 0..len(y)/2 - 1``
    (each ``+`` one FP16 add, RNE). The result is ``y[0]`` (for ``n = 1``: ``x[0]`` unchanged,
    even ``-0``; for ``n >= 2`` an all ``-0`` input gives ``-0`` only if ``n == P``).

    Parameters
    ----------
    x : array of float16
    axis : int
        Axis to reduce (removed from the result).
    """
    x = as_fp16(x)
    if x.ndim == 0:
        raise ValueError("tree_sum needs at least one axis, got a 0-d array")
    axis = axis % x.ndim
    n = x.shape[axis]
    if n == 0:
        raise ValueError("tree_sum of an empty axis: the adder tree needs at least one element")
    a = np.moveaxis(x, axis, -1).astype(_F32)
    size = 1 << (n - 1).bit_length()
    a = _pad_last(a, size)
    return canonical_nan(_tree32(a, -1).astype(_F16))


def _check_matrix_operands(x, w, bias, d):
    d = check_power_of_two("d", d)
    x, w = as_fp16(x, "x"), as_fp16(w, "w")
    if x.ndim != 2:
        raise ValueError(f"x must be an (M, K) matrix for mfu_matmul, got shape {x.shape}")
    if w.ndim != 2:
        raise ValueError(f"w must be a (K, N) matrix, got shape {w.shape}")
    if x.shape[-1] != w.shape[0]:
        raise ValueError(f"x has {x.shape[-1]} elements per row but w has {w.shape[0]} rows "
                         f"(K must match)")
    if w.shape[0] == 0 or w.shape[1] == 0:
        raise ValueError(f"w must have K >= 1 rows and N >= 1 columns, got shape {w.shape}")
    if bias is not None:
        bias = as_fp16(bias, "bias")
        if bias.shape != (w.shape[1],):
            raise ValueError(f"bias must have shape ({w.shape[1]},) to match w's N columns, got "
                             f"{bias.shape}")
    return x, w, bias, d


@_quiet
def mfu_matmul_numpy(x, w, bias=None, *, d=U280.d):
    """:func:`mfu_matmul` in NumPy only: the readable definition the compiled kernel is tested
    against (and the fallback when Numba is missing).

    Parameters
    ----------
    x : (M, K) float16
    w : (K, N) float16
    bias : (N,) float16 or None
    d : int
        Tile height = inputs of one lane's adder tree (power of two).

    Returns
    -------
    (M, N) float16
    """
    x, w, bias, d = _check_matrix_operands(x, w, bias, d)
    m_rows, _ = x.shape
    k_rows, n_cols = w.shape
    k_pad = -k_rows % d
    tiles = (k_rows + k_pad) // d
    w32 = w.astype(_F32)
    x32 = x.astype(_F32)
    if k_pad:
        w32 = np.concatenate([w32, np.zeros((k_pad, n_cols), _F32)])
        x32 = np.concatenate([x32, np.zeros((m_rows, k_pad), _F32)], axis=1)
    out = np.empty((m_rows, n_cols), _F32)
    start = np.zeros(n_cols, _F32) if bias is None else bias.astype(_F32)
    col_chunk = max(1, min(n_cols, _CHUNK_ELEMENTS // (tiles * d)))
    row_chunk = max(1, _CHUNK_ELEMENTS // (tiles * d * col_chunk))
    for c0 in range(0, n_cols, col_chunk):
        c1 = min(n_cols, c0 + col_chunk)
        wt = w32[:, c0:c1].reshape(tiles, d, c1 - c0)
        for r0 in range(0, m_rows, row_chunk):
            r1 = min(m_rows, r0 + row_chunk)
            xt = x32[r0:r1].reshape(r1 - r0, tiles, d, 1)
            products = _round(xt * wt)                      # (rows, tiles, d, cols)
            sums = _tree32(products, axis=2)                # (rows, tiles, cols)
            acc = np.broadcast_to(start[c0:c1], (r1 - r0, c1 - c0))
            for t in range(tiles):
                acc = _round(acc + sums[:, t])
            out[r0:r1, c0:c1] = acc
    return canonical_nan(out.astype(_F16))


def mfu_matmul(x, w, bias=None, *, d=U280.d):
    """``y = x @ w + bias`` for several input rows (prefill), bit-identical to :func:`mfu_matvec`
    applied to each row of ``x`` separately (rows never interact).

    Runs the compiled kernel (:mod:`._kernels`, 150-350 M MAC/s on one core here) when Numba is
    available, else :func:`mfu_matmul_numpy`; both give the same bits.

    Parameters
    ----------
    x : (M, K) float16
    w : (K, N) float16
    bias : (N,) float16 or None
    d : int
        Tile height = inputs of one lane's adder tree (power of two).

    Returns
    -------
    (M, N) float16
    """
    kernel = _kernel()
    if kernel is None:
        return mfu_matmul_numpy(x, w, bias, d=d)
    x, w, bias, d = _check_matrix_operands(x, w, bias, d)
    from ._kernels import FP16_TO_F32
    start = np.zeros(w.shape[1], _F32) if bias is None else bias.astype(_F32)
    out = np.empty((x.shape[0], w.shape[1]), _F32)
    kernel(np.ascontiguousarray(x).view(np.uint16), np.ascontiguousarray(w).view(np.uint16),
           start, d, FP16_TO_F32, out)
    return canonical_nan(out.astype(_F16))


_KERNEL = []


def _kernel():
    """The compiled MFU kernel, or None without Numba (imported once)."""
    if not _KERNEL:
        try:
            from ._kernels import mfu_kernel
        except ImportError:
            mfu_kernel = None
        _KERNEL.append(mfu_kernel)
    return _KERNEL[0]


def mfu_matvec(x, w, bias=None, *, d=U280.d):
    """``y = x @ w + bias`` exactly as the matrix function unit computes it.

    Operation order (``x`` has ``K`` elements, ``w`` is ``K x N``):

    1. Pad ``K`` with ``+0`` rows/elements to ``T * d`` (``T = ceil(K / d)`` tiles).
    2. Products: ``p[k, n] = fp16(x[k] * w[k, n])`` (one FP16 multiply each; padding gives +0).
    3. Tile sums: ``s[t, n] = tree_sum(p[t*d : (t+1)*d, n])`` -- the lane's pairwise adder tree of
       depth ``log2 d`` in index order (:func:`tree_sum`).
    4. Accumulation, per column ``n``: ``acc = bias[n]`` (``+0`` when there is no bias), then for
       ``t = 0, 1, ..., T-1`` in ascending order ``acc = acc + s[t, n]`` (each add rounded).
       ``y[n] = acc``.

    The result of a column depends only on that column: it does not depend on the order in which
    columns are visited or on how columns are split over lanes, tiles or cores. The tile walk
    (DESIGN.md, zig-zag) may visit column strips in any order and alternate direction across
    columns, but it must visit the tiles *of each column strip* in ascending ``t`` (top to
    bottom): a walk that goes up a strip on the way back (vertical zig-zag) changes the bits and
    must instead restart at ``t = 0`` or keep its partial sums in a per-column buffer ordered by
    ``t``.

    Parameters
    ----------
    x : (K,) float16
    w : (K, N) float16
    bias : (N,) float16 or None
    d : int
        Tile height (power of two); default ``U280.d``.

    Returns
    -------
    (N,) float16
    """
    x = as_fp16(x, "x")
    if x.ndim != 1:
        raise ValueError(f"x must be a vector (K,) for mfu_matvec, got shape {x.shape}; use "
                         f"mfu_matmul for several rows")
    return mfu_matmul(x[None, :], w, bias, d=d)[0]


def _check_vector(x, lanes, what):
    lanes = check_power_of_two("lanes", lanes)
    x = as_fp16(x, "x")
    if x.ndim == 0:
        raise ValueError(f"{what} needs a vector, got a 0-d array")
    if x.shape[-1] == 0:
        raise ValueError(f"{what} of an empty vector (length 0) is not defined")
    return x, lanes


@_quiet
def vpu_sum(x, *, lanes=U280.vpu_lanes):
    """Sum of a vector to a scalar as the vector unit's accumulation (``ACCUM``) computes it.

    Operation order (``x`` has ``n >= 1`` elements; leading axes are independent vectors;
    ``P = SUM_PARTIALS = 8``):

    1. Pad with ``+0`` to ``C * lanes`` elements, ``C = ceil(n / lanes)`` chunks.
    2. Chunk sums: ``c[j] = tree_sum(x[j*lanes : (j+1)*lanes])`` (pairwise tree, index order).
    3. Partial sums: ``p[0] = ... = p[P-1] = +0``; for ``j = 0, ..., C-1`` ascending:
       ``p[j mod P] = p[j mod P] + c[j]``.
    4. Result: the pairwise tree over ``p[0..P-1]`` in index order,
       ``((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]))``.

    (Every partial starts at ``+0``, so neither a partial nor the result is ever ``-0``. For
    ``C <= P`` the partials are the chunk sums themselves, ``+0 + c[j]``, and the unused ones
    are ``+0``.)

    Parameters
    ----------
    x : (..., n) float16
    lanes : int
        Elements per clock of the vector unit (power of two); default ``U280.vpu_lanes``.

    Returns
    -------
    (...) float16
    """
    x, lanes = _check_vector(x, lanes, "vpu_sum")
    a = _pad_last(x.astype(_F32), lanes)
    chunks = _tree32(a.reshape(a.shape[:-1] + (a.shape[-1] // lanes, lanes)), -1)
    partials = np.zeros(x.shape[:-1] + (SUM_PARTIALS,), _F32)
    count = chunks.shape[-1]
    for first in range(0, count, SUM_PARTIALS):
        # Chunks first .. first+P-1 go to partials 0 .. P-1 (the last round may be shorter).
        width = min(SUM_PARTIALS, count - first)
        partials[..., :width] = _round(partials[..., :width] +
                                       chunks[..., first:first + width])
    return canonical_nan(_tree32(partials, -1).astype(_F16))


def argmax(x, *, lanes=U280.vpu_lanes):
    """Maximum and the lowest index where it occurs (reduce-max comparator tree of SFU_M / VPU).

    Order: the comparator of :func:`dfx_hw.model.bittrue.fp16.maximum` (total order on
    :func:`~dfx_hw.model.bittrue.fp16.order_key`: ``-inf < ... < -0 < +0 < ... < +inf < NaN``),
    ties resolved to the lower index. Hardware: pad with ``-inf`` to ``C * lanes``; a pairwise
    comparator tree per chunk (``(v, i)`` pairs, at each node the right pair wins only if its key
    is strictly larger); chunk winners combined in ascending chunk order with the same rule. Because
    the order is total and ties go to the lower index, *every* tree shape and order gives the same
    result: the first index of the largest key. If any element is NaN the result is the canonical
    NaN at the first NaN's index. Padding never wins (``-inf`` at a padded position has a higher
    index than any real ``-inf``).

    Returns
    -------
    (value, index) : ((...) float16, (...) int64)
    """
    x, lanes = _check_vector(x, lanes, "argmax")
    index = np.argmax(order_key(x), axis=-1)
    value = np.take_along_axis(x, index[..., None], axis=-1)[..., 0]
    return canonical_nan(value), index


def vpu_max(x, *, lanes=U280.vpu_lanes):
    """Maximum of a vector (``VMAX``): the value part of :func:`argmax` (same order and rules:
    ``+0 > -0``, any NaN -> canonical NaN)."""
    return argmax(x, lanes=lanes)[0]


def vpu_amax(x, *, lanes=U280.vpu_lanes):
    """Maximum magnitude ``max_i |x_i|`` (``VAMAX``): :func:`vpu_max` of the vector with every sign
    bit cleared (the comparator tree ignores the sign bits). Result is never negative; NaN ->
    canonical NaN."""
    x, lanes = _check_vector(x, lanes, "vpu_amax")
    magnitude = (x.view(np.uint16) & np.uint16(0x7FFF)).view(_F16)
    return vpu_max(magnitude, lanes=lanes)
