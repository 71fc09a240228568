"""The VPU's reduction unit alone (Amaranth simulation), bit for bit against the bit-true model:
sums (:func:`~dfx_hw.model.bittrue.reduce.vpu_sum`, 8 interleaved partial sums) and maxima
(``vpu_max``/``vpu_amax``) of vectors of 1 to 21 chunks, beats on consecutive clocks and with
idle clocks between them, vectors back to back, at accumulating-adder latencies 0, 1, 6 (the
default) and 8 (= ``SUM_PARTIALS``, where a partial's sum returns on the very clock it is needed
again). Each result must appear exactly ``latency`` clocks after its vector's last beat.

The whole VPU is covered on Icarus by ``test_vpu_rtl.py``; parameter errors are in
``test_vpu_errors.py``."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from dfx_hw.model.bittrue import fp16
from dfx_hw.model.bittrue.reduce import SUM_PARTIALS, vpu_amax, vpu_max, vpu_sum
from dfx_hw.arith import FP16Adder
from dfx_hw.vpu.accumulator import Accumulator

LANES = 2


def _vectors(rng):
    """(kind, vector) pairs: sums of up to 21 chunks (more than SUM_PARTIALS rounds), maxima."""
    out = []
    lengths = [1, 2, 3, LANES * SUM_PARTIALS, LANES * SUM_PARTIALS + 1, 2 * LANES * SUM_PARTIALS,
               41, 5]
    for n in lengths:
        x = (rng.standard_normal(n) * rng.choice([1, 300, 3000])).astype(np.float16)
        out.append(("sum", x))
    special = np.array([np.inf, 1, -np.inf] + [1] * 30 + [2048] + [1] * 8, np.float16)
    out.append(("sum", special))             # inf and -inf in different partials -> NaN
    out.append(("sum", np.array([2048] + [1] * 40, np.float16)))
    out.append(("sum", np.full(37, -0.0, np.float16)))
    out.append(("max", (rng.standard_normal(9) * 5).astype(np.float16)))
    out.append(("amax", (rng.standard_normal(4) * 5).astype(np.float16)))
    out.append(("sum", np.array([60000, 60000, -60000] * 7, np.float16)))
    rng.shuffle(out)
    return out


def _expected(kind, x):
    function = {"sum": vpu_sum, "max": vpu_max, "amax": vpu_amax}[kind]
    return int(fp16.to_bits(function(x, lanes=LANES)))


def _run(acc_latency, gaps, seed):
    rng = np.random.default_rng(seed)
    vectors = _vectors(rng)
    dut = Accumulator(lanes=LANES, acc_latency=acc_latency)
    last_beats = []                  # clock of each vector's last beat
    results = []                     # (clock, bits)

    async def tb(ctx):
        clock = 0

        async def step():
            nonlocal clock
            await ctx.tick()
            clock += 1
            if ctx.get(dut.result_valid):
                results.append((clock, ctx.get(dut.result)))

        for kind, x in vectors:
            chunks = -(-len(x) // LANES)
            for j in range(chunks):
                part = x[j * LANES:(j + 1) * LANES]
                data = 0
                for lane in range(LANES):    # lanes past the end hold garbage (masked)
                    value = int(part[lane:lane + 1].view(np.uint16)[0]) if lane < len(part) \
                        else 0x5A5A
                    data |= value << (16 * lane)
                ctx.set(dut.valid, 1)
                ctx.set(dut.data, data)
                ctx.set(dut.mask, (1 << len(part)) - 1)
                ctx.set(dut.first, j == 0)
                ctx.set(dut.last, j == chunks - 1)
                ctx.set(dut.is_max, kind != "sum")
                ctx.set(dut.absolute, kind == "amax")
                if j == chunks - 1:
                    last_beats.append(clock)
                await step()
                ctx.set(dut.valid, 0)
                ctx.set(dut.data, 0xFFFFFFFF)   # junk between beats must not matter
                for _ in range(int(rng.integers(0, 3)) if gaps else 0):
                    await step()
        for _ in range(dut.latency + 3):
            await step()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return dut, vectors, last_beats, results


@pytest.mark.parametrize("acc_latency, gaps", [(6, False), (6, True), (8, False), (8, True),
                                               (1, True), (0, False)])
def test_reductions_bit_exact_against_the_model_at_fixed_latency(acc_latency, gaps):
    dut, vectors, last_beats, results = _run(acc_latency, gaps, seed=acc_latency + 10 * gaps)
    # Sum beats on every clock; latency: input register, chunk tree (one adder level at 2
    # lanes), the accumulating adder, the partials' register, 3 levels of adders, output.
    add = FP16Adder.DEFAULT_LATENCY
    assert dut.sum_interval == 1
    assert dut.latency == 1 + add + acc_latency + 1 + 3 * add + 1
    assert [clock for clock, _ in results] == [t + dut.latency for t in last_beats]
    for (kind, x), (_, got) in zip(vectors, results):
        assert got == _expected(kind, x), f"{kind} of {len(x)} elements: {got:#06x}"

