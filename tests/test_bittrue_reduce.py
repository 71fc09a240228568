"""Reduction orders of the bit-true model: adder tree, tile accumulation, VPU accumulation,
reduce-max/argmax. Each order test has a case where another order gives different bits."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dfx_hw.model.bittrue import fp16
from dfx_hw.model.bittrue import reduce
from dfx_hw.model.bittrue.reduce import (argmax, mfu_matmul, mfu_matvec, tree_sum, vpu_amax,
                                         vpu_max, vpu_sum)

F16 = np.float16


def f16(values):
    return np.array(values, F16)


def bits(x):
    return fp16.to_bits(x)


def slow_tree(values):
    """Op-by-op numpy.float16 pairwise tree (independent of the module's float32 path)."""
    level = [F16(v) for v in values]
    size = 1 << (len(level) - 1).bit_length()
    level += [F16(0.0)] * (size - len(level))
    with np.errstate(over="ignore", invalid="ignore"):
        while len(level) > 1:
            level = [F16(level[2 * i] + level[2 * i + 1]) for i in range(len(level) // 2)]
    return level[0]


def slow_matvec(x, w, bias, d):
    k, n = w.shape
    tiles = -(-k // d)
    out = []
    for col in range(n):
        acc = F16(0.0) if bias is None else bias[col]
        for t in range(tiles):
            rows = range(t * d, min(k, (t + 1) * d))
            acc = F16(acc + slow_tree([F16(x[r] * w[r, col]) for r in rows] +
                                      [F16(0.0)] * (d - len(rows))))
        out.append(acc)
    return fp16.canonical_nan(np.array(out, F16))


def test_tree_order_pairs_neighbours():
    # Pairs (0,1),(2,3): (2048+1 -> 2048 tie-to-even) + (1+1) = 2050; a sequential chain gives 2048.
    assert tree_sum(f16([2048, 1, 1, 1])) == 2050
    assert F16(F16(F16(F16(2048) + F16(1)) + F16(1)) + F16(1)) == 2048
    # Pairing (0,2),(1,3) would give (2048-2048) + (1+1) = 2; the neighbour tree gives 2048-2047.
    assert tree_sum(f16([2048, 1, -2048, 1])) == 1


def test_tree_pads_with_positive_zero():
    assert bits(tree_sum(f16([-0.0]))) == 0x8000           # one element: unchanged
    assert bits(tree_sum(f16([-0.0, -0.0]))) == 0x8000
    assert bits(tree_sum(f16([-0.0, -0.0, -0.0]))) == 0x0000  # padded with +0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-60000, 60000, width=16), min_size=1, max_size=40))
def test_tree_equals_op_by_op(values):
    assert bits(tree_sum(f16(values))) == bits(fp16.canonical_nan(slow_tree(values)))


def test_tree_sum_axis():
    x = np.random.default_rng(2).standard_normal((5, 7, 3)).astype(F16)
    got = tree_sum(x, axis=1)
    assert got.shape == (5, 3)
    assert bits(got[4, 2]) == bits(slow_tree(x[4, :, 2]))


@pytest.mark.parametrize("k,n,d", [(1, 1, 4), (13, 5, 4), (64, 3, 64), (130, 17, 64), (9, 2, 1)])
def test_mfu_matvec_equals_op_by_op(k, n, d):
    rng = np.random.default_rng(k * 100 + n)
    x = rng.standard_normal(k).astype(F16)
    w = (rng.standard_normal((k, n)) * 3).astype(F16)
    bias = rng.standard_normal(n).astype(F16)
    assert np.array_equal(bits(mfu_matvec(x, w, bias, d=d)), bits(slow_matvec(x, w, bias, d)))
    assert np.array_equal(bits(mfu_matvec(x, w, d=d)), bits(slow_matvec(x, w, None, d)))


def test_tile_accumulation_order_is_ascending():
    # Tiles of d=2: sums 2048, 1, 1 -> ascending from bias 0: 2048+1=2048 (tie to even), +1=2048;
    # descending order would give (1+1)+2048 = 2050.
    x = f16([1, 0, 1, 0, 1, 0])
    w = f16([[2048], [0], [1], [0], [1], [0]])
    assert mfu_matvec(x, w, d=2)[0] == 2048
    # Bias starts the accumulator: 2048 + 1 (tile 0) -> 2048 (tie to even), then +1 +1 ...
    w2 = f16([[1], [0], [1], [0], [0], [0]])
    assert mfu_matvec(x, w2, f16([2048]), d=2)[0] == 2048
    # ... whereas adding the bias last would give 2048 + 2 = 2050.
    assert F16(F16(1 + 1) + 2048) == 2050


def test_batched_equals_row_by_row_and_column_split():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 100)).astype(F16)
    w = rng.standard_normal((100, 40)).astype(F16)
    bias = rng.standard_normal(40).astype(F16)
    batched = mfu_matmul(x, w, bias, d=16)
    for r in range(6):
        assert np.array_equal(bits(batched[r]), bits(mfu_matvec(x[r], w, bias, d=16)))
    # Splitting columns over cores/lanes changes no bit.
    left = mfu_matmul(x, w[:, :13], bias[:13], d=16)
    right = mfu_matmul(x, w[:, 13:], bias[13:], d=16)
    assert np.array_equal(bits(np.concatenate([left, right], axis=1)), bits(batched))


def test_mfu_nan_is_canonical():
    x = f16([np.inf, 1.0])
    w = f16([[0.0], [1.0]])
    assert bits(mfu_matvec(x, w, d=2))[0] == fp16.CANONICAL_NAN_BITS


def test_vpu_sum_order():
    # lanes=2: chunk sums c = [1+1, 2048+1] = [2, 2048] (2049 ties to even 2048); partials
    # p = [2, 2048, +0 x 6]; tree ((2+2048) + (0+0)) + ((0+0) + (0+0)) = 2050.
    # lanes=1: partials p = [1, 1, 2048, 1, +0 x 4]; tree (1+1) = 2, (2048+1) = 2049 -> 2048
    # (tie to even), 2 + 2048 = 2050, + 0 = 2050. (The old serial order 0+1+1+2048+1 gave 2052.)
    x = f16([1, 1, 2048, 1])
    assert vpu_sum(x, lanes=2) == 2050
    assert vpu_sum(x, lanes=1) == 2050
    assert bits(vpu_sum(f16([-0.0]), lanes=4)) == 0x0000  # partials start at +0
    assert bits(vpu_sum(f16([-0.0] * 40), lanes=4)) == 0x0000
    # More than P = 8 chunks (lanes=1): chunk 8 goes back to partial 0.
    # y = [2048, 1 x 8]: p0 = 2048 + y[8] = 2049 -> 2048 (tie to even), p1..p7 = 1;
    # (p0+p1) = 2049 -> 2048, (p2+p3) = 2, (p4+p5) = 2, (p6+p7) = 2; 2048 + 2 = 2050, 2 + 2 = 4;
    # 2050 + 4 = 2054. The old serial order lost every 1 (2048 + 1 ties to 2048): 2048.
    y = f16([2048] + [1] * 8)
    assert reduce.SUM_PARTIALS == 8
    assert vpu_sum(y, lanes=1) == 2054
    # lanes=2, z = [2048, 1 x 17]: 9 chunks [2048, 1], [1, 1] x 8; chunk sums
    # c = [2049 -> 2048, 2 x 8]; p0 = 2048 + c[8] = 2050,
    # p1..p7 = 2; (2050+2) = 2052, (2+2) = 4 three times; 2052 + 4 = 2056, 4 + 4 = 8;
    # 2056 + 8 = 2064. (Serially: 2048 + 2 + 2 ... = 2064 too, but y above shows the change.)
    z = f16([2048] + [1] * 17)
    assert vpu_sum(z, lanes=2) == 2064


def slow_vpu_sum(values, lanes, partials=8):
    """The new ACCUM order op by op with numpy.float16 scalars (independent of the module's
    vectorised float32 path): chunk trees, ``partials`` running sums, a pairwise tree."""
    chunks = [values[i:i + lanes] for i in range(0, len(values), lanes)]
    p = [F16(0.0)] * partials
    with np.errstate(over="ignore", invalid="ignore"):
        for j, chunk in enumerate(chunks):
            p[j % partials] = F16(p[j % partials] + slow_tree(list(chunk) + [0.0] *
                                                              (lanes - len(chunk))))
    return fp16.canonical_nan(np.array([slow_tree(p)], F16))[0]


def old_serial_vpu_sum(values, lanes):
    """The previous ACCUM order (one running sum over the chunk sums), for contrast."""
    chunks = [values[i:i + lanes] for i in range(0, len(values), lanes)]
    acc = F16(0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        for chunk in chunks:
            acc = F16(acc + slow_tree(list(chunk) + [0.0] * (lanes - len(chunk))))
    return fp16.canonical_nan(np.array([acc], F16))[0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1000, 1000, width=16), min_size=1, max_size=70),
       st.sampled_from([1, 2, 4, 16]))
def test_vpu_sum_equals_op_by_op(values, lanes):
    assert bits(vpu_sum(f16(values), lanes=lanes)) == bits(slow_vpu_sum(values, lanes))


def test_vpu_sum_more_than_p_chunks_changed_order():
    """Vectors of more than SUM_PARTIALS chunks: ACCUM equals the op-by-op partial-sum order and
    (for some inputs) differs from the old serial order, so the contract really changed."""
    rng = np.random.default_rng(7)
    lanes = 16
    differs = 0
    for n in (lanes * reduce.SUM_PARTIALS + 1, 1024, 1600):
        for _ in range(20):
            x = (rng.standard_normal(n) * rng.choice([1, 100, 3000])).astype(F16)
            got = vpu_sum(x, lanes=lanes)
            assert bits(got) == bits(slow_vpu_sum(list(x), lanes))
            differs += bits(got) != bits(old_serial_vpu_sum(list(x), lanes))
    assert differs > 0
    # Special values: NaN canonical, inf, and -inf + inf in different partials -> NaN.
    x = np.zeros(lanes * 9, F16)
    x[0], x[lanes] = np.inf, -np.inf
    assert bits(vpu_sum(x, lanes=lanes)) == fp16.CANONICAL_NAN_BITS
    x[lanes] = 1
    assert bits(vpu_sum(x, lanes=lanes)) == 0x7C00


def test_vpu_sum_batched_rows():
    x = np.random.default_rng(4).standard_normal((3, 37)).astype(F16)
    got = vpu_sum(x, lanes=8)
    for r in range(3):
        assert bits(got[r]) == bits(vpu_sum(x[r], lanes=8))


def test_argmax_rules():
    value, index = argmax(f16([1, 3, -2, 3, 0]), lanes=2)
    assert value == 3 and index == 1
    value, index = argmax(f16([-0.0, 0.0, -0.0]))
    assert bits(value) == 0 and index == 1
    value, index = argmax(f16([-np.inf, -np.inf]))
    assert value == -np.inf and index == 0
    value, index = argmax(np.concatenate([f16([1, np.inf]), fp16.from_bits(np.array([0xFD00]))]))
    assert bits(value) == fp16.CANONICAL_NAN_BITS and index == 2
    assert vpu_max(f16([[1, 2], [4, 3]])).tolist() == [2, 4]
    assert vpu_amax(f16([1, -5, 4])) == 5


def test_bad_arguments():
    with pytest.raises(ValueError, match="d must be a positive power of two, not 48"):
        mfu_matvec(f16([1]), f16([[1]]), d=48)
    with pytest.raises(ValueError, match="lanes must be a positive power of two, not 0"):
        vpu_sum(f16([1]), lanes=0)
    with pytest.raises(ValueError, match=r"x has 3 elements per row but w has 2 rows"):
        mfu_matvec(f16([1, 2, 3]), f16([[1], [2]]))
    with pytest.raises(ValueError, match=r"bias must have shape \(1,\)"):
        mfu_matvec(f16([1, 2]), f16([[1], [2]]), f16([1, 2]))
    with pytest.raises(ValueError, match="w must be a \\(K, N\\) matrix"):
        mfu_matvec(f16([1, 2]), f16([1, 2]))
    with pytest.raises(ValueError, match=r"x must be a vector \(K,\) for mfu_matvec"):
        mfu_matvec(np.ones((2, 2), F16), np.ones((2, 2), F16))
    with pytest.raises(ValueError, match=r"x must be an \(M, K\) matrix for mfu_matmul"):
        mfu_matmul(np.ones(2, F16), np.ones((2, 2), F16))
    with pytest.raises(ValueError, match="tree_sum of an empty axis"):
        tree_sum(f16([]))
    with pytest.raises(ValueError, match="vpu_sum of an empty vector"):
        vpu_sum(f16([]))
    with pytest.raises(ValueError, match="w has float32 values that are not exactly"):
        mfu_matvec(f16([1]), np.array([[0.1]], np.float32))


SPECIAL_BITS = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
                0x7E00, 0x3C00, 0xBC00, 0x1400, 0x9400]


