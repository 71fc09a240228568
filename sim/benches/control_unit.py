"""cocotb bench of the control unit (:class:`dfx_hw.control.unit.ControlUnit`).

The host is cocotbext-axi's ``AxiLiteMaster`` on the register port; every offset comes from
:mod:`dfx_hw.spec.regmap` and the load/configure/decode helpers from
:mod:`dfx_hw.control.loader`. The four units are responders written here: each takes
instructions from its issue stream with random back-pressure, writes back after a random latency
(in order, one ``done`` pulse each) and can raise an error report.

Scenario ``run`` (random dependent programs and compiled programs) checks, clock by clock,
against :mod:`dfx_hw.control.rules` (the Python model of the scoreboard and of the control
flow):

* the issue stage presents the dynamic instructions in program order (pc sequence of
  :class:`~dfx_hw.control.rules.FrontEnd`), and each unit receives exactly its instructions with
  the right word, TOKEN and layer offsets;
* **no missed hazard**: an instruction leaves the issue stage only when no instruction it
  conflicts with (RAW, WAW, WAR) is in flight -- other than one of the same self-ordered unit,
  the vector unit (:func:`~dfx_hw.control.rules.blocks`) -- and a unit starts an instruction
  only after all earlier conflicting ones of other units have written back;
* **no false stall**: on every clock the instruction at the issue stage does not leave, a
  conflicting instruction is in flight, or its unit is full, or it is END waiting for
  write-backs -- the count of other waiting clocks must be zero;
* the performance counters read over AXI4-Lite equal the bench's own clock accounting;
* **weight prefetch**: the ``prefetch`` port offers every CONV1D / MASKEDMM / MM, once, in
  program order, with its issue payload, never while an earlier writer of the memory region it
  reads is in flight or still to issue; a weight instruction held at the issue stage only because the prefetch
  queue is full (``inflight + 2`` offered and not taken ahead of it) is a full-queue stall, any
  other hold a false stall.

Scenario ``errors`` provokes every error code (decode faults in programs, unit reports on the
error ports, a spurious write-back) and reads code, info, pc and instruction word back over
AXI4-Lite. Scenario ``regs`` checks the register map itself.
"""

import json
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge
from cocotbext.axi import AxiLiteBus, AxiLiteMaster

from dfx_hw.control import loader
from dfx_hw.control.params import ControlConfig
from dfx_hw.control.rules import UNITS, FrontEnd, blocks, check, conflicts
from dfx_hw.control.scheduler import WEIGHT_OPCODES
from dfx_hw.geometry import TileGeometry
from dfx_hw.isa.encoding import encode, encode_program
from dfx_hw.isa.layouts import LAYOUTS, InstrClass, Opcode
from dfx_hw.spec.errors import ErrorCode
from dfx_hw.spec.issue import ISSUE_LAYOUT
from dfx_hw.spec.regmap import (COUNTER_NAMES, ID_VALUE, REGISTERS, REGMAP, UNIT_NAMES,
                                VERSION_VALUE)
from sim.harness import BUILD_DIR, bench_params

PORTS = [u.name.lower() for u in UNITS]
_W = ISSUE_LAYOUT


def _field(value, name):
    f = _W[name]
    return value >> f.offset & ((1 << f.width) - 1)


class Responder:
    """One unit: accepts with probability ``ready_p``, writes back after 1..``max_latency``
    clocks in acceptance order."""

    def __init__(self, rng, *, ready_p, max_latency):
        self.rng, self.ready_p, self.max_latency = rng, ready_p, max_latency
        self.pending = []        # (done clock, dynamic index)
        self.last_done = 0
        self.ready = 0
        self.hold = False        # never write back (error tests)

    def accept(self, clock, index):
        when = max(clock + self.rng.randint(1, self.max_latency), self.last_done + 1)
        self.last_done = when
        self.pending.append((when, index))

    def due(self, clock):
        if not self.hold and self.pending and self.pending[0][0] <= clock:
            return self.pending.pop(0)[1]
        return None


