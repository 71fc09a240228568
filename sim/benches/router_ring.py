"""cocotb bench of N routers (:class:`dfx_hw.router.ring.RouterRing`) joined into a ring by a
Python link model, checked bit for bit against the ISA simulator's ring
(:class:`dfx_hw.isasim.ring.Ring`).

Clocks: the core clock ``clk`` (200 MHz) and the two link ``user_clk`` domains ``link_next_clk``
(390.625 MHz) and ``link_prev_clk`` (a slightly different 389 MHz, so the crossings see two
unrelated clocks).

Link model (one per direction of each of the N cables; cable ``k`` joins router ``k-1``'s
``link_next`` to router ``k``'s ``link_prev``): a beat the sender's TX stream hands over
(``tx.ready`` is the link's, low while the cable is down and on random idle clocks) arrives
``latency`` user clocks later and is shown on the receiver's RX for exactly one clock, not
before the previous one, with random idle clocks -- at most one beat per user clock, i.e. the
100 Gb/s of a 256-bit Aurora channel at the full size. ``channel_up``/``lane_up`` rise after
``up_delay_ns``; a cable can be dropped mid-sync.

The core side of every router is modelled with the register-file requests of
:class:`~dfx_hw.router.router.Router`: ``READ_VECTOR`` feeds ``local`` with the words of the
core's vector register file (extra lanes of a partial last word random, so masking is
checked), ``READ_PAIR`` feeds ``pair``, ``WRITE_VECTOR`` writes the ``gathered`` words into the
register file; idle clocks and back-pressure at random.

Bench parameters (``bench_params()["bench"]``): ``syncs`` (list of ``{"op": "SYNC"|"SYNCS",
"lens": [...], "tag": t}``), ``seed``, ``latency``, ``idle``, ``up_delay_ns``, ``late`` (``{"core",
"sync", "clocks"}``: hold that core's issue), ``silent`` (a core that is never issued anything),
``drop`` (``{"cable", "sync", "clocks"}``: drop a cable that many core clocks after that sync's
issue on router ``cable``), ``timeout`` (clocks), ``expect`` (``"ok"``, ``"drop"``, ``"silent"``,
``"overflow"``), ``full_seen`` (cores one of whose RX FIFOs must have been full),
``cycles_out``.
"""

import collections
import json
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, Timer
from cocotb.utils import get_sim_time

from dfx_hw.geometry import TileGeometry
from dfx_hw.isa.encoding import Instruction, encode
from dfx_hw.isa.layouts import Opcode
from dfx_hw.isasim.ring import Ring
from dfx_hw.router.router import RfOp
from dfx_hw.spec.errors import ErrorCode
from sim.harness import bench_params

CORE_PS = 5000
NEXT_PS = 2560
PREV_PS = 2570
VRF = 8192
SRF = 32
LIMIT_CLOCKS = 200_000


class Port:
    """Cached handles of one router's ports (writes only when the value changes)."""

    def __init__(self, dut, index):
        self.dut = dut
        self.prefix = f"r{index}__"
        self._last = {}
        self._handles = {}

    def h(self, name):
        handle = self._handles.get(name)
        if handle is None:
            handle = self._handles[name] = getattr(self.dut, self.prefix + name)
        return handle

    def set(self, name, value):
        if self._last.get(name) != value:
            self.h(name).value = value
            self._last[name] = value

    def get(self, name):
        value = self.h(name).value
        if not value.is_resolvable:
            raise AssertionError(f"{self.prefix}{name} is {value} at "
                                 f"{get_sim_time(unit='ns')} ns")
        return int(value)


def _program(syncs, core, lens_addr, rng_seed):
    """This core's instructions: one per sync, at fixed aligned addresses."""
    program = []
    for j, sync in enumerate(syncs):
        if sync["op"] == "SYNC":
            total = sum(sync["lens"])
            program.append(Instruction(Opcode.SYNC, {
                "vdst": sync["vdst"], "vsrc": sync["vsrc"], "len": sync["lens"][core],
                "total": total, "tag": sync["tag"]}))
        else:
            program.append(Instruction(Opcode.SYNCS, {"vdst": sync["vdst"],
                                                      "ssrc": sync["ssrc"],
                                                      "tag": sync["tag"]}))
    program.append(Instruction(Opcode.END, {}))
    return program


