"""The ISA simulator stops with a clear error (core, pc, instruction) on each kind of fault."""

import numpy as np
import pytest

from dfx_hw.geometry import U280
from dfx_hw.isa import assemble, encode
from dfx_hw.isasim import (AddressError, IllegalInstructionError, RegisterFileOverflow, Ring,
                           RingDeadlock, SimulationError)


def _ring(*programs, hbm=4096, ddr=4096, **options):
    words = [[encode(assemble(line)) if isinstance(line, str) else line for line in program]
             for program in programs]
    n = len(programs)
    return Ring(words, [np.zeros(hbm, np.float16) for _ in range(n)],
                [np.zeros(ddr, np.float16) for _ in range(n)], geometry=U280, **options)


def test_illegal_instruction_names_core_pc_and_word():
    ring = _ring(["sets sdst=1 imm16=15360", 0x3F, "end"])
    with pytest.raises(IllegalInstructionError,
                       match=r"^core 0, pc 1: illegal instruction word 0x0+3f: unknown opcode"):
        ring.run()


def test_illegal_operands_name_the_instruction():
    ring = _ring(["maskedmm vdst=0 vsrc=0 hbm=0 sdst=1 k=65 n=1 imm16=12288", "end"])
    with pytest.raises(IllegalInstructionError,
                       match=r"^core 0, pc 0 \(maskedmm vdst=0 .*\): maskedmm field 'k' = 65 is "
                             r"out of range"):
        ring.run()


def test_ddr_address_outside_the_image():
    ring = _ring(["ldd vdst=0 ddr=4000 len=200 stride=0 ssrc=0", "end"])
    with pytest.raises(AddressError, match=r"^core 0, pc 0 \(ldd vdst=0 ddr=4000 len=200 "
                                           r"stride=0 ssrc=0\): DDR access \[4000, 4200\) is "
                                           r"outside the 4096-element DDR image"):
        ring.run()


def test_hbm_address_outside_the_image_with_layer_offset():
    ring = _ring(["setr reg=HBM_STRIDE imm32=4096", "setr reg=LAYER imm32=1",
                  "sth hbm=0 vsrc=0 len=4 stride=0 +layer", "end"])
    with pytest.raises(AddressError, match=r"^core 0, pc 2 \(sth .*\+layer\): HBM access "
                                           r"\[4096, 4100\) is outside"):
        ring.run()


def test_vector_register_file_overflow():
    ring = _ring(["vadd vdst=131000 vsrc=0 vsrc2=0 len=100", "end"])
    with pytest.raises(RegisterFileOverflow,
                       match=r"^core 0, pc 0 \(vadd .*\): vector register-file access "
                             r"\[131000, 131100\) exceeds its 131072 words"):
        ring.run()


def test_scalar_register_file_overflow():
    ring = _ring(["argmax sdst=31 vsrc=0 len=4 base=0", "end"])
    with pytest.raises(RegisterFileOverflow, match=r"^core 0, pc 0 \(argmax .*\): scalar "
                                                   r"register s32 exceeds the 32 scalar"):
        ring.run()


def test_ring_deadlock_cores_disagree_on_sync():
    ring = _ring(["sync vdst=0 vsrc=100 len=4 total=8 tag=0", "end"],
                 ["sync vdst=0 vsrc=100 len=4 total=8 tag=1", "end"])
    with pytest.raises(RingDeadlock, match=r"^core 1, pc 0 \(sync .*tag=1\): cores disagree on "
                                           r"the ring sync: core 0 at pc 0 \(sync .*tag=0\)"):
        ring.run()


def test_ring_deadlock_sizes_do_not_add_up():
    ring = _ring(["sync vdst=0 vsrc=100 len=4 total=9 tag=0", "end"],
                 ["sync vdst=0 vsrc=100 len=4 total=9 tag=0", "end"])
    with pytest.raises(RingDeadlock, match=r"ring sync sizes do not add up: total=9 but the "
                                           r"cores send 8 \(core 0: 4, core 1: 4\)"):
        ring.run()


def test_ring_deadlock_core_never_arrives():
    ring = _ring(["sync vdst=0 vsrc=100 len=4 total=8 tag=0", "end"], ["end"])
    with pytest.raises(RingDeadlock, match=r"^core 0, pc 0 \(sync .*\): waits at a ring sync .* "
                                           r"that core 1 will never reach \(it ended at pc 0\)"):
        ring.run()