class TB:
    def __init__(self, dut):
        self.dut = dut
        params = bench_params()
        self.p = params["bench"]
        self.cfg = ControlConfig(**params["component"])
        self.geometry = TileGeometry(d=self.cfg.d, l=self.cfg.l, vpu_lanes=4)
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "axil", bus_separator="__"),
                                  dut.clk, dut.rst)
        self.ports = {name: (getattr(dut, f"{name}__issue__valid"),
                             getattr(dut, f"{name}__issue__ready"),
                             getattr(dut, f"{name}__issue__payload"),
                             getattr(dut, f"{name}__done")) for name in PORTS}
        self.errors = {name: (getattr(dut, f"{name}_error__valid"),
                              getattr(dut, f"{name}_error__code"),
                              getattr(dut, f"{name}_error__info")) for name in PORTS}
        self.prefetch = (dut.prefetch__valid, dut.prefetch__ready, dut.prefetch__payload)

    async def reset(self):
        cocotb.start_soon(Clock(self.dut.clk, 5, unit="ns").start())
        self.dut.rst.value = 1
        self.prefetch[1].value = 0
        for name in PORTS:
            self.ports[name][1].value = 0
            self.ports[name][3].value = 0
            for sig in self.errors[name]:
                sig.value = 0
        for _ in range(3):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def write(self, name, value):
        resp = await self.axil.write(REGMAP[name].offset, int(value).to_bytes(4, "little"))
        return int(resp.resp)

    async def read(self, name_or_offset):
        offset = REGMAP[name_or_offset].offset if isinstance(name_or_offset, str) \
            else name_or_offset
        resp = await self.axil.read(offset, 4)
        return int.from_bytes(resp.data, "little"), int(resp.resp)

    async def read_ok(self, name):
        value, resp = await self.read(name)
        assert resp == 0, f"reading {name} answered {resp}"
        return value

    async def write_all(self, writes):
        by_offset = {r.offset: r.name for r in REGISTERS}
        for offset, value in writes:
            resp = await self.write(by_offset[offset], value)
            assert resp == 0, f"writing {by_offset[offset]} = {value:#x} answered {resp}"

    async def load(self, words, **config):
        await self.write_all(loader.program_writes(words, depth=self.cfg.ibuf_depth))
        await self.write_all(loader.config_writes(**config))

    async def error_registers(self):
        code = await self.read_ok("ERR_CODE")
        info = await self.read_ok("ERR_INFO")
        pc = await self.read_ok("ERR_PC")
        parts = [await self.read_ok(f"ERR_WORD{i}") for i in range(4)]
        return code, info, pc, parts


# ---------------------------------------------------------------------------------------------
# scenario "run"


async def run_program(tb, program, *, cores, seed, ready_p, latencies, label, prefetch_p=1.0):
    """Run ``program`` with random responders; check order, payloads, hazards and stalls."""
    dut = tb.dut
    rng = random.Random(seed)
    words = encode_program(program)
    dynamic = FrontEnd(program, geometry=tb.geometry, cores=cores).run()
    for dyn in dynamic:
        assert check(dyn.instr, dyn.ctx, geometry=tb.geometry, cores=cores,
                     vrf_elements=tb.cfg.vrf_elements, srf_words=tb.cfg.srf_words) is None, \
            f"the test program is not legal at pc {dyn.pc}: {dyn.instr}"
    per_unit = {name: [i for i, d in enumerate(dynamic) if d.unit is u]
                for name, u in zip(PORTS, UNITS)}
    await tb.load(words, core_count=cores, watchdog=0)
    responders = {name: Responder(rng, ready_p=ready_p, max_latency=lat)
                  for name, lat in zip(PORTS, latencies)}
    state = {"head": 0}
    monitor = cocotb.start_soon(_monitor(tb, dynamic, per_unit, words, responders, rng, ready_p,
                                         label, state, prefetch_p))
    await tb.write("CONTROL", 1 << REGMAP["CONTROL"].field("START").lsb)
    stats, false_stalls = await monitor
    head = state["head"]
    weights = [i for i, d in enumerate(dynamic) if _streams_weights(d)]
    assert state["prefetched"] == len(weights), (
        f"{label}: {state['prefetched']} of {len(weights)} weight instructions prefetched")
    assert head == len(dynamic), f"{label}: stopped after {head} of {len(dynamic)} instructions"
    status = loader.decode_status(await tb.read_ok("STATUS"))
    assert status["done"] and not status["error"], f"{label}: STATUS {status}"
    assert not false_stalls, (f"{label}: {len(false_stalls)} FALSE STALL clocks, first: "
                              f"{false_stalls[:5]}")
    # performance counters against the bench's accounting
    counters = {}
    for name in COUNTER_NAMES:
        lo = await tb.read_ok(f"PERF_{name}_LO")
        hi = await tb.read_ok(f"PERF_{name}_HI")
        counters[name] = hi << 32 | lo
    expect = {"CYCLES": stats["clocks"], "ISSUED": len(dynamic), "STALL_DEP": stats["dep"],
              "STALL_FULL": stats["full"], "STALL_END": stats["end"], "BUBBLE": stats["bubble"]}
    for unit, name in zip(UNIT_NAMES, PORTS):
        expect[f"{unit}_WAIT"] = stats["wait"][name]
        expect[f"{unit}_BUSY"] = stats["busy"][name]
    for name, value in expect.items():
        assert counters[name] == value, f"{label}: PERF_{name} = {counters[name]}, bench {value}"
    for unit in UNIT_NAMES:
        total = sum(counters[f"{unit}_{s}"] for s in ("BUSY", "WAIT", "IDLE"))
        assert total == counters["CYCLES"], f"{label}: {unit} states add to {total}"
    return {"label": label, "instructions": len(dynamic), "static": len(program),
            "clocks": stats["clocks"], "counters": counters}