def _place(syncs, lanes):
    """Aligned source / destination regions for every sync (non-overlapping)."""
    top = 0
    for j, sync in enumerate(syncs):
        align = lambda x: -(-x // lanes) * lanes  # noqa: E731
        if sync["op"] == "SYNC":
            sync["vsrc"] = top
            top = align(top + max(sync["lens"]) + 1)
            sync["vdst"] = top
            top = align(top + sum(sync["lens"]) + lanes)
        else:
            sync["ssrc"] = 2 * (j % (SRF // 2))
            sync["vdst"] = top
            top = align(top + 2 * 256 + lanes)
    if top > VRF:
        raise ValueError(f"the syncs need {top} register-file words, more than {VRF}")


@cocotb.test()
async def ring(dut):
    params = bench_params()
    comp, bench = params["component"], params["bench"]
    n = comp["count"]
    lanes = comp["lanes"]
    width = 16 * lanes
    rng = random.Random(bench.get("seed", 1))
    nrng = np.random.default_rng(bench.get("seed", 1))
    syncs = [dict(s) for s in bench["syncs"]]
    for sync in syncs:
        if sync["op"] == "SYNC" and len(sync["lens"]) != n:
            raise ValueError(f"a SYNC needs {n} lengths, got {sync['lens']}")
    _place(syncs, lanes)
    expect = bench.get("expect", "ok")
    idle = bench.get("idle", 0.0)
    latency = bench.get("latency", 20)
    silent = bench.get("silent")
    late = bench.get("late")
    drop = bench.get("drop")

    # -- reference: the ISA simulator's ring ----------------------------------------------------
    vrf0 = [nrng.integers(0, 1 << 16, VRF).astype(np.uint16) for _ in range(n)]
    srf0 = []
    for _ in range(n):
        srf = np.zeros(SRF, np.int64)
        srf[0::2] = nrng.integers(0, 1 << 16, SRF // 2)     # FP16 bits of a value
        srf[1::2] = nrng.integers(0, 1 << 16, SRF // 2)     # an index < 2**16
        srf0.append(srf)
    programs = [_program(syncs, c, None, None) for c in range(n)]
    expected = None
    if expect == "ok":
        reference = Ring(programs, [np.zeros(16, np.float16)] * n,
                         [np.zeros(16, np.float16)] * n, geometry=TileGeometry(vpu_lanes=lanes),
                         vrf_size=VRF, srf_size=SRF)
        for c, core in enumerate(reference.cores):
            core.vrf[:] = vrf0[c].view(np.float16)
            core.srf[:] = srf0[c]
        reference.run()
        expected = [core.vrf.view(np.uint16).copy() for core in reference.cores]

    # -- clocks and reset -----------------------------------------------------------------------
    cocotb.start_soon(Clock(dut.clk, CORE_PS, unit="ps").start())
    cocotb.start_soon(Clock(dut.link_next_clk, NEXT_PS, unit="ps").start())
    cocotb.start_soon(Clock(dut.link_prev_clk, PREV_PS, unit="ps").start())
    ports = [Port(dut, i) for i in range(n)]
    dut.cores.value = n
    dut.timeout.value = bench.get("timeout", 0)
    dut.rst.value = 1
    dut.link_next_rst.value = 1
    dut.link_prev_rst.value = 1
    init_names = ("issue__valid", "local__valid", "pair__valid", "gathered__ready",
                     "rf_request__ready", "link_next__tx__ready", "link_prev__tx__ready",
                     "link_next__rx__valid", "link_prev__rx__valid", "link_next__channel_up",
                     "link_prev__channel_up", "link_next__lane_up", "link_prev__lane_up",
                     "link_next__hard_err", "link_prev__hard_err", "link_next__soft_err",
                     "link_prev__soft_err", "issue__payload", "local__payload", "pair__payload",
                     "link_next__rx__payload", "link_prev__rx__payload")
    await Timer(1, unit="ns")
    for p in ports:
        for name in init_names:
            p.set(name, 0)
    await Timer(39, unit="ns")
    dut.rst.value = 0
    dut.link_next_rst.value = 0
    dut.link_prev_rst.value = 0

    # -- link model -----------------------------------------------------------------------------
    lane_mask = (1 << (width // 64)) - 1
    cable_up = [False] * n
    cable_dropped = [False] * n
    up_at = bench.get("up_delay_ns", 200) * 1000

    class Link:
        def __init__(self, src, src_port, dst, dst_port, cable):
            self.src, self.src_port = ports[src], src_port
            self.dst, self.dst_port = ports[dst], dst_port
            self.cable = cable
            self.queue = collections.deque()
            self.shown = False
            self.beats = 0

    # cable k: router k-1 link_next <-> router k link_prev; each direction carries one ring
    # direction's frames and the other's credits
    cw_links = [Link((k - 1) % n, "link_next", k, "link_prev", k) for k in range(n)]
    ccw_links = [Link(k, "link_prev", (k - 1) % n, "link_next", k) for k in range(n)]
    by_domain = {"link_next": (cw_links, ccw_links, NEXT_PS),
                 "link_prev": (ccw_links, cw_links, PREV_PS)}
    state = {"finished": False}

    async def link_domain(name, clock):
        senders, receivers, period = by_domain[name]
        while not state["finished"]:
            await FallingEdge(clock)
            now = get_sim_time(unit="ps")
            for k in range(n):
                up = now >= up_at and not cable_dropped[k]
                if up != cable_up[k] and name == "link_next":
                    cable_up[k] = up
                for p, port in ((ports[(k - 1) % n], "link_next"), (ports[k], "link_prev")):
                    if port == name:
                        p.set(f"{port}__channel_up", int(up))
                        p.set(f"{port}__lane_up", lane_mask if up else 0)
            ready = {}
            for link in senders:
                up = now >= up_at and not cable_dropped[link.cable]
                r = up and rng.random() >= idle
                ready[id(link)] = r
                link.src.set(f"{link.src_port}__tx__ready", int(r))
            for link in receivers:
                up = now >= up_at and not cable_dropped[link.cable]
                show = (up and link.queue and link.queue[0][0] <= now
                        and rng.random() >= idle)
                link.shown = bool(show)
                link.dst.set(f"{link.dst_port}__rx__valid", int(link.shown))
                if show:
                    link.dst.set(f"{link.dst_port}__rx__payload", link.queue[0][1])
            await ReadOnly()
            for link in senders:
                if ready[id(link)] and link.src.get(f"{link.src_port}__tx__valid"):
                    beat = link.src.get(f"{link.src_port}__tx__payload")
                    link.queue.append((now + latency * period, beat))
            for link in receivers:
                if link.shown:
                    link.queue.popleft()
                    link.beats += 1

    cocotb.start_soon(link_domain("link_next", dut.link_next_clk))
    cocotb.start_soon(link_domain("link_prev", dut.link_prev_clk))

    # -- core model -----------------------------------------------------------------------------
    vrf = [v.copy() for v in vrf0]
    words = [[encode(instr) for instr in programs[c][:-1]] for c in range(n)]
    issued = [0] * n
    done = [0] * n
    issue_clock = [[None] * len(syncs) for _ in range(n)]
    done_clock = [[None] * len(syncs) for _ in range(n)]
    local_q = [collections.deque() for _ in range(n)]
    pair_q = [collections.deque() for _ in range(n)]
    writes = [collections.deque() for _ in range(n)]     # (addr, length, words received)
    errors = [None] * n
    drop_at = None
    clock = 0
    bp = bench.get("backpressure", idle)
    while True:
        await FallingEdge(dut.clk)
        clock += 1
        if clock > LIMIT_CLOCKS:
            raise AssertionError(f"hang: after {clock} clocks, syncs done per core {done}, "
                                 f"errors {errors}")
        if drop is not None and drop_at is not None and clock == drop_at:
            cable_dropped[drop["cable"]] = True
        plan = []
        for c, p in enumerate(ports):
            hold = (c == silent) or (late is not None and c == late["core"]
                                     and issued[c] == late["sync"]
                                     and clock < late["clocks"])
            iv = issued[c] < len(words[c]) and not hold and errors[c] is None
            p.set("issue__valid", int(iv))
            if iv:
                p.set("issue__payload", words[c][issued[c]])
            rq = rng.random() >= bp
            p.set("rf_request__ready", int(rq))
            lv = bool(local_q[c]) and rng.random() >= idle
            p.set("local__valid", int(lv))
            if lv:
                p.set("local__payload", local_q[c][0])
            pv = bool(pair_q[c]) and rng.random() >= idle
            p.set("pair__valid", int(pv))
            if pv:
                p.set("pair__payload", pair_q[c][0])
            gr = rng.random() >= bp
            p.set("gathered__ready", int(gr))
            plan.append((iv, rq, lv, pv, gr))
        await ReadOnly()
        for c, p in enumerate(ports):
            iv, rq, lv, pv, gr = plan[c]
            if iv and p.get("issue__ready"):
                issue_clock[c][issued[c]] = clock
                if drop is not None and c == drop["cable"] and issued[c] == drop["sync"]:
                    drop_at = clock + drop["clocks"]
                issued[c] += 1
            if rq and p.get("rf_request__valid"):
                payload = p.get("rf_request__payload")
                op = RfOp(payload & 3)
                addr = (payload >> 2) & ((1 << 17) - 1)
                length = (payload >> 19) & ((1 << 18) - 1)
                if op is RfOp.READ_VECTOR:
                    data = vrf[c][addr:addr + length]
                    for i in range(0, length, lanes):
                        chunk = [int(x) for x in data[i:i + lanes]]
                        chunk += [rng.getrandbits(16) for _ in range(lanes - len(chunk))]
                        local_q[c].append(sum(v << (16 * j) for j, v in enumerate(chunk)))
                elif op is RfOp.READ_PAIR:
                    pair_q[c].append(int(srf0[c][addr]) | (int(srf0[c][addr + 1]) << 16))
                else:
                    writes[c].append([addr, length, 0])
            if lv and p.get("local__ready"):
                local_q[c].popleft()
            if pv and p.get("pair__ready"):
                pair_q[c].popleft()
            if gr and p.get("gathered__valid"):
                if not writes[c]:
                    raise AssertionError(f"core {c}: a gathered word without a WRITE request")
                w = writes[c][0]
                word = p.get("gathered__payload")
                base = w[0] + w[2] * lanes
                for j in range(min(lanes, w[1] - w[2] * lanes)):
                    vrf[c][base + j] = (word >> (16 * j)) & 0xFFFF
                w[2] += 1
                if w[2] * lanes >= w[1]:
                    writes[c].popleft()
            if p.get("done"):
                done_clock[c][done[c]] = clock
                done[c] += 1
            if errors[c] is None and p.get("error__valid"):
                errors[c] = (ErrorCode(p.get("error__code")), p.get("error__info"))
        if expect == "ok" and all(d == len(syncs) for d in done):
            break
        if expect == "ok" and any(e is not None for e in errors):
            raise AssertionError(f"unexpected error reports {errors}")
        if expect == "drop" and all(e is not None or d == len(syncs)
                                    for e, d in zip(errors, done)) \
                and all(errors[k] is not None for k in (drop["cable"], drop["cable"] - 1)):
            break
        if expect == "silent" and all(errors[c] is not None for c in range(n) if c != silent):
            break
        if expect == "overflow" and any(p.get("rx_overflow") for p in ports) \
                and any(e is not None for e in errors):
            break
    state["finished"] = True
    overflow = [p.get("rx_overflow") for p in ports]
    full = [p.get("rx_full_seen") for p in ports]
    dut._log.info(f"clocks {clock}; errors {errors}; overflow {overflow}; full_seen {full}; "
                  f"beats per cable clockwise {[l.beats for l in cw_links]}, counter-clockwise "
                  f"{[l.beats for l in ccw_links]}")

    if expect == "ok":
        assert not any(overflow), f"RX FIFO overflow: {overflow}"
        for c in bench.get("full_seen", []):
            assert full[c], f"core {c}'s RX FIFO was never full: the worst case was not reached"
        for c in range(n):
            diff = np.nonzero(vrf[c] != expected[c])[0]
            assert diff.size == 0, (
                f"core {c}: register file differs from the ISA simulator at "
                f"{diff[:8].tolist()} (rtl {vrf[c][diff[:8]].tolist()}, isasim "
                f"{expected[c][diff[:8]].tolist()})")
            assert not local_q[c] and not pair_q[c] and not writes[c], f"core {c}: leftovers"
        results = []
        for j, sync in enumerate(syncs):
            # A router takes the next word while a sync runs; the sync starts after the last.
            start = max(max(issue_clock[c][j], done_clock[c][j - 1] if j else 0)
                        for c in range(n))
            end = max(done_clock[c][j] for c in range(n))
            results.append({"op": sync["op"], "lens": sync.get("lens", [2] * n),
                            "clocks": end - start,
                            "issue": [issue_clock[c][j] for c in range(n)],
                            "done": [done_clock[c][j] for c in range(n)]})
        dut._log.info(f"clocks per sync: {results}")
        if bench.get("cycles_out"):
            with open(bench["cycles_out"], "w") as f:
                json.dump({"cores": n, "lanes": lanes, "latency": latency, "idle": idle,
                           "syncs": results}, f)
    elif expect == "drop":
        tag = syncs[drop["sync"]]["tag"]
        k = drop["cable"]
        for c in ((k - 1) % n, k):
            assert errors[c] is not None and errors[c][0] is ErrorCode.LINK_DOWN \
                and errors[c][1] == tag, f"core {c} next to the dropped cable: {errors[c]}"
        for c in range(n):
            assert errors[c] is None or errors[c][1] == tag, f"core {c}: {errors[c]}"
            assert errors[c] is None or errors[c][0] in (ErrorCode.LINK_DOWN,
                                                         ErrorCode.SYNC_TIMEOUT), errors[c]
    elif expect == "silent":
        tag = syncs[0]["tag"]
        for c in range(n):
            if c != silent:
                assert errors[c] == (ErrorCode.SYNC_TIMEOUT, tag), f"core {c}: {errors[c]}"
            else:
                assert errors[c] is None, f"the silent core reported {errors[c]}"
    elif expect == "overflow":
        assert any(overflow)
        assert any(e is not None and e[0] is ErrorCode.RING_PROTOCOL for e in errors), errors
