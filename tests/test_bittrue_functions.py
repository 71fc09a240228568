"""Unary functions of the bit-true model (GELU, exp, recip, rsqrt): tables' special cases, the
fast path equal to the recipe on all 65,536 inputs, and the recipes' stated operation order
replayed step by step with numpy.float16 scalars."""

import math

import numpy as np
import pytest

from dfx_hw.model.bittrue import accuracy, fp16, functions, tables

F16 = np.float16
ALL = fp16.from_bits(np.arange(1 << 16, dtype=np.uint16))
NAN = fp16.CANONICAL_NAN_BITS


def bits(x):
    return int(fp16.to_bits(F16(x)))


@pytest.mark.parametrize("name", sorted(functions.RECIPES))
def test_fast_path_equals_recipe_on_all_inputs(name):
    assert np.array_equal(fp16.to_bits(functions.FUNCTIONS[name](ALL)),
                          fp16.to_bits(functions.RECIPES[name](ALL)))


@pytest.mark.parametrize("name", sorted(functions.RECIPES))
def test_nan_in_canonical_nan_out(name):
    nans = ALL[np.isnan(ALL)]
    assert np.all(fp16.to_bits(functions.FUNCTIONS[name](nans)) == NAN)


def test_special_cases():
    f = functions
    inf = F16(np.inf)
    cases = [
        (f.recip, 0.0, 0x7C00), (f.recip, -0.0, 0xFC00), (f.recip, inf, 0x0000),
        (f.recip, -inf, 0x8000), (f.recip, 2.0 ** -24, 0x7C00), (f.recip, 1.0, bits(1.0)),
        (f.recip, -4.0, bits(-0.25)), (f.recip, 32768.0, bits(2.0 ** -15)),
        (f.rsqrt, 0.0, 0x7C00), (f.rsqrt, -0.0, 0xFC00), (f.rsqrt, -1.0, NAN),
        (f.rsqrt, -inf, NAN), (f.rsqrt, inf, 0x0000), (f.rsqrt, 4.0, bits(0.5)),
        (f.rsqrt, 2.0 ** -24, bits(4096.0)),
        (f.exp, 0.0, bits(1.0)), (f.exp, -0.0, bits(1.0)), (f.exp, -inf, 0x0000),
        (f.exp, inf, 0x7C00), (f.exp, 12.0, 0x7C00), (f.exp, -20.0, 0x0000),
        (f.gelu, 0.0, 0x0000), (f.gelu, 8.0, bits(8.0)), (f.gelu, 100.0, bits(100.0)),
        (f.gelu, inf, 0x7C00), (f.gelu, -8.0, 0x8000), (f.gelu, -inf, 0x8000),
    ]
    for function, x, expected in cases:
        got = int(fp16.to_bits(function(F16(x))))
        assert got == expected, f"{function.__name__}({x}) = {got:#06x}, expected {expected:#06x}"


def test_exp_limits_are_correctly_rounded():
    """Around the overflow and underflow thresholds the result equals fp16(exp(x))."""
    finite = ALL[np.isfinite(ALL)].astype(np.float64)
    x = finite[(np.abs(finite - 11.09) < 0.1) | (np.abs(finite + 17.33) < 0.15)].astype(F16)
    with np.errstate(over="ignore"):
        expected = np.exp(x.astype(np.float64)).astype(F16)
        got = functions.exp(x)
    assert np.array_equal(np.isinf(got), np.isinf(expected))
    assert np.array_equal(got == 0, expected == 0)


def gelu_by_hand(x):
    """Replays the docstring of gelu_recipe with numpy.float16 scalars."""
    x = F16(x)
    if x >= 8:
        return x
    if x <= -8:
        return F16(-0.0)
    u = F16(abs(x) * F16(128))
    i = int(math.floor(u))
    f = F16(u - F16(i))
    assert float(f) == float(abs(float(x)) * 128 - i)  # f is exact
    address = (int(np.signbit(x)) << 10) | i
    t, d = tables.gelu_table()
    return F16(t[address] + F16(f * d[address]))