def test_runaway_loop_is_stopped():
    ring = _ring(["setr reg=TOKEN imm32=0", "loop reg=LAYER limit=65535 target=1", "end"],
                 max_instructions=100)
    with pytest.raises(SimulationError, match=r"^core 0, pc 1 \(loop reg=LAYER limit=65535 "
                                              r"target=1\): more than 100 instructions executed"):
        ring.run()


def test_running_off_the_program():
    ring = _ring(["sets sdst=1 imm16=0"])
    with pytest.raises(SimulationError, match=r"^core 0, pc 1: program counter 1 is outside the "
                                              r"program \(1 instructions; missing END\?\)"):
        ring.run()


def test_sync_gathers_in_core_order_and_loop_counts():
    programs = []
    for core in range(3):
        programs.append([
            f"sets sdst=2 imm16={0x3C00 + core}",     # a distinct FP16 value per core
            "setr reg=TOKEN imm32=0",
            "vadds vdst=100 vsrc=100 ssrc=2 len=2",   # loop body: v[100:102] += s2
            "loop reg=TOKEN limit=3 target=2",
            "sync vdst=0 vsrc=100 len=2 total=6 tag=7",
            "end"])
    seen = []
    ring = _ring(*programs, trace=lambda core, pc, instr: seen.append((core, pc, instr.op.name)))
    ring.run()
    assert [pc for core, pc, _ in seen if core == 2] == [0, 1, 2, 3, 2, 3, 2, 3, 4, 5]
    assert (1, 4, "SYNC") in seen
    expect = np.repeat([3 * np.float16(1 + k / 1024) for k in range(3)], 2).astype(np.float16)
    for core in ring.cores:
        assert (core.vrf[:6] == expect).all()
        assert core.counts == {"control": 6, "vector": 3, "router": 1}  # sets setr 3xloop end
    assert ring.syncs == 1


def test_scoreboard_overlaps_independent_units():
    """A DMA load and an independent vector op overlap on the timeline; a dependent one waits."""
    independent = _ring(["ldd vdst=0 ddr=0 len=1024 stride=0 ssrc=0",
                         "vadd vdst=2000 vsrc=3000 vsrc2=3000 len=16", "end"])
    independent.run()
    dependent = _ring(["ldd vdst=0 ddr=0 len=1024 stride=0 ssrc=0",
                       "vadd vdst=2000 vsrc=0 vsrc2=0 len=16", "end"])
    dependent.run()
    assert independent.cycles == dependent.cycles  # the serial estimate cannot tell
    assert independent.overlapped_cycles < dependent.overlapped_cycles
    assert dependent.overlapped_cycles == dependent.cycles - 1  # only END overlaps


def test_argmax_tap_needs_the_conv1d_that_wrote_the_range():
    """``ARGMAX +tap`` reads the arg-max found while the preceding ``CONV1D +argmax`` wrote
    ``v[vsrc:+len]``: with no such CONV1D, or one of another range, or another matrix
    instruction in between, the run stops and says why (the RTL reports FIELD_RANGE)."""
    conv = "conv1d vdst=0 vsrc=64 hbm=0 ddr=0 k=64 n=16 +argmax"
    for program, why in [
        (["argmax sdst=2 vsrc=0 len=16 base=0 +tap", "end"], "none did"),
        ([conv, "argmax sdst=2 vsrc=0 len=8 base=0 +tap", "end"], r"it wrote v\[0:\+16\]"),
        ([conv, "mm vdst=32 vsrc=64 hbm=0 k=1 n=16", "argmax sdst=2 vsrc=0 len=16 base=0 +tap",
          "end"], "none did"),
    ]:
        with pytest.raises(IllegalInstructionError,
                           match=r"argmax tap of v\[0:\+\d+\]: the matrix instruction before it "
                                 r"must be a CONV1D with `argmax` that wrote exactly that range "
                                 rf"\({why}\)"):
            _ring(program).run()
    ring = _ring([conv, "argmax sdst=2 vsrc=0 len=16 base=5 +tap", "end"])
    ring.run()
    assert ring.cores[0].srf[3] == 5          # all-zero weights and bias: index 0 + base
