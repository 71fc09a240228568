"""cocotb bench of the VPU: runs micro-op programs and compares every stored word, bit for bit,
with the bit-true model.

Bench parameters (``sim.harness.bench_params()["bench"]``):

``scenario``
    ``"ops"``: every vector primitive (and the transfer micro-ops) on random vectors of each
    length in ``lengths``, every scalar primitive on random scalars; ``"chain"``: back-to-back
    dependent micro-ops; ``"layernorm"`` / ``"softmax"``: the recipes of
    :mod:`dfx_hw.model.bittrue.recipes` on GPT-2-sized rows with extreme values; ``"timing"``:
    each ``[opcode, length]`` of ``ops`` alone on an idle VPU, clocked from its offer to its
    retire pulse.
``lengths``, ``seed``
    Vector lengths and the random seed.
``idle``, ``backpressure``
    Idle clocks on the load stream / back-pressure on the store stream (about 1 clock in 4).
``cycles_out``
    Optional path: write the clock counts of the run (JSON) there.

The expectation is :func:`dfx_hw.vpu.programs.execute` (the bit-true primitives of
:mod:`dfx_hw.model.bittrue.vector_ops`, micro-op by micro-op); the LayerNorm and Softmax
scenarios are also compared with :func:`~dfx_hw.model.bittrue.recipes.layernorm` and
:func:`~dfx_hw.model.bittrue.recipes.softmax` themselves.
"""

import json

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from dfx_hw.model.bittrue import recipes
from dfx_hw.model.bittrue.vector_ops import VECTOR_PRIMITIVES
from dfx_hw.vpu.layouts import VPUConfig
from dfx_hw.vpu.programs import (Allocation, MicroOp, VPUState, encode, execute,
                                 recipe_program, words_of)
from sim.harness import bench_params

_TIMEOUT_PER_WORD = 200


def random_fp16(rng, n, *, specials=True):
    """Awkward FP16 values: mostly moderate normals, some large, tiny/subnormal, zeros and (with
    ``specials``) any bit pattern (inf, NaN)."""
    kind = rng.integers(0, 10, n)
    values = (rng.standard_normal(n) * 2).astype(np.float16)
    large = (rng.choice([-1, 1], n) * rng.uniform(1e3, 6e4, n)).astype(np.float16)
    tiny = (rng.choice([-1, 1], n) * rng.uniform(0, 1e-4, n)).astype(np.float16)
    anything = rng.integers(0, 1 << 16, n).astype(np.uint16).view(np.float16)
    values = np.where(kind == 7, large, values)
    values = np.where(kind == 8, tiny, values)
    values = np.where(kind == 9, anything if specials else np.float16(0), values)
    return values.astype(np.float16)


