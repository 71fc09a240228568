"""Router pieces on the Amaranth simulator: the packer against a Python model, the instruction
and configuration checks (each error code with its host message), and parameter validation."""

import gc
import random
import warnings

import pytest
from amaranth.hdl import UnusedElaboratable
from amaranth.sim import Simulator

from dfx_hw.bus.aurora import AuroraLinkSignature
from dfx_hw.isa.encoding import Instruction, encode
from dfx_hw.isa.layouts import LAYOUTS, Opcode
from dfx_hw.router.packer import Packer
from dfx_hw.router.router import Router
from dfx_hw.spec.errors import MESSAGES, ErrorCode
from dfx_hw.spec.ring import BeatKind, header_value, parse_header


def _pack_model(items, lanes):
    """The words a packer emits for ``(elements, last)`` items."""
    words, run = [], []
    for elements, last in items:
        run += elements
        while len(run) >= lanes:
            words.append(run[:lanes])
            run = run[lanes:]
        if last and run:
            words.append(run + [0] * (lanes - len(run)))
            run = []
    return [sum(v << (16 * j) for j, v in enumerate(w)) for w in words]


@pytest.mark.parametrize("lanes", [4, 16])
def test_packer_matches_model_with_backpressure(lanes):
    rng = random.Random(lanes)
    items = []
    for _ in range(120):
        count = rng.choice([0, 1, lanes - 1, lanes, lanes, rng.randint(0, lanes)])
        items.append(([rng.getrandbits(16) for _ in range(count)], rng.random() < 0.15))
    items.append(([], True))
    expected = _pack_model(items, lanes)
    dut = Packer(lanes=lanes)
    got = []

    async def bench(ctx):
        i = 0
        while len(got) < len(expected):
            if i < len(items):
                elements, last = items[i]
                garbage = [rng.getrandbits(16) for _ in range(lanes - len(elements))]
                data = sum(v << (16 * j) for j, v in enumerate(elements + garbage))
                ctx.set(dut.i.valid, rng.random() < 0.8)
                ctx.set(dut.i.payload, {"data": data, "count": len(elements), "last": last})
            else:
                ctx.set(dut.i.valid, 0)
            ready = rng.random() < 0.7
            ctx.set(dut.o.ready, ready)
            _, _, i_valid, i_ready, o_valid, o_data = await ctx.tick().sample(
                dut.i.valid, dut.i.ready, dut.o.valid, dut.o.payload)
            if i_valid and i_ready:
                i += 1
            if o_valid and ready:
                got.append(o_data)
        for _ in range(10):  # nothing more comes out
            ctx.set(dut.o.ready, 1)
            ctx.set(dut.i.valid, 0)
            _, _, o_valid = await ctx.tick().sample(dut.o.valid)
            assert not o_valid

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert got == expected


def _run_router_issue(word, *, cores=1, core_id=0, max_total=64, link_prev_beats=(),
                      clocks=10):
    """Issue ``word`` to a router (4 lanes) and wait up to ``clocks`` for its error report;
    ``link_prev_beats`` arrive on ``link_prev`` (links up, register file always ready).
    Returns the error code and info (the router must have stopped)."""
    dut = Router(lanes=4, max_cores=4, max_total=max_total, rx_depth=16)
    result = {}

    async def link_side(ctx):
        for link in (dut.link_next, dut.link_prev):
            ctx.set(link.channel_up, 1)
            ctx.set(link.lane_up, 1)
        if not link_prev_beats:
            return
        await ctx.tick("link_prev").repeat(40)
        for beat in link_prev_beats:
            ctx.set(dut.link_prev.rx.valid, 1)
            ctx.set(dut.link_prev.rx.payload, beat)
            await ctx.tick("link_prev")
        ctx.set(dut.link_prev.rx.valid, 0)

    async def bench(ctx):
        ctx.set(dut.cores, cores)
        ctx.set(dut.core_id, core_id)
        ctx.set(dut.rf_request.ready, 1)
        ctx.set(dut.local.valid, 1)
        ctx.set(dut.gathered.ready, 1)
        await ctx.tick().repeat(3)
        ctx.set(dut.issue.valid, 1)
        ctx.set(dut.issue.payload, {"word": word})
        await ctx.tick().until(dut.issue.ready)
        ctx.set(dut.issue.valid, 0)
        for _ in range(clocks):
            await ctx.tick()
            if ctx.get(dut.error.valid):
                break
        result["error"] = (ctx.get(dut.error.valid), ctx.get(dut.error.code),
                           ctx.get(dut.error.info), ctx.get(dut.issue.ready))

    sim = Simulator(dut)
    sim.add_clock(5e-9)
    sim.add_clock(2.56e-9, domain="link_next")
    sim.add_clock(2.57e-9, domain="link_prev")
    sim.add_testbench(link_side, background=True)
    sim.add_testbench(bench)
    sim.run()
    valid, code, info, ready = result["error"]
    assert valid and not ready, "the router must report and stop"
    return ErrorCode(code), info


