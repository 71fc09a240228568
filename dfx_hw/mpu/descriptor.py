"""Building a validated matrix-operation descriptor (:func:`dfx_hw.mpu.layouts.descriptor_layout`)
from Python: for benches, simulators and the core's instruction decoder model."""

import math

import numpy as np

from .layouts import BAND_BITS, DIM_BITS, MatOp, descriptor_layout

__all__ = ["matrix_descriptor", "KIND_NAMES"]

#: Operation names accepted by :func:`matrix_descriptor`.
KIND_NAMES = {"conv1d": MatOp.CONV1D, "maskedmm": MatOp.MASKED_MM, "mm": MatOp.MM}


def _check_int(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], not {value!r}")
    return int(value)


def matrix_descriptor(kind, *, k, n, bias=False, scale=None, token=0, gelu=False,
                      reduce_max=False, band=0, max_rows=2 ** DIM_BITS - 1):
    """The descriptor of one matrix operation, as the integer the ``desc`` stream carries.

    Parameters
    ----------
    kind : str or MatOp
        ``"conv1d"``, ``"maskedmm"`` or ``"mm"``.
    k, n : int
        ``K`` (1 .. ``max_rows``) and ``N`` (1 .. 65535), as the ISA names them.
    bias : bool
        Read a bias beat per column tile (else the accumulator starts at ``+0``).
    scale : float or None
        Multiply the outputs by this FP16 value (must be exactly representable).
    token : int
        MaskedMM: the last visible column (``0 .. n - 1``); must be 0 for other kinds.
    gelu, reduce_max : bool
    band : int
        Column tiles per band of this operation's weight stream (0 = the hardware's).
    max_rows : int
        The hardware's ``max_rows``.

    Raises
    ------
    ValueError
        Naming the offending argument.
    """
    if isinstance(kind, str):
        if kind not in KIND_NAMES:
            raise ValueError(f"kind must be one of {sorted(KIND_NAMES)}, not {kind!r}")
        kind = KIND_NAMES[kind]
    elif not isinstance(kind, MatOp):
        raise ValueError(f"kind must be one of {sorted(KIND_NAMES)} or a MatOp, not {kind!r}")
    k = _check_int("k", k, 1, max_rows)
    n = _check_int("n", n, 1, 2 ** DIM_BITS - 1)
    if kind == MatOp.MASKED_MM:
        token = _check_int("token", token, 0, n - 1)
    elif token != 0:
        raise ValueError(f"token only applies to maskedmm operations, not {kind.name.lower()} "
                         f"(got token={token!r})")
    band = _check_int("band", band, 0, 2 ** BAND_BITS - 1)
    scale_bits = 0
    if scale is not None:
        if not isinstance(scale, (int, float, np.floating)) or isinstance(scale, bool) \
                or not math.isfinite(scale) or float(np.float16(scale)) != float(scale):
            raise ValueError(f"scale must be a finite number exactly representable in FP16, "
                             f"not {scale!r}")
        scale_bits = int(np.float16(scale).view(np.uint16))
    return descriptor_layout().const({
        "op": kind, "k": k, "n": n, "bias": int(bool(bias)),
        "scale_en": int(scale is not None), "scale": scale_bits, "token": token,
        "gelu": int(bool(gelu)), "reduce_max": int(bool(reduce_max)), "band": band,
    }).as_value().value
