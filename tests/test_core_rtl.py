"""The whole DFX core (RTL, Verilator 5.048) runs compiled GPT-2 programs bit for bit like the
ISA simulator: the same tokens and the same captured logits, on one core and on a ring."""

import numpy as np
import pytest

from dfx_hw.compiler import compile_model
from dfx_hw.core.config import SMALL
from dfx_hw.isa.encoding import encode_program
from dfx_hw.isasim import generate
from dfx_hw.model.checkpoint import random_weights
from dfx_hw.model.bittrue.fp16 import to_bits
from dfx_hw.model.config import GPT2Config
from dfx_hw.host import Generation, geometry_of, rtl_ring
from dfx_hw.rtlsim.sim import CoreSim

HBM_BYTES = 1 << 20
DDR_BYTES = 1 << 20


def _model(heads, cores, *, vocab=101, ctx=24, layers=2, seed=1):
    config = GPT2Config(vocab_size=vocab, n_positions=ctx, n_embd=8 * heads, n_layer=layers,
                        n_head=heads)
    weights = random_weights(config, seed=seed, scale=0.3)
    return compile_model(config, weights, cores=cores, geometry=geometry_of(SMALL),
                         capture_logits=True)


def _rtl(model, prompt, n_new, **timing):
    sim = CoreSim(SMALL, cores=model.n_cores, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES)
    sim.set_hbm_timing(read_latency=timing.get("hbm_latency", 60))
    run = Generation(rtl_ring(sim, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES), model, prompt,
                     n_new, watchdog=10_000_000)
    tokens = [token for token, _ in run.tokens(max_clocks=5_000_000)]
    return tokens, run.logits(), sim.clocks


@pytest.mark.parametrize("heads, cores, prompt", [(3, 1, [5, 17, 99]), (5, 4, [7])],
                         ids=["3h-1core", "5h-4cores-prompt1"])
def test_core_rtl_matches_isa_simulator_bit_for_bit(heads, cores, prompt):
    model = _model(heads, cores)
    n_new = 3
    expected = generate(model, prompt, n_new)
    tokens, logits, clocks = _rtl(model, prompt, n_new)
    assert tokens == expected.tokens
    assert (to_bits(logits) == to_bits(expected.logits)).all()


def test_core_rtl_prompt_that_fills_the_context_matches_isa_simulator():
    """A 23-token prompt and one new token fill the 24-position context exactly."""
    model = _model(3, 2)
    prompt = [int(t) for t in np.random.default_rng(9).integers(0, 101, 23)]
    expected = generate(model, prompt, 1)
    tokens, logits, _ = _rtl(model, prompt, 1)
    assert tokens == expected.tokens
    assert (to_bits(logits) == to_bits(expected.logits)).all()


def test_core_trace_port_reports_the_isa_simulators_instruction_stream():
    """The trace port (DFXCore.trace) issues exactly the ISA simulator's executed instructions,
    pc for pc and in order, and each unit writes back as many instructions as the simulator
    executed for it, every write-back after its issue."""
    from collections import defaultdict
    from dfx_hw.control.rules import unit_of
    from dfx_hw.core.core import TRACE_UNITS
    from dfx_hw.isasim.run import Session

    model = _model(3, 1)
    prompt, n_new = [5, 17], 2
    executed = defaultdict(list)
    session = Session(model, prompt, n_new)
    for core in session.ring.cores:
        core.trace = lambda core_id, pc, instr: executed[core_id].append((pc, unit_of(instr)))
    for _ in session.tokens():
        pass
    sim = CoreSim(SMALL, cores=1, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES)
    sim.trace(0)
    run = Generation(rtl_ring(sim, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES), model, prompt,
                     n_new, watchdog=10_000_000)
    assert [token for token, _ in run.tokens(max_clocks=5_000_000)] == session.result.tokens
    events = sim.take_trace(0)
    issued = events[events["issue"]]
    assert [int(pc) for pc in issued["pc"]] == [pc for pc, _ in executed[0]]
    for u, unit in enumerate(TRACE_UNITS):
        issue_clocks = [int(clock) for clock, (_, cls) in zip(issued["clock"], executed[0])
                        if cls is not None and cls.name.lower() == unit]
        done_clocks = [int(e["clock"]) for e in events if e["done"] >> u & 1]
        assert len(done_clocks) == len(issue_clocks), unit
        assert all(d > i for i, d in zip(issue_clocks, done_clocks)), unit
    assert len(sim.take_trace(0)) == 0        # taken once


