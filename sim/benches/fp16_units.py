"""cocotb bench of the FP16 units: streams operand pairs, one per clock, and compares the bits.

Bench parameters (``sim.harness.bench_params()["bench"]``):

``op``
    ``"add"`` (:class:`FP16Adder`, random ``subtract``), ``"mul"`` (:class:`FP16Multiplier`),
    ``"square"`` (:class:`FP16Square`) or ``"max"`` (:class:`FP16Max`, also checks
    ``b_greater``).
``corners``
    Stream all ordered pairs of the corner set first.
``exhaustive``
    Then every 16-bit pattern as ``a`` and as ``b`` (for the squarer: every input).
``count``, ``seed``
    Random pairs after those (:func:`dfx_hw.arith.vectors.random_pairs`).
``toggle_en``
    Drive ``en`` low on about 30% of the clocks (random inputs are applied on those clocks and
    must be ignored); otherwise ``en`` stays high.

The expected values come from :mod:`dfx_hw.arith.reference` (``numpy.float16``, NaN -> 0x7E00).
With ``latency`` L > 0 the bench checks, on every clock, that the output equals the result of
the pair applied exactly L enabled clocks earlier; with L = 0 the design has no clock and the
output is read after each input change.
"""

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

from dfx_hw.arith import FP16Adder, FP16Max, FP16Multiplier, FP16Square
from dfx_hw.arith.reference import fp16_add, fp16_max, fp16_mul
from dfx_hw.arith.vectors import corner_pairs, random_pairs
from sim.harness import bench_params

_UNITS = {"add": FP16Adder, "mul": FP16Multiplier, "square": FP16Square, "max": FP16Max}
_EN_HIGH_SHARE = 0.7
_REPORT = 10


def _stimulus(bench, extra):
    """Operand arrays (``a``, ``b``, ``subtract``) with ``extra`` random pairs appended."""
    parts_a, parts_b = [], []
    if bench.get("corners", False):
        a, b = corner_pairs()
        parts_a.append(a)
        parts_b.append(b)
    if bench.get("exhaustive", False):
        everything = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
        parts_a.append(everything)
        parts_b.append(everything)
    a, b = random_pairs(bench.get("count", 0) + extra, seed=bench.get("seed", 0))
    parts_a.append(a)
    parts_b.append(b)
    a, b = np.concatenate(parts_a), np.concatenate(parts_b)
    rng = np.random.default_rng(bench.get("seed", 0) + 1)
    subtract = rng.integers(0, 2, size=len(a)).astype(np.uint16)
    if bench["op"] == "square":
        b = a.copy()
    return a, b, subtract


def _expected(op, a, b, subtract):
    """Expected ``(result, b_greater or None)`` per pair."""
    if op == "add":
        return fp16_add(a, b, subtract), None
    if op in ("mul", "square"):
        return fp16_mul(a, b), None
    return fp16_max(a, b)


def _schedule(pairs, latency, toggle, rng):
    """Per-clock ``en`` and the index of the pair applied (-1: junk) and expected at the output.

    Pair ``k`` is applied on the k-th enabled clock; after clock ``i`` the output holds the pair
    ``enabled(0..i) - latency``.
    """
    cycles = int((pairs + 16) / (_EN_HIGH_SHARE if toggle else 1.0) * 1.3) + 64
    en = (rng.random(cycles) < _EN_HIGH_SHARE) if toggle else np.ones(cycles, dtype=bool)
    enabled = np.cumsum(en)
    cycles = int(np.searchsorted(enabled, pairs)) + 1       # last clock applies the last pair
    en, enabled = en[:cycles], enabled[:cycles]
    applied = np.where(en, enabled - 1, -1)
    shown = enabled - max(latency, 1)     # latency 0: read after the inputs settle
    return en, applied, shown


def _report(op, a, b, subtract, got, want, mask, what):
    bad = np.flatnonzero(mask)
    lines = [f"{len(bad)} of {len(mask)} {what} differ from numpy.float16:"]
    for i in bad[:_REPORT]:
        sub = f" sub={int(subtract[i])}" if op == "add" else ""
        lines.append(f"  a=0x{int(a[i]):04x} b=0x{int(b[i]):04x}{sub}: "
                     f"got 0x{int(got[i]) & 0xFFFFF:04x}, want 0x{int(want[i]):04x}")
    return "\n".join(lines)


def _resolved(values):
    """Sampled port values as integers; -1 for a value with X or Z bits."""
    return np.array([int(v) if v.is_resolvable else -1 for v in values], dtype=np.int64)


@cocotb.test()
async def stream(dut):
    """Stream corner and random pairs and compare every result bit for bit with numpy."""
    params = bench_params()
    bench = params["bench"]
    op = bench["op"]
    unit = _UNITS[op]
    latency = params["component"].get("latency", unit.DEFAULT_LATENCY)
    toggle = bool(bench.get("toggle_en", False)) and latency > 0
    rng = np.random.default_rng(bench.get("seed", 0) + 2)

    a, b, subtract = _stimulus(bench, extra=latency)
    pairs = len(a) - latency                 # the last `latency` pairs only fill the pipeline
    want, want_flag = _expected(op, a, b, subtract)
    en, applied, shown = _schedule(len(a), latency, toggle, rng)
    junk = rng.integers(0, 1 << 16, size=(3, len(en)))
    idx = np.maximum(applied, 0)
    drive_a = np.where(applied >= 0, a[idx], junk[0]).tolist()
    drive_b = np.where(applied >= 0, b[idx], junk[1]).tolist()
    drive_sub = np.where(applied >= 0, subtract[idx], junk[2] & 1).tolist()
    drive_en = en.astype(int).tolist()

    port_a = dut.a
    port_b = getattr(dut, "b", None)         # FP16Square has only `a`
    port_sub = getattr(dut, "subtract", None)
    port_en = dut.en
    port_result = dut.result
    port_flag = getattr(dut, "b_greater", None)
    out, out_flag = [], []

    if latency == 0:
        step = Timer(1, unit="ns")
    else:
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        step = FallingEdge(dut.clk)
        reset = getattr(dut, "rst", None)    # (the pipeline registers need no reset)
        if reset is not None:
            reset.value = 1
        port_en.value = 1
        await step
        await step
        if reset is not None:
            reset.value = 0
    for i in range(len(drive_a)):
        port_a.value = drive_a[i]
        if port_b is not None:
            port_b.value = drive_b[i]
        if port_sub is not None:
            port_sub.value = drive_sub[i]
        port_en.value = drive_en[i]
        await step
        out.append(port_result.value)
        if port_flag is not None:
            out_flag.append(port_flag.value)

    got = _resolved(out)
    check = (shown >= 0) & (shown < pairs)
    # Every pair is shown at least once (more than once while `en` is low).
    assert np.unique(shown[check]).size == pairs, "bench error: some pairs are never checked"
    index = shown[check]
    got, want_checked = got[check], want[index].astype(np.int64)
    sa, sb, ss = a[index], b[index], subtract[index]
    bad = got != want_checked
    assert not bad.any(), _report(op, sa, sb, ss, got, want_checked, bad, "results")
    if want_flag is not None:
        got_flag = _resolved(out_flag)[check]
        want_f = want_flag[index].astype(np.int64)
        bad = got_flag != want_f
        assert not bad.any(), _report(op, sa, sb, ss, got_flag, want_f, bad, "b_greater flags")
    dut._log.info("%s latency %d: %d pairs match numpy.float16 bit for bit (%d clocks, en %s)",
                  op, latency, pairs, len(drive_a), "toggling" if toggle else "high")