def _streams_weights(dyn):
    return dyn.unit is InstrClass.MATRIX and dyn.instr.op in WEIGHT_OPCODES


def _payload_of(dyn, words):
    return {"word": words[dyn.pc], "token": dyn.ctx.token16, "hbm_offset": dyn.ctx.hbm_offset,
            "ddr_offset": dyn.ctx.ddr_offset}


async def _monitor(tb, dynamic, per_unit, words, responders, rng, ready_p, label, state,
                   prefetch_p):
    """Clock-by-clock checks (see the module docstring). At the falling edge of clock k the
    outputs of clock k are settled; inputs set then are what the DUT samples at the next rising
    edge (ready for the clock-k handshake, done for a write-back at the end of clock k)."""
    dut = tb.dut
    inflight = {name: [] for name in PORTS}   # dynamic indices issued, not written back, in order
    received = {name: 0 for name in PORTS}
    clock = 0
    started = False
    stats = {"clocks": 0, "dep": 0, "full": 0, "end": 0, "bubble": 0,
             "busy": {n: 0 for n in PORTS}, "wait": {n: 0 for n in PORTS}}
    false_stalls = []
    after = {}   # dynamic index -> the `after` bit expected with it
    limit = 40 * len(dynamic) + 1000
    weights = [i for i, d in enumerate(dynamic) if _streams_weights(d)]
    weight_pos = {index: k for k, index in enumerate(weights)}
    queue_depth = tb.cfg.inflight + 2
    state["prefetched"] = 0
    tv, tp, tf = (_field_of_trace(n) for n in ("valid", "pc", "fire"))
    while True:
        await FallingEdge(dut.clk)
        clock += 1
        assert clock < limit, f"{label}: no END after {clock} clocks (head {state['head']})"
        running = int(dut.running.value)
        if not started:
            if not running:
                continue
            started = True
        if not running:
            break
        stats["clocks"] += 1
        for name in PORTS:
            stats["busy"][name] += bool(inflight[name])
        t = int(dut.head.value)
        valid, pc, fire = t >> tv[0] & 1, t >> tp[0] & ((1 << tp[1]) - 1), t >> tf[0] & 1
        head = state["head"]
        if not valid:
            assert not fire
            stats["bubble"] += 1
        else:
            assert head < len(dynamic), f"{label}: the issue stage shows pc {pc} after END"
            dyn = dynamic[head]
            assert pc == dyn.pc, (f"{label}: instruction {head} at the issue stage has pc {pc}, "
                                  f"expected {dyn.pc} ({dyn.instr})")
            if dyn.unit is not None:
                name = PORTS[UNITS.index(dyn.unit)]
                blockers = [i for n in PORTS for i in inflight[n]
                            if blocks(dyn.unit, dyn.access, dynamic[i].unit, dynamic[i].access)]
                is_full = len(inflight[name]) >= tb.cfg.inflight
                if fire:
                    assert not blockers, (
                        f"{label}: MISSED HAZARD: pc {dyn.pc} ({dyn.instr}) issued while "
                        f"{[str(dynamic[i].instr) for i in blockers]} in flight")
                    assert not is_full, f"{label}: issued to a full unit {name}"
                    # `after`: a conflict with its own self-ordered unit's in-flight ones
                    after[head] = any(conflicts(dyn.access, dynamic[i].access)
                                      for i in inflight[name])
                    inflight[name].append(head)
                    state["head"] += 1
                elif blockers:
                    stats["dep"] += 1
                    if not inflight[name]:
                        stats["wait"][name] += 1
                elif is_full:
                    stats["full"] += 1
                elif head in weight_pos and \
                        weight_pos[head] - state["prefetched"] >= queue_depth:
                    stats["full"] += 1       # the prefetch queue is full ahead of it
                else:
                    false_stalls.append((clock, dyn.pc, str(dyn.instr)))
            elif dyn.instr.op is Opcode.END:
                empty = not any(inflight.values())
                assert bool(fire) == empty, (f"{label}: END fire={fire} with "
                                             f"{sum(map(len, inflight.values()))} in flight")
                if fire:
                    state["head"] += 1
                else:
                    stats["end"] += 1
            else:
                assert fire, f"{label}: control instruction pc {dyn.pc} held at the issue stage"
                state["head"] += 1
        pv, pr, ppayload = tb.prefetch
        take = int(rng.random() < prefetch_p)
        pr.value = take
        if int(pv.value) and take:
            k = state["prefetched"]
            assert k < len(weights), f"{label}: an extra prefetch"
            dyn = dynamic[weights[k]]
            got = {key: _field(int(ppayload.value), key) for key in ("word", "token",
                                                                    "hbm_offset", "ddr_offset")}
            assert got == _payload_of(dyn, words), (
                f"{label}: prefetch {k} (pc {dyn.pc}, {dyn.instr}): got {got}, expected "
                f"{_payload_of(dyn, words)}")
            reads = [item for item in dyn.access[0] if item[0] in ("hbm", "ddr")]
            # an earlier writer of what it reads may be neither in flight nor still to issue
            # (the scheduler offers the instruction behind the issue stage too)
            earlier = [i for n in PORTS for i in inflight[n] if i < weights[k]] + \
                list(range(state["head"], weights[k]))
            for i in earlier:
                assert not any(item in dynamic[i].access[1] for item in reads), (
                    f"{label}: prefetch of pc {dyn.pc} ({dyn.instr}) while pc {dynamic[i].pc} "
                    f"({dynamic[i].instr}), which writes what it reads, is in flight or not "
                    f"yet issued")
            state["prefetched"] += 1
        for name in PORTS:
            v, r, payload, done = tb.ports[name]
            resp = responders[name]
            resp.ready = int(rng.random() < ready_p)
            if name == "matrix" and received[name] < len(per_unit[name]):
                nxt = per_unit[name][received[name]]
                if nxt in weight_pos and weight_pos[nxt] >= state["prefetched"]:
                    # the matrix sequencer waits for the instruction's weights: a weight
                    # instruction cannot be taken (nor written back) before the DMA has taken
                    # its prefetch
                    resp.ready = 0
            r.value = resp.ready
            if int(v.value) and resp.ready:
                value = int(payload.value)
                assert received[name] < len(per_unit[name]), f"{label}: extra {name} instruction"
                index = per_unit[name][received[name]]
                dyn = dynamic[index]
                expect = _payload_of(dyn, words)
                got = {k: _field(value, k) for k in expect}
                assert got == expect, (f"{label}: {name} instruction {received[name]} (pc "
                                       f"{dyn.pc}, {dyn.instr}): got {got}, expected {expect}")
                assert _field(value, "after") == after[index], (
                    f"{label}: {name} pc {dyn.pc} ({dyn.instr}) issued with after="
                    f"{_field(value, 'after')}, expected {int(after[index])}")
                # every earlier instruction not written back is in flight (issue is in order)
                for i in (i for n in PORTS for i in inflight[n] if i < index):
                    if blocks(dyn.unit, dyn.access, dynamic[i].unit, dynamic[i].access):
                        raise AssertionError(f"{label}: {name} started pc {dyn.pc} before "
                                             f"pc {dynamic[i].pc} wrote back")
                received[name] += 1
                resp.accept(clock, index)
            finished = resp.due(clock)
            done.value = 0 if finished is None else 1
            if finished is not None:
                assert inflight[name] and inflight[name][0] == finished
                inflight[name].pop(0)
    for name in PORTS:
        tb.ports[name][3].value = 0
        tb.ports[name][1].value = 0
    tb.prefetch[1].value = 0
    return stats, false_stalls


