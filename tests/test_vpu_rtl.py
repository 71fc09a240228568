"""VPU RTL on Icarus (cocotb via sim.harness), bit for bit against the bit-true model.

Every test runs micro-op programs through the Verilog of the whole VPU and compares every stored
word and, at the end, the complete vector and scalar register files with
:func:`dfx_hw.vpu.programs.execute` (the primitives of :mod:`dfx_hw.model.bittrue.vector_ops`);
the LayerNorm and Softmax tests also compare with :mod:`dfx_hw.model.bittrue.recipes` itself.
Small ``lanes`` where the logic does not depend on the width, the U280 width 16 for the recipes
and one sweep of every instruction.
"""

from dfx_hw.vpu.vpu import make_vpu
from sim.harness import run_cocotb

BENCH = "sim.benches.vpu_programs"
SMALL = {"lanes": 4, "vrf_words": 64, "srf_words": 16}
U280_VPU = {"lanes": 16}


def test_vpu_every_instruction_short_vectors_bit_exact_with_stalls():
    """Every primitive on lengths 1, lanes-1, lanes+1 (plus scalars incl. 0, -0, inf, NaN),
    with idle clocks on the load stream and back-pressure on the store stream."""
    run_cocotb(make_vpu, SMALL, test_module=BENCH,
               bench={"scenario": "ops", "lengths": [1, 3, 5], "scalars": 8, "seed": 11,
                      "idle": True, "backpressure": True})


def test_vpu_every_instruction_gpt2_lengths_bit_exact():
    """Every primitive on vectors of 1600 and 6400 elements (results checked in place in the
    register files; ACCUM over 400 and 1600 chunks, many rounds of the 8 partial sums). The
    accumulating adder has latency 8 here, the largest the interleaved partial sums allow (a
    partial's new sum returns on the very clock its next chunk arrives, through the bypass);
    the default latency 6 is exercised by the other tests."""
    run_cocotb(make_vpu, {"lanes": 4, "vrf_words": 32768, "srf_words": 32, "acc_latency": 8},
               test_module=BENCH,
               bench={"scenario": "ops", "lengths": [1600, 6400], "scalars": 0, "seed": 12,
                      "stores": False})


def test_vpu_back_to_back_dependent_instructions_bit_exact():
    """Chains where every micro-op reads what the previous one wrote (vector RAW, in-place, scalar
    RAW through reductions and scalar ops), several lengths."""
    run_cocotb(make_vpu, SMALL, test_module=BENCH,
               bench={"scenario": "chain", "lengths": [1, 4, 5, 13], "seed": 13,
                      "backpressure": True})


def test_vpu_u280_width_every_instruction_bit_exact():
    """lanes = 16 (U280): every primitive on lengths 1, 15, 17 and scalars."""
    run_cocotb(make_vpu, U280_VPU, test_module=BENCH,
               bench={"scenario": "ops", "lengths": [1, 15, 17], "scalars": 4, "seed": 14})


def test_vpu_layernorm_gpt2_rows_bit_exact():
    """LayerNorm recipe at lanes 16: emb 1600 with activations up to +-6e4, and emb 768 rows
    that are constant and tiny (1e-6)."""
    run_cocotb(make_vpu, U280_VPU, test_module=BENCH,
               bench={"scenario": "layernorm", "seed": 15,
                      "rows": [["large", 1600], ["constant", 768], ["tiny", 768]]})


def test_vpu_softmax_context_rows_bit_exact():
    """Softmax recipe at lanes 16 over a 1024-token context: random scores, a masked row (-inf
    tail), all-equal scores, huge scores with one masked position."""
    run_cocotb(make_vpu, U280_VPU, test_module=BENCH,
               bench={"scenario": "softmax", "seed": 16,
                      "rows": [["random", 1024], ["masked", 1024], ["all equal", 1024],
                               ["large", 1000]]})


def test_vpu_reduction_clocks_match_the_timing_model(tmp_path):
    """lanes = 16 (U280): each of VADD, ACCUM, VMAX, VEXP and VEXPACC alone on an idle VPU, issue
    to retire (results bit for bit against the model as in every bench run). A sum takes one
    word per clock; beyond a one-word VADD, a reduction of w words takes (w - 1) + the timing
    model's VECTOR_REDUCTION (dfx_hw/spec/costs.py, which takes the constant from this
    measurement; a maximum is delayed to the sum's latency, so both kinds share it), a table
    function VECTOR_TABLE, and VEXPACC (the sum of the table's results) both."""
    import json

    from dfx_hw.spec import costs

    sums = [1, 8, 9, 64, 100]
    out = tmp_path / "cycles.json"
    run_cocotb(make_vpu, U280_VPU, test_module=BENCH,
               bench={"scenario": "timing", "seed": 17, "cycles_out": str(out),
                      "ops": [["VADD", 16], ["VADD", 1600]] + [["ACCUM", 16 * w] for w in sums]
                      + [["VMAX", 16], ["VMAX", 1024], ["VEXP", 16], ["VEXPACC", 16],
                         ["VEXPACC", 1024]]})
    clocks = dict(json.loads(out.read_text())["timed"])
    vadd = clocks["VADD n=16"]
    print({label: count - vadd for label, count in clocks.items()})
    assert clocks["VADD n=1600"] - vadd == 99
    for w in sums:
        assert clocks[f"ACCUM n={16 * w}"] - vadd == (w - 1) + costs.VECTOR_REDUCTION
    for w in (1, 64):
        assert clocks[f"VMAX n={16 * w}"] - vadd == (w - 1) + costs.VECTOR_REDUCTION
    # a table function adds VECTOR_TABLE; VEXPACC reduces the table's results, so both
    assert clocks["VEXP n=16"] - vadd == costs.VECTOR_TABLE
    for w in (1, 64):
        assert clocks[f"VEXPACC n={16 * w}"] - vadd == \
            (w - 1) + costs.VECTOR_TABLE + costs.VECTOR_REDUCTION
