"""Exhaustive proof of the fast FP16 paths over all 2**32 operand pairs (``dfx numerics --prove``,
a few minutes on one core).

For every pair of FP16 values ``(a, b)`` (NaNs included) it checks that

* ``fp16(float32(a) + float32(b))`` (numpy's own float16 addition, and the path of
  :mod:`.reduce`) equals ``fp16(float64(a) + float64(b))`` (the exact sum rounded once);
* ``fp16(float32(a) * float32(b))`` equals ``fp16(float64(a) * float64(b))``;
* the compiled kernel's rounding (:func:`._kernels.round_to_fp16`) of the float32 sum and product
  gives the same bits,

comparing bit patterns after NaN canonicalisation.

Only first operands with sign bit 0 need checking (32,768 rows): both paths round symmetrically,
so ``fp16(-a * b) = -fp16(a * b)`` and ``fp16(-a + -b) = -fp16(a + b)`` on either path, except
for sums that are exactly zero, which are ``+0`` on both paths by the IEEE rule (``x + (-x) = +0``,
``-0 + -0 = -0``), whichever the operand signs.
"""

import numpy as np

from .fp16 import canonical_nan, from_bits

__all__ = ["prove_fast_paths"]


def _bits(x):
    return canonical_nan(x).view(np.uint16)


def prove_fast_paths(first=range(0, 1 << 15), *, rows=64, progress=None):
    """Check every ``a`` in ``first`` against all 65,536 ``b``; return the number of mismatching
    pairs per check (a dict; all zero means proved). ``progress(done, total)`` is called per
    block."""
    from ._kernels import round_to_fp16

    everything = from_bits(np.arange(1 << 16, dtype=np.uint32).astype(np.uint16))
    b32 = everything.astype(np.float32)
    b64 = everything.astype(np.float64)
    first = np.asarray(list(first), dtype=np.uint32)
    failures = {"add float32 path": 0, "mul float32 path": 0, "add kernel rounding": 0,
                "mul kernel rounding": 0}
    with np.errstate(all="ignore"):
        for start in range(0, len(first), rows):
            a = from_bits(first[start:start + rows].astype(np.uint16))[:, None]
            for op, name in ((np.add, "add"), (np.multiply, "mul")):
                exact = _bits(op(a.astype(np.float64), b64).astype(np.float16))
                single = op(a.astype(np.float32), b32)
                failures[f"{name} float32 path"] += int(
                    np.count_nonzero(_bits(single.astype(np.float16)) != exact))
                flat = np.ascontiguousarray(single).reshape(-1)
                round_to_fp16(flat)
                failures[f"{name} kernel rounding"] += int(np.count_nonzero(
                    _bits(flat.astype(np.float16)).reshape(exact.shape) != exact))
            if progress:
                progress(min(start + rows, len(first)), len(first))
    return failures
