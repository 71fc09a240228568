"""The one generator of every lookup table of DFX (GELU, exp, reciprocal, reciprocal square root).

Hardware ROMs, the bit-true functions (:mod:`.functions`), the simulators and the documentation
all import the arrays built here; nothing else computes a table. Each table is generated in float64
from the exact function and rounded once to FP16 (round to nearest even).

All four functions share one interpolation step, the *segment interpolator*::

    y = fp16( T[j] + fp16( f * D[j] ) )          # one FP16 multiplier, then one FP16 adder

where ``T[j]`` is the function at the start of segment ``j``, ``D[j]`` the difference to the start
of the next segment (both FP16), and ``f`` in ``[0, 1)`` the position inside the segment. In every
recipe ``f`` is a run of contiguous significand bits of the input, so it is an *exact* FP16 value
obtained by integer logic (a shift and a normalisation); no rounding happens before the multiplier.

Table layout (ROM address -> entry); ``h`` is the segment width:

* GELU (``gelu_new``, tanh form): 2048 segments over ``[-8, 8]``, ``h = 2**-7``. Address
  ``sign << 10 | i`` (``i = 0..1023``): ``T = gelu(s * i * h)``, ``D = gelu(s * (i+1) * h) - T``
  with ``s = +1`` for ``sign = 0`` and ``-1`` for ``sign = 1`` (the input's own sign bit), so
  ``f = frac(|x| / h)`` is exact for both signs. 2048 x (16 + 16) bits.
* exp: ``EXP_M`` / ``EXP_E`` (456 entries, address ``a - EXP_A_MIN`` for ``a = trunc(16 x)`` in
  ``[-278, 177]``): ``exp(a / 16) = M * 2**E`` with ``M`` in ``[1, 2]`` (FP16) and a 6-bit
  signed ``E``; ``EXPM1_T`` / ``EXPM1_D`` (128 entries, address ``sign << 6 | j``, ``h = 2**-10``):
  ``T = expm1(s * j * h)``, ``D = expm1(s * (j+1) * h) - T``.
* reciprocal: 128 segments of the significand ``m`` in ``[1, 2)``, ``h = 2**-7``:
  ``T = 1 / (1 + j h)``, ``D = 1 / (1 + (j+1) h) - T``.
* reciprocal square root: 256 segments, address ``p << 7 | j`` where ``p`` is the exponent's
  parity: the segment covers ``s = 2**p * (1 + j h ... 1 + (j+1) h)``, ``T = s**-0.5`` at its
  start, ``D`` the difference to its end.
"""

from functools import lru_cache
import math

import numpy as np

__all__ = [
    "gelu_exact", "GELU_LIMIT", "GELU_STEP_LOG2", "GELU_SEGMENTS_PER_SIGN", "gelu_table",
    "EXP_A_MIN", "EXP_A_MAX", "EXP_A_LOG2", "EXPM1_STEP_LOG2", "EXPM1_SEGMENTS_PER_SIGN",
    "exp_table", "RECIP_INDEX_BITS", "recip_table", "RSQRT_INDEX_BITS", "rsqrt_table",
    "table_bits",
]

_F16 = np.float16

# ---------------------------------------------------------------------------------------------
# GELU
#: Inputs with ``|x| >= GELU_LIMIT`` bypass the table: ``x`` for ``x >= 8``, ``-0`` for ``x <= -8``.
GELU_LIMIT = 8
#: Segment width ``h = 2**-GELU_STEP_LOG2``.
GELU_STEP_LOG2 = 7
#: Segments per sign: ``GELU_LIMIT / h`` = 1024 (2048 in all).
GELU_SEGMENTS_PER_SIGN = GELU_LIMIT << GELU_STEP_LOG2


