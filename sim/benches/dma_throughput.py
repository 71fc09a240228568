"""cocotb bench: weight-stream throughput of the DMA (:class:`dfx_hw.dma.DMA`) with a memory of
fixed read latency and no back-pressure.

Every HBM port is answered by a model that accepts every AR at once and returns each burst's
beats, one per clock per port, exactly ``latency`` clocks after its AR; the matrix unit's side
is always ready. A list of CONV1D instructions (no bias) is issued back to back; the bench
checks every tile (the channel data are a function of port and address) and reports the tiles
per clock from the first tile to the last, the clocks from the first issue to the last tile,
and the DMA's ``weight_wait`` counter. The figures go to ``build/bench/<name>.json``.

Bench parameters: ``latency``, ``ops`` (list of ``{"hbm": tile, "k": rows, "n": cols}``),
``json`` (file name), ``min_rate`` (the rate the test must reach, or null).
"""

import json
from collections import deque

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from dfx_hw.isa.encoding import Instruction, encode
from dfx_hw.isa.layouts import Opcode
from sim.benches.dma_programs import high, issue_word
from sim.harness import BUILD_DIR, bench_params


def pattern(port, address, bits):
    """The beat the model returns for ``port`` at byte ``address``."""
    word = (port << 40) | address
    return int.from_bytes(word.to_bytes(8, "little") * (bits // 64), "little")


@cocotb.test()
async def stream(dut):
    params = bench_params()
    comp, bench = params["component"], params["bench"]
    n, d, l = comp["hbm_channels"], comp["d"], comp["l"]
    bits = comp.get("hbm_data_bits", 512)
    beat = bits // 8
    latency = bench["latency"]
    tile_bytes = 2 * d * l
    rows = tile_bytes // (n * beat)
    Clock(dut.clk, 10, unit="ns").start()

    ports = [{name: getattr(dut, f"hbm__{c}__{name}") for name in
              ("arvalid", "arready", "araddr", "arlen", "rvalid", "rready", "rdata", "rlast",
               "rresp", "rid")} for c in range(n)]
    for p in ports:
        p["arready"].value = 1
        p["rvalid"].value = 0
        p["rresp"].value = 0
        p["rid"].value = 0
    dut.ddr__arready.value = 0
    dut.ddr__rvalid.value = 0
    dut.ddr__awready.value = 0
    dut.ddr__wready.value = 0
    dut.ddr__bvalid.value = 0
    for c in range(n):
        getattr(dut, f"hbm__{c}__awready").value = 0
        getattr(dut, f"hbm__{c}__wready").value = 0
        getattr(dut, f"hbm__{c}__bvalid").value = 0
    dut.weights__ready.value = 1
    dut.bias__ready.value = 1
    dut.load__ready.value = 1
    dut.store__valid.value = 0
    dut.dma__issue__valid.value = 0
    dut.matrix__issue__valid.value = 0
    dut.hbm_base.value = 0
    dut.hbm_size.value = 1 << 36
    dut.ddr_base.value = 0
    dut.ddr_size.value = 1 << 30
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0

    words = [issue_word(encode(Instruction(Opcode.CONV1D, {"vdst": 0, "vsrc": 0, "hbm": op["hbm"],
                                                          "ddr": 0, "k": op["k"], "n": op["n"]},
                                           {"nobias"}))) for op in bench["ops"]]
    expected_tiles = []
    for op in bench["ops"]:
        count = -(-op["k"] // d) * -(-op["n"] // l)
        expected_tiles += range(op["hbm"], op["hbm"] + count)

    queues = [deque() for _ in range(n)]     # (due clock, address, last)
    tiles, tile_clocks = [], []
    issue_clock = None
    clock = 0
    pending = list(words)
    presented = [False] * n
    limit = len(expected_tiles) + 20 * latency + 2000
    while len(tiles) < len(expected_tiles):
        # Inputs change at the falling edge; the transfers of the coming rising edge are read
        # once everything has settled (portable between Icarus and Verilator).
        await FallingEdge(dut.clk)
        clock += 1
        assert clock < limit, f"timeout: {len(tiles)} of {len(expected_tiles)} tiles"
        if pending:
            dut.matrix__issue__valid.value = 1
            dut.matrix__issue__payload.value = pending[0]
        else:
            dut.matrix__issue__valid.value = 0
        for c, (p, q) in enumerate(zip(ports, queues)):
            if q and q[0][0] <= clock:
                _, address, last = q[0]
                p["rdata"].value = pattern(c, address, bits)
                p["rlast"].value = int(last)
                p["rvalid"].value = 1
                presented[c] = True
            elif presented[c]:
                p["rvalid"].value = 0
                presented[c] = False
        await ReadOnly()
        if pending and high(dut.matrix__issue__ready):
            pending.pop(0)
            if issue_clock is None:
                issue_clock = clock
        for c, (p, q) in enumerate(zip(ports, queues)):
            if presented[c] and high(p["rready"]):
                q.popleft()
            if high(p["arvalid"]):
                address, length = int(p["araddr"].value), int(p["arlen"].value) + 1
                start = max(clock + latency, q[-1][0] + 1 if q else 0)
                for i in range(length):
                    q.append((start + i, address + i * beat, i == length - 1))
        if high(dut.weights__valid):
            tiles.append(int(dut.weights__payload.value))
            tile_clocks.append(clock)

    for i, (got, tile) in enumerate(zip(tiles, expected_tiles)):
        want = 0
        for r in range(rows):
            address = (tile * rows + r) * beat
            for c in range(n):
                want |= pattern(c, address, bits) << (bits * (r * n + c))
        assert got == want, f"tile {i} (HBM tile {tile}) has the wrong data"
    span = tile_clocks[-1] - tile_clocks[0] + 1
    rate = len(tiles) / span
    wait = int(dut.weight_wait.value)
    figures = {
        "hbm_channels": n, "d": d, "l": l, "latency": latency, "tiles": len(tiles),
        "instructions": len(words), "first_to_last_tile_clocks": span,
        "tiles_per_clock": round(rate, 4),
        "issue_to_last_tile_clocks": tile_clocks[-1] - issue_clock + 1,
        "weight_wait_clocks": wait,
        "hbm_depth": comp.get("hbm_depth", 512), "max_burst": comp.get("max_burst", 16),
    }
    dut._log.info(f"weight stream: {figures}")
    print(f"DMA weight stream at n={n}: {len(tiles)} tiles in {span} clocks = {rate:.4f} "
          f"tiles/clock (latency {latency}; {figures['issue_to_last_tile_clocks']} clocks from "
          f"issue; weight_wait {wait})")
    out = BUILD_DIR / "bench" / bench.get("json", "dma_throughput.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    if bench.get("min_rate") is not None:
        assert rate >= bench["min_rate"], f"{rate:.4f} tiles/clock < {bench['min_rate']}"
