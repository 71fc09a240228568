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
