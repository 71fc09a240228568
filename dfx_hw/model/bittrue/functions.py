"""Bit-true unary functions of the special-function units: GELU (SFU_M), exp, recip, rsqrt
(SFU_V), each defined by its table-plus-interpolation recipe over the ROMs of :mod:`.tables`.

``*_recipe`` functions are the definitions, written step by step with the FP16 operations of
:mod:`.fp16`; a hardware engineer builds the unit from their docstrings. The public functions
(:func:`gelu`, :func:`exp`, :func:`recip`, :func:`rsqrt`) return the same bits through a
65,536-entry table of the recipe's results indexed by the input's bit pattern (fast; equality with
the recipe over every input is tested).

Notation: ``fp16(...)`` is one rounding to FP16 (RNE); ``ldexp(y, n)`` is ``y * 2**n`` rounded once
to FP16 (RNE, gradual underflow, overflow to inf) -- an exponent adder plus the FP16 multiplier's
normalise/round stage (for ``2**n`` representable it equals ``fp16(y * 2**n)``). Every NaN result is
the canonical NaN ``0x7E00``. A finite non-zero input is ``x = (-1)**s * m * 2**e`` with ``m`` in
``[1, 2)`` (subnormals normalised by a leading-zero count) and ``F = (m - 1) * 2**10`` its 10-bit
fraction field (an integer).
"""

from functools import lru_cache

import numpy as np

from . import tables
from .fp16 import add, as_fp16, canonical_nan, from_bits, mul

__all__ = [
    "gelu", "exp", "recip", "rsqrt", "gelu_recipe", "exp_recipe", "recip_recipe", "rsqrt_recipe",
    "EXACT", "FUNCTIONS",
]

_F16 = np.float16
_NAN = np.float16(np.nan)
_INF = np.float16(np.inf)


def _split(x):
    """(sign, m, e, F) of finite x (zeros give m = 0): float64 m in [1, 2), int e, int F."""
    mm, ee = np.frexp(np.abs(x.astype(np.float64)))
    m = 2.0 * mm
    e = ee.astype(np.int64) - 1
    frac = np.where(m > 0, np.round((m - 1.0) * 1024.0), 0).astype(np.int64)
    return np.signbit(x), m, e, frac


def _interpolate(table_t, table_d, address, f):
    """The segment interpolator: ``fp16(T[address] + fp16(f * D[address]))``."""
    with np.errstate(over="ignore"):
        return add(table_t[address], mul(f.astype(_F16), table_d[address]))


def _ldexp(y, n):
    with np.errstate(over="ignore"):
        return np.ldexp(y.astype(np.float64), n).astype(_F16)


def _finish(x, result, special):
    """Apply ``special`` (list of (mask, value)) over ``result``; canonical NaN for NaN inputs."""
    for mask, value in special:
        result = np.where(mask, value, result)
    result = np.where(np.isnan(x), _NAN, result)
    return canonical_nan(result.astype(_F16))


def gelu_recipe(x):
    """GELU (``gelu_new``) by table and linear interpolation (SFU_M).

    1. NaN -> NaN. ``x >= 8`` (incl. +inf) -> ``x``. ``x <= -8`` (incl. -inf) -> ``-0``.
    2. Otherwise ``u = |x| * 2**7`` (exact: exponent + 7), ``i = floor(u)`` (``0..1023``),
       ``f = u - i`` (exact, the fraction bits of ``u``), address ``a = s << 10 | i`` with ``s`` the
       sign bit of ``x``.
    3. ``y = fp16(T[a] + fp16(f * D[a]))`` with ``(T, D) = tables.gelu_table()``.
    """
    x = as_fp16(x)
    finite = np.isfinite(x) & (np.abs(x) < tables.GELU_LIMIT)
    xs = np.where(finite, x, _F16(0))
    u = np.abs(xs.astype(np.float64)) * (1 << tables.GELU_STEP_LOG2)
    i = np.floor(u).astype(np.int64)
    address = (np.signbit(xs).astype(np.int64) << 10) | i
    table_t, table_d = tables.gelu_table()
    y = _interpolate(table_t, table_d, address, u - i)
    return _finish(x, y, [(x >= tables.GELU_LIMIT, x), (x <= -tables.GELU_LIMIT, _F16(-0.0))])


def exp_recipe(x):
    """``e**x`` (SFU_V ``exp``) by a coarse table, an expm1 segment and one multiply-add.

    1. NaN -> NaN; +inf -> +inf; -inf -> +0.
    2. ``a = trunc(16 x)`` (toward zero; integer logic on the bits). ``a > 177`` -> +inf,
       ``a < -278`` -> +0.
    3. ``b = x - a / 16`` (exact: the input's bits below 2**-4; ``|b| < 1/16``, sign of ``x``);
       ``u = |b| * 2**10``, ``j = floor(u)`` (``0..63``), ``f = u - j`` (exact), address
       ``sign(x) << 6 | j``.
    4. ``g = fp16(T[address] + fp16(f * D[address]))`` (expm1 table: ``g ~ e**b - 1``).
    5. ``M, E = EXP_M[a + 278], EXP_E[a + 278]`` (``e**(a/16) ~ M * 2**E``);
       ``y = fp16(M + fp16(M * g))``.
    6. Result ``ldexp(y, E)`` (rounds once more only when the result is subnormal or overflows).
    """
    x = as_fp16(x)
    x64 = np.where(np.isfinite(x), x, _F16(0)).astype(np.float64)
    a = np.trunc(x64 * (1 << tables.EXP_A_LOG2)).astype(np.int64)
    low, high = a < tables.EXP_A_MIN, a > tables.EXP_A_MAX
    a = np.clip(a, tables.EXP_A_MIN, tables.EXP_A_MAX)
    b = x64 - a / (1 << tables.EXP_A_LOG2)
    u = np.abs(b) * (1 << tables.EXPM1_STEP_LOG2)
    j = np.minimum(np.floor(u).astype(np.int64), tables.EXPM1_SEGMENTS_PER_SIGN - 1)
    address = (np.signbit(x).astype(np.int64) << 6) | j
    table_m, table_e, table_t, table_d = tables.exp_table()
    g = _interpolate(table_t, table_d, address, u - j)
    m = table_m[a - tables.EXP_A_MIN]
    y = add(m, mul(m, g))
    result = _ldexp(y, table_e[a - tables.EXP_A_MIN].astype(np.int64))
    return _finish(x, result, [(low | (x == -_INF), _F16(0.0)), (high | (x == _INF), _INF)])


