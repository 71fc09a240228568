"""cocotb bench: the matrix unit (:class:`dfx_hw.mpu.matrix_unit.MatrixUnit`) against the bit-true
model (``reduce.mfu_matvec``, ``recipes.attention_scores``, ``functions.gelu``, ``reduce.argmax``).

Bench parameters (``bench_params()["bench"]``):

``ops``
    list of operations: ``{"kind": "conv1d"|"maskedmm"|"mm", "rows", "cols", "bias", "gelu",
    "scale", "token", "reduce_max", "band", "x_scale"}`` (``scale`` a float or null; ``x_scale``
    the standard deviation of the random input, 0 for an input of signed zeros).
``seed``
    random data seed.
``idle``
    probability that a source (descriptor, x, weights, bias) withholds ``valid`` on a clock.
``backpressure``
    probability that a sink (``out``, ``max``) withholds ``ready`` on a clock.
``throughput``
    if true, also check that the weight tiles went in on consecutive clocks and that the last
    word left at most ``latency`` clocks after the last tile.
``issue_clocks``
    if given (with ``latency``), the clocks from the first weight tile accepted to the last word
    out (inclusive) must equal ``issue_clocks + latency`` (the interlock's stall model,
    :func:`dfx_hw.spec.walk.issue_clocks`).
"""

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

from dfx_hw.model.bittrue import fp16, functions, recipes, reduce
from dfx_hw.spec import walk
from dfx_hw.mpu.descriptor import matrix_descriptor
from dfx_hw.mpu.layouts import max_layout, output_layout
from sim.harness import bench_params

def _pack(values):
    """FP16 array (any shape, C order) -> int with element k at bits 16k."""
    data = np.ascontiguousarray(np.asarray(values, dtype=np.float16)).view(np.uint16)
    return int.from_bytes(data.astype("<u2").tobytes(), "little")


def _fields(layout):
    return {name: (field.offset, field.width) for name, field in layout}


def _get(word, field):
    offset, width = field
    return (word >> offset) & ((1 << width) - 1)


def make_op(spec, rng, d, l):
    """Random operands of one operation and what the model says it produces."""
    rows, cols = spec["rows"], spec["cols"]
    x = (rng.standard_normal(rows) * spec.get("x_scale", 2.0)).astype(np.float16)
    w = (rng.standard_normal((rows, cols)) * 0.5).astype(np.float16)
    bias = (rng.standard_normal(cols)).astype(np.float16) if spec.get("bias") else None
    y = reduce.mfu_matvec(x, w, bias, d=d)
    scale = spec.get("scale")
    kind = spec["kind"]
    if kind == "maskedmm":
        y = recipes.attention_scores(y, spec["token"] + 1,
                                     scale=np.float16(1.0 if scale is None else scale))
    elif scale is not None:
        y = fp16.mul(y, np.float16(scale))
    if spec.get("gelu"):
        y = functions.gelu(y)
    desc = matrix_descriptor(kind, k=rows, n=cols, bias=bias is not None, scale=scale,
                             token=spec.get("token", 0), gelu=bool(spec.get("gelu")),
                             reduce_max=bool(spec.get("reduce_max")), band=spec.get("band", 0))
    maximum = reduce.argmax(y, lanes=l) if spec.get("reduce_max") else None
    return {
        "desc": desc, "x": [_pack(s) for s in walk.input_slices(x, d=d)],
        "weights": None, "w": w, "bias": [] if bias is None else
        [_pack(b) for b in walk.bias_beats(bias, l=l)],
        "expected": fp16.to_bits(y), "max": maximum,
    }