def _field_of_trace(name):
    from dfx_hw.control.scheduler import TRACE_LAYOUT
    f = TRACE_LAYOUT[name]
    return f.offset, f.width


@cocotb.test()
async def run(dut):
    """Random dependent programs and compiled programs: order, payloads, hazards, stalls."""
    from sim.control_programs import compiled_program, independent_program, random_program
    tb = TB(dut)
    await tb.reset()
    p = tb.p
    results = []
    for job in p["jobs"]:
        if job["kind"] == "independent":
            program = independent_program(job["count"])
            cores = 2
        elif job["kind"] == "random":
            program = random_program(job["seed"], body=job.get("body", 60),
                                     layers=job.get("layers", 3), tokens=job.get("tokens", 60),
                                     d=tb.cfg.d, srf=tb.cfg.srf_words)
            cores = job.get("cores", 2)
        else:
            program = compiled_program(cores=job["cores"], core=job.get("core", 0),
                                       n_prompt=job["n_prompt"], n_new=job["n_new"],
                                       geometry=tb.geometry)
            cores = job["cores"]
        result = await run_program(tb, program, cores=cores, seed=job["seed"],
                                   ready_p=job.get("ready_p", 0.7),
                                   latencies=job.get("latencies", [40, 12, 30, 20]),
                                   label=f"{job['kind']}-{job['seed']}",
                                   prefetch_p=job.get("prefetch_p", 1.0))
        results.append(result)
        if job["kind"] == "independent":
            # one instruction per clock: only the pipeline fill and END's drain are not issues
            c = result["counters"]
            assert c["STALL_DEP"] == 0 and c["STALL_FULL"] == 0, c
            assert c["CYCLES"] <= c["ISSUED"] + job["overhead"], c
        dut._log.info("%s: %d instructions (%d static) in %d clocks; %s", result["label"],
                      result["instructions"], result["static"], result["clocks"],
                      {k: v for k, v in result["counters"].items() if v})
    if p.get("report"):
        out = BUILD_DIR / "bench" / p["report"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1))


