"""Vector-unit primitives of the bit-true model: element-wise ops equal numpy.float16 op by op,
operand checks, SPOW2INV."""

import numpy as np
import pytest

from dfx_hw.model.bittrue import fp16, vector_ops as vo

F16 = np.float16


def test_elementwise_equal_numpy_float16():
    rng = np.random.default_rng(10)
    a = (rng.standard_normal((2, 33)) * 300).astype(F16)
    b = (rng.standard_normal((2, 33)) * 300).astype(F16)
    s = np.array([3.5, -0.0], F16)
    with np.errstate(all="ignore"):
        cases = [(vo.vadd(a, b), a + b), (vo.vsub(a, b), a - b), (vo.vmul(a, b), a * b),
                 (vo.vsquare(a), a * a), (vo.vadd_s(a, s), a + s[:, None]),
                 (vo.vsub_s(a, s), a - s[:, None]), (vo.vmul_s(a, s), a * s[:, None])]
    for got, expected in cases:
        assert np.array_equal(fp16.to_bits(got), fp16.to_bits(fp16.canonical_nan(expected)))


def test_primitive_table():
    assert set(vo.VECTOR_PRIMITIVES) == {
        "VADD", "VSUB", "VMUL", "VSQUARE", "VADDS", "VSUBS", "VMULS", "VEXP", "ACCUM", "VMAX",
        "VAMAX", "SRECIP", "SRSQRT", "SMUL", "SADD", "SMAX", "SPOW2INV", "SQSUM", "VADDAMAX",
        "VMULSACC", "VEXPACC"}
    for mnemonic, primitive in vo.VECTOR_PRIMITIVES.items():
        assert primitive.mnemonic == mnemonic and set(primitive.operands) <= {"v", "s"}


def test_paired_primitives_are_the_two_instructions_they_fuse():
    """VADDAMAX is bit for bit (VADD, VAMAX of its result), VMULSACC (VMULS, ACCUM of its
    result) and VEXPACC (VEXP, ACCUM of its result): one pass that writes the vector and reduces
    it, also for inf/NaN and subnormals."""
    rng = np.random.default_rng(8)
    for n in (1, 15, 16, 17, 200, 1024):
        a = (rng.standard_normal((3, n)) * 40).astype(F16)
        b = (rng.standard_normal((3, n)) * 40).astype(F16)
        a[0, 0] = F16(6e-8)
        if n > 2:
            a[1, 1], b[2, 2] = F16(np.inf), F16(np.nan)
        s = (rng.standard_normal(3) * 0.01).astype(F16)
        for lanes in (4, 16):
            total, amax = vo.vadd_amax(a, b, lanes=lanes)
            assert np.array_equal(fp16.to_bits(total), fp16.to_bits(vo.vadd(a, b)))
            assert np.array_equal(fp16.to_bits(amax),
                                  fp16.to_bits(vo.vamax(vo.vadd(a, b), lanes=lanes)))
            product, summed = vo.vmul_s_accum(a, s, lanes=lanes)
            assert np.array_equal(fp16.to_bits(product), fp16.to_bits(vo.vmul_s(a, s)))
            assert np.array_equal(fp16.to_bits(summed),
                                  fp16.to_bits(vo.accum(vo.vmul_s(a, s), lanes=lanes)))
            scores = (a / F16(8)).astype(F16)
            exponent, total = vo.vexp_accum(scores, lanes=lanes)
            assert np.array_equal(fp16.to_bits(exponent), fp16.to_bits(vo.vexp(scores)))
            assert np.array_equal(fp16.to_bits(total),
                                  fp16.to_bits(vo.accum(vo.vexp(scores), lanes=lanes)))


def test_sqsum_is_accum_of_vsquare():
    """SQSUM is bit for bit ACCUM of what VSQUARE writes (the fused LayerNorm pass), also for
    inf/NaN, subnormals and vectors of many partial-sum rounds."""
    rng = np.random.default_rng(7)
    for n in (1, 15, 16, 17, 200, 1600):
        v = (rng.standard_normal((3, n)) * 4).astype(F16)
        v[0, 0] = F16(6e-8)
        if n > 2:
            v[1, 1], v[2, 2] = F16(np.inf), F16(np.nan)
        for lanes in (4, 16):
            got = vo.sqsum(v, lanes=lanes)
            expected = vo.accum(vo.vsquare(v), lanes=lanes)
            assert np.array_equal(fp16.to_bits(got), fp16.to_bits(expected))


def test_spow2inv():
    s = np.array([0.5, 1, 1.5, 2, 65504, -3, 0, 6e-8, 2.0 ** -14], F16)
    expected = [1.0, 0.5, 0.5, 0.25, 2.0 ** -16, 0.25, 2.0 ** 13, 2.0 ** 13, 2.0 ** 13]
    assert vo.spow2inv(s).tolist() == expected
    assert fp16.to_bits(vo.spow2inv(F16(np.inf))) == fp16.CANONICAL_NAN_BITS


def test_operand_errors():
    with pytest.raises(ValueError, match=r"vector operands must have the same shape, got \(3,\) "
                                         r"and \(4,\)"):
        vo.vadd(np.ones(3, F16), np.ones(4, F16))
    with pytest.raises(ValueError, match=r"the scalar operand must have shape \(2,\)"):
        vo.vmul_s(np.ones((2, 3), F16), np.ones(3, F16))
    with pytest.raises(ValueError, match="at least one axis"):
        vo.vsquare(F16(1))
