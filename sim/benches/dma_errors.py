"""cocotb bench: every error the DMA reports, provoked one per test (a reset between), with
cocotbext-axi ``AxiRam`` models on every port.

Each test checks the error code, info and AXI port, formats the host's message
(:data:`dfx_hw.spec.errors.MESSAGES`), and checks that no write happened (a window error also
refuses every read: no beat is issued). The AXI errors come from RAMs that answer SLVERR (and,
rewritten, DECERR) for a poisoned address range.

Bench parameters: ``seed``, ``hbm_base``, ``ddr_base``, ``pause``.
"""

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge
from cocotbext.axi.constants import AxiResp

from dfx_hw.isa.encoding import Instruction, encode
from dfx_hw.isa.layouts import Opcode
from dfx_hw.spec.errors import MESSAGES, ErrorCode
from dfx_hw.spec.hbm_map import rows_per_tile
from sim.benches.dma_programs import TB, high, issue_word, pack_words
from sim.harness import bench_params

SCENARIOS = ["hbm_window", "hbm_align", "bias_window", "ldd_window", "std_window",
             "sth_window", "stht_window", "unit_fault", "hbm_slverr", "ddr_decerr"]


def _word(op, **fields):
    flags = {name for name in ("layer", "token", "index", "nobias") if fields.pop(name, False)}
    return encode(Instruction(Opcode[op], fields, flags))


def poison(ram, start, stop, *, decerr=False):
    """``ram`` answers SLVERR (DECERR with ``decerr``) to any read or write touching bytes
    ``[start, stop)``, and does not perform such a write."""
    for interface, channel, name in ((ram.read_if, ram.read_if.r_channel, "_read"),
                                     (ram.write_if, ram.write_if.b_channel, "_write")):
        original = getattr(interface, name)

        async def guarded(address, arg, _original=original):
            length = arg if isinstance(arg, int) else len(arg)
            if address < stop and address + length > start:
                raise IOError(f"poisoned address {address:#x}")
            return await _original(address, arg)

        setattr(interface, name, guarded)
        if decerr:
            send = channel.send

            async def send_decerr(frame, _send=send):
                for attr in ("rresp", "bresp"):
                    if getattr(frame, attr, None) == AxiResp.SLVERR:
                        setattr(frame, attr, AxiResp.DECERR)
                await _send(frame)

            channel.send = send_decerr


async def expect_error(tb, code, info, port=None):
    dut = tb.dut
    await tb.wait_for(lambda: high(dut.error__valid), "error")
    got_code, got_info = int(dut.error__code.value), int(dut.error__info.value)
    assert ErrorCode(got_code) is code, f"error code {ErrorCode(got_code)!r}, expected {code!r}"
    assert got_info == info, f"error info {got_info:#x}, expected {info:#x}"
    if port is not None:
        assert int(dut.error_port.value) == port, f"error port {int(dut.error_port.value)}"
    message = MESSAGES[code].format(info=got_info)
    dut._log.info(f"error reported: {message}")
    return message


