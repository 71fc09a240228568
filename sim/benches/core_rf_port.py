"""cocotb bench: the core's register-file port (:class:`dfx_hw.core.rf_port.RegisterFilePort`)
sharing a real VPU among requesters, against the VPU's micro-op model
(:func:`dfx_hw.vpu.programs.execute`).

Each requester runs its own program on its own part of the register files: LOAD random vectors
from its ``load`` stream, element-wise work, a reduction, STORE results to its ``store`` stream.
Requesters offer micro-ops concurrently with random idle clocks and random back-pressure on
their ``store`` streams and idle clocks on their ``load`` streams; every requester's stored
words must equal its program run alone on the model, bit for bit, and its ``retired`` pulses
must equal the number of micro-ops it marked ``notify``.

Bench parameters: ``programs`` (per requester: list of ``[opcode, dst, src1, src2, length,
notify]``), ``loads`` (per requester: list of words as decimal strings), ``seed``, ``idle``,
``backpressure``.
"""

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from dfx_hw.vpu.layouts import VPUConfig
from dfx_hw.vpu.programs import MicroOp, encode
from sim.harness import bench_params


@cocotb.test()
async def requesters_share_the_vpu(dut):
    params = bench_params()
    bench = params["bench"]
    cfg = VPUConfig(**params["component"]["vpu"])
    names = params["component"]["requesters"]
    rng = np.random.default_rng(bench["seed"])
    idle, backpressure = bench["idle"], bench["backpressure"]
    notify_bit = cfg.micro_op_layout.size
    programs = [[(encode(MicroOp(op, dst, s1, s2, n), cfg) | (notify << notify_bit))
                 for op, dst, s1, s2, n, notify in prog] for prog in bench["programs"]]
    loads = [[int(w) for w in words] for words in bench["loads"]]
    want_retired = [sum(p[5] for p in prog) for prog in bench["programs"]]

    def sig(name, member):
        return getattr(dut, f"{name}__{member}")

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    for name in names:
        sig(name, "request__valid").value = 0
        sig(name, "load__valid").value = 0
        sig(name, "store__ready").value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    i_op = [0] * len(names)
    i_load = [0] * len(names)
    stored = [[] for _ in names]
    retired = [0] * len(names)
    quiet = 0
    for clock in range(200_000):
        offers = []
        for r, name in enumerate(names):
            op = i_op[r] < len(programs[r]) and rng.random() >= idle
            sig(name, "request__valid").value = int(op)
            if op:
                sig(name, "request__payload").value = programs[r][i_op[r]]
            ld = i_load[r] < len(loads[r]) and rng.random() >= idle
            sig(name, "load__valid").value = int(ld)
            if ld:
                sig(name, "load__payload").value = loads[r][i_load[r]]
            st = rng.random() >= backpressure
            sig(name, "store__ready").value = int(st)
            offers.append((op, ld, st))
        await ReadOnly()
        assert not int(dut.vpu_error.value), "the VPU flagged a micro-op illegal"
        for r, name in enumerate(names):
            op, ld, st = offers[r]
            if op and sig(name, "request__ready").value:
                i_op[r] += 1
            if ld and sig(name, "load__ready").value:
                i_load[r] += 1
            if st and sig(name, "store__valid").value:
                stored[r].append(int(sig(name, "store__payload").value))
            retired[r] += int(sig(name, "retired").value)
        done = all(i_op[r] == len(programs[r]) for r in range(len(names))) \
            and not int(dut.vpu_busy.value)
        quiet = quiet + 1 if done else 0
        if quiet > 8:
            break
        await RisingEdge(dut.clk)
    else:
        raise AssertionError(f"timeout: micro-ops {i_op}, loads {i_load}")
    expected = bench["expected"]
    lanes = cfg.lanes
    for r, name in enumerate(names):
        assert i_load[r] == len(loads[r]), f"{name}: {i_load[r]} of {len(loads[r])} loads taken"
        # Element by element, each store's length only (a partial last word's extra lanes are
        # unspecified).
        words = iter(stored[r])
        got = []
        for length in bench["store_lengths"][r]:
            elements = []
            for _ in range(-(-length // lanes)):
                word = next(words, None)
                assert word is not None, f"{name}: fewer stored words than the model"
                elements += [(word >> (16 * i)) & 0xFFFF for i in range(lanes)]
            got += elements[:length]
        assert next(words, None) is None, f"{name}: more stored words than the model"
        want = [int(e) for e in expected[r]]
        bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
        assert len(got) == len(want) and not bad, \
            f"{name}: {len(bad)} stored elements differ from the model, first {bad[:3]}"
        assert retired[r] == want_retired[r], \
            f"{name}: {retired[r]} retired pulses, {want_retired[r]} notify micro-ops"