@cocotb.test()
async def matrix_ops(dut):
    """Run the listed operations back to back; compare every output word and maximum."""
    params = bench_params()
    comp, bench = params["component"], params["bench"]
    d, l, band = comp["d"], comp["l"], comp["band"]
    serpentine = comp.get("serpentine", False)
    rng = np.random.default_rng(bench.get("seed", 0))
    ops = [make_op(spec, rng, d, l) for spec in bench["ops"]]
    for spec, op in zip(bench["ops"], ops):
        op_band = spec.get("band", 0)
        op_band = band if op_band == 0 or op_band > band else op_band
        tiles = walk.weight_tiles(op["w"], d=d, l=l, band=op_band, serpentine=serpentine)
        op["weights"] = [_pack(t) for t in tiles]
    sources = {
        "desc": [op["desc"] for op in ops],
        "x": [s for op in ops for s in op["x"]],
        "weights": [t for op in ops for t in op["weights"]],
        "bias": [b for op in ops for b in op["bias"]],
    }
    want_words = sum(-(-spec["cols"] // l) for spec in bench["ops"])
    want_max = sum(1 for spec in bench["ops"] if spec.get("reduce_max"))
    idle, backpressure = bench.get("idle", 0.0), bench.get("backpressure", 0.0)
    out_fields, max_fields = _fields(output_layout(width=l)), _fields(max_layout())

    Clock(dut.clk, 10, unit="ns").start()
    handles = {name: (getattr(dut, f"{name}__valid"), getattr(dut, f"{name}__ready"),
                      getattr(dut, f"{name}__payload")) for name in sources}
    position = {name: 0 for name in sources}
    for valid, _, payload in handles.values():
        valid.value = 0
        payload.value = 0
    dut.out__ready.value = 0
    dut.max__ready.value = 0
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    dut.rst.value = 0

    words, maxima = [], []
    weight_clocks, out_clocks = [], []
    driven = {name: False for name in sources}
    out_ready = max_ready = False
    clock = 0
    limit = bench.get("max_clocks", 20000)
    while len(words) < want_words or len(maxima) < want_max:
        # Decide this clock's valids/readies (applied right after the edge).
        for name, (valid, _, payload) in handles.items():
            if driven[name]:
                continue   # hold until accepted
            if position[name] < len(sources[name]) and rng.random() >= idle:
                payload.value = sources[name][position[name]]
                valid.value = 1
                driven[name] = True
            else:
                valid.value = 0
        out_ready = rng.random() >= backpressure
        max_ready = rng.random() >= backpressure
        dut.out__ready.value = int(out_ready)
        dut.max__ready.value = int(max_ready)
        await RisingEdge(dut.clk)
        clock += 1
        assert clock < limit, (f"timeout after {clock} clocks: {len(words)}/{want_words} words, "
                               f"{len(maxima)}/{want_max} maxima, sources at {position}")
        # Transfers that happened on this edge (values sampled before the edge updates).
        for name, (valid, ready, _) in handles.items():
            if driven[name] and int(ready.value):
                position[name] += 1
                driven[name] = False
                if name == "weights":
                    weight_clocks.append(clock)
        if out_ready and int(dut.out__valid.value):
            words.append(int(dut.out__payload.value))
            out_clocks.append(clock)
        if max_ready and int(dut.max__valid.value):
            maxima.append(int(dut.max__payload.value))

    for name in sources:
        assert position[name] == len(sources[name]), (
            f"{name}: {position[name]} of {len(sources[name])} beats consumed")

    # Split the words into operations at the `last` flags and compare with the model.
    cursor = 0
    max_cursor = 0
    for number, (spec, op) in enumerate(zip(bench["ops"], ops)):
        col_tiles = -(-spec["cols"] // l)
        mine = words[cursor:cursor + col_tiles]
        cursor += col_tiles
        lasts = [_get(wd, out_fields["last"]) for wd in mine]
        summary = [tuple(_get(wd, out_fields[key]) for key in ("offset", "count", "last"))
                   for wd in words]
        assert lasts == [0] * (col_tiles - 1) + [1], (
            f"op {number}: last flags {lasts}; all words (offset, count, last): {summary}")
        seen = set()
        for wd in mine:
            offset = _get(wd, out_fields["offset"])
            count = _get(wd, out_fields["count"])
            assert offset not in seen and offset < col_tiles, f"op {number}: offset {offset}"
            seen.add(offset)
            expect_count = min(l, spec["cols"] - offset * l)
            assert count == expect_count, f"op {number} word {offset}: count {count}"
            data = _get(wd, out_fields["data"])
            got = [(data >> (16 * j)) & 0xFFFF for j in range(count)]
            expected = [int(v) for v in op["expected"][offset * l:offset * l + count]]
            assert got == expected, (
                f"op {number} ({spec}) word {offset}: got {[hex(v) for v in got]} expected "
                f"{[hex(v) for v in expected]}")
        if spec.get("reduce_max"):
            word = maxima[max_cursor]
            max_cursor += 1
            value, index = op["max"]
            got = (_get(word, max_fields["value"]), _get(word, max_fields["index"]))
            assert got == (int(fp16.to_bits(value)), int(index)), (
                f"op {number}: max got (0x{got[0]:04x}, {got[1]}) expected "
                f"(0x{int(fp16.to_bits(value)):04x}, {int(index)})")

    if "issue_clocks" in bench:
        span = out_clocks[-1] - weight_clocks[0] + 1
        model = bench["issue_clocks"] + bench["latency"]
        assert span == model, (
            f"first tile to last word took {span} clocks, the stall model says {model}")
        dut._log.info(f"{len(weight_clocks)} tiles: first tile to last word {span} clocks")
    if bench.get("throughput"):
        tiles = len(sources["weights"])
        latency = bench["latency"]
        span = out_clocks[-1] - weight_clocks[0] + 1
        assert weight_clocks == list(range(weight_clocks[0], weight_clocks[0] + tiles)), \
            "the weight stream stalled"
        assert span <= tiles + latency, f"{tiles} tiles took {span} clocks (latency {latency})"
        dut._log.info(f"throughput: {tiles} tiles, first tile to last word {span} clocks, "
                      f"pipeline latency {latency}")