def _sync(**fields):
    base = {"vdst": 0, "vsrc": 64, "len": 8, "total": 8, "tag": 5}
    base.update(fields)
    return encode(Instruction(Opcode.SYNC, base))


def test_non_router_instruction_is_illegal_opcode():
    code, info = _run_router_issue(encode(Instruction(Opcode.END, {})))
    assert code is ErrorCode.ILLEGAL_OPCODE and info == Opcode.END.value
    print(MESSAGES[code].format(info=info))


def test_reserved_bits_are_reported():
    offset = LAYOUTS[Opcode.SYNC]["reserved"].offset
    code, info = _run_router_issue(_sync() | (1 << offset))
    assert code is ErrorCode.RESERVED_BITS and info == 5
    print(MESSAGES[code].format(info=info))


@pytest.mark.parametrize("word, config", [
    (_sync(total=65, len=65), {}),                # larger than the staging memory holds
    (_sync(), {"cores": 0}),                      # no ring
    (_sync(), {"cores": 5}),                      # more cores than max_cores
    (_sync(), {"cores": 2, "core_id": 2}),        # core id outside the ring
])
def test_out_of_range_sync_or_configuration_is_field_range(word, config):
    code, info = _run_router_issue(word, **config)
    assert code is ErrorCode.FIELD_RANGE and info == 5
    message = MESSAGES[code].format(info=info)
    print(message)
    assert "out of range" in message


def test_router_error_messages_name_the_sync_tag():
    for code in (ErrorCode.LINK_DOWN, ErrorCode.LINK_HARD_ERROR, ErrorCode.LINK_SOFT_ERROR,
                 ErrorCode.SYNC_TIMEOUT, ErrorCode.RING_PROTOCOL):
        assert "sync tag 7" in MESSAGES[code].format(info=7)


def test_header_round_trip():
    beat = header_value(BeatKind.DATA, origin=3, tag=200, seq=17, count=6400)
    fields = parse_header(beat)
    assert (fields["kind"], fields["origin"], fields["tag"], fields["seq"], fields["count"]) \
        == (BeatKind.DATA, 3, 200, 17, 6400)


@pytest.mark.parametrize("params, message", [
    ({"lanes": 2}, "lanes must be an integer of at least 4"),
    ({"lanes": 12}, "lanes must be a power of two"),
    ({"max_cores": 0}, "max_cores must be an integer of at least 1"),
    ({"max_cores": 300}, "max_cores must be at most 255"),
    ({"max_total": 1 << 18}, "max_total must be below 2**18"),
    ({"rx_depth": 24}, "rx_depth must be a power of two"),
    ({"write_latency": -1}, "write_latency must be an integer of at least 0"),
    ({"next_domain": "sync"}, "next_domain must name a link clock domain"),
])
def test_router_parameters_are_validated(params, message):
    with warnings.catch_warnings():
        # the half-built component is garbage: no "created but never used" warning for it
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(ValueError, match=message.replace("*", r"\*")):
            Router(**params)
        gc.collect()


def test_aurora_signature_validates_width():
    assert AuroraLinkSignature(data_bits=256).lanes == 4
    with pytest.raises(ValueError, match="data_bits must be a positive multiple of 64"):
        AuroraLinkSignature(data_bits=100)