# ---------------------------------------------------------------------------------------------
# scenario "errors"


def _raw(op, fields, flags=(), **overrides):
    """Encode, then force fields to raw values (illegal ones included) with the layout."""
    from dfx_hw.isa.encoding import Instruction
    word = encode(Instruction(op, fields, frozenset(flags)))
    layout = LAYOUTS[op]
    for name, value in overrides.items():
        f = layout[name]
        word &= ~(((1 << f.width) - 1) << f.offset)
        word |= value << f.offset
    return word


async def expect_error(tb, words, *, code, info, pc, word=None, program_len=None, watchdog=0,
                       unit_fault=None):
    """Load and start ``words``; wait for STATUS.ERROR; check the error registers read over
    AXI4-Lite; check nothing was issued after the error; CLEAR and check it is clear.

    ``unit_fault = (unit, code, info, word)``: that unit reports the error on the instruction
    ``word`` once everything older on the unit has written back (the units' contract)."""
    writes = loader.program_writes(words, depth=tb.cfg.ibuf_depth)
    if program_len is not None:
        writes[-1] = (REGMAP["PROGRAM_LEN"].offset, program_len)
    await tb.write_all(writes)
    await tb.write_all(loader.config_writes(watchdog=watchdog, core_count=2))
    result = {}
    monitor = cocotb.start_soon(_error_monitor(tb, unit_fault, result))
    await tb.write("CONTROL", 1 << REGMAP["CONTROL"].field("START").lsb)
    await monitor
    status = loader.decode_status(await tb.read_ok("STATUS"))
    assert status["error"] and not status["running"], f"{code.name}: STATUS {status}"
    got = await tb.error_registers()
    expect_word = words[pc] if word is None else word
    assert got[:3] == (code.value, info, pc), (
        f"{code.name}: ERR_CODE/INFO/PC = {got[0]:#x}/{got[1]:#x}/{got[2]}, expected "
        f"{code.value:#x}/{info:#x}/{pc}")
    word_read = sum(part << 32 * i for i, part in enumerate(got[3]))
    assert word_read == expect_word, f"{code.name}: ERR_WORD {word_read:#x} != {expect_word:#x}"
    error = loader.error_of(*got)
    tb.dut._log.info("%s", error)
    assert error.code is code and f"pc {pc}" in str(error)
    assert not result["issued_after"], (f"{code.name}: issued pcs {result['issued_after']} "
                                        "after the error")
    if unit_fault is None:
        for name in PORTS:
            for w in result["accepted"][name]:
                assert words.index(w) < pc, (f"{code.name}: {name} received the word of pc "
                                             f"{words.index(w)} at or after the failing pc {pc}")
    for name in PORTS:
        for sig in tb.errors[name]:
            sig.value = 0
    await tb.write("CONTROL", 1 << REGMAP["CONTROL"].field("CLEAR").lsb)
    for _ in range(3):
        await RisingEdge(tb.dut.clk)
    assert await tb.read_ok("ERR_CODE") == 0
    status = loader.decode_status(await tb.read_ok("STATUS"))
    assert status["idle"] and not status["error"] and not status["done"], status
    return code


