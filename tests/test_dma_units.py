"""The DMA's building blocks in the Amaranth simulator, against NumPy: realignment in both
directions at every offset, the STHT scatter against the compiler's ``row_offsets``, burst
cutting (4 KB boundaries, credits), the sequential multiplier, and parameter validation."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from dfx_hw.compiler.tiling import row_offsets
from dfx_hw.dma.bursts import BurstGenerator
from dfx_hw.dma.multiplier import SequentialMultiplier
from dfx_hw.dma.read_align import ReadAligner
from dfx_hw.dma.scatter import TransposeScatter
from dfx_hw.dma.write_align import WriteAligner


def _run(dut, bench, clocks_hint=None):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def _pack(elements):
    return int.from_bytes(np.asarray(elements, "<u2").tobytes(), "little")


def _unpack(value, count):
    return np.frombuffer(int(value).to_bytes(2 * count, "little"), "<u2")


@pytest.mark.parametrize("e, v", [(8, 4), (8, 8), (32, 16), (16, 2)])
def test_read_aligner_delivers_any_element_range(e, v):
    rng = np.random.default_rng(e * 10 + v)
    memory = rng.integers(0, 1 << 16, 40 * e).astype(np.uint16)
    counts = [1, 2, v - 1, v, v + 1, e, e + 1, 3 * e - 1, 5 * v + 3]
    counts += list(rng.integers(1, 6 * e, 6))
    jobs = [(int(rng.integers(0, 4 * e)), int(c)) for c in counts]
    dut = ReadAligner(beat_elements=e, word_elements=v, count_bits=16)
    got = []

    async def bench(ctx):
        for start, count in jobs:
            first, offset = divmod(start, e)
            beats = -(-(offset + count) // e)
            ctx.set(dut.job.payload.as_value(), 0)
            ctx.set(dut.job.payload.offset, offset)
            ctx.set(dut.job.payload.count, count)
            ctx.set(dut.job.payload.beats, beats)
            ctx.set(dut.job.valid, 1)
            await ctx.tick().until(dut.job.ready)
            ctx.set(dut.job.valid, 0)
            words, beat = [], 0
            want_words = -(-count // v)
            while len(words) < want_words:
                hold = beat < beats and rng.random() < 0.7
                if hold:
                    at = (first + beat) * e
                    ctx.set(dut.beats.payload, _pack(memory[at:at + e]))
                ctx.set(dut.beats.valid, int(hold))
                ready = rng.random() < 0.7
                ctx.set(dut.words.ready, int(ready))
                _, _, _, _, bready, wvalid, wdata = await ctx.tick().sample(
                    dut.beats.valid, dut.beats.payload, dut.beats.ready, dut.words.valid,
                    dut.words.payload)
                if hold and bready:
                    beat += 1
                if ready and wvalid:
                    words.append(_unpack(wdata, v))
            ctx.set(dut.beats.valid, 0)
            ctx.set(dut.words.ready, 1)
            for _ in range(3):
                await ctx.tick()
            assert beat == beats, f"job ({start}, {count}): {beat} of {beats} beats consumed"
            got.append((start, count, np.concatenate(words)))

    _run(dut, bench)
    for start, count, data in got:
        assert (data[:count] == memory[start:start + count]).all(), (start, count)
        assert not data[count:].any(), f"lanes past the end not zero ({start}, {count})"


@pytest.mark.parametrize("e, v", [(8, 4), (8, 8), (32, 16), (32, 4)])
def test_write_aligner_writes_exactly_the_vector(e, v):
    rng = np.random.default_rng(e + v)
    jobs = [(int(rng.integers(0, 3 * e)), int(c)) for c in
            [1, 2, v - 1, v, v + 1, e, e + 3, 4 * v + 1] + list(rng.integers(1, 5 * e, 6))]
    dut = WriteAligner(beat_elements=e, word_elements=v, count_bits=16, beat_bits=20)
    results = []

    async def bench(ctx):
        for start, count in jobs:
            first, offset = divmod(start, e)
            vector = rng.integers(0, 1 << 16, count).astype(np.uint16)
            words = [np.concatenate([vector[i:i + v],
                                     rng.integers(0, 1 << 16, max(0, i + v - count)).astype(
                                         np.uint16)]) for i in range(0, count, v)]
            ctx.set(dut.job.payload.align.offset, offset)
            ctx.set(dut.job.payload.align.count, count)
            ctx.set(dut.job.payload.first, first)
            ctx.set(dut.job.valid, 1)
            await ctx.tick().until(dut.job.ready)
            ctx.set(dut.job.valid, 0)
            memory = np.zeros(10 * e, np.uint16)
            written = np.zeros(10 * e, bool)
            sent, last = 0, False
            while not last:
                offer = sent < len(words) and rng.random() < 0.7
                if offer:
                    ctx.set(dut.words.payload, _pack(words[sent]))
                ctx.set(dut.words.valid, int(offer))
                ready = rng.random() < 0.7
                ctx.set(dut.beats.ready, int(ready))
                _, _, _, wready, bvalid, payload = await ctx.tick().sample(
                    dut.words.valid, dut.words.ready, dut.beats.valid, dut.beats.payload)
                if offer and wready:
                    sent += 1
                if ready and bvalid:
                    beat = payload.beat
                    data = _unpack(int(payload.data), e)
                    strobe = int(payload.strobe)
                    for i in range(e):
                        if strobe >> i & 1:
                            assert not written[beat * e + i], "an element written twice"
                            memory[beat * e + i] = data[i]
                            written[beat * e + i] = True
                    last = bool(payload.last)
            ctx.set(dut.words.valid, 0)
            results.append((start, count, vector, memory, written, sent, len(words)))

    _run(dut, bench)
    for start, count, vector, memory, written, sent, total in results:
        assert sent == total, f"({start}, {count}): {sent} of {total} words taken"
        assert (np.flatnonzero(written) == np.arange(start, start + count)).all(), (start, count)
        assert (memory[start:start + count] == vector).all(), (start, count)


@pytest.mark.parametrize("d, l, v, row, count", [(16, 8, 4, 5, 16), (16, 8, 4, 21, 13),
                                                 (64, 16, 16, 3, 64), (8, 4, 8, 0, 9)])
def test_transpose_scatter_is_row_offsets(d, l, v, row, count):
    """STHT: element i lands at row_offsets(row, count)[i] of the tiled matrix."""
    e = 32
    base = 7 * d * l
    rt, r = divmod(row, d)
    nt = -(-count // l)
    start = base + rt * nt * d * l + r
    dut = TransposeScatter(d=d, l=l, beat_elements=e, word_elements=v, count_bits=16,
                           elem_bits=24)
    rng = np.random.default_rng(row)
    vector = rng.integers(0, 1 << 16, count).astype(np.uint16)
    words = [np.resize(vector[i:i + v], v) for i in range(0, count, v)]
    writes = {}

    async def bench(ctx):
        ctx.set(dut.job.payload.start, start)
        ctx.set(dut.job.payload.count, count)
        ctx.set(dut.job.valid, 1)
        await ctx.tick().until(dut.job.ready)
        ctx.set(dut.job.valid, 0)
        sent, last = 0, False
        while not last:
            offer = sent < len(words)
            if offer:
                ctx.set(dut.words.payload, _pack(words[sent]))
            ctx.set(dut.words.valid, int(offer))
            ready = rng.random() < 0.6
            ctx.set(dut.beats.ready, int(ready))
            _, _, _, wready, bvalid, payload = await ctx.tick().sample(
                dut.words.valid, dut.words.ready, dut.beats.valid, dut.beats.payload)
            if offer and wready:
                sent += 1
            if ready and bvalid:
                strobe = int(payload.strobe)
                assert strobe and not strobe & (strobe - 1), "one element per beat"
                lane = strobe.bit_length() - 1
                value = _unpack(int(payload.data), e)[lane]
                writes[int(payload.beat) * e + lane] = value
                last = bool(payload.last)
        assert sent == len(words)

    _run(dut, bench)
    want = base + row_offsets(row, count, d=d, l=l)
    assert sorted(writes) == sorted(int(x) for x in want)
    for address, value in zip(want, vector):
        assert writes[int(address)] == value


def test_bursts_cover_the_range_never_cross_4k_and_respect_the_credit():
    depth, beat = 40, 64
    dut = BurstGenerator(addr_bits=32, count_bits=16, beat_bytes=beat, max_burst=16, depth=depth)
    jobs = [(4096 - 3 * beat, 30), (0, 1), (8192 + 63 * beat, 100), (65536, 16)]
    bursts = []
    rng = np.random.default_rng(0)

    async def bench(ctx):
        outstanding = 0
        queue = list(jobs)
        for _ in range(800):
            if queue:
                ctx.set(dut.job.payload.addr, queue[0][0])
                ctx.set(dut.job.payload.beats, queue[0][1])
            ctx.set(dut.job.valid, int(bool(queue)))
            release = outstanding > 0 and rng.random() < 0.5
            ctx.set(dut.release, int(release))
            ready = rng.random() < 0.7
            ctx.set(dut.cmd.ready, int(ready))
            _, _, _, valid, payload, job_ready = await ctx.tick().sample(
                dut.release, dut.cmd.valid, dut.cmd.payload, dut.job.ready)
            if queue and job_ready:
                queue.pop(0)
            outstanding -= int(release)
            if ready and valid:
                bursts.append((int(payload.addr), int(payload.len) + 1))
                outstanding += int(payload.len) + 1
                assert outstanding <= depth, "more beats in flight than the buffer holds"

    _run(dut, bench)
    for addr, length in bursts:
        assert length <= 16
        assert addr // 4096 == (addr + length * beat - 1) // 4096, f"burst {addr:#x}+{length}"
    covered = [addr + i * beat for addr, length in bursts for i in range(length)]
    want = [a + i * beat for a, n in jobs for i in range(n)]
    assert covered == want


def test_sequential_multiplier():
    dut = SequentialMultiplier(a_bits=17, b_bits=17)
    cases = [(0, 5), (5, 0), (1, 1), (32, 3), (131071, 131071), (12345, 678)]

    async def bench(ctx):
        for a, b in cases:
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            await ctx.tick().until(~dut.busy)
            assert ctx.get(dut.product) == a * b, (a, b)

    _run(dut, bench)