def _monitor_run(drive, *, clocks=12, timeout=0):
    """Run the error monitor with ``drive(ctx, dut, clock)`` setting inputs every clock; return
    the report (valid, code, info) and the clock it appeared."""
    from dfx_hw.router.monitor import ErrorMonitor
    dut = ErrorMonitor()
    seen = {}

    async def bench(ctx):
        ctx.set(dut.ring, 1)
        ctx.set(dut.tag, 42)
        ctx.set(dut.timeout, timeout)
        for clock in range(clocks):
            drive(ctx, dut, clock)
            await ctx.tick()
            if ctx.get(dut.error.valid) and "report" not in seen:
                seen["report"] = (ErrorCode(ctx.get(dut.error.code)), ctx.get(dut.error.info),
                                  clock)
        assert ctx.get(dut.error.valid)  # sticky

    sim = Simulator(dut)
    sim.add_clock(5e-9)
    sim.add_testbench(bench)
    sim.run()
    return seen.get("report")


@pytest.mark.parametrize("signal, code", [("next_hard", ErrorCode.LINK_HARD_ERROR),
                                          ("prev_hard", ErrorCode.LINK_HARD_ERROR),
                                          ("next_soft", ErrorCode.LINK_SOFT_ERROR),
                                          ("prev_soft", ErrorCode.LINK_SOFT_ERROR)])
def test_link_error_flags_become_error_status_with_tag(signal, code):
    def drive(ctx, dut, clock):
        ctx.set(dut.next_up, 1)
        ctx.set(dut.prev_up, 1)
        ctx.set(dut.active, 1)
        ctx.set(getattr(dut, signal), int(clock >= 3))
    report = _monitor_run(drive)
    assert report is not None and report[:2] == (code, 42)
    print(MESSAGES[code].format(info=report[1]))


def test_soft_error_between_syncs_waits_for_the_next_sync():
    def drive(ctx, dut, clock):
        ctx.set(dut.next_up, 1)
        ctx.set(dut.prev_up, 1)
        ctx.set(dut.prev_soft, int(clock >= 2))
        ctx.set(dut.active, int(clock >= 8))
    report = _monitor_run(drive)
    assert report[:2] == (ErrorCode.LINK_SOFT_ERROR, 42) and report[2] >= 8


def test_link_going_down_and_timeout_are_reported():
    def down(ctx, dut, clock):
        ctx.set(dut.next_up, int(clock < 5))
        ctx.set(dut.prev_up, 1)
    assert _monitor_run(down)[:2] == (ErrorCode.LINK_DOWN, 42)

    def stuck(ctx, dut, clock):
        ctx.set(dut.start, int(clock == 1))
        ctx.set(dut.active, int(clock >= 1))
    report = _monitor_run(stuck, clocks=40, timeout=20)
    assert report[:2] == (ErrorCode.SYNC_TIMEOUT, 42) and 19 <= report[2] <= 24


def test_link_port_keeps_a_one_clock_soft_error_pulse():
    """A soft_err pulse of one 390.625 MHz user clock is seen in the 200 MHz core clock."""
    from dfx_hw.router.link_port import LinkPort
    dut = LinkPort(data_bits=64, domain="link", rx_depth=8)
    seen = {}

    async def link_side(ctx):
        ctx.set(dut.link.channel_up, 1)
        ctx.set(dut.link.lane_up, 1)
        await ctx.tick("link").repeat(5)
        ctx.set(dut.link.soft_err, 1)
        await ctx.tick("link")
        ctx.set(dut.link.soft_err, 0)

    async def core_side(ctx):
        for _ in range(20):
            await ctx.tick()
            seen["soft"] = seen.get("soft", 0) | ctx.get(dut.soft_err)
            seen["up"] = ctx.get(dut.up)

    sim = Simulator(dut)
    sim.add_clock(5e-9)
    sim.add_clock(2.56e-9, domain="link")
    sim.add_testbench(link_side)
    sim.add_testbench(core_side)
    sim.run()
    assert seen == {"soft": 1, "up": 1}


def test_broken_segment_boundary_is_ring_protocol():
    """Core 1 of a ring of two receives core 0's 12-word slice with a stray data beat where the
    CONTINUE of its second segment must be: the link port's framing flag becomes a
    RING_PROTOCOL report with the sync tag, and the router stops."""
    beats = ([header_value(BeatKind.DATA, origin=0, tag=5, seq=0, count=48)]
             + [0x1234_0000 + i for i in range(8)] + [0xDEAD_BEEF])
    code, info = _run_router_issue(_sync(len=48, total=96, vsrc=0, vdst=128), cores=2,
                                   core_id=1, max_total=128, link_prev_beats=beats, clocks=200)
    assert code is ErrorCode.RING_PROTOCOL and info == 5
    print(MESSAGES[code].format(info=info))