async def _error_monitor(tb, unit_fault, result):
    dut = tb.dut
    tv, tp, tf = (_field_of_trace(n) for n in ("valid", "pc", "fire"))
    issued_after, accepted = [], {n: [] for n in PORTS}
    pending = {n: [] for n in PORTS}
    armed, errored, started = False, False, False
    for clock in range(5000):
        await FallingEdge(dut.clk)
        running = int(dut.running.value)
        if not started:
            started = bool(running)
        elif not running:
            break
        t = int(dut.head.value)
        if t >> tf[0] & 1 and errored:
            issued_after.append(t >> tp[0] & ((1 << tp[1]) - 1))
        tb.prefetch[1].value = 1         # the weight stream takes every prefetch
        for name in PORTS:
            v, r, payload, done = tb.ports[name]
            r.value = 1
            done.value = 0
            pulsed = False
            if pending[name] and pending[name][0] <= clock:
                pending[name].pop(0)
                done.value = 1
                pulsed = True
            if int(v.value):
                word_in = _field(int(payload.value), "word")
                accepted[name].append(word_in)
                if unit_fault is not None and unit_fault[0] == name and word_in == unit_fault[3]:
                    armed = True
                elif not (armed and name == unit_fault[0]):   # in order: nothing after it
                    pending[name].append(clock + 3)
            if armed and name == unit_fault[0] and not pending[name] and not pulsed \
                    and not errored:
                ev, ec, ei = tb.errors[name]
                ev.value, ec.value, ei.value = 1, unit_fault[1], unit_fault[2]
                errored = True
    else:
        raise AssertionError("the run neither ended nor stopped on an error")
    for name in PORTS:
        tb.ports[name][3].value = 0
    result.update(issued_after=issued_after, accepted=accepted)


