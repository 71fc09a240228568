"""cocotb bench: the core's matrix-instruction decoder
(:class:`dfx_hw.core.matrix_decode.MatrixDecoder`) against its Python model
(:func:`~dfx_hw.core.matrix_decode.matrix_command`), bit for bit on every command field.

Bench parameters (``bench_params()["bench"]``):

``words``
    list of ``[word, token]`` pairs issued in order (``word`` as a decimal string: 128 bits).
``geometry``
    ``{"d", "l", "band", "max_rows"}`` of the decoder.
``seed``, ``idle``, ``backpressure``
    random idle clocks on ``issue`` and withheld ``ready`` on ``command`` (probabilities).
``expect_error``
    ``null`` when every word is legal, else ``[code, info, accepted]``: the sticky error report
    and how many commands must come out before it (those of the words before the bad one).
"""

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from dfx_hw.core.matrix_decode import MatrixCommandError, command_layout, matrix_command
from dfx_hw.spec.issue import ISSUE_LAYOUT
from sim.harness import bench_params


def _flatten(layout, value, prefix=""):
    """Pack a dict of (nested) field values with ``layout``'s offsets into an int."""
    word = 0
    for name, field in layout:
        item = value[name]
        if isinstance(item, dict):
            word |= _flatten(field.shape, item) << field.offset
        else:
            word |= (int(item.value if hasattr(item, "value") else item)
                     & ((1 << field.width) - 1)) << field.offset
    return word


def _issue_payload(word, token):
    fields = dict(ISSUE_LAYOUT)
    return (word << fields["word"].offset) | (token << fields["token"].offset)


@cocotb.test()
async def decode_stream(dut):
    params = bench_params()
    bench = params["bench"]
    geo = bench["geometry"]
    words = [(int(w), int(t)) for w, t in bench["words"]]
    rng = np.random.default_rng(bench.get("seed", 0))
    idle, backpressure = bench.get("idle", 0.0), bench.get("backpressure", 0.0)

    expected = []
    for word, token in words:
        try:
            expected.append(_flatten(command_layout(),
                                     matrix_command(word, token=token, **geo)))
        except MatrixCommandError:
            break
    layout = command_layout()

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.issue__valid.value = 0
    dut.command__ready.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0

    got, sent, clocks = [], 0, 0
    limit = 20 * len(words) + 200
    while clocks < limit:
        offer = sent < len(words) and rng.random() >= idle
        if offer:
            dut.issue__valid.value = 1
            dut.issue__payload.value = _issue_payload(*words[sent])
        else:
            dut.issue__valid.value = 0
        dut.command__ready.value = int(rng.random() >= backpressure)
        await ReadOnly()
        if offer and dut.issue__ready.value:
            sent += 1
        if dut.command__valid.value and dut.command__ready.value:
            got.append(int(dut.command__payload.value))
        await RisingEdge(dut.clk)
        clocks += 1
        if bench["expect_error"] is None and len(got) == len(expected):
            break

    assert len(got) == len(expected), f"{len(got)} commands out, {len(expected)} expected"
    for index, (a, b) in enumerate(zip(got, expected)):
        if a != b:
            diffs = [name for name, field in layout
                     if (a >> field.offset) & ((1 << field.width) - 1)
                     != (b >> field.offset) & ((1 << field.width) - 1)]
            raise AssertionError(f"command {index} (word {words[index][0]:#x}, token "
                                 f"{words[index][1]}) differs in {diffs}")
    if bench["expect_error"] is None:
        assert not dut.error__valid.value, "error raised on legal words"
    else:
        code, info, accepted = bench["expect_error"]
        assert len(got) == accepted
        assert dut.error__valid.value == 1, "no error reported"
        assert int(dut.error__code.value) == code, int(dut.error__code.value)
        assert int(dut.error__info.value) == info, int(dut.error__info.value)
        assert not dut.issue__ready.value, "decoder still accepts words after an error"
