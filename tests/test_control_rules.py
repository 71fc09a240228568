"""The scoreboard rules in Python (dfx_hw.control.rules) are the ISA simulator's timing rules.

The control unit's bench checks the RTL against :mod:`dfx_hw.control.rules`; these tests tie
that model to :mod:`dfx_hw.isasim` (what each instruction reads and writes, the control flow)
and check the write-after-read rule the timing model gained with the scoreboard.
"""

import numpy as np
import pytest
from conftest import TINY_CONFIG, TINY_SEED

from dfx_hw.compiler import compile_model
from dfx_hw.control.rules import Context, FrontEnd, accesses, blocks, check, conflicts
from dfx_hw.geometry import U280
from dfx_hw.isa import assemble, encode
from dfx_hw.isa.layouts import InstrClass, Register
from dfx_hw.isasim import Ring
from dfx_hw.isasim.timing import Timeline
from dfx_hw.model.checkpoint import random_weights


def _traced_ring(programs, model, monkeypatch):
    """Run ``programs`` on the ISA simulator; return per core the list of
    ``(pc, instruction, context, reads, writes)`` the timeline was given."""
    traces = {}
    placed = {}
    owners = {}

    def trace(core_id, pc, instr):
        core = ring.cores[core_id]
        ctx = Context(core.regs[Register.TOKEN], core.regs[Register.LAYER],
                      core.regs[Register.HBM_STRIDE], core.regs[Register.DDR_STRIDE])
        traces.setdefault(core_id, []).append((pc, instr, ctx))

    original = Timeline.place

    def place(self, unit, start, occupancy, latency, writes, reads=(), **options):
        placed.setdefault(owners[id(self)], []).append((tuple(reads), tuple(writes)))
        return original(self, unit, start, occupancy, latency, writes, reads, **options)

    monkeypatch.setattr(Timeline, "place", place)
    ring = Ring(programs, [c.hbm.copy() for c in model.cores], [c.ddr.copy() for c in model.cores],
                geometry=model.geometry, trace=trace)
    for index, core in enumerate(ring.cores):
        owners[id(core.timeline)] = index
    ring.run()
    out = {}
    for core_id, items in traces.items():
        assert len(items) == len(placed[core_id])
        out[core_id] = [item + access for item, access in zip(items, placed[core_id])]
    return out


@pytest.mark.parametrize("cores", [1, 2])
def test_rules_are_the_isa_simulator_accesses_on_a_compiled_model(cores, monkeypatch):
    """Every executed instruction of a compiled GPT-2 (prompt + generation, every opcode the
    compiler emits): :func:`accesses` returns the reads and writes the ISA simulator hands its
    timeline, and :class:`FrontEnd` executes the same pc sequence with the same contexts."""
    model = compile_model(TINY_CONFIG, random_weights(TINY_CONFIG, TINY_SEED), cores=cores,
                          capture_logits=True)
    programs = model.programs(n_prompt=3, n_new=3)
    traced = _traced_ring(programs, model, monkeypatch)
    for core_id, items in traced.items():
        dynamic = FrontEnd(programs[core_id], geometry=U280, cores=cores).run()
        assert [d.pc for d in dynamic[:-1]] == [pc for pc, *_ in items[:-1]]
        for dyn, (pc, instr, ctx, reads, writes) in zip(dynamic, items):
            assert dyn.ctx == ctx, f"pc {pc}"
            assert accesses(instr, ctx, geometry=U280, cores=cores) == (reads, writes), \
                f"core {core_id} pc {pc}: {instr}"
            assert check(instr, ctx, geometry=U280, cores=cores, vrf_elements=1 << 17,
                         srf_words=32) is None


def _run(*lines):
    ring = Ring([[encode(assemble(line)) for line in lines]], [np.zeros(1 << 18, np.float16)],
                [np.zeros(4096, np.float16)], geometry=U280)
    ring.run()
    return ring


