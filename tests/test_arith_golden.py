"""The bit-level golden models of the FP16 adder and multiplier algorithms against numpy.float16.

(The RTL itself is compared with numpy in ``test_arith_fp16_cocotb.py``; these tests check the
algorithm - window widths, guard/sticky bits, leading-zero limit, packing - on many more inputs
than the simulator can run.)
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dfx_hw.arith.golden import add_bits, mul_bits
from dfx_hw.arith.reference import fp16_add, fp16_mul
from dfx_hw.arith.vectors import CORNER_VALUES, corner_pairs, random_pairs

bits16 = st.integers(min_value=0, max_value=0xFFFF)
# Operands whose magnitudes are close (cancellation), with independent signs.
near = st.tuples(bits16, st.integers(-8, 8), st.booleans()).map(
    lambda t: (t[0], (min(max((t[0] & 0x7FFF) + t[1], 0), 0x7FFF)) | (0x8000 * t[2])))


@settings(max_examples=3000, deadline=None)
@given(bits16, bits16, st.booleans())
def test_golden_add_matches_numpy(a, b, subtract):
    assert add_bits(a, b, subtract) == int(fp16_add(a, b, subtract))


@settings(max_examples=2000, deadline=None)
@given(near, st.booleans())
def test_golden_add_cancellation_matches_numpy(pair, subtract):
    a, b = pair
    assert add_bits(a, b, subtract) == int(fp16_add(a, b, subtract))


@settings(max_examples=3000, deadline=None)
@given(bits16, bits16)
def test_golden_mul_matches_numpy(a, b):
    assert mul_bits(a, b) == int(fp16_mul(a, b))


def test_golden_models_match_numpy_on_corners_and_random_pairs():
    ca, cb = corner_pairs()
    ra, rb = random_pairs(30_000, seed=11)
    a, b = np.concatenate([ca, ra]), np.concatenate([cb, rb])
    subtract = np.arange(len(a)) % 2
    want_add = fp16_add(a, b, subtract)
    want_mul = fp16_mul(a, b)
    got_add = [add_bits(int(x), int(y), int(s)) for x, y, s in zip(a, b, subtract)]
    got_mul = [mul_bits(int(x), int(y)) for x, y in zip(a, b)]
    assert np.array_equal(got_add, want_add)
    assert np.array_equal(got_mul, want_mul)


def test_golden_mul_square_exhaustive():
    values = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    got = [mul_bits(int(x), int(x)) for x in values]
    assert np.array_equal(got, fp16_mul(values, values))


def test_ieee_zero_signs_and_invalid_operations():
    pz, nz, inf, ninf, one = 0x0000, 0x8000, 0x7C00, 0xFC00, 0x3C00
    assert add_bits(pz, nz) == pz and add_bits(nz, nz) == nz and add_bits(nz, pz, True) == nz
    assert add_bits(one, one, True) == pz and add_bits(one | 0x8000, one | 0x8000, True) == pz
    assert add_bits(inf, ninf) == 0x7E00 and add_bits(inf, inf, True) == 0x7E00
    assert mul_bits(inf, pz) == 0x7E00 and mul_bits(nz, one) == nz
    assert all(add_bits(0x7C01, int(v)) == 0x7E00 for v in CORNER_VALUES)