@pytest.mark.parametrize("scale", [1e-4, 1.0, 40.0, 300.0])
def test_compiled_kernel_equals_numpy_definition(scale):
    """The Numba kernel (default path) gives the numpy definition's bits, including subnormal
    products, overflow to inf, inf - inf = NaN and signed zeros."""
    assert reduce._kernel() is not None, "numba is a pinned dependency: the kernel must load"
    rng = np.random.default_rng(int(scale * 1000))
    x = (rng.standard_normal((3, 150)) * scale).astype(F16)
    w = (rng.standard_normal((150, 300)) * scale).astype(F16)
    bias = (rng.standard_normal(300) * scale).astype(F16)
    x[0, :15] = fp16.from_bits(np.array(SPECIAL_BITS))
    w[:15, 0] = fp16.from_bits(np.array(SPECIAL_BITS[::-1]))
    w[20, 5] = F16(-0.0)
    for d in (1, 16, 64):
        expected = reduce.mfu_matmul_numpy(x, w, bias, d=d)
        assert np.array_equal(bits(mfu_matmul(x, w, bias, d=d)), bits(expected))
    assert np.array_equal(bits(mfu_matmul(x, w, d=16)), bits(reduce.mfu_matmul_numpy(x, w, d=16)))


def test_negative_zero_results():
    x = f16([-0.0, 1.0])
    w = f16([[1.0], [-0.0]])
    # products -0 and -0; tree (-0 + -0) = -0; accumulator starts at +0 -> +0 + -0 = +0.
    assert bits(mfu_matvec(x, w, d=2))[0] == 0x0000
    assert bits(mfu_matvec(x, w, f16([-0.0]), d=2))[0] == 0x8000
    assert bits(reduce.mfu_matmul_numpy(x[None], w, f16([-0.0]), d=2))[0, 0] == 0x8000


def test_kernel_rounding_equals_numpy_cast_on_random_float32():
    """The compiled kernel's FP16 rounding equals numpy's float32 -> float16 cast on arbitrary
    float32 values (all exponents, both signs, infinities, NaNs)."""
    from dfx_hw.model.bittrue._kernels import round_to_fp16

    raw = np.random.default_rng(11).integers(0, 1 << 32, 1 << 20, dtype=np.uint64)
    values = raw.astype(np.uint32).view(np.float32)
    near = (np.random.default_rng(12).standard_normal(1 << 18) *
            np.float32(2.0) ** np.random.default_rng(13).integers(-30, 18, 1 << 18)).astype(
                np.float32)
    values = np.concatenate([values, near, np.array([65519.99, 65520, -65520, 2.0 ** -25,
                                                     3 * 2.0 ** -26, -2.0 ** -25], np.float32)])
    rounded = values.copy()
    round_to_fp16(rounded)
    with np.errstate(over="ignore"):
        expected = values.astype(F16)
    assert np.array_equal(bits(fp16.canonical_nan(rounded.astype(F16))),
                          bits(fp16.canonical_nan(expected)))
    finite = np.isfinite(rounded)
    assert np.array_equal(rounded[finite], expected[finite].astype(np.float32))