def gelu_exact(x):
    """GPT-2's ``gelu_new`` in float64: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + np.tanh(inner))


def _segments(function, starts, ends):
    """(T, D) as FP16: the function at the segment starts and the difference to the ends."""
    start_values = function(starts)
    return start_values.astype(_F16), (function(ends) - start_values).astype(_F16)


@lru_cache(maxsize=None)
def gelu_table():
    """GELU ROM: ``(T, D)``, two read-only float16 arrays of 2048 entries, address
    ``sign << 10 | i``."""
    i = np.arange(GELU_SEGMENTS_PER_SIGN, dtype=np.float64)
    h = 2.0 ** -GELU_STEP_LOG2
    parts = [_segments(gelu_exact, s * i * h, s * (i + 1) * h) for s in (1.0, -1.0)]
    return _frozen(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


# ---------------------------------------------------------------------------------------------
# exp
#: ``a = trunc(16 x)`` (toward zero): the coarse part of the input, ``x = a / 16 + b``.
EXP_A_LOG2 = 4
#: Smallest / largest ``a`` in the table; below: result +0, above: +inf.
EXP_A_MIN = -278
EXP_A_MAX = 177
#: Segment width of the expm1 table: ``2**-10`` over ``|b| < 1/16`` (64 segments per sign).
EXPM1_STEP_LOG2 = 10
EXPM1_SEGMENTS_PER_SIGN = 1 << (EXPM1_STEP_LOG2 - EXP_A_LOG2)


@lru_cache(maxsize=None)
def exp_table():
    """exp ROMs: ``(M, E, T, D)``.

    ``M`` (float16, in ``[1, 2]``) and ``E`` (int8) at address ``a - EXP_A_MIN``:
    ``exp(a / 16) ~= M * 2**E``, ``E = floor(log2(exp(a / 16)))`` and ``M`` that quotient rounded
    to FP16. ``T``, ``D`` (float16, 128 entries, address ``sign << 6 | j``): expm1 segments.
    """
    a = np.arange(EXP_A_MIN, EXP_A_MAX + 1, dtype=np.float64) / (1 << EXP_A_LOG2)
    value = np.exp(a)
    exponent = np.floor(np.log2(value))
    # Guard the floor against log2 rounding: make value / 2**E land in [1, 2).
    exponent = np.where(value / 2.0 ** exponent >= 2.0, exponent + 1, exponent)
    exponent = np.where(value / 2.0 ** exponent < 1.0, exponent - 1, exponent)
    mantissa = (value / 2.0 ** exponent).astype(_F16)
    j = np.arange(EXPM1_SEGMENTS_PER_SIGN, dtype=np.float64)
    h = 2.0 ** -EXPM1_STEP_LOG2
    parts = [_segments(np.expm1, s * j * h, s * (j + 1) * h) for s in (1.0, -1.0)]
    return _frozen(mantissa, exponent.astype(np.int8),
                   np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


# ---------------------------------------------------------------------------------------------
# reciprocal and reciprocal square root: tables over the significand
#: Significand bits that address the reciprocal table (the other 3 bits form ``f``).
RECIP_INDEX_BITS = 7
#: Significand bits that address the rsqrt table (plus the exponent's parity bit).
RSQRT_INDEX_BITS = 7


@lru_cache(maxsize=None)
def recip_table():
    """Reciprocal ROM ``(T, D)``: 128 segments of ``1/m`` for ``m`` in ``[1, 2)``."""
    h = 2.0 ** -RECIP_INDEX_BITS
    m = 1.0 + np.arange(1 << RECIP_INDEX_BITS, dtype=np.float64) * h
    return _frozen(*_segments(lambda s: 1.0 / s, m, m + h))


@lru_cache(maxsize=None)
def rsqrt_table():
    """Reciprocal-square-root ROM ``(T, D)``: 256 segments of ``s**-0.5``, address
    ``p << 7 | j``, ``s = 2**p * (1 + j / 128)``, ``p`` in ``{0, 1}``."""
    h = 2.0 ** -RSQRT_INDEX_BITS
    m = 1.0 + np.arange(1 << RSQRT_INDEX_BITS, dtype=np.float64) * h
    s = np.concatenate([m, 2.0 * m])
    step = np.concatenate([np.full_like(m, h), np.full_like(m, 2.0 * h)])
    return _frozen(*_segments(lambda v: 1.0 / np.sqrt(v), s, s + step))


def _frozen(*arrays):
    for array in arrays:
        array.setflags(write=False)
    return arrays


def table_bits():
    """Every ROM as ``{name: (entries, bits per entry)}`` -- the sizes the hardware allocates."""
    gelu_t, _ = gelu_table()
    m, _, t, _ = exp_table()
    return {
        "gelu (T, D)": (len(gelu_t), 32),
        "exp (M, E)": (len(m), 16 + 6),
        "expm1 (T, D)": (len(t), 32),
        "recip (T, D)": (len(recip_table()[0]), 32),
        "rsqrt (T, D)": (len(rsqrt_table()[0]), 32),
    }