@cocotb.test()
async def errors(dut):
    """Every error code, provoked and read back over AXI4-Lite with its pc and word."""
    from dfx_hw.isa.encoding import Instruction
    from dfx_hw.isa.layouts import Register
    tb = TB(dut)
    await tb.reset()
    cfg = tb.cfg

    def ins(op, flags=(), **fields):
        return encode(Instruction(op, fields, frozenset(flags)))

    good = [ins(Opcode.VADD, vdst=0, vsrc=16, vsrc2=32, len=8),
            ins(Opcode.SETS, sdst=3, imm16=0x3C00),
            ins(Opcode.LDD, vdst=64, ddr=5, len=4, stride=0, ssrc=0)]
    end = ins(Opcode.END)
    seen = set()

    async def case(bad, code, info, extra=(), **kw):
        words = good + [bad] + list(extra) + [end]
        seen.add(await expect_error(tb, words, code=code, info=info, pc=len(good), **kw))

    await case(0x3F, ErrorCode.ILLEGAL_OPCODE, 0x3F)
    await case(_raw(Opcode.VADD, {"vdst": 1, "vsrc": 2, "vsrc2": 3, "len": 4}, reserved=1),
               ErrorCode.RESERVED_BITS, Opcode.VADD.value)
    await case(_raw(Opcode.VADD, {"vdst": 1, "vsrc": 2, "vsrc2": 3, "len": 4}, len=0),
               ErrorCode.FIELD_RANGE, 0)
    await case(_raw(Opcode.SETR, {"reg": Register.TOKEN, "imm32": 1}, reg=6),
               ErrorCode.FIELD_RANGE, 6)
    await case(ins(Opcode.MASKEDMM, vdst=0, vsrc=0, hbm=0, sdst=1, k=cfg.d + 1, n=4, imm16=0),
               ErrorCode.FIELD_RANGE, cfg.d + 1)
    await expect_error(tb, good + [ins(Opcode.SETR, reg=Register.TOKEN, imm32=70000),
                                   ins(Opcode.VADD, ["token"], vdst=0, vsrc=0, vsrc2=0, len=1),
                                   end],
                       code=ErrorCode.FIELD_RANGE, info=70000, pc=len(good) + 1)
    await case(ins(Opcode.VADD, vdst=cfg.vrf_elements - 2, vsrc=0, vsrc2=8, len=4),
               ErrorCode.VRF_RANGE, cfg.vrf_elements - 2)
    await case(ins(Opcode.ARGMAX, sdst=cfg.srf_words - 1, vsrc=0, len=4, base=0),
               ErrorCode.SRF_RANGE, cfg.srf_words)
    # watchdog: a loop that never ends; the 21st instruction trips a limit of 20
    loop = [ins(Opcode.SETR, reg=Register.TOKEN, imm32=0),
            ins(Opcode.VADD, vdst=0, vsrc=16, vsrc2=32, len=8),
            ins(Opcode.LOOP, reg=Register.TOKEN, limit=60000, target=1), end]
    dyn_pcs = [0] + [1, 2] * 20
    seen.add(await expect_error(tb, loop, code=ErrorCode.WATCHDOG, info=20, pc=dyn_pcs[20],
                                watchdog=20))
    # the pc leaves the program: no END, PROGRAM_LEN 3 (the word is not read back: 0)
    seen.add(await expect_error(tb, good + [end], code=ErrorCode.PC_RANGE, info=3, pc=3,
                                word=0, program_len=3))
    # unit reports: every unit code, on each unit in turn, at the instruction it failed on
    unit_codes = [c for c in ErrorCode if c.value >= 0x10]
    first = {"matrix": ins(Opcode.CONV1D, vdst=100, vsrc=0, hbm=1, ddr=2, k=8, n=8),
             "vector": ins(Opcode.VMUL, vdst=200, vsrc=16, vsrc2=32, len=8),
             "dma": ins(Opcode.STD, ddr=9, vsrc=16, len=4, stride=0),
             "router": ins(Opcode.SYNC, vdst=300, vsrc=16, len=8, total=16, tag=1)}
    for index, code in enumerate(unit_codes):
        name = PORTS[index % len(PORTS)]
        info = 0x1000 + index
        words = good + [first[name]] + [ins(Opcode.VADD, vdst=400, vsrc=100, vsrc2=300, len=8),
                                        end]
        seen.add(await expect_error(tb, words, code=code, info=info, pc=len(good),
                                    unit_fault=(name, code.value, info, first[name])))
    # a write-back pulse with nothing in flight
    await tb.write_all(loader.program_writes(
        [ins(Opcode.LOOP, reg=Register.TOKEN, limit=60000, target=0), end],
        depth=cfg.ibuf_depth))
    await tb.write("CONTROL", 1 << REGMAP["CONTROL"].field("START").lsb)
    for _ in range(10):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    tb.ports["dma"][3].value = 1
    await FallingEdge(dut.clk)
    tb.ports["dma"][3].value = 0
    for _ in range(4):
        await RisingEdge(dut.clk)
    code, info, pc, parts = await tb.error_registers()
    assert (code, info) == (ErrorCode.SPURIOUS_DONE.value, PORTS.index("dma")), (code, info)
    assert pc == 0 and parts[0] & 0x3F == Opcode.LOOP.value, (pc, parts)
    seen.add(ErrorCode.SPURIOUS_DONE)
    await tb.write("CONTROL", 1 << REGMAP["CONTROL"].field("CLEAR").lsb)
    missing = set(ErrorCode) - seen - {ErrorCode.NONE}
    assert not missing, f"error codes never provoked: {sorted(c.name for c in missing)}"


