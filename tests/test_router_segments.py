"""The ring protocol's segments on the Amaranth simulator (:mod:`dfx_hw.spec.ring`): the
sending link port's :class:`~dfx_hw.router.tx_framer.TxFramer` against a Python model of the
rules (whole segments, credits only between them, a stalled frame holds back no credit), and
the receiving :class:`~dfx_hw.router.rx_splitter.RxSplitter` (CONTINUE beats removed, credits
steered out, a data beat that looks like a header stays data, a broken boundary flagged); then
both joined: random frames and credits through framer and splitter arrive unchanged."""

import random

import pytest
from amaranth.sim import Simulator

from dfx_hw.router.rx_splitter import RxSplitter
from dfx_hw.router.tx_framer import TxFramer
from dfx_hw.spec.ring import SEGMENT_BEATS, BeatKind, header_value, parse_header

LANES = 4
WIDTH = 16 * LANES


def _frame(rng, origin, elements, shaped=True):
    """A DATA frame: header and ceil(elements / LANES) random data beats (with ``shaped``, some
    of them look like CREDIT or CONTINUE headers, which must still pass as data)."""
    words = -(-elements // LANES)
    beats = [header_value(BeatKind.DATA, origin=origin, count=elements)]
    for _ in range(words):
        kind = rng.choice(["data", "data", "credit", "continue"] if shaped else ["data"])
        if kind == "credit":
            beats.append(header_value(BeatKind.CREDIT, count=rng.randint(1, 9)))
        elif kind == "continue":
            beats.append(header_value(BeatKind.CONTINUE))
        else:
            beats.append(rng.getrandbits(WIDTH))
    return beats


def _kind(beat):
    return parse_header(beat)["kind"] if parse_header(beat)["magic"] == 0xD5 else None


def _run_framer(frames, credits, *, stall_frame=None, seed=0):
    """Feed `frames` (lists of beats) and `credits` (counts) into a TxFramer with a random
    ready on `tx`; `stall_frame` = (frame index, beat index, clocks): hold the frame stream
    there. Returns the tx beats and, per credit beat, how many frame beats were in flight of
    an unfinished segment when it left."""
    dut = TxFramer(width=WIDTH, max_credits=64)
    rng = random.Random(seed)
    out = []

    async def frame_source(ctx):
        for f, beats in enumerate(frames):
            for b, beat in enumerate(beats):
                if stall_frame and stall_frame[:2] == (f, b):
                    await ctx.tick().repeat(stall_frame[2])
                ctx.set(dut.frames.valid, 1)
                ctx.set(dut.frames.payload.data, beat)
                ctx.set(dut.frames.payload.end, b == len(beats) - 1)
                await ctx.tick().until(dut.frames.ready)
                ctx.set(dut.frames.valid, 0)

    async def credit_source(ctx):
        for count in credits:
            await ctx.tick().repeat(rng.randint(1, 6))
            ctx.set(dut.credits.valid, 1)
            ctx.set(dut.credits.payload, count)
            await ctx.tick().until(dut.credits.ready)
            ctx.set(dut.credits.valid, 0)

    async def sink(ctx):
        for _ in range(2000):
            ready = rng.random() < 0.7
            ctx.set(dut.tx.ready, ready)
            await ctx.tick()
            # sample what was taken on this edge
        return

    async def monitor(ctx):
        async for clk_edge, rst, valid, ready, payload in ctx.tick().sample(
                dut.tx.valid, dut.tx.ready, dut.tx.payload):
            if valid and ready:
                out.append(payload)

    sim = Simulator(dut)
    sim.add_clock(5e-9)
    sim.add_testbench(frame_source, background=True)
    sim.add_testbench(credit_source, background=True)
    sim.add_process(monitor)
    sim.add_testbench(sink)
    sim.run()
    return out


def _check_segments(out, frames, credits):
    """The framer's rules on its output: the frames' beats in order with a CONTINUE before every
    segment after the first, segments of at most SEGMENT_BEATS data beats sent whole, and the
    credits (in order) only between segments."""
    expected = [beat for beats in frames for beat in beats]
    data, got_credits = [], []
    i = 0
    frame_iter = iter(frames)
    while i < len(out):
        beats = next(frame_iter, None)
        # credits before this frame's header
        while beats is not None and out[i] != beats[0] and _kind(out[i]) is BeatKind.CREDIT:
            got_credits.append(parse_header(out[i])["count"])
            i += 1
        if beats is None:
            while i < len(out):
                assert _kind(out[i]) is BeatKind.CREDIT, f"stray beat {out[i]:#x} after the frames"
                got_credits.append(parse_header(out[i])["count"])
                i += 1
            break
        assert out[i] == beats[0], "a frame must start with its header"
        data.append(out[i])
        i += 1
        rest = beats[1:]
        first = True
        while rest:
            if not first:
                while _kind(out[i]) is BeatKind.CREDIT:
                    got_credits.append(parse_header(out[i])["count"])
                    i += 1
                assert _kind(out[i]) is BeatKind.CONTINUE, "a later segment needs CONTINUE"
                i += 1
            segment, rest = rest[:SEGMENT_BEATS], rest[SEGMENT_BEATS:]
            assert out[i:i + len(segment)] == segment, "a segment must go out whole, in order"
            data.extend(segment)
            i += len(segment)
            first = False
    assert data == expected
    assert got_credits == credits


@pytest.mark.parametrize("seed", range(4))
def test_framer_sends_whole_segments_and_credits_between_them(seed):
    rng = random.Random(seed)
    frames = [_frame(rng, o, rng.choice([0, 1, 4, 31, 32, 33, 70, 4 * SEGMENT_BEATS]))
              for o in range(5)]
    credits = [rng.randint(1, 64) for _ in range(12)]
    out = _run_framer(frames, credits, seed=seed)
    _check_segments(out, frames, credits)


def test_framer_stalled_frame_holds_back_no_credit():
    """A frame whose source stalls for 200 clocks in the middle of its second segment (a slice
    still arriving, forwarded cut through): the credits offered meanwhile leave at once, not
    after the stall."""
    rng = random.Random(9)
    frames = [_frame(rng, 1, 30 * LANES, shaped=False)]
    credits = [5, 6, 7]
    out = _run_framer(frames, credits, stall_frame=(0, 12, 200), seed=9)
    _check_segments(out, frames, credits)
    # all three credits leave before the second segment (which waits for the stalled beat)
    second = out.index(header_value(BeatKind.CONTINUE))
    credit_positions = [i for i, beat in enumerate(out) if _kind(beat) is BeatKind.CREDIT
                        and i < second]
    assert len(credit_positions) == 3


def _run_splitter(beats):
    dut = RxSplitter(lanes=LANES)
    data, credit, error = [], [], []

    async def source(ctx):
        for beat in beats:
            if beat is None:
                ctx.set(dut.i.valid, 0)
            else:
                ctx.set(dut.i.valid, 1)
                ctx.set(dut.i.payload, beat)
            await ctx.tick()
        ctx.set(dut.i.valid, 0)
        await ctx.tick().repeat(4)

    async def sink(ctx):
        async for _, _, dv, dp, cv, cp, err in ctx.tick().sample(
                dut.data.valid, dut.data.payload, dut.credit.valid, dut.credit.payload,
                dut.error):
            if dv:
                data.append(dp)
            if cv:
                credit.append(cp)
            error.append(err)

    sim = Simulator(dut)
    sim.add_clock(2.56e-9)
    sim.add_process(sink)
    sim.add_testbench(source)
    sim.run()
    return data, credit, any(error)


def test_splitter_removes_continue_and_steers_credits():
    rng = random.Random(3)
    frame = _frame(rng, 2, 20 * LANES)          # 20 data beats: segments of 8, 8, 4
    header, body = frame[0], frame[1:]
    credit = header_value(BeatKind.CREDIT, count=7)
    cont = header_value(BeatKind.CONTINUE)
    link = ([credit, header] + body[:8] + [credit, None, cont] + body[8:16] + [cont]
            + body[16:] + [None, credit])
    data, credits, error = _run_splitter(link)
    assert data == frame
    assert credits == [7, 7, 7]
    assert not error


def test_splitter_flags_a_broken_segment_boundary():
    """A data beat where CONTINUE or CREDIT must be (the sender broke the framing): the sticky
    error is set and the beat is not passed on as data."""
    rng = random.Random(4)
    frame = _frame(rng, 2, 12 * LANES)
    stray = rng.getrandbits(WIDTH)
    data, _, error = _run_splitter([frame[0]] + frame[1:9] + [stray])
    assert error
    assert data == frame[:9]


def test_framer_and_splitter_round_trip():
    """Random frames and credits through a TxFramer and an RxSplitter: the frames arrive as the
    router sent them, the credits in order, no framing error."""
    rng = random.Random(11)
    frames = [_frame(rng, o, rng.choice([1, 8, 9, 33, 64, 100])) for o in range(6)]
    credits = [rng.randint(1, 64) for _ in range(10)]
    out = _run_framer(frames, credits, seed=11)
    data, got, error = _run_splitter(out)
    assert data == [beat for beats in frames for beat in beats]
    assert got == credits
    assert not error
