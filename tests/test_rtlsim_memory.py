"""The whole-core simulation's memory model (``dfx_hw/rtlsim/cpp/axi_memory.h``) against the
core's trace port: a store to HBM is not held behind a weight stream on the same channels."""

from dfx_hw.control.rules import unit_of
from dfx_hw.core.config import SMALL
from dfx_hw.core.core import TRACE_UNITS
from dfx_hw.host import Generation, rtl_ring
from dfx_hw.isa.layouts import Opcode
from dfx_hw.isasim import generate
from dfx_hw.rtlsim.sim import CoreSim
from dfx_hw.spec import costs
from tests.test_core_rtl import DDR_BYTES, HBM_BYTES, _model


#: The simulated HBM's read latency in this test (clocks).
READ_LATENCY = 60


def _schedule(events, program):
    """``[(pc, opcode, issue clock, write-back clock)]`` of the unit instructions in a trace."""
    pending = {unit: [] for unit in TRACE_UNITS}
    rows = []
    for event in events:
        clock, done = int(event["clock"]), int(event["done"])
        for u, unit in enumerate(TRACE_UNITS):
            if done >> u & 1:
                pc, issued = pending[unit].pop(0)
                rows.append((pc, program[pc].op, issued, clock))
        if event["issue"]:
            pc = int(event["pc"])
            cls = unit_of(program[pc])
            if cls is not None:
                pending[cls.name.lower()].append((pc, clock))
    return rows


def test_hbm_store_is_not_held_behind_a_weight_stream():
    """Each group of heads stores its keys and values (STH, STHT) while the next group's QKV
    CONV1D streams weights from every HBM port. The memory alternates a waiting write beat
    with the read beats, so every such store writes back before that stream's reads end; a
    memory that served reads first would hold it until the last read beat, which arrives about
    when the last tile enters the matrix unit: the CONV1D's write-back less the matrix unit's
    drain (``costs.MATRIX_DRAIN``). The bound below is earlier still by the read latency."""
    model = _model(16, 1, layers=1, ctx=8)
    program = model.programs(n_prompt=1, n_new=1)[0]
    sim = CoreSim(SMALL, cores=1, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES)
    sim.set_hbm_timing(read_latency=READ_LATENCY)
    sim.trace(0)
    run = Generation(rtl_ring(sim, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES), model, [5], 1,
                     watchdog=10_000_000)
    assert [token for token, _ in run.tokens(max_clocks=5_000_000)] == \
        generate(model, [5], 1).tokens
    rows = _schedule(sim.take_trace(0), program)
    streams = [(issued, done) for _, op, issued, done in rows
               if op is Opcode.CONV1D and done - issued >= 500]
    overlapped = [(op, issued, done, stream) for _, op, issued, done in rows
                  if op in (Opcode.STH, Opcode.STHT)
                  for stream in streams if stream[0] < issued < stream[1]]
    assert len(overlapped) >= 8, overlapped
    for op, issued, done, (_, stream_done) in overlapped:
        assert done < stream_done - costs.MATRIX_DRAIN - READ_LATENCY, \
            (op.name, issued, done, stream_done)
