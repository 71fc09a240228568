"""cocotb benches: the DMA (:class:`dfx_hw.dma.DMA`) against the ISA simulator, with
cocotbext-axi ``AxiRam`` models on every AXI port.

``program``
    Runs every DMA and streamed matrix instruction of a compiled random GPT-2
    (:func:`sim.dma_trace.dma_trace`, the ISA simulator's record) in program order, with random
    idle and back-pressure on every AXI channel (AR, R, AW, W, B via the RAMs' pause generators)
    and on the ``weights``, ``bias`` and ``load`` sinks and the ``store`` source. Checks the
    tiles and bias beats the matrix unit receives, the words the register file receives, and the
    final HBM channel and DDR memories, byte for byte, against the simulator; memory outside the
    windows must stay as it was.

The error cases are in :mod:`sim.benches.dma_errors`.

Bench parameters (``bench_params()["bench"]``): ``model`` (keyword arguments of
:func:`~sim.dma_trace.dma_trace` besides ``geometry``), ``seed``, ``pause`` (probability an AXI
channel pauses on a clock), ``idle`` / ``backpressure`` (register-file side and matrix sinks),
``hbm_base`` / ``ddr_base`` (window bases in bytes), ``max_clocks``.
"""

import itertools
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from cocotbext.axi import AxiBus, AxiRam

from dfx_hw.geometry import TileGeometry
from dfx_hw.isa.layouts import Opcode
from dfx_hw.spec.hbm_map import split_image
from dfx_hw.spec.issue import ISSUE_LAYOUT
from sim.dma_trace import STREAMED, dma_trace
from sim.harness import bench_params

_ISSUE = {name: (f.offset, f.width) for name, f in ISSUE_LAYOUT}


def issue_word(word, token=0, hbm_offset=0, ddr_offset=0):
    """The issue payload (:data:`~dfx_hw.spec.issue.ISSUE_LAYOUT`) as an int."""
    value = 0
    for name, field in (("word", word), ("token", token), ("hbm_offset", hbm_offset),
                        ("ddr_offset", ddr_offset)):
        offset, width = _ISSUE[name]
        assert 0 <= field < 1 << width, (name, field)
        value |= field << offset
    return value


