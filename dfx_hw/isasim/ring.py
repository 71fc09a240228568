"""N DFX cores joined in a ring: runs their programs and performs the ring all-gathers."""

from collections import Counter

import numpy as np

from ..compiler.memmap import SRF_SIZE, VRF_SIZE
from ..isa.encoding import encode_program
from ..isa.layouts import InstrClass, Opcode
from ..spec import costs
from .core import Core
from .errors import RingDeadlock

__all__ = ["Ring"]


class Ring:
    """Cores ``0..N-1`` in a ring.

    Parameters
    ----------
    programs : list of (list of Instruction or list of int)
        One program per core (instructions are encoded to words first, as the host would load
        them).
    hbm, ddr : list of float16 arrays
        Each core's images; stores modify them in place.
    geometry : TileGeometry
    vrf_size, srf_size : int
        Register-file sizes.
    max_instructions : int or None
        Per-core limit on executed instructions (a runaway loop raises instead of hanging).
    trace : callable or None
        ``trace(core_id, pc, instruction)`` before every executed instruction.
    """

    def __init__(self, programs, hbm, ddr, *, geometry, vrf_size=VRF_SIZE, srf_size=SRF_SIZE,
                 max_instructions=None, trace=None):
        if not (len(programs) == len(hbm) == len(ddr)) or not programs:
            raise ValueError(f"need one program and one pair of images per core, got "
                             f"{len(programs)} programs, {len(hbm)} HBM and {len(ddr)} DDR images")
        cores = len(programs)
        self.cores = []
        for index, program in enumerate(programs):
            words = [w if isinstance(w, int) else None for w in program]
            if any(w is None for w in words):
                words = encode_program(program)
            self.cores.append(Core(core_id=index, cores=cores, words=words, hbm=hbm[index],
                                   ddr=ddr[index], geometry=geometry, vrf_size=vrf_size,
                                   srf_size=srf_size, max_instructions=max_instructions,
                                   trace=trace))
        self.syncs = 0

    @property
    def counts(self):
        """Executed instructions by class, summed over the cores."""
        total = Counter()
        for core in self.cores:
            total.update(core.counts)
        return total

    @property
    def cycles(self):
        """Serial estimate of the clocks (:mod:`~dfx_hw.spec.costs`): the slowest core."""
        return max(core.cycles for core in self.cores)

    @property
    def overlapped_cycles(self):
        """Scoreboard estimate of the clocks (:mod:`~dfx_hw.isasim.timing`): the slowest core."""
        return max(core.timeline.end for core in self.cores)

    def run(self):
        """Run every core to its END.

        Raises
        ------
        SimulationError
            (and its subclasses) for an illegal instruction, an address outside an image, a
            register-file overflow, or a ring deadlock; the message names core, pc, instruction.
        """
        for _ in self.steps():
            pass

    def steps(self):
        """Run, yielding after every ring sync (a generator; the caller may stop early)."""
        while True:
            waiting = [(core, core.run()) for core in self.cores]
            blocked = [(core, instr) for core, instr in waiting if instr is not None]
            if not blocked:
                return
            if len(blocked) < len(self.cores):
                ended = next(core for core, instr in waiting if instr is None)
                core, instr = blocked[0]
                raise RingDeadlock(
                    f"waits at a ring sync ({instr}) that core {ended.core_id} will never reach "
                    f"(it ended at pc {ended.pc})", core=core.core_id, pc=core.pc, text=str(instr))
            self._gather(blocked)
            self.syncs += 1
            yield

    def _gather(self, blocked):
        first_core, first = blocked[0]
        for core, instr in blocked[1:]:
            same = (instr.op is first.op and instr["tag"] == first["tag"]
                    and (instr.op is Opcode.SYNCS or instr["total"] == first["total"]))
            if not same:
                raise RingDeadlock(
                    f"cores disagree on the ring sync: core {first_core.core_id} at pc "
                    f"{first_core.pc} ({first}) but core {core.core_id} at pc {core.pc} "
                    f"({instr})", core=core.core_id, pc=core.pc, text=str(instr))
        n = len(blocked)
        if first.op is Opcode.SYNCS:
            pieces = []
            for core, instr in blocked:
                src = core.sreg(instr["ssrc"], 2)
                pair = core.srf[src:src + 2]
                if pair[1] >= 1 << 16:
                    raise core.error(RingDeadlock, f"index {pair[1]} does not fit a 16-bit word")
                pieces.append(pair.astype(np.uint16))
            gathered = np.concatenate(pieces).view(np.float16)
            lengths = [2] * n
        else:
            total = sum(instr["len"] for _, instr in blocked)
            if total != first["total"]:
                lens = ", ".join(f"core {c.core_id}: {i['len']}" for c, i in blocked)
                raise RingDeadlock(
                    f"ring sync sizes do not add up: total={first['total']} but the cores send "
                    f"{total} ({lens})", core=first_core.core_id, pc=first_core.pc,
                    text=str(first))
            gathered = np.concatenate(
                [core.vrf[core.vslice(instr["vsrc"], instr["len"])] for core, instr in blocked])
            lengths = [instr["len"] for _, instr in blocked]
        # The router is busy for the whole sync (it runs one at a time).
        occupancy = costs.sync_cycles(lengths, first_core.geometry.vpu_lanes)
        latency = 0
        start = max(core.cycles for core, _ in blocked)
        accesses, starts = [], []
        for core, instr in blocked:
            if instr.op is Opcode.SYNCS:
                reads = (("srf", instr["ssrc"]), ("srf", instr["ssrc"] + 1))
            else:
                reads = (("vrf", instr["vsrc"], instr["vsrc"] + instr["len"]),)
            writes = (("vrf", instr["vdst"], instr["vdst"] + gathered.size),)
            accesses.append((writes, reads))
            starts.append(core.timeline.start_of(InstrClass.ROUTER, reads, writes))
        agreed = max(starts)  # the sync starts when every core is ready for it
        for (core, instr), (writes, reads) in zip(blocked, accesses):
            if core.trace is not None:
                core.trace(core.core_id, core.pc, instr)
            core.vrf[core.vslice(instr["vdst"], gathered.size)] = gathered
            core.counts["router"] += 1
            core.cycles = start + occupancy + latency
            core.timeline.place(InstrClass.ROUTER, agreed, occupancy, latency, writes, reads)
            core.forget_kept(writes)
            core.pc += 1