def exp_by_hand(x):
    x = F16(x)
    a = math.trunc(float(x) * 16)
    if a > tables.EXP_A_MAX:
        return F16(np.inf)
    if a < tables.EXP_A_MIN:
        return F16(0.0)
    b = float(x) - a / 16
    u = abs(b) * 1024
    j = int(math.floor(u))
    f = F16(u - j)
    assert float(f) == u - j
    m, e, t, d = tables.exp_table()
    address = (int(np.signbit(x)) << 6) | j
    g = F16(t[address] + F16(f * d[address]))
    mm = m[a - tables.EXP_A_MIN]
    y = F16(mm + F16(mm * g))
    return F16(math.ldexp(float(y), int(e[a - tables.EXP_A_MIN])))


def recip_by_hand(x):
    x = F16(x)
    mantissa, exponent = math.frexp(abs(float(x)))
    m, e = 2 * mantissa, exponent - 1
    frac = int(round((m - 1) * 1024))
    t, d = tables.recip_table()
    y = F16(t[frac >> 3] + F16(F16((frac & 7) / 8) * d[frac >> 3]))
    result = F16(math.ldexp(float(y), -e))
    return -result if np.signbit(x) else result


def rsqrt_by_hand(x):
    mantissa, exponent = math.frexp(float(x))
    m, e = 2 * mantissa, exponent - 1
    frac = int(round((m - 1) * 1024))
    p = e % 2
    address = (p << 7) | (frac >> 3)
    t, d = tables.rsqrt_table()
    y = F16(t[address] + F16(F16((frac & 7) / 8) * d[address]))
    return F16(math.ldexp(float(y), -(e - p) // 2))


@pytest.mark.parametrize("name,by_hand,low,high", [
    ("gelu", gelu_by_hand, -9.0, 9.0), ("exp", exp_by_hand, -18.0, 11.5),
    ("recip", recip_by_hand, -65504.0, 65504.0), ("rsqrt", rsqrt_by_hand, 1e-7, 65504.0)])
def test_recipe_docstrings_replayed_by_hand(name, by_hand, low, high):
    rng = np.random.default_rng(5)
    candidates = ALL[np.isfinite(ALL) & (ALL != 0) & (ALL >= low) & (ALL <= high)]
    sample = np.concatenate([rng.choice(candidates, 300), candidates[:20], candidates[-20:]])
    got = functions.FUNCTIONS[name](sample)
    with np.errstate(over="ignore", under="ignore"):
        expected = [by_hand(x) for x in sample]
    for x, g, e in zip(sample, got, expected):
        assert bits(g) == bits(e), f"{name}({x})"


def test_tables_are_shared_and_read_only():
    t, _ = tables.gelu_table()
    assert t is tables.gelu_table()[0] and len(t) == 2048
    with pytest.raises(ValueError):
        t[0] = 1


@pytest.mark.parametrize("name,min_abs,bound", [
    ("exp", 0, 1.5), ("recip", 0, 1.0), ("rsqrt", 0, 1.0), ("gelu", 0, 13.0),
    ("gelu", 2.0 ** -7, 2.5), ("gelu", 2.0 ** -4, 1.3)])
def test_accuracy_bounds(name, min_abs, bound):
    """Worst error in ulp (at the exact result's binade) over all non-NaN inputs: the bounds
    stated in docs/numerics.md hold."""
    measured = accuracy.unary_accuracy(name, min_abs=min_abs)
    assert measured.worst_ulp <= bound
    assert measured.correctly_rounded > 0.6


def test_ulp_definition():
    assert accuracy.ulp_at(np.array([1.0, 1.5, 0.75, 0.0, 2.0 ** -20, 65504.0])).tolist() == [
        2.0 ** -10, 2.0 ** -10, 2.0 ** -11, 2.0 ** -24, 2.0 ** -24, 32.0]