# ---------------------------------------------------------------------------------------------
# scenario "regs"


@cocotb.test()
async def regs(dut):
    """The register map over AXI4-Lite: identity, XDMA probes, access rules, configuration."""
    from dfx_hw.isa.encoding import Instruction
    from dfx_hw.isa.layouts import Register
    tb = TB(dut)
    await tb.reset()
    cfg = tb.cfg
    assert await tb.read_ok("ID") == ID_VALUE
    version = await tb.read_ok("VERSION")
    assert version == VERSION_VALUE
    loader.check_identity(ID_VALUE, version)
    assert await tb.read_ok("IBUF_DEPTH") == cfg.ibuf_depth
    params = await tb.read_ok("PARAMS")
    reg = REGMAP["PARAMS"]
    assert params >> reg.field("INFLIGHT").lsb & 0xFF == cfg.inflight
    for offset in (0x2000, 0x3000, 0x1234 & ~3):
        assert await tb.read(offset) == (0, 0), f"read at {offset:#x}"
    status = loader.decode_status(await tb.read_ok("STATUS"))
    assert status == {"idle": True, "running": False, "done": False, "error": False}
    # read-only and unmapped writes, partial writes: SLVERR, nothing changes
    assert await tb.write("ID", 0) == 2 and await tb.read_ok("ID") == ID_VALUE
    resp = await tb.axil.write(0x2000, (5).to_bytes(4, "little"))
    assert int(resp.resp) == 2
    assert await tb.write("CORE_ID", 7) == 0 and await tb.read_ok("CORE_ID") == 7
    resp = await tb.axil.write(REGMAP["CORE_ID"].offset, b"\x09")
    assert int(resp.resp) == 2 and await tb.read_ok("CORE_ID") == 7
    assert int(dut.sysconfig.value) & 0xFFFF == 7
    # 64-bit window registers reach the configuration output
    await tb.write_all(loader.config_writes(hbm_base=0x1_2345_6789, ddr_size=0x8_0000_0000))
    from dfx_hw.control.unit import CONFIG_LAYOUT
    value = int(dut.sysconfig.value)
    for name, expect in (("hbm_base", 0x1_2345_6789), ("ddr_size", 0x8_0000_0000)):
        f = CONFIG_LAYOUT[name]
        assert value >> f.offset & ((1 << f.width) - 1) == expect, name
    # the instruction buffer refuses a store beyond its depth
    await tb.write("IBUF_ADDR", cfg.ibuf_depth)
    for i in range(3):
        assert await tb.write(f"IBUF_DATA{i}", 0) == 0
    assert await tb.write("IBUF_DATA3", 0) == 2
    assert await tb.read_ok("IBUF_ADDR") == cfg.ibuf_depth
    # a long loop: locked registers refuse writes while running; CLEAR stops it
    loop = [encode(Instruction(Opcode.LOOP, {"reg": Register.TOKEN, "limit": 60000,
                                             "target": 0})),
            encode(Instruction(Opcode.END, {}))]
    await tb.write_all(loader.program_writes(loop, depth=cfg.ibuf_depth))
    await tb.write("CONTROL", 1)
    status = loader.decode_status(await tb.read_ok("STATUS"))
    assert status["running"] and not status["idle"], status
    assert await tb.write("CORE_ID", 3) == 2 and await tb.read_ok("CORE_ID") == 7
    assert await tb.write("IBUF_DATA3", 0) == 2
    await tb.write("CONTROL", 2)
    for _ in range(3):
        await RisingEdge(dut.clk)
    status = loader.decode_status(await tb.read_ok("STATUS"))
    assert status == {"idle": True, "running": False, "done": False, "error": False}, status
    assert int(dut.soft_reset.value) == 0
    # a program too large for the buffer is refused by the loader before any write
    try:
        loader.program_writes([0] * (cfg.ibuf_depth + 1), depth=cfg.ibuf_depth)
    except loader.ProgramTooLarge as error:
        dut._log.info("%s", error)
    else:
        raise AssertionError("ProgramTooLarge not raised")