def _words(vector, lanes):
    padded = np.zeros(-(-len(vector) // lanes) * lanes, np.float16)
    padded[:len(vector)] = vector
    return [padded[i:i + lanes] for i in range(0, len(padded), lanes)]


class Program:
    """Micro-ops, load-stream words and named checks of one bench run."""

    def __init__(self, config):
        self.config = config
        self.ops = []
        self.loads = []
        self.checks = []             # (label, index of the store)
        self.stores = 0
        self.timed = []              # (label, first micro-op, end micro-op) to clock
        self.lone = []               # (label, micro-op) to run alone and clock, offer to retire

    def mark(self):
        """Index of the next micro-op."""
        return len(self.ops)

    def load_vector(self, address, vector):
        self.ops.append(MicroOp("LOAD", dst=address, length=len(vector)))
        self.loads += _words(vector, self.config.lanes)

    def set_scalar(self, register, value):
        self.ops.append(MicroOp("SETS", dst=register,
                                imm=int(np.float16(value).view(np.uint16))))

    def store_vector(self, label, address, length):
        self.ops.append(MicroOp("STORE", src1=address, length=length))
        self.checks.append((label, self.stores))
        self.stores += 1

    def store_scalar(self, label, register):
        self.ops.append(MicroOp("SSTORE", src1=register))
        self.checks.append((label, self.stores))
        self.stores += 1


def scenario_ops(cfg, bench, rng):
    prog = Program(cfg)
    vector_ops = [name for name, p in VECTOR_PRIMITIVES.items() if "v" in p.operands]
    scalar_ops = [name for name, p in VECTOR_PRIMITIVES.items() if "v" not in p.operands]
    stores = bench.get("stores", True)
    base, scalar = 0, 4
    for n in bench["lengths"]:
        stride = -(-n // cfg.lanes) * cfg.lanes
        a, b, out = base, base + stride, base + 2 * stride
        prog.load_vector(a, random_fp16(rng, n))
        prog.load_vector(b, random_fp16(rng, n))
        prog.set_scalar(0, random_fp16(rng, 1)[0])
        for name in vector_ops:
            p = VECTOR_PRIMITIVES[name]
            if p.result == "vs":      # the vector and its reduction (scalar register in imm)
                prog.ops.append(MicroOp(name, dst=out, src1=a, src2=b if p.operands == "vv"
                                        else 0, length=n, imm=scalar))
                if stores:
                    prog.store_vector(f"{name} n={n}", out, n)
                    prog.store_scalar(f"{name} reduction n={n}", scalar)
                else:
                    out += stride
                    scalar += 1
            elif p.result == "v":
                prog.ops.append(MicroOp(name, dst=out, src1=a, src2=b if p.operands == "vv"
                                        else 0, length=n))
                if stores:
                    prog.store_vector(f"{name} n={n}", out, n)
                else:                 # checked in the register file at the end
                    out += stride
            else:
                prog.ops.append(MicroOp(name, dst=scalar, src1=a, length=n))
                if stores:
                    prog.store_scalar(f"{name} n={n}", scalar)
                else:
                    scalar += 1
        prog.ops.append(MicroOp("VCOPY", dst=out, src1=b, length=n))
        if stores:
            prog.store_vector(f"VCOPY n={n}", out, n)
        base = out + stride
    # Scalar primitives on scalar pairs (specials included); SLOAD from the stream.
    count = bench.get("scalars", 8)
    values = random_fp16(rng, 2 * count)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 2.0 ** -20], np.float16)
    values[:min(len(values), len(special))] = special[:len(values)]
    for i in range(0, len(values), 2):
        prog.set_scalar(1, values[i])
        prog.ops.append(MicroOp("SLOAD", dst=2))
        prog.loads += _words(np.array([values[i + 1]], np.float16), cfg.lanes)
        for name in scalar_ops:
            prog.ops.append(MicroOp(name, dst=3, src1=1, src2=2))
            prog.store_scalar(f"{name} {values[i]!r},{values[i + 1]!r}", 3)
    return prog, []


def scenario_chain(cfg, bench, rng):
    """Dependent micro-ops back to back: each reads what the previous one wrote, vectors of
    several lengths, scalar chains through reductions."""
    prog = Program(cfg)
    for n in bench["lengths"]:
        stride = -(-n // cfg.lanes) * cfg.lanes
        x, y, z = 0, stride, 2 * stride
        prog.load_vector(x, random_fp16(rng, n, specials=False))
        prog.load_vector(y, random_fp16(rng, n, specials=False))
        prog.ops += [
            MicroOp("VADD", dst=z, src1=x, src2=y, length=n),       # z = x + y
            MicroOp("VMUL", dst=x, src1=z, src2=y, length=n),       # x = z * y   (RAW on z)
            MicroOp("VSUB", dst=z, src1=x, src2=z, length=n),       # z = x - z   (RAW, WAR)
            MicroOp("VMAX", dst=0, src1=z, length=n),               # s0 = max z
            MicroOp("VSUBS", dst=y, src1=z, src2=0, length=n),      # y = z - s0  (scalar RAW)
            MicroOp("VEXP", dst=y, src1=y, length=n),               # in place
            MicroOp("ACCUM", dst=1, src1=y, length=n),              # s1 = sum y
            MicroOp("SRECIP", dst=2, src1=1),                       # s2 = 1 / s1
            MicroOp("SMUL", dst=3, src1=2, src2=2),                 # s3 = s2 * s2
            MicroOp("VMULS", dst=z, src1=y, src2=3, length=n),      # z = y * s3
            MicroOp("VSQUARE", dst=z, src1=z, length=n),            # in place
            MicroOp("SQSUM", dst=0, src1=z, length=n),              # s0 = sum z*z (RAW, WAW)
            # a vector and its reduction in one pass; the next ones read both (RAW on each)
            MicroOp("VADDAMAX", dst=x, src1=z, src2=y, length=n, imm=1),  # x = z + y, s1 = amax
            MicroOp("SPOW2INV", dst=2, src1=1),                     # s2 = pow2inv s1
            MicroOp("VMULSACC", dst=z, src1=x, src2=2, length=n, imm=3),  # z = x * s2, s3 = sum
            MicroOp("SADD", dst=0, src1=3, src2=1),                 # s0 = s3 + s1
            MicroOp("VMULSACC", dst=z, src1=z, src2=0, length=n, imm=0),  # in place, s0 WAR
            # a table function's results reduced (the accumulator fed at the long write-back),
            # then plain reductions right behind it: their sums must come out in order
            MicroOp("VMULS", dst=y, src1=z, src2=0, length=n),      # y = z * s0 (small)
            MicroOp("VEXPACC", dst=x, src1=y, length=n, imm=2),     # x = exp y, s2 = sum x
            MicroOp("ACCUM", dst=1, src1=z, length=n),              # s1 = sum z (behind it)
            MicroOp("VMULSACC", dst=y, src1=x, src2=2, length=n, imm=3),  # RAW on x and s2
        ]
        prog.store_vector(f"chain z n={n}", z, n)
        prog.store_vector(f"chain x n={n}", x, n)
        for register in range(4):
            prog.store_scalar(f"chain s{register} n={n}", register)
    return prog, []


def _recipe(cfg, steps, inputs, constants, length):
    """Program running ``steps`` on ``inputs`` (loaded) and ``constants`` (``SETS``); also the
    index of the first recipe micro-op."""
    prog = Program(cfg)
    alloc = Allocation(cfg, length)
    for name, vector in inputs.items():
        prog.load_vector(alloc.vector(name), vector)
    for name, value in constants.items():
        prog.set_scalar(alloc.scalar(name), value)
    start = prog.mark()
    prog.ops += recipe_program(steps, alloc)
    return prog, alloc, start


def scenario_layernorm(cfg, bench, rng):
    """LayerNorm rows (GPT-2 widths) with large activations, constant and tiny rows; each row's
    recipe is timed (inputs already in the register file, until its last write)."""
    progs = []
    direct = []
    total = Program(cfg)
    for label, n in bench["rows"]:
        x = {
            "random": lambda: (rng.standard_normal(n) * 3).astype(np.float16),
            "large": lambda: rng.uniform(-6e4, 6e4, n).astype(np.float16),
            "constant": lambda: np.full(n, 123.5, np.float16),
            "tiny": lambda: (rng.standard_normal(n) * 1e-6).astype(np.float16),
        }[label]()
        gamma = (1 + 0.1 * rng.standard_normal(n)).astype(np.float16)
        beta = (0.1 * rng.standard_normal(n)).astype(np.float16)
        prog, alloc, start = _recipe(cfg, recipes.LAYERNORM_STEPS,
                                     {"x": x, "gamma": gamma, "beta": beta},
                                     recipes.layernorm_constants(n, 1e-5), n)
        base = total.mark()
        total.ops += prog.ops
        total.loads += prog.loads
        total.timed.append((f"layernorm n={n}", base + start, total.mark()))
        total.store_vector(f"layernorm {label} n={n}", alloc.vector("out"), n)
        direct.append(recipes.layernorm(x, gamma, beta, 1e-5, lanes=cfg.lanes))
    return total, direct


def scenario_softmax(cfg, bench, rng):
    """Softmax of score rows (already scaled and masked as SFU_M delivers them): random, masked
    (-inf tail), all equal, large; each row's recipe is timed."""
    total = Program(cfg)
    direct = []
    for label, n in bench["rows"]:
        raw, valid = {
            "random": lambda: ((rng.standard_normal(n) * 20).astype(np.float16), n),
            "masked": lambda: ((rng.standard_normal(n) * 20).astype(np.float16),
                               max(1, n // 3)),
            "all equal": lambda: (np.full(n, 7.0, np.float16), n),
            "large": lambda: (rng.uniform(-6e4, 6e4, n).astype(np.float16), max(1, n - 1)),
        }[label]()
        s = recipes.attention_scores(raw, valid)
        prog, alloc, start = _recipe(cfg, recipes.SOFTMAX_STEPS, {"s": s}, {}, n)
        base = total.mark()
        total.ops += prog.ops
        total.loads += prog.loads
        total.timed.append((f"softmax n={n}", base + start, total.mark()))
        total.store_vector(f"softmax {label} n={n} valid={valid}", alloc.vector("p"), n)
        direct.append(recipes.softmax(raw, valid, lanes=cfg.lanes))
    return total, direct


def scenario_timing(cfg, bench, rng):
    """Single micro-ops (``bench["ops"]``: ``[opcode, length]`` pairs of vector primitives), each
    offered to an idle VPU and clocked until its retire pulse. Reductions write scalar registers
    1, 2, ... so that each result is checked at the end."""
    prog = Program(cfg)
    scalar = 1
    for name, n in bench["ops"]:
        p = VECTOR_PRIMITIVES[name]
        stride = -(-n // cfg.lanes) * cfg.lanes
        a, b, out = 0, stride, 2 * stride
        prog.load_vector(a, random_fp16(rng, n))
        prog.load_vector(b, random_fp16(rng, n))
        prog.lone.append((f"{name} n={n}", prog.mark()))
        if p.result == "v":
            prog.ops.append(MicroOp(name, dst=out, src1=a, src2=b if p.operands == "vv" else 0,
                                    length=n))
        elif p.result == "vs":        # the vector and its reduction (scalar register in imm)
            prog.ops.append(MicroOp(name, dst=out, src1=a, src2=b if p.operands == "vv" else 0,
                                    length=n, imm=scalar))
            scalar += 1
        else:
            prog.ops.append(MicroOp(name, dst=scalar, src1=a, length=n))
            scalar += 1
    return prog, []


SCENARIOS = {"timing": scenario_timing, "ops": scenario_ops, "chain": scenario_chain, "layernorm": scenario_layernorm,
             "softmax": scenario_softmax}


async def run_program(dut, cfg, prog, *, idle, backpressure, seed, on_retire=None):
    """Drive ``prog`` into the VPU; return (stored words, total clocks, clocks per timed
    region and per lone micro-op, retire pulses). Before the first and the end micro-op of a
    timed region the driver waits until the VPU is idle (every write done), so a region's count
    runs from its first micro-op offered to its last write. A lone micro-op (``prog.lone``) is
    offered only after every earlier one has retired and the VPU has been idle for 4 clocks;
    its count runs from the clock its offer is taken to the clock of its retire pulse. ``on_retire(index, accepted)`` is called on every
    ``retire`` pulse (``index``: the how-manieth pulse, ``accepted``: micro-ops accepted so far),
    while the register files hold what they hold on that clock."""
    lanes = cfg.lanes
    rng = np.random.default_rng(seed + 99)
    words = [encode(op, cfg) for op in prog.ops]
    loads = [int.from_bytes(w.astype("<u2").view(np.uint16).tobytes(), "little")
             for w in (np.asarray(x, np.float16).view(np.uint16) for x in prog.loads)]
    expected_words = sum(words_of(op, lanes) for op in prog.ops
                         if op.opcode in ("STORE", "SSTORE"))
    stored = []
    dut.instr__valid.value = 0
    dut.load__valid.value = 0
    dut.store__ready.value = 0
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    i_op, i_load = 0, 0
    retired = 0
    clocks = 0
    limit = _TIMEOUT_PER_WORD * (len(words) + len(loads) + expected_words) + 10_000
    idle_clocks = 0
    barriers = {}
    for _, first, end in prog.timed:
        barriers[first] = barriers[end] = None
    lone = {index: None for _, index in prog.lone}
    lone_clocks = {}
    offered_at = {}
    quiet = 0
    while True:
        await FallingEdge(dut.clk)
        clocks += 1
        if clocks > limit:
            raise AssertionError(f"timeout after {clocks} clocks: {i_op}/{len(words)} micro-ops "
                                 f"accepted, {i_load}/{len(loads)} loads, {len(stored)}/"
                                 f"{expected_words} stored words")
        hold = i_op in barriers and barriers[i_op] is None
        if hold and not int(dut.busy.value):
            barriers[i_op] = clocks          # idle: the region boundary is this clock
            hold = False
        if i_op in lone and i_op not in offered_at and (retired < i_op or quiet < 4):
            hold = True                      # a lone micro-op waits for an idle VPU
        if i_op < len(words) and not hold:
            dut.instr__valid.value = 1
            dut.instr__payload.value = words[i_op]
        else:
            dut.instr__valid.value = 0
        load_valid = i_load < len(loads) and not (idle and rng.random() < 0.25)
        dut.load__valid.value = int(load_valid)
        if load_valid:
            dut.load__payload.value = loads[i_load]
        store_ready = not (backpressure and rng.random() < 0.25)
        dut.store__ready.value = int(store_ready)
        await ReadOnly()
        if i_op < len(words) and not hold and dut.instr__ready.value:
            offered_at[i_op] = clocks
            i_op += 1
        if load_valid and dut.load__ready.value:
            i_load += 1
        if store_ready and dut.store__valid.value:
            stored.append(int(dut.store__payload.value))
        quiet = quiet + 1 if not int(dut.busy.value) and not int(dut.retire.value) else 0
        if int(dut.retire.value):
            if on_retire is not None:
                on_retire(retired, i_op)
            if retired in lone:
                lone_clocks[retired] = clocks - offered_at[retired]
            retired += 1
        if int(dut.error.value):
            raise AssertionError(f"the VPU flagged micro-op {i_op} ({prog.ops[i_op - 1]}) "
                                 f"illegal")
        if i_op == len(words) and not hold and not int(dut.busy.value) \
                and len(stored) == expected_words and retired == len(words):
            idle_clocks += 1
            if idle_clocks > 4:
                break
        else:
            idle_clocks = 0
    timed = [(label, barriers[end] - barriers[first]) for label, first, end in prog.timed]
    timed += [(label, lone_clocks[index]) for label, index in prog.lone]
    return stored, clocks, timed, retired


def _destinations(prog, cfg):
    """Per micro-op: what it writes (a list of ``("v", start, stop)`` elements and
    ``("s", reg, reg + 1)``; empty for a store) and the model's values there right after it
    executed."""
    state = VPUState(cfg)
    loads = list(prog.loads)
    where, values = [], []
    for op in prog.ops:
        used = words_of(op, cfg.lanes) if op.opcode in ("LOAD", "SLOAD") else 0
        execute([op], state, loads[:used])
        del loads[:used]
        control = op.control
        places = []
        if control.writes_vector:
            places.append(("v", op.dst, op.dst + op.length))
        if control.sink.name in ("VECTOR_SUM", "VECTOR_AMAX"):
            places.append(("s", op.imm, op.imm + 1))
        elif control.sink.name not in ("STORE", "VECTOR"):
            places.append(("s", op.dst, op.dst + 1))
        where.append(places)
        values.append([state.vrf[a:b].copy() if kind == "v" else state.srf[a:b].copy()
                       for kind, a, b in places])
    return where, values


def _overlap(a, b):
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def _bits(values):
    return np.asarray(values, np.float16).view(np.uint16)


def _read_memory(handle, depth, lanes):
    """The contents of a register-file memory (``lanes`` FP16 per word), read through VPI."""
    words = [int(handle[i].value) for i in range(depth)]
    return np.array([(w >> (16 * i)) & 0xFFFF for w in words for i in range(lanes)],
                    np.uint16)


def _unpack(stored, lanes):
    out = []
    for word in stored:
        out.append(np.array([(word >> (16 * i)) & 0xFFFF for i in range(lanes)], np.uint16)
                   .view(np.float16))
    return out


@cocotb.test()
async def vpu_program(dut):
    """Runs one scenario; compares every stored word, bit for bit, with the bit-true model."""
    params = bench_params()
    cfg = VPUConfig(**params["component"])
    bench = params["bench"]
    rng = np.random.default_rng(bench.get("seed", 0))
    prog, direct = SCENARIOS[bench["scenario"]](cfg, bench, rng)
    cocotb.start_soon(Clock(dut.clk, 5, unit="ns").start())
    destinations, snapshots = _destinations(prog, cfg)
    early = []

    def check_retire(index, accepted):
        """Micro-op ``index`` retires: its destination must already hold its result (unless a
        later accepted micro-op writes there too, which may legitimately have overwritten it)."""
        if index >= accepted:
            early.append(f"retire pulse {index} with only {accepted} micro-ops accepted")
            return
        for where, snapshot in zip(destinations[index], snapshots[index]):
            if any(_overlap(where, later) for j in range(index + 1, accepted)
                   for later in destinations[j]):
                continue
            kind, start, stop = where
            if kind == "v":
                first, last = start // cfg.lanes, -(-stop // cfg.lanes)
                words = [int(dut.vrf.mem[w].value) for w in range(first, last)]
                hw = np.array([(w >> (16 * i)) & 0xFFFF for w in words
                               for i in range(cfg.lanes)],
                              np.uint16)[start - first * cfg.lanes:stop - first * cfg.lanes]
            else:
                hw = np.array([int(dut.srf.mem[start].value)], np.uint16)
            if not (hw == _bits(snapshot)).all():
                early.append(f"micro-op {index} ({prog.ops[index]}) retired before its "
                             f"result was written")

    stored, clocks, timed, retired = await run_program(
        dut, cfg, prog, idle=bench.get("idle", False),
        backpressure=bench.get("backpressure", False), seed=bench.get("seed", 0),
        on_retire=check_retire)
    assert retired == len(prog.ops), f"{retired} retire pulses for {len(prog.ops)} micro-ops"
    assert not early, "\n".join(early[:10])
    state = execute(prog.ops, VPUState(cfg), prog.loads)
    words = iter(_unpack(stored, cfg.lanes))
    got = []
    for op in prog.ops:
        if op.opcode in ("STORE", "SSTORE"):
            n = op.length if op.opcode == "STORE" else 1
            got.append(np.concatenate([next(words) for _ in range(words_of(op, cfg.lanes))])[:n])
    failures = []
    for (label, index), expected in zip(prog.checks, state.stored):
        same = _bits(got[index]) == _bits(expected)
        if not same.all():
            bad = np.nonzero(~same)[0]
            failures.append(f"{label}: {len(bad)} of {len(same)} elements differ, first at "
                            f"{bad[0]}: hw {got[index][bad[0]]!r} "
                            f"({got[index][bad[0]:bad[0] + 1].view(np.uint16)[0]:#06x}) "
                            f"model {expected[bad[0]]!r} "
                            f"({expected[bad[0]:bad[0] + 1].view(np.uint16)[0]:#06x})")
    # The whole register files, bit for bit: results in place and no stray writes.
    for name, handle, depth, lanes, expected in (
            ("vector register file", dut.vrf.mem, cfg.vrf_words, cfg.lanes, state.vrf),
            ("scalar register file", dut.srf.mem, cfg.srf_words, 1, state.srf)):
        hw = _read_memory(handle, depth, lanes)
        bad = np.nonzero(hw != _bits(expected))[0]
        if len(bad):
            failures.append(f"{name}: {len(bad)} elements differ, first at {bad[0]}: hw "
                            f"{hw[bad[0]]:#06x} model {_bits(expected)[bad[0]]:#06x}")
    for (label, index), expected in zip(prog.checks, direct):
        if not (_bits(got[index]) == _bits(expected)).all():
            failures.append(f"{label}: differs from the recipe function itself")
    dut._log.info(f"{bench['scenario']}: {len(prog.ops)} micro-ops, {clocks} clocks, "
                  f"{len(prog.checks)} checks")
    if bench.get("cycles_out"):
        with open(bench["cycles_out"], "w") as file:
            json.dump({"clocks": clocks, "micro_ops": len(prog.ops), "timed": timed}, file)
    for label, count in timed:
        dut._log.info(f"timed {label}: {count} clocks")
    assert not failures, "\n".join(failures[:20])
