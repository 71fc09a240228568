"""Programs for the control unit's benches: random dependent programs and compiled GPT-2 programs.

:func:`random_program` draws every issuable opcode with operands packed into a small part of the
register files and a handful of memory regions, so that most instructions depend on recent ones
(RAW, WAW and WAR on vector ranges, scalar registers and memory keys), inside a TOKEN loop
around a LAYER loop (``token``/``layer`` flags change the ranges and keys every iteration).
:func:`compiled_program` is the compiler's program for one core of a model.
"""

import json
import random
from pathlib import Path

from dfx_hw.compiler.memmap import build_memory_map
from dfx_hw.compiler.partition import core_slices
from dfx_hw.compiler.program import build_program
from dfx_hw.geometry import TileGeometry
from dfx_hw.isa.encoding import Instruction
from dfx_hw.isa.layouts import FIELD_BITS, OPS, InstrClass, Opcode, Register
from dfx_hw.model.config import GPT2Config

__all__ = ["random_program", "independent_program", "compiled_program", "DEMO_CONFIG"]

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "models" / "demo" / "config.json"

_ISSUABLE = [op for op, info in OPS.items()
             if info.cls is not InstrClass.CONTROL or op is Opcode.SETS]


def _instruction(rng, op, *, d, span, srf):
    info = OPS[op]
    bases = list(range(0, span, 8))
    fields = {}
    for name in info.fields:
        if name in ("vdst", "vsrc", "vsrc2"):
            value = rng.choice(bases) + rng.randrange(0, 4)
        elif name in ("sdst", "ssrc", "ssrc2"):
            value = rng.randrange(0, srf - 1)
        elif name == "len":
            value = rng.randrange(1, 25)
        elif name == "k":
            value = rng.randrange(1, d + 1) if op is Opcode.MASKEDMM else rng.randrange(1, 33)
        elif name == "n":
            value = rng.randrange(1, 33)
        elif name == "total":
            value = rng.randrange(1, 49)
        elif name == "hbm":
            value = rng.randrange(0, 4)
        elif name == "ddr":
            value = rng.choice([0, 1, 2, 3, 8, 100])
        elif name == "stride":
            value = rng.randrange(0, 3)
        elif name == "reg":
            value = rng.choice([Register.HBM_STRIDE, Register.DDR_STRIDE])
        else:
            value = rng.randrange(0, 1 << min(FIELD_BITS[name], 16))
        fields[name] = value
    flags = frozenset(f for f in info.flags if rng.random() < 0.35)
    return Instruction(op, fields, flags)


def random_program(seed, *, body=60, layers=3, tokens=60, d=8, span=192, srf=16):
    """A random dependent program (list of :class:`Instruction`): ``tokens`` iterations of a
    TOKEN loop around ``layers`` iterations of a LAYER loop around ``body`` random instructions
    (about ``tokens * layers * (body + 1)`` executed instructions). Vector operands lie in
    ``[0, span + 3 + lengths)``, scalar registers below ``srf``."""
    rng = random.Random(seed)
    code = [Instruction(Opcode.SETR, {"reg": Register.HBM_STRIDE, "imm32": rng.randrange(1, 99)}),
            Instruction(Opcode.SETR, {"reg": Register.DDR_STRIDE, "imm32": rng.randrange(1, 9)}),
            Instruction(Opcode.SETR, {"reg": Register.TOKEN, "imm32": 0})]
    top = len(code)
    code.append(Instruction(Opcode.SETR, {"reg": Register.LAYER, "imm32": 0}))
    inner = len(code)
    for _ in range(body):
        if rng.random() < 0.03:
            reg = rng.choice([Register.HBM_STRIDE, Register.DDR_STRIDE])
            code.append(Instruction(Opcode.SETR, {"reg": reg, "imm32": rng.randrange(0, 50)}))
        else:
            code.append(_instruction(rng, rng.choice(_ISSUABLE), d=d, span=span, srf=srf))
    code.append(Instruction(Opcode.LOOP, {"reg": Register.LAYER, "limit": layers,
                                          "target": inner}))
    code.append(Instruction(Opcode.LOOP, {"reg": Register.TOKEN, "limit": tokens,
                                          "target": top}))
    code.append(Instruction(Opcode.END, {}))
    return code


def independent_program(count):
    """``count`` instructions that touch disjoint state, cycling over the four units (then
    END): nothing ever waits on a dependency, so the issue stage should take one per clock."""
    code = []
    for i in range(count):
        v = 256 * i
        kind = i % 4
        if kind == 0:
            code.append(Instruction(Opcode.CONV1D, {"vdst": v, "vsrc": v + 64, "hbm": 0,
                                                    "ddr": 0, "k": 8, "n": 8}))
        elif kind == 1:
            code.append(Instruction(Opcode.VADD, {"vdst": v, "vsrc": v + 64, "vsrc2": v + 128,
                                                  "len": 8}))
        elif kind == 2:
            code.append(Instruction(Opcode.LDD, {"vdst": v, "ddr": 1000 + i, "len": 8,
                                                 "stride": 0, "ssrc": 0}))
        else:
            code.append(Instruction(Opcode.SYNC, {"vdst": v, "vsrc": v + 64, "len": 8,
                                                  "total": 16, "tag": 0}))
    code.append(Instruction(Opcode.END, {}))
    return code


def compiled_program(*, config_path=DEMO_CONFIG, cores=2, core=0, n_prompt=4, n_new=40,
                     geometry=TileGeometry()):
    """The compiler's program for core ``core`` of ``cores`` for the model shape of
    ``config_path`` (a Hugging Face ``config.json``; the weights do not change the program)."""
    config = GPT2Config.from_hf_dict(json.loads(Path(config_path).read_text()))
    slices = core_slices(config, cores)[core]
    mm = build_memory_map(config, geometry, slices, cores=cores)
    return build_program(mm, n_prompt=n_prompt, n_new=n_new, cores=cores)
