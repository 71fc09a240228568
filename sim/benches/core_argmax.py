"""cocotb bench: the core's arg-max unit (:class:`dfx_hw.core.argmax.ArgmaxUnit`) against the
bit-true model (:func:`dfx_hw.model.bittrue.reduce.argmax`) and the ISA simulator's ``ARGMAXP``
rule, bit for bit.

Bench parameters (``bench_params()["bench"]``): ``ops`` (list of ``{"pairs": bool, "len": int,
"base": int, "kind": "random"|"ties"|"nan"|"neg"}``), ``seed``, ``idle`` and ``backpressure``
(probabilities of a withheld ``valid`` on ``data``/``command`` and ``ready`` on ``result``).
"""

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from dfx_hw.model.bittrue import reduce
from sim.harness import bench_params


def make_vector(kind, n, rng):
    if kind == "ties":           # few distinct values, signed zeros: ties everywhere
        x = rng.choice(np.array([0.0, -0.0, 1.5, -2.0, 1.5], np.float16), n)
    elif kind == "nan":
        x = rng.standard_normal(n).astype(np.float16)
        x[rng.integers(0, n, 2)] = np.float16("nan")
    elif kind == "neg":           # all negative, some -inf
        x = -np.abs(rng.standard_normal(n)).astype(np.float16) - np.float16(1)
        x[rng.integers(0, n)] = -np.inf
    else:
        x = (rng.standard_normal(n) * 4).astype(np.float16)
    return x


def expected(op, x, pairs_index):
    if op["pairs"]:
        _, winner = reduce.argmax(x, lanes=16)
        return int(x.view(np.uint16)[winner]), int(pairs_index[winner])
    value, index = reduce.argmax(x, lanes=16)
    return int(np.float16(value).view(np.uint16)), (op["base"] + int(index)) & 0xFFFF


@cocotb.test()
async def argmax_stream(dut):
    params = bench_params()
    lanes = params["component"]["lanes"]
    bench = params["bench"]
    rng = np.random.default_rng(bench["seed"])
    idle, backpressure = bench.get("idle", 0.0), bench.get("backpressure", 0.0)
    commands, words, expect = [], [], []
    for op in bench["ops"]:
        x = make_vector(op.get("kind", "random"), op["len"], rng)
        stored_index = rng.integers(0, 1 << 16, op["len"]).astype(np.uint16)
        if op["pairs"]:
            flat = np.stack([x.view(np.uint16), stored_index], axis=1).reshape(-1)
        else:
            flat = x.view(np.uint16)
        count = -(-len(flat) // lanes)
        padded = rng.integers(0, 1 << 16, count * lanes).astype(np.uint16)   # garbage tail
        padded[:len(flat)] = flat
        for w in range(count):
            chunk = padded[w * lanes:(w + 1) * lanes]
            words.append(int.from_bytes(chunk.astype("<u2").tobytes(), "little"))
        commands.append(int(op["pairs"]) | (op["len"] << 1) | (op["base"] << 17))
        expect.append(expected(op, x, stored_index))

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.command__valid.value = 0
    dut.data__valid.value = 0
    dut.result__ready.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    i_cmd = i_word = 0
    got = []
    clocks = 0
    while len(got) < len(expect):
        clocks += 1
        assert clocks < 20 * len(words) + 500, f"timeout: {len(got)}/{len(expect)} results"
        c_valid = i_cmd < len(commands) and rng.random() >= idle
        d_valid = i_word < len(words) and rng.random() >= idle
        dut.command__valid.value = int(c_valid)
        if c_valid:
            dut.command__payload.value = commands[i_cmd]
        dut.data__valid.value = int(d_valid)
        if d_valid:
            dut.data__payload.value = words[i_word]
        ready = rng.random() >= backpressure
        dut.result__ready.value = int(ready)
        await ReadOnly()
        if c_valid and dut.command__ready.value:
            i_cmd += 1
        if d_valid and dut.data__ready.value:
            i_word += 1
        if ready and dut.result__valid.value:
            word = int(dut.result__payload.value)
            got.append((word & 0xFFFF, word >> 16))
        await RisingEdge(dut.clk)
    assert i_word == len(words), f"{i_word} of {len(words)} words taken"
    bad = [(i, op, g, e) for i, (op, g, e) in enumerate(zip(bench["ops"], got, expect)) if g != e]
    assert not bad, "\n".join(f"op {i} {op}: hw (value {g[0]:#06x}, index {g[1]}) model "
                              f"(value {e[0]:#06x}, index {e[1]})" for i, op, g, e in bad[:10])
