"""Errors of the whole core (RTL, Verilator) reach the host through the register map with a
readable message, the pc and the instruction, and nothing hangs: an illegal instruction, an HBM
access outside the core's window, an HBM error response, a ring link that goes down, a peer
that never joins a sync."""

import pytest

from dfx_hw.control.loader import CoreError
from dfx_hw.core.config import SMALL
from dfx_hw.isa.encoding import encode_program
from dfx_hw.spec.errors import ErrorCode
from dfx_hw.host import Generation, rtl_ring
from dfx_hw.rtlsim.sim import CoreSim
from tests.test_core_rtl import DDR_BYTES, HBM_BYTES, _model

PROMPT = [3, 8]


def _run(model, **options):
    sim = CoreSim(SMALL, cores=model.n_cores, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES)
    sim.set_hbm_timing(read_latency=60)
    ring = rtl_ring(sim, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES)
    return sim, Generation(ring, model, PROMPT, 2, watchdog=10_000_000, **options)


def _stopped(run, **tokens):
    with pytest.raises(CoreError) as caught:
        for _ in run.tokens(max_clocks=400_000, **tokens):
            pass
    return caught.value


def test_illegal_instruction_stops_the_core_with_its_pc():
    model = _model(3, 1)
    program = encode_program(model.programs(n_prompt=len(PROMPT), n_new=2)[0])
    program[5] = 0                                         # opcode 0: illegal (erased memory)
    sim, run = _run(model, programs=[program])
    error = _stopped(run)
    assert error.code is ErrorCode.ILLEGAL_OPCODE and error.pc == 5
    assert "pc 5" in str(error) and "illegal opcode" in str(error)
    assert run.stored_tokens() == []                        # nothing written after it


def test_hbm_access_outside_the_window_is_refused():
    model = _model(3, 1)
    sim, run = _run(model, hbm_size=2 * model.cores[0].hbm.size // 4)
    error = _stopped(run)
    assert error.code is ErrorCode.HBM_WINDOW
    assert "outside the core's HBM window" in str(error)
    assert run.stored_tokens() == []


def test_hbm_error_response_is_reported():
    model = _model(3, 1)
    sim, run = _run(model)
    sim.set_fault(core=0, port=1, lo=0, hi=HBM_BYTES, resp=2)       # SLVERR on HBM port 1
    error = _stopped(run)
    assert error.code is ErrorCode.AXI_SLVERR
    assert "SLVERR" in str(error)


def test_link_down_mid_run_is_reported():
    model = _model(5, 2)
    sim, run = _run(model)
    run.start()
    sim.run(1500)
    sim.drop_link(0)
    error = _stopped(run, start=False)
    assert error.code in (ErrorCode.LINK_DOWN, ErrorCode.LINK_HARD_ERROR)
    assert "ring link" in str(error)


def test_peer_that_never_syncs_times_out():
    model = _model(5, 2)
    sim, run = _run(model)
    run.start(cores=[0])                                    # core 1 is never started
    error = _stopped(run, start=False)
    assert error.code is ErrorCode.SYNC_TIMEOUT and error.core == 0
    assert "timed out" in str(error)


def test_argmax_tap_without_its_conv1d_stops_the_core():
    """The LM head's ``ARGMAX +tap`` with the logits' CONV1D stripped of ``+argmax``: the
    matrix sequencer has no arg-max to hand over and reports FIELD_RANGE (info: the vector
    address) at the ARGMAX, instead of waiting for a result that never comes."""
    from dfx_hw.isa.encoding import Instruction
    from dfx_hw.isa.layouts import Opcode
    model = _model(3, 1)
    program = [Instruction(i.op, i.fields, i.flags - {"argmax"}) if i.op is Opcode.CONV1D
               else i for i in model.programs(n_prompt=len(PROMPT), n_new=2)[0]]
    pc = next(pc for pc, i in enumerate(program) if i.op is Opcode.ARGMAX)
    sim, run = _run(model, programs=[encode_program(program)])
    error = _stopped(run)
    assert error.code is ErrorCode.FIELD_RANGE and error.pc == pc
    assert "argmax" in str(error)
    assert run.stored_tokens() == []
