"""FP16 arithmetic of the bit-true model: the fast exact paths equal numpy.float16 op by op."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dfx_hw.model.bittrue import fp16

ALL = fp16.from_bits(np.arange(1 << 16, dtype=np.uint16))
FINITE_OR_INF = ALL[~np.isnan(ALL)]

half = st.integers(0, 0xFFFF).map(lambda b: fp16.from_bits(np.uint16(b)))


def numpy_op(op, a, b):
    with np.errstate(all="ignore"):
        return fp16.canonical_nan({"add": np.add, "sub": np.subtract, "mul": np.multiply}[op](
            np.float16(a), np.float16(b)))


@settings(max_examples=400, deadline=None)
@given(half, half, st.sampled_from(["add", "sub", "mul"]))
def test_fast_paths_equal_numpy_float16(a, b, op):
    with np.errstate(all="ignore"):
        got = getattr(fp16, op)(a, b)
    assert fp16.to_bits(got) == fp16.to_bits(numpy_op(op, a, b))


@pytest.mark.parametrize("op", ["add", "mul"])
def test_fast_paths_exhaustive_first_operand(op):
    """Every FP16 value against 48 second operands (random and special) -- 3.1M pairs."""
    rng = np.random.default_rng(1)
    specials = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, 6e-8, -6e-8, 65504, 2.0 ** -14,
                         0.5, 3.0], np.float16)
    others = np.concatenate([specials, fp16.from_bits(rng.integers(0, 1 << 16, 36))])
    a = np.repeat(ALL, len(others))
    b = np.tile(others, len(ALL))
    with np.errstate(all="ignore"):
        expected = fp16.canonical_nan(a + b if op == "add" else a * b)
        got = getattr(fp16, op)(a, b)
    assert np.array_equal(fp16.to_bits(got), fp16.to_bits(expected))


def test_double_to_half_is_direct():
    # 1 + 2**-11 + 2**-40: via float32 it would become the tie 1 + 2**-11 and round to 1.
    assert np.float64(1 + 2 ** -11 + 2 ** -40).astype(np.float16) == np.float16(1 + 2 ** -10)
    assert fp16.round_fp16(np.float64(1 + 2 ** -11 + 2 ** -40)) == np.float16(1 + 2 ** -10)


def test_zero_signs_and_nan():
    pz, nz = np.float16(0.0), np.float16(-0.0)
    assert fp16.to_bits(fp16.add(pz, nz)) == 0x0000
    assert fp16.to_bits(fp16.add(nz, nz)) == 0x8000
    assert fp16.to_bits(fp16.sub(np.float16(3), np.float16(3))) == 0x0000
    assert fp16.to_bits(fp16.mul(nz, np.float16(5))) == 0x8000
    for bits in (fp16.add(np.float16(np.inf), np.float16(-np.inf)),
                 fp16.mul(pz, np.float16(np.inf)), fp16.neg(fp16.from_bits(np.uint16(0x7D01)))):
        assert fp16.to_bits(bits) == fp16.CANONICAL_NAN_BITS


def test_maximum_rules():
    pz, nz = np.float16(0.0), np.float16(-0.0)
    assert fp16.to_bits(fp16.maximum(nz, pz)) == 0 and fp16.to_bits(fp16.maximum(pz, nz)) == 0
    nan = fp16.from_bits(np.uint16(0xFE01))
    assert fp16.to_bits(fp16.maximum(np.float16(1), nan)) == fp16.CANONICAL_NAN_BITS
    assert fp16.to_bits(fp16.maximum(nan, np.float16(np.inf))) == fp16.CANONICAL_NAN_BITS
    # The key order equals the numeric order on all non-NaN values (and -0 < +0).
    keys = fp16.order_key(FINITE_OR_INF)
    order = np.lexsort((np.signbit(FINITE_OR_INF) == 0, FINITE_OR_INF.astype(np.float64)))
    assert np.all(np.diff(keys[order]) > 0)


def test_neg_abs_bits():
    x = FINITE_OR_INF
    assert np.array_equal(fp16.to_bits(fp16.neg(x)), fp16.to_bits(x) ^ 0x8000)
    assert np.array_equal(fp16.to_bits(fp16.abs(x)), fp16.to_bits(x) & 0x7FFF)


def test_bits_round_trip_and_errors():
    assert np.array_equal(fp16.to_bits(ALL), np.arange(1 << 16))
    with pytest.raises(ValueError, match=r"bits must lie in \[0, 0xFFFF\]"):
        fp16.from_bits(np.array([70000]))
    with pytest.raises(ValueError, match="bits must be an integer array"):
        fp16.from_bits(np.array([1.5]))
    with pytest.raises(ValueError, match="x has float64 values that are not exactly representable"):
        fp16.to_bits(np.array([0.1]))
    assert fp16.to_bits(1.5) == 0x3E00  # exactly representable Python floats are accepted


def test_exhaustive_proof_on_special_rows():
    """The exhaustive proof (``dfx numerics --prove``) on the rows most likely to break it:
    zeros, subnormals, the normal/subnormal boundary, 1, the largest finite, inf and NaN."""
    from dfx_hw.model.bittrue.prove import prove_fast_paths

    rows = [0x0000, 0x0001, 0x0155, 0x03FF, 0x0400, 0x0401, 0x3C00, 0x3C01, 0x3BFF, 0x5640,
            0x7BFF, 0x7BFE, 0x7C00, 0x7E00, 0x0200, 0x1000]
    assert prove_fast_paths(rows, rows=16) == {
        "add float32 path": 0, "mul float32 path": 0, "add kernel rounding": 0,
        "mul kernel rounding": 0}