@cocotb.test()
@cocotb.parametrize(name=SCENARIOS)
async def error_case(dut, name):
    """One error case: reported with code, info and port; no beat written (nor read, for a
    window error); the message names the address."""
    params = bench_params()
    comp, bench = params["component"], params["bench"]
    tb = TB(dut, comp, bench, hbm_bytes=1 << 14, ddr_bytes=1 << 12)
    geometry = tb.geometry
    n, d, l, lanes = tb.n, tb.d, tb.l, tb.lanes
    te = d * l
    hbm_size, ddr_size = 64 * 2 * te, 1024          # 64 tiles of HBM, 512 DDR elements
    rng = np.random.default_rng(bench.get("seed", 5))
    tb.load_hbm(rng.integers(0, 1 << 16, hbm_size // 2).astype(np.uint16))
    tb.load_ddr(rng.integers(0, 1 << 16, ddr_size // 2).astype(np.uint16))
    beat = comp.get("hbm_data_bits", 512) // 8
    tile_rows = rows_per_tile(geometry)
    if name == "hbm_slverr":      # channel 2's beats of tile 5
        first = tb.hbm_base // n + 5 * tile_rows * beat
        poison(tb.hbm[2], first, first + tile_rows * beat)
    if name == "ddr_decerr":      # DDR element 100
        poison(tb.ddr, tb.ddr_base + 200, tb.ddr_base + 202, decerr=True)
    before_hbm, before_ddr = tb.hbm_bytes(), tb.ddr_bytes()
    await tb.start(hbm_size=hbm_size, ddr_size=ddr_size)
    store = rng.integers(0, 1 << 16, 64).astype(np.uint16)

    def feed(count):
        cocotb.start_soon(tb.send("store", pack_words(store[:count], lanes, rng)))

    async def matrix(word, **context):
        await tb.send("matrix__issue", [issue_word(word, **context)])

    async def dma(word, **context):
        await tb.send("dma__issue", [issue_word(word, **context)])

    message = None
    if name == "hbm_window":       # 2 x 4 tiles from tile 60 of 64
        await matrix(_word("CONV1D", vdst=0, vsrc=0, hbm=60, ddr=0, k=2 * d, n=4 * l,
                           nobias=True))
        message = await expect_error(tb, ErrorCode.HBM_WINDOW, 60 * te)
    elif name == "hbm_align":      # a layer offset of half a tile
        await matrix(_word("MM", vdst=0, vsrc=0, hbm=1, k=d, n=l, layer=True),
                     hbm_offset=te // 2)
        message = await expect_error(tb, ErrorCode.HBM_ALIGN, te + te // 2)
    elif name == "bias_window":    # 16 bias elements from DDR element 500 of 512
        await matrix(_word("CONV1D", vdst=0, vsrc=0, hbm=0, ddr=500, k=d, n=16))
        message = await expect_error(tb, ErrorCode.DDR_WINDOW, 500)
    elif name == "ldd_window":     # 480 + TOKEN 3 * stride 10 = 510, 8 elements
        await dma(_word("LDD", vdst=0, ddr=480, len=8, stride=10, ssrc=0, token=True), token=3)
        message = await expect_error(tb, ErrorCode.DDR_WINDOW, 510)
    elif name == "std_window":     # 500 + layer offset 4, 16 elements
        feed(16)
        await dma(_word("STD", ddr=500, vsrc=0, len=16, stride=0, layer=True), ddr_offset=4)
        message = await expect_error(tb, ErrorCode.DDR_WINDOW, 504)
    elif name == "sth_window":     # tile 63 + TOKEN 2 * half a tile = the window end
        feed(d)
        await dma(_word("STH", hbm=63, vsrc=0, len=d, stride=te // 2, token=True), token=2)
        message = await expect_error(tb, ErrorCode.HBM_WINDOW, 64 * te)
    elif name == "stht_window":    # row 1 of a 2-column-tile matrix at tile 63
        feed(2 * l)
        await dma(_word("STHT", hbm=63, vsrc=0, len=2 * l, token=True), token=1)
        message = await expect_error(tb, ErrorCode.HBM_WINDOW, 63 * te + 1)
    elif name == "unit_fault":     # ARGMAX has no operands to stream
        await matrix(_word("ARGMAX", sdst=0, vsrc=0, len=4, base=0))
        message = await expect_error(tb, ErrorCode.UNIT_FAULT, Opcode.ARGMAX.value)
    elif name == "hbm_slverr":     # a 10-tile stream over the poisoned tile (one burst)
        await matrix(_word("CONV1D", vdst=0, vsrc=0, hbm=0, ddr=0, k=d, n=10 * l, nobias=True))
        message = await expect_error(tb, ErrorCode.AXI_SLVERR, tb.hbm_base // n, port=2)
    elif name == "ddr_decerr":     # 8 elements from DDR element 96 (100 is poisoned)
        feed(8)
        await dma(_word("STD", ddr=96, vsrc=0, len=8, stride=0))
        ddr_beat = comp.get("ddr_data_bits", 512) // 8
        message = await expect_error(tb, ErrorCode.AXI_DECERR,
                                     (tb.ddr_base + 200) // ddr_beat * ddr_beat, port=n)
    assert message and ("address" in message or "opcode" in message or "refused" in message)
    for _ in range(50):
        await FallingEdge(dut.clk)
    assert tb.done == {"matrix": 0, "dma": 0}, f"an instruction completed: {tb.done}"
    if name != "ddr_decerr":
        for c, (got, want) in enumerate(zip(tb.hbm_bytes(), before_hbm)):
            assert (got == want).all(), f"HBM channel {c} was written"
        assert (tb.ddr_bytes() == before_ddr).all(), "DDR was written"
        assert sum(int(getattr(dut, f"hbm_write_beats__{c}").value) for c in range(n)) == 0
        assert int(dut.ddr_write_beats.value) == 0
    else:   # the poisoned write was not performed; the other beat of the store was
        assert (tb.ddr_bytes()[tb.ddr_base + 200:tb.ddr_base + 202]
                == before_ddr[tb.ddr_base + 200:tb.ddr_base + 202]).all()
    if name.endswith("window") or name in ("hbm_align", "unit_fault"):
        reads = sum(int(getattr(dut, f"hbm_read_beats__{c}").value) for c in range(n))
        reads += int(dut.ddr_read_beats.value)
        assert reads == 0, f"{reads} beats were read before the error"
        assert not tb.tiles and not tb.bias and not tb.loads