def test_core_rtl_untapped_argmax_after_a_tapped_conv1d_matches_isa_simulator():
    """The logits' CONV1D keeps ``+argmax`` but the ARGMAX streams the logits itself (no
    ``+tap``): the sequencer throws the tapped result away and the ARGMAX's own comes out,
    token for token the ISA simulator's (which computes the same arg-max either way)."""
    from dfx_hw.isa.encoding import Instruction
    from dfx_hw.isa.layouts import Opcode
    model = _model(3, 1)
    prompt, n_new = [5, 17, 99], 3
    program = [Instruction(i.op, i.fields, i.flags - {"tap"}) if i.op is Opcode.ARGMAX else i
               for i in model.programs(n_prompt=len(prompt), n_new=n_new)[0]]
    assert any("argmax" in i.flags for i in program)
    expected = generate(model, prompt, n_new)
    sim = CoreSim(SMALL, cores=1, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES)
    sim.set_hbm_timing(read_latency=60)
    run = Generation(rtl_ring(sim, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES), model, prompt,
                     n_new, watchdog=10_000_000, programs=[encode_program(program)])
    tokens = [token for token, _ in run.tokens(max_clocks=5_000_000)]
    assert tokens == expected.tokens
    assert (to_bits(run.logits()) == to_bits(expected.logits)).all()


def test_core_rtl_kept_conv1d_input_is_dropped_when_written():
    """The matrix sequencer keeps a CONV1D's input for the next CONV1D of the same vector (no
    STORE through the VPU). Here a VADD writes one word of that vector between the QKV
    projection's group CONV1Ds, so the kept copy is stale: the RTL must read the vector again,
    token for token and logit for logit the ISA simulator's (functional, no keeping) on the
    same program (with the invalidation removed from the RTL this test fails). A second VADD
    writes the word just past the vector (the kept input may stay: the results must match
    either way). The unedited programs keep the input through every other core test."""
    from dfx_hw.host.isasim import isasim_ring
    from dfx_hw.isa.encoding import Instruction
    from dfx_hw.isa.layouts import Opcode
    model = _model(5, 1)                       # 5 heads: three QKV group CONV1Ds per layer
    prompt, n_new = [5, 17, 99], 2
    program = list(model.programs(n_prompt=len(prompt), n_new=n_new)[0])
    convs = [i for i, ins in enumerate(program) if ins.op is Opcode.CONV1D]
    pairs = [(a, b) for a, b in zip(convs, convs[1:])
             if program[a]["vsrc"] == program[b]["vsrc"] and program[a]["k"] == program[b]["k"]]
    assert pairs, "the program has no CONV1Ds of a kept input"
    lanes = SMALL.l
    inserted = {}                              # original index -> instructions inserted before
    for a, b in pairs[:2]:
        vsrc, k = program[b]["vsrc"], program[b]["k"]
        inside = Instruction(Opcode.VADD, {"vdst": vsrc, "vsrc": vsrc, "vsrc2": vsrc,
                                           "len": lanes}, frozenset())
        past = Instruction(Opcode.VADD, {"vdst": vsrc + -(-k // lanes) * lanes,
                                         "vsrc": vsrc, "vsrc2": vsrc, "len": lanes},
                           frozenset())
        inserted[b] = [past, inside]

    def moved(index):                          # an original index in the edited program
        return index + sum(len(v) for at, v in inserted.items() if at <= index)

    edited = []
    for index, ins in enumerate(program):
        edited += inserted.get(index, [])
        if ins.op is Opcode.LOOP:
            ins = Instruction(ins.op, {**ins.fields, "target": moved(ins["target"])}, ins.flags)
        edited.append(ins)
    words = encode_program(edited)
    isa = Generation(isasim_ring(geometry_of(SMALL)), model, prompt, n_new, programs=[words])
    expected_tokens = [token for token, _ in isa.tokens()]
    sim = CoreSim(SMALL, cores=1, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES)
    sim.set_hbm_timing(read_latency=60)
    run = Generation(rtl_ring(sim, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES), model, prompt,
                     n_new, watchdog=10_000_000, programs=[words])
    tokens = [token for token, _ in run.tokens(max_clocks=5_000_000)]
    assert tokens == expected_tokens
    assert (to_bits(run.logits()) == to_bits(isa.logits())).all()
    # the edit changed the result: the test can tell a stale kept input from a fresh one
    assert (to_bits(isa.logits()) != to_bits(generate(model, prompt, n_new).logits)).any()