def test_timing_waits_for_an_earlier_reader_before_overwriting():
    """Write-after-read: a DMA load into the range a long matrix product still reads starts only
    when the product has finished; into another range it overlaps."""
    reader = "conv1d vdst=8192 vsrc=0 hbm=0 ddr=0 k=64 n=2048 +nobias"
    war = _run(reader, "ldd vdst=0 ddr=0 len=64 stride=0 ssrc=0", "end")
    free = _run(reader, "ldd vdst=4096 ddr=0 len=64 stride=0 ssrc=0", "end")
    assert free.overlapped_cycles < war.overlapped_cycles
    core = war.cores[0]
    assert core.timeline.read_vrf  # the product's read is recorded until it finishes


def test_only_other_units_block_a_vector_instruction():
    """The vector unit orders its own instructions (SELF_ORDERED): a conflict with an earlier
    vector instruction does not hold a vector instruction at the issue stage; a conflict with
    another unit's does, and so does any conflict of a non-vector instruction."""
    v = lambda a, b: ("vrf", a, b)  # noqa: E731
    raw = ((v(0, 4),), ()), ((), (v(3, 8),))
    assert not blocks(InstrClass.VECTOR, raw[0], InstrClass.VECTOR, raw[1])
    assert blocks(InstrClass.VECTOR, raw[0], InstrClass.DMA, raw[1])
    assert blocks(InstrClass.MATRIX, raw[0], InstrClass.VECTOR, raw[1])
    assert blocks(InstrClass.DMA, raw[0], InstrClass.DMA, raw[1])
    assert not blocks(InstrClass.VECTOR, ((v(0, 4),), ()), InstrClass.DMA, ((), (v(4, 8),)))


def test_timing_starts_a_dependent_vector_instruction_when_its_operand_is_written():
    """In the timing model a vector instruction that reads an earlier vector result leaves the
    issue stage at once (the VPU holds it until the operand is written), so a later independent
    DMA load issues behind it without waiting for the chain; a DMA store of the result still
    waits for it."""
    lines = ["vexp vdst=64 vsrc=0 len=64", "vexp vdst=128 vsrc=64 len=64",
             "ldd vdst=4096 ddr=0 len=64 stride=0 ssrc=0", "std ddr=64 vsrc=128 len=64 stride=0",
             "end"]
    ring = Ring([[encode(assemble(line)) for line in lines]], [np.zeros(1 << 18, np.float16)],
                [np.zeros(4096, np.float16)], geometry=U280)
    ring.cores[0].timeline.log = []
    ring.run()
    first, second, load, store, _ = ring.cores[0].timeline.log   # (unit, issue, done)
    assert second[1] == first[1] + 1         # issued at once behind the first vexp
    assert second[2] > first[2]              # and written back after it
    assert load[1] == second[1] + 1          # the load issued right behind it
    assert store[1] >= second[2]             # the store waited for the chain's result


def test_conflict_rules():
    """RAW, WAW, WAR on vector ranges, scalar registers and memory keys; read-read is free."""
    v = lambda a, b: ("vrf", a, b)  # noqa: E731
    assert conflicts(((v(0, 4),), ()), ((), (v(3, 8),)))          # RAW
    assert conflicts(((), (v(0, 4),)), ((), (v(3, 8),)))          # WAW
    assert conflicts(((), (v(0, 4),)), ((v(3, 8),), ()))          # WAR
    assert not conflicts(((v(0, 4),), ()), ((v(0, 4),), ()))      # read after read
    assert not conflicts(((v(0, 4),), ()), ((), (v(4, 8),)))      # adjacent
    assert conflicts(((("srf", 3),), ()), ((), (("srf", 3),)))
    assert conflicts(((), (("ddr", 9),)), ((("ddr", 9),), ()))
    assert not conflicts(((("hbm", 9),), ()), ((), (("ddr", 9),)))