def recip_recipe(x):
    """``1 / x`` (SFU_V ``recip``) from a table over the significand.

    1. NaN -> NaN; ``+-0 -> +-inf``; ``+-inf -> +-0``.
    2. ``x = (-1)**s m 2**e``; ``j = F >> 3`` (top 7 fraction bits), ``f = (F & 7) / 8`` (exact).
    3. ``y = fp16(T[j] + fp16(f * D[j]))`` with ``(T, D) = tables.recip_table()``, ``y`` in
       ``[0.5, 1]``.
    4. Result ``(-1)**s * ldexp(y, -e)`` (overflows to inf for ``|x| < 2**-16``, subnormal for
       ``|x| > 2**14``).
    """
    x = as_fp16(x)
    finite = np.isfinite(x) & (x != 0)
    sign, _, e, frac = _split(np.where(finite, x, _F16(1)))
    low_bits = tables.RECIP_INDEX_BITS
    j = frac >> (10 - low_bits)
    f = (frac & ((1 << (10 - low_bits)) - 1)) / (1 << (10 - low_bits))
    y = _interpolate(*tables.recip_table(), j, f)
    result = _ldexp(y, -e)
    result = np.where(sign, -result, result)
    signed_inf = np.where(np.signbit(x), -_INF, _INF)
    signed_zero = np.where(np.signbit(x), _F16(-0.0), _F16(0.0))
    return _finish(x, result, [(x == 0, signed_inf), (np.isinf(x), signed_zero)])


def rsqrt_recipe(x):
    """``1 / sqrt(x)`` (SFU_V ``recip_sqrt``) from a table over the significand and exponent
    parity.

    1. NaN -> NaN; ``x < 0`` (incl. -inf) -> NaN; ``-0 -> -inf``; ``+0 -> +inf``; ``+inf -> +0``.
    2. ``x = m 2**e``; ``p = e mod 2`` (0 or 1), ``q = (e - p) / 2``; ``j = F >> 3``,
       ``f = (F & 7) / 8`` (exact); address ``p << 7 | j``.
    3. ``y = fp16(T[a] + fp16(f * D[a]))`` with ``(T, D) = tables.rsqrt_table()``
       (``y ~ (m 2**p)**-0.5`` in ``(0.5, 1]``).
    4. Result ``ldexp(y, -q)`` (always a normal number).
    """
    x = as_fp16(x)
    finite = np.isfinite(x) & (x > 0)
    _, _, e, frac = _split(np.where(finite, x, _F16(1)))
    parity = e & 1
    low_bits = tables.RSQRT_INDEX_BITS
    j = frac >> (10 - low_bits)
    f = (frac & ((1 << (10 - low_bits)) - 1)) / (1 << (10 - low_bits))
    y = _interpolate(*tables.rsqrt_table(), (parity << low_bits) | j, f)
    result = _ldexp(y, -((e - parity) >> 1))
    zero_result = np.where(np.signbit(x), -_INF, _INF)
    return _finish(x, result, [(x < 0, _NAN), (x == 0, zero_result), (x == _INF, _F16(0.0))])


#: The recipes by name (the definitions).
RECIPES = {"gelu": gelu_recipe, "exp": exp_recipe, "recip": recip_recipe, "rsqrt": rsqrt_recipe}


def _exact_rsqrt(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 / np.sqrt(x)


def _exact_recip(x):
    with np.errstate(divide="ignore"):
        return 1.0 / x


def _exact_exp(x):
    with np.errstate(over="ignore"):
        return np.exp(x)


#: The exact (float64) functions the recipes approximate, for error measurement.
EXACT = {"gelu": tables.gelu_exact, "exp": _exact_exp, "recip": _exact_recip,
         "rsqrt": _exact_rsqrt}


@lru_cache(maxsize=None)
def full_table(name):
    """The recipe ``name`` evaluated on all 65,536 FP16 bit patterns (read-only float16 array
    indexed by the input's bits)."""
    everything = from_bits(np.arange(1 << 16, dtype=np.uint16))
    result = RECIPES[name](everything)
    result.setflags(write=False)
    return result


def _lookup(name, x):
    x = as_fp16(x)
    return full_table(name)[x.view(np.uint16)]


def gelu(x):
    """GELU of every element, bit-identical to :func:`gelu_recipe` (fast table path)."""
    return _lookup("gelu", x)


def exp(x):
    """``e**x`` of every element, bit-identical to :func:`exp_recipe` (fast table path)."""
    return _lookup("exp", x)


def recip(x):
    """``1/x`` of every element, bit-identical to :func:`recip_recipe` (fast table path)."""
    return _lookup("recip", x)


def rsqrt(x):
    """``1/sqrt(x)`` of every element, bit-identical to :func:`rsqrt_recipe` (fast table path)."""
    return _lookup("rsqrt", x)


#: The fast public functions by name.
FUNCTIONS = {"gelu": gelu, "exp": exp, "recip": recip, "rsqrt": rsqrt}
