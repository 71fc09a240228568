"""What the DMA must do for a real compiled program, taken from the ISA simulator.

:func:`dma_trace` compiles a small random GPT-2, runs it on the ISA simulator
(:class:`dfx_hw.isasim.ring.Ring`) and records, for one core, every instruction the DMA takes
part in (the DMA class and CONV1D / MASKEDMM / MM) with what the simulator read and wrote for
it, in program order:

* the issue payload (word, TOKEN, LAYER * HBM_STRIDE, LAYER * DDR_STRIDE at issue);
* matrix instructions: the HBM elements the simulator reads for the weights (the region of
  ``Core._weight`` / ``Core._cache_matrix`` at ``Core.hbm_addr``), and the bias elements
  (``Core.ddr_addr``, ``n`` of them);
* store instructions: the register-file contents the simulator stores (``v[vsrc:+len]`` or
  ``s[ssrc]``), and for an indexed LDD the scalar ``s[ssrc]``;
* load instructions: the register-file contents after the simulator executed them.

The addresses come from the simulator's own methods, so a bench comparing the RTL with this
record compares it with the simulator, not with a second model.
"""

from dataclasses import dataclass, field

import numpy as np

from dfx_hw.compiler import compile_model
from dfx_hw.compiler.tiling import tiled_size
from dfx_hw.isa.encoding import encode
from dfx_hw.isa.layouts import InstrClass, Opcode, Register
from dfx_hw.isasim.ring import Ring
from dfx_hw.model.checkpoint import random_weights
from dfx_hw.model.config import GPT2Config

__all__ = ["DMARecord", "DMATrace", "dma_trace", "STREAMED"]

#: The matrix opcodes whose operands the DMA streams.
STREAMED = (Opcode.CONV1D, Opcode.MASKEDMM, Opcode.MM)


@dataclass
class DMARecord:
    """One instruction as the DMA sees it (element arrays are uint16 bit patterns)."""
    op: str
    word: int
    token: int
    hbm_offset: int
    ddr_offset: int
    weights: np.ndarray = None     # matrix: flat HBM elements read (whole tiles)
    bias: np.ndarray = None        # CONV1D with bias: n elements
    store: np.ndarray = None       # elements the register file sends (stores, indexed LDD)
    load: np.ndarray = None        # elements the register file receives (loads)


@dataclass
class DMATrace:
    config: GPT2Config
    geometry: object
    records: list
    hbm_before: np.ndarray
    ddr_before: np.ndarray
    hbm_after: np.ndarray
    ddr_after: np.ndarray
    counts: dict = field(default_factory=dict)


def _bits(array):
    return np.ascontiguousarray(np.asarray(array, np.float16)).view(np.uint16).copy()


def dma_trace(*, geometry, n_embd, n_head, n_layer=2, vocab=50, ctx=12, prompt=(3, 17, 5),
              n_new=2, cores=1, core_id=0, seed=1):
    """Run a small random GPT-2 on the ISA simulator and return the :class:`DMATrace` of core
    ``core_id``."""
    config = GPT2Config(vocab_size=vocab, n_positions=ctx, n_embd=n_embd, n_layer=n_layer,
                        n_head=n_head)
    model = compile_model(config, random_weights(config, seed=seed, scale=0.2), cores=cores,
                          geometry=geometry, capture_logits=True)
    programs = model.programs(n_prompt=len(prompt), n_new=n_new)
    hbm = [core.hbm.copy() for core in model.cores]
    ddr = [core.ddr.copy() for core in model.cores]
    for core, image in zip(model.cores, ddr):
        at = core.memmap.ddr["tokens"].addr
        image.view(np.uint16)[at:at + len(prompt)] = prompt
    hbm_before, ddr_before = _bits(hbm[core_id]), _bits(ddr[core_id])
    records = []
    pending = []      # the load whose result the next trace call reads
    g = geometry

    def trace(cid, pc, instr):
        if cid != core_id:
            return
        core = ring.cores[core_id]
        if pending:
            record, kind, where = pending.pop()
            if kind == "vector":
                record.load = _bits(core.vrf[where[0]:where[0] + where[1]])
            else:
                record.load = np.array([core.srf[where] & 0xFFFF], np.uint16)
        cls = instr.info.cls
        if not (cls is InstrClass.DMA or instr.op in STREAMED):
            return
        regs = core.regs
        rec = DMARecord(op=instr.op.name, word=encode(instr), token=regs[Register.TOKEN],
                        hbm_offset=regs[Register.LAYER] * regs[Register.HBM_STRIDE],
                        ddr_offset=regs[Register.LAYER] * regs[Register.DDR_STRIDE])
        op = instr.op
        if op in STREAMED:
            k, n = instr["k"], instr["n"]
            if op is Opcode.CONV1D:
                size = tiled_size(k, n, g.d, g.l)
            elif op is Opcode.MASKEDMM:
                cols = core.tokened(instr, n)
                size = -(-k // g.d) * -(-cols // g.l) * g.tile_elements
            else:
                rows = core.tokened(instr, k)
                size = -(-rows // g.d) * -(-n // g.l) * g.tile_elements
            start = core.hbm_addr(instr)
            rec.weights = _bits(core.hbm[start:start + size])
            if op is Opcode.CONV1D and "nobias" not in instr.flags:
                at = core.ddr_addr(instr)
                rec.bias = _bits(core.ddr[at:at + n])
        elif op in (Opcode.STD, Opcode.STH, Opcode.STHT):
            rec.store = _bits(core.vrf[instr["vsrc"]:instr["vsrc"] + instr["len"]])
        elif op is Opcode.STTOK:
            rec.store = np.array([core.srf[instr["ssrc"]]], np.uint16)
        elif op is Opcode.LDD:
            if "index" in instr.flags:
                rec.store = np.array([core.srf[instr["ssrc"]]], np.uint16)
            pending.append((rec, "vector", (instr["vdst"], instr["len"])))
        elif op is Opcode.LDTOK:
            pending.append((rec, "scalar", instr["sdst"]))
        records.append(rec)

    ring = Ring(programs, hbm, ddr, geometry=geometry, trace=trace)
    ring.run()
    assert not pending, "a load was the last instruction"
    counts = {}
    for rec in records:
        counts[rec.op] = counts.get(rec.op, 0) + 1
    return DMATrace(config, geometry, records, hbm_before, ddr_before, _bits(hbm[core_id]),
                    _bits(ddr[core_id]), counts)