def pack_words(elements, lanes, rng):
    """uint16 elements -> register-file words (ints), the extra lanes of a partial last word
    filled with junk (the VPU leaves them unspecified)."""
    elements = np.asarray(elements, np.uint16)
    count = -(-elements.size // lanes)
    padded = rng.integers(0, 1 << 16, count * lanes).astype(np.uint16)
    padded[:elements.size] = elements
    return [int.from_bytes(padded[i * lanes:(i + 1) * lanes].astype("<u2").tobytes(), "little")
            for i in range(count)]


def unpack(value, elements):
    """int -> uint16 array of ``elements``."""
    return np.frombuffer(value.to_bytes(2 * elements, "little"), "<u2").astype(np.uint16)


def high(signal):
    """A 1-bit signal is 1 (Icarus leaves a combinational output that no input has changed
    since time 0 at X: X reads as 0)."""
    return str(signal.value) == "1"


def geometry_of(comp):
    """The :class:`TileGeometry` of a DMA's parameters."""
    return TileGeometry(d=comp["d"], l=comp["l"], vpu_lanes=comp["lanes"],
                        hbm_channels=comp["hbm_channels"],
                        hbm_port_bits=comp.get("hbm_data_bits", 512))


class Pauses:
    """Random pause generators (seeded) for the AXI channels."""

    def __init__(self, rng, probability):
        self.rng, self.p = rng, probability

    def __call__(self):
        rng, p = random.Random(int(self.rng.integers(1 << 30))), self.p
        return (rng.random() < p for _ in itertools.count())


class TB:
    """Clock, reset, RAM models and stream drivers around the DMA."""

    def __init__(self, dut, comp, bench, *, hbm_bytes, ddr_bytes):
        self.dut = dut
        self.n = comp["hbm_channels"]
        self.lanes, self.d, self.l = comp["lanes"], comp["d"], comp["l"]
        self.geometry = geometry_of(comp)
        self.rng = np.random.default_rng(bench.get("seed", 0))
        self.idle = bench.get("idle", 0.0)
        self.backpressure = bench.get("backpressure", 0.0)
        self.hbm_base, self.ddr_base = bench.get("hbm_base", 0), bench.get("ddr_base", 0)
        self.clock = 0
        self.limit = bench.get("max_clocks", 200000)
        pauses = Pauses(self.rng, bench.get("pause", 0.0))
        self.hbm_ram_bytes = 1 << max(12, (hbm_bytes + self.hbm_base) // self.n).bit_length()
        self.ddr_ram_bytes = 1 << max(12, ddr_bytes + self.ddr_base).bit_length()
        self.hbm = [AxiRam(AxiBus.from_prefix(dut, f"hbm__{c}", bus_separator="__"), dut.clk,
                           dut.rst, size=self.hbm_ram_bytes) for c in range(self.n)]
        self.ddr = AxiRam(AxiBus.from_prefix(dut, "ddr", bus_separator="__"), dut.clk, dut.rst,
                          size=self.ddr_ram_bytes)
        if bench.get("pause", 0.0):
            for ram in self.hbm + [self.ddr]:
                for channel in (ram.write_if.aw_channel, ram.write_if.w_channel,
                                ram.write_if.b_channel, ram.read_if.ar_channel,
                                ram.read_if.r_channel):
                    channel.set_pause_generator(pauses())
        self.tiles, self.bias, self.loads = [], [], []
        self.done = {"matrix": 0, "dma": 0}

    async def start(self, *, hbm_size, ddr_size):
        dut = self.dut
        Clock(dut.clk, 10, unit="ns").start()
        for name in ("matrix__issue", "dma__issue", "store"):
            getattr(dut, f"{name}__valid").value = 0
            getattr(dut, f"{name}__payload").value = 0
        for name in ("weights", "bias", "load"):
            getattr(dut, f"{name}__ready").value = 0
        dut.hbm_base.value = self.hbm_base
        dut.ddr_base.value = self.ddr_base
        dut.hbm_size.value = hbm_size
        dut.ddr_size.value = ddr_size
        dut.rst.value = 1
        for _ in range(3):
            await RisingEdge(dut.clk)
        dut.rst.value = 0
        cocotb.start_soon(self._monitor())

    def load_hbm(self, image):
        for ram, data in zip(self.hbm, split_image(self.geometry, image, base=self.hbm_base)):
            ram.write(0, data.tobytes())

    def load_ddr(self, image):
        self.ddr.write(self.ddr_base, np.asarray(image, "<u2").tobytes())

    def hbm_bytes(self):
        return [np.frombuffer(ram.read(0, self.hbm_ram_bytes), np.uint8) for ram in self.hbm]

    def ddr_bytes(self):
        return np.frombuffer(self.ddr.read(0, self.ddr_ram_bytes), np.uint8)

    async def _monitor(self):
        """Every clock: sink readies (random back-pressure) driven at the falling edge, beats
        and done pulses read once everything has settled (``ReadOnly``): the transfers of the
        coming rising edge. (Portable between Icarus and Verilator.)"""
        dut = self.dut
        sinks = [(dut.weights__valid, dut.weights__ready, dut.weights__payload, self.tiles),
                 (dut.bias__valid, dut.bias__ready, dut.bias__payload, self.bias),
                 (dut.load__valid, dut.load__ready, dut.load__payload, self.loads)]
        while True:
            await FallingEdge(dut.clk)
            self.clock += 1
            assert self.clock < self.limit, f"timeout after {self.clock} clocks"
            ready = [self.rng.random() >= self.backpressure for _ in sinks]
            for (_, r, _, _), value in zip(sinks, ready):
                r.value = int(value)
            await ReadOnly()
            for (v, _, p, out), value in zip(sinks, ready):
                if value and high(v):
                    out.append(int(p.value))
            for port in self.done:
                if high(getattr(dut, f"{port}__done")):
                    self.done[port] += 1

    async def send(self, prefix, values):
        """Drive ``values`` on stream ``prefix`` with random idle clocks (inputs change at the
        falling edge; a value is taken when ``ready`` is high once settled)."""
        dut = self.dut
        valid, ready, payload = (getattr(dut, f"{prefix}__{s}")
                                 for s in ("valid", "ready", "payload"))
        for value in values:
            while True:
                await FallingEdge(dut.clk)
                offer = self.rng.random() >= self.idle
                valid.value = int(offer)
                if offer:
                    payload.value = value
                await ReadOnly()
                if offer and high(ready):
                    break
        await FallingEdge(dut.clk)
        valid.value = 0

    async def wait_for(self, condition, what):
        while not condition():
            await FallingEdge(self.dut.clk)


@cocotb.test()
async def program(dut):
    """A compiled program's DMA and matrix instructions: everything the DMA delivers and writes
    equals what the ISA simulator reads and writes."""
    params = bench_params()
    comp, bench = params["component"], params["bench"]
    trace = dma_trace(geometry=geometry_of(comp), **bench["model"])
    tb = TB(dut, comp, bench, hbm_bytes=2 * trace.hbm_before.size,
            ddr_bytes=2 * trace.ddr_before.size)
    tb.load_hbm(trace.hbm_before)
    tb.load_ddr(trace.ddr_before)
    hbm_initial, ddr_initial = tb.hbm_bytes(), tb.ddr_bytes()
    await tb.start(hbm_size=2 * trace.hbm_before.size, ddr_size=2 * trace.ddr_before.size)
    dut._log.info(f"{len(trace.records)} instructions: {trace.counts}")

    lanes, l, te = tb.lanes, tb.l, tb.d * tb.l
    expected_tiles, expected_bias = [], []
    issued = 0
    for number, rec in enumerate(trace.records):
        payload = issue_word(rec.word, rec.token, rec.hbm_offset, rec.ddr_offset)
        if Opcode[rec.op] in STREAMED:
            await tb.send("matrix__issue", [payload])
            issued += 1
            expected_tiles.extend(rec.weights.reshape(-1, te))
            if rec.bias is not None:
                beats = -(-rec.bias.size // l)
                padded = np.zeros(beats * l, np.uint16)
                padded[:rec.bias.size] = rec.bias
                expected_bias.extend(padded.reshape(beats, l))
            continue
        # A DMA instruction waits for the matrix instructions before it (the scoreboard's job
        # in the core), then runs alone.
        await tb.wait_for(lambda: tb.done["matrix"] == issued, "matrix")
        done_before, loads_before = tb.done["dma"], len(tb.loads)
        tasks = []
        if rec.store is not None:
            tasks.append(cocotb.start_soon(
                tb.send("store", pack_words(rec.store, lanes, tb.rng))))
        await tb.send("dma__issue", [payload])
        await tb.wait_for(lambda: tb.done["dma"] > done_before, "dma")
        for task in tasks:
            assert task.done(), f"instruction {number} ({rec.op}) finished before its store words"
        if rec.load is not None:
            words = tb.loads[loads_before:]
            assert len(words) == -(-rec.load.size // lanes), (
                f"instruction {number} ({rec.op}): {len(words)} load words")
            got = np.concatenate([unpack(w, lanes) for w in words])
            assert (got[:rec.load.size] == rec.load).all(), (
                f"instruction {number} ({rec.op}): loaded {got[:rec.load.size]} expected "
                f"{rec.load}")
            assert not got[rec.load.size:].any(), f"instruction {number}: lanes past len not 0"
    await tb.wait_for(lambda: tb.done["matrix"] == issued, "matrix")
    for _ in range(20):
        await FallingEdge(dut.clk)

    assert len(tb.tiles) == len(expected_tiles), (len(tb.tiles), len(expected_tiles))
    for i, (got, want) in enumerate(zip(tb.tiles, expected_tiles)):
        got = unpack(got, te)
        assert (got == want).all(), f"tile {i}: {np.flatnonzero(got != want)[:8]} differ"
    assert len(tb.bias) == len(expected_bias), (len(tb.bias), len(expected_bias))
    for i, (got, want) in enumerate(zip(tb.bias, expected_bias)):
        assert (unpack(got, l) == want).all(), f"bias beat {i}: {unpack(got, l)} vs {want}"

    # Memory: the simulator's final images inside the windows, untouched outside.
    want_hbm = [initial.copy() for initial in hbm_initial]
    for ram, data in zip(want_hbm, split_image(tb.geometry, trace.hbm_after, base=tb.hbm_base)):
        ram[:data.size] = data
    for c, (got, want) in enumerate(zip(tb.hbm_bytes(), want_hbm)):
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, f"HBM channel {c}: {bad.size} bytes differ, first at {bad[:8]}"
    want_ddr = ddr_initial.copy()
    after = np.asarray(trace.ddr_after, "<u2").view(np.uint8)
    want_ddr[tb.ddr_base:tb.ddr_base + after.size] = after
    bad = np.flatnonzero(tb.ddr_bytes() != want_ddr)
    assert bad.size == 0, f"DDR: {bad.size} bytes differ, first at {bad[:8]}"
    changed = int((trace.hbm_after != trace.hbm_before).sum())
    assert not high(dut.error__valid), "the DMA reported an error"
    dut._log.info(f"{len(tb.tiles)} tiles, {len(tb.bias)} bias beats, {len(tb.loads)} load "
                  f"words, {changed} HBM elements written, in {tb.clock} clocks; "
                  f"weight_wait {int(dut.weight_wait.value)}")
