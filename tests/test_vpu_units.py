"""VPU building blocks: decode table against the bit-true primitive table, micro-op programs
against the recipes, and the SFU_V table functions on Icarus over every FP16 input (bit for bit
against the bit-true recipes). Parameter errors: ``test_vpu_errors.py``."""

import numpy as np
import pytest

from dfx_hw.model.bittrue import recipes
from dfx_hw.model.bittrue.vector_ops import VECTOR_PRIMITIVES
from dfx_hw.vpu.layouts import (OP_CONTROL, PRIMITIVE_CONTROL, ASource, BSource, Opcode, Sink,
                                VPUConfig)
from dfx_hw.vpu.programs import Allocation, MicroOp, VPUState, encode, execute, recipe_program
from dfx_hw.vpu.unary_rom import UnaryUnit, make_unary_unit
from sim.harness import run_cocotb


def test_decode_table_covers_exactly_the_bit_true_primitives():
    assert set(PRIMITIVE_CONTROL) == set(VECTOR_PRIMITIVES)
    assert [op.name for op in Opcode] == list(OP_CONTROL)


@pytest.mark.parametrize("name", sorted(VECTOR_PRIMITIVES))
def test_decode_operand_kinds_match_the_primitive(name):
    primitive, control = VECTOR_PRIMITIVES[name], PRIMITIVE_CONTROL[name]
    kinds = primitive.operands
    assert control.a is (ASource.VECTOR if kinds[0] == "v" else ASource.SCALAR)
    if len(kinds) == 2:
        assert control.b is (BSource.VECTOR if kinds[1] == "v" else BSource.SCALAR)
    assert control.writes_vector == ("v" in primitive.result)
    assert (control.sink is Sink.VECTOR) == (primitive.result == "v")
    assert control.is_reduction == (kinds[0] == "v" and "s" in primitive.result)


@pytest.mark.parametrize("lanes", [4, 16])
def test_micro_op_programs_reproduce_the_recipes(lanes):
    """The snippet library + micro-op executor give the recipe functions' bits (LayerNorm 1600,
    Softmax 1024 with a masked tail)."""
    rng = np.random.default_rng(0)
    cfg = VPUConfig(lanes=lanes, vrf_words=32768 // lanes)
    x = (rng.standard_normal(1600) * 50).astype(np.float16)
    gamma = (1 + 0.1 * rng.standard_normal(1600)).astype(np.float16)
    beta = (0.1 * rng.standard_normal(1600)).astype(np.float16)
    alloc = Allocation(cfg, 1600)
    state = VPUState(cfg)
    for name, value in (("x", x), ("gamma", gamma), ("beta", beta)):
        state.vrf[alloc.vector(name):alloc.vector(name) + 1600] = value
    for name, value in recipes.layernorm_constants(1600, 1e-5).items():
        state.srf[alloc.scalar(name)] = value
    execute(recipe_program(recipes.LAYERNORM_STEPS, alloc), state)
    out = state.vrf[alloc.vector("out"):alloc.vector("out") + 1600]
    expected = recipes.layernorm(x, gamma, beta, 1e-5, lanes=lanes)
    assert (out.view(np.uint16) == expected.view(np.uint16)).all()

    raw = (rng.standard_normal(1024) * 10).astype(np.float16)
    s = recipes.attention_scores(raw, 700)
    alloc = Allocation(cfg, 1024)
    state = VPUState(cfg)
    state.vrf[alloc.vector("s"):alloc.vector("s") + 1024] = s
    execute(recipe_program(recipes.SOFTMAX_STEPS, alloc), state)
    p = state.vrf[alloc.vector("p"):alloc.vector("p") + 1024]
    assert (p.view(np.uint16) == recipes.softmax(raw, 700, lanes=lanes).view(np.uint16)).all()


def test_encode_round_trips_through_the_layout():
    cfg = VPUConfig(lanes=4, vrf_words=64, srf_words=16)
    op = MicroOp("VADDS", dst=8, src1=4, src2=3, length=5)
    view = cfg.micro_op_layout.from_bits(encode(op, cfg))
    assert view.opcode == Opcode.VADDS
    assert (view.dst, view.src1, view.src2, view.length) == (8, 4, 3, 5)


@pytest.mark.parametrize("kwargs, message", [
    ({"lanes": 3}, "lanes must be a positive power of two, not 3"),
    ({"vrf_words": 1000}, "vrf_words must be a power of two of at least 2, not 1000"),
    ({"srf_words": 1}, "srf_words must be a power of two of at least 2, not 1"),
    ({"acc_latency": -1}, "acc_latency must be a non-negative integer or None, not -1"),
])
def test_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VPUConfig(**kwargs)


def test_program_errors():
    cfg = VPUConfig(lanes=4, vrf_words=4, srf_words=2)
    with pytest.raises(ValueError, match="unknown VPU opcode 'VDIV'"):
        MicroOp("VDIV")
    with pytest.raises(ValueError, match="length must be a non-negative integer, not -1"):
        MicroOp("VADD", length=-1)
    with pytest.raises(ValueError, match="dst=99 of 'SETS .*' does not fit the 4-bit field"):
        encode(MicroOp("SETS", dst=99), cfg)
    alloc = Allocation(cfg, 9)
    alloc.vector("a")
    with pytest.raises(ValueError, match="vector register file full: cannot place 'b'"):
        alloc.vector("b")
    alloc.scalar("s"), alloc.scalar("t")
    with pytest.raises(ValueError, match="scalar register file full: cannot place 'u'"):
        alloc.scalar("u")
    with pytest.raises(ValueError, match="vector_base must be a multiple of lanes=4, not 2"):
        Allocation(cfg, 4, vector_base=2)
    with pytest.raises(ValueError, match="unknown vector instruction 'VNOPE'"):
        recipe_program([recipes.Step("y", "VNOPE", ("x",))], Allocation(cfg, 4))
    with pytest.raises(ValueError, match="vector operand at 2 \\(\\+4\\) is not lane aligned"):
        execute([MicroOp("VCOPY", dst=0, src1=2, length=4)], VPUState(cfg))


def test_table_functions_every_input_bit_exact_icarus():
    """One SFU_V lane on Icarus: exp, recip and rsqrt on all 65,536 FP16 inputs, pow2inv on every
    16th, bit for bit against the bit-true recipes."""
    run_cocotb(make_unary_unit, {}, test_module="sim.benches.vpu_unary",
               bench={"functions": [["EXP", 1], ["RECIP", 1], ["RSQRT", 1], ["POW2INV", 16],
                                    ["NONE", 64]],
                      "latency": UnaryUnit.latency_for()})


def test_docs_control_table_is_current():
    from pathlib import Path
    from dfx_hw.vpu.layouts import control_table_markdown
    text = (Path(__file__).resolve().parents[1] / "docs" / "vpu.md").read_text()
    assert control_table_markdown() in text
