"""The compiler: uneven splits, the zig-zag tile walk, memory maps, images and programs."""

import numpy as np
import pytest

from dfx_hw.compiler import CompileError, compile_model
from dfx_hw.compiler.images import qkv_columns
from dfx_hw.compiler.memmap import build_memory_map
from dfx_hw.compiler.partition import core_slices, split
from dfx_hw.compiler.program import SYNC_TAGS
from dfx_hw.compiler.tiling import (WEIGHT_BAND, WEIGHT_SERPENTINE, pack, row_offsets, unpack,
                                    walk)
from dfx_hw.geometry import U280, TileGeometry
from dfx_hw.isa import InstrClass, Opcode, assemble, decode, disassemble, encode
from dfx_hw.model.bittrue.recipes import fold_layernorm_bias
from dfx_hw.model.checkpoint import random_weights
from dfx_hw.model.config import GPT2Config

SMALL = GPT2Config(vocab_size=1000, n_positions=40, n_embd=320, n_layer=2, n_head=5)


def test_uneven_splits():
    assert [b - a for a, b in split(25, 4)] == [7, 6, 6, 6]
    vocab = split(50257, 4)
    assert [b - a for a, b in vocab] == [12565, 12564, 12564, 12564]
    assert vocab[0][0] == 0 and vocab[-1][1] == 50257
    assert all(vocab[i][1] == vocab[i + 1][0] for i in range(3))
    xl = core_slices(GPT2Config.preset("1.5B"), 4)
    assert [s.heads for s in xl] == [(0, 7), (7, 13), (13, 19), (19, 25)]


def test_more_cores_than_heads_is_refused():
    with pytest.raises(ValueError, match=r"5 cores for a model with 4 heads"):
        core_slices(GPT2Config(vocab_size=10, n_positions=8, n_embd=256, n_layer=1, n_head=4), 5)
    with pytest.raises(ValueError, match=r"cores must be a positive integer, not 0"):
        split(10, 0)


@pytest.mark.parametrize("serpentine", [False, True])
@pytest.mark.parametrize("kt, nt, band", [(3, 5, 2), (4, 9, 4), (1, 7, 4), (5, 3, 8)])
def test_walk_visits_each_column_top_down_band_by_band(kt, nt, band, serpentine):
    rt, ct = walk(kt, nt, band, serpentine)
    assert sorted(zip(rt.tolist(), ct.tolist())) == [(r, c) for r in range(kt) for c in range(nt)]
    for column in range(nt):
        assert rt[ct == column].tolist() == list(range(kt))
    bands = (ct // band).tolist()
    assert bands == sorted(bands)  # band after band
    # inside a band, one row tile after the other; serpentine turns back at each row step
    for b in set(bands):
        rows = rt[ct // band == b].tolist()
        assert rows == sorted(rows)
        first = ct[(ct // band == b) & (rt == min(1, kt - 1))].tolist()
        if kt > 1 and len(first) > 1:
            assert (first[0] > first[-1]) == serpentine


def test_weight_walk_keeps_the_mpu_busy():
    """The compiler's band covers the MPU accumulator's read-after-write gap (no bubbles with
    the raster walk) and is the MPU's default band."""
    from dfx_hw.mpu.accumulator import gap_for
    from dfx_hw.mpu.matrix_unit import DEFAULT_BAND

    assert WEIGHT_BAND >= gap_for() and not WEIGHT_SERPENTINE
    assert WEIGHT_BAND == DEFAULT_BAND


def test_pack_unpack_and_transposed_row_writes():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((130, 37)).astype(np.float16)
    flat = pack(w, d=64, l=16, band=WEIGHT_BAND)
    assert flat.size == 3 * 3 * 64 * 16
    assert (unpack(flat, 130, 37, d=64, l=16, band=WEIGHT_BAND) == w).all()
    cache = pack(w, d=64, l=16, band=3)  # full-width band, as the caches
    assert (unpack(cache, 130, 37, d=64, l=16, band=3) == w).all()
    for row in (0, 63, 64, 129):
        assert (cache[row_offsets(row, 37, d=64, l=16)] == w[row]).all()
        assert (unpack(cache, 130, 37, d=64, l=16, band=3, rows=row + 1) == w[:row + 1]).all()


def test_head_wider_than_a_tile_is_refused():
    cfg = GPT2Config(vocab_size=10, n_positions=8, n_embd=128, n_layer=1, n_head=1)
    with pytest.raises(CompileError, match=r"head width 128 is larger than the tile height d=64"):
        compile_model(cfg, random_weights(cfg), cores=1)


def test_register_file_overflow_is_refused_at_compile_time():
    cfg = GPT2Config(vocab_size=10, n_positions=8, n_embd=8192, n_layer=1, n_head=128)
    slices = core_slices(cfg, 1)[0]
    with pytest.raises(CompileError, match=r"core 0: the buffers need \d+ vector register-file "
                                           r"words, more than the 131072 there are"):
        build_memory_map(cfg, U280, slices, cores=1)
    big_vocab = GPT2Config(vocab_size=70000, n_positions=8, n_embd=64, n_layer=1, n_head=1)
    with pytest.raises(CompileError, match=r"vocabulary = 70000 does not fit a 16-bit length"):
        build_memory_map(big_vocab, U280, core_slices(big_vocab, 1)[0], cores=1)


def test_images_hold_each_cores_slice_in_tiles():
    """Each core's images hold its slices in tiles, every LayerNorm's bias folded into the bias
    of the matrix that reads it and its gain in DDR for the program's VMUL."""
    w = random_weights(SMALL, seed=3)
    model = compile_model(SMALL, w, cores=2)
    f16 = lambda a: np.asarray(a, np.float32).astype(np.float16)  # noqa: E731
    layer1, layer0 = w.layers[1], w.layers[0]
    for core in model.cores:
        mm, s = core.memmap, core.memmap.slices
        e, hd = SMALL.n_embd, SMALL.head_dim
        assert sum(g.heads for g in mm.qkv_groups) == s.size(s.heads)
        for group in mm.qkv_groups:   # Q of the group's heads, then K, then V
            heads = range(s.heads[0] + group.start, s.heads[0] + group.stop)
            cols = [part * e + h * hd + i for part in range(3) for h in heads for i in range(hd)]
            qkv = unpack(core.hbm[mm.hbm_layer_addr(1, "qkv") + group.hbm:], e, len(cols), d=64,
                         l=16, band=WEIGHT_BAND)
            assert (qkv == f16(layer1.attn_w[:, cols])).all()
        local = qkv_columns(SMALL, s.heads, mm.qkv_groups)
        bias = core.ddr[mm.ddr_layer_addr(1, "attn_b"):][:len(local)]
        folded = fold_layernorm_bias(f16(layer1.ln1_b), f16(layer1.attn_w[:, local]),
                                     f16(layer1.attn_b[local]))
        assert (bias == folded).all() and not (bias == f16(layer1.attn_b[local])).all()
        assert (core.ddr[mm.ddr["ln1_g0"].addr:][:e] == f16(layer0.ln1_g)).all()
        assert (core.ddr[mm.ddr_layer_addr(0, "next_g"):][:e] == f16(layer1.ln1_g)).all()
        assert (core.ddr[mm.ddr_layer_addr(1, "ln2_g"):][:e] == f16(layer1.ln2_g)).all()
        last = mm.ddr_layer_addr(SMALL.n_layer - 1, "next_g")
        assert (core.ddr[last:][:e] == f16(w.lnf_g)).all()
        fc2 = unpack(core.hbm[mm.hbm_layer_addr(0, "fc2"):], 4 * SMALL.n_embd, s.size(s.fc2),
                     d=64, l=16, band=WEIGHT_BAND)
        assert (fc2 == f16(layer0.fc2_w[:, slice(*s.fc2)])).all()
        lm = unpack(core.hbm[mm.hbm["lm_head"].addr:], SMALL.n_embd, s.size(s.vocab), d=64,
                    l=16, band=WEIGHT_BAND)
        assert (lm == f16(w.wte[slice(*s.vocab)].T)).all()
        lm_b = fold_layernorm_bias(f16(w.lnf_b), f16(w.wte[slice(*s.vocab)].T))
        assert (core.ddr[mm.ddr["lm_b"].addr:][:s.size(s.vocab)] == lm_b).all()
        fc1 = slice(*s.fc1)
        bias = core.ddr[mm.ddr_layer_addr(1, "fc1_b"):][:s.size(s.fc1)]
        folded = fold_layernorm_bias(f16(layer1.ln2_b), f16(layer1.fc1_w[:, fc1]),
                                     f16(layer1.fc1_b[fc1]))
        assert (bias == folded).all()
        assert mm.hbm_layer_stride % U280.tile_elements == 0


def _compiled_programs():
    """Every program the equality tests compile (shapes, core counts, prompt lengths)."""
    for cfg, cores, n_prompt, n_new in [(SMALL, 2, 1, 3), (SMALL, 2, 5, 3), (SMALL, 1, 39, 1),
                                        (SMALL, 5, 3, 2)]:
        model = compile_model(cfg, random_weights(cfg), cores=cores)
        yield from model.programs(n_prompt=n_prompt, n_new=n_new)


def test_every_compiled_instruction_round_trips():
    count = 0
    for program in _compiled_programs():
        for instr in program:
            assert decode(encode(instr)) == instr
            assert assemble(disassemble(instr)) == instr
            count += 1
    assert count > 500


def test_four_ring_syncs_per_layer_and_one_per_token():
    model = compile_model(SMALL, random_weights(SMALL), cores=3)
    for program in model.programs(n_prompt=4, n_new=2):
        tags = [i["tag"] for i in program if i.info.cls is InstrClass.ROUTER]
        layer = [SYNC_TAGS[t] for t in ("attention", "proj", "fc1", "fc2")]
        # one layer body in summarization, one in generation, plus the argmax agreement
        assert tags == layer + layer + [SYNC_TAGS["argmax"]]
        loops = [i for i in program if i.op is Opcode.LOOP]
        assert [i["limit"] for i in loops] == [2, 3, 2, 5]  # layers, prompt-1, layers, n-1+new


def test_program_request_errors():
    model = compile_model(SMALL, random_weights(SMALL), cores=1)
    with pytest.raises(ValueError, match=r"n_prompt \(30\) \+ n_new \(11\) exceeds the context "
                                         r"of 40 positions"):
        model.programs(n_prompt=30, n_new=11)
    with pytest.raises(ValueError, match=r"n_new must be a positive integer, not 0"):
        model.programs(n_prompt=3, n_new=0)
    with pytest.raises(ValueError, match=r"capture_logits needs images built with "):
        model.programs(n_prompt=3, n_new=1, capture_logits=True)


def test_small_geometry_compiles():
    geometry = TileGeometry(d=16, l=4, vpu_lanes=4)
    cfg = GPT2Config(vocab_size=50, n_positions=12, n_embd=32, n_layer=1, n_head=2)
    model = compile_model(cfg, random_weights(cfg), cores=2, geometry=geometry)
    assert model.cores[0].memmap.tile == 64


def test_hbm_weight_image_is_the_mpu_weight_stream():
    """The compiler's packed tiles are exactly the stream the MPU consumes
    (:func:`dfx_hw.spec.walk.weight_tiles`, the compiler's walk, lane-major tiles)."""
    from dfx_hw.spec.walk import weight_tiles

    w = np.random.default_rng(4).standard_normal((200, 300)).astype(np.float16)
    stream = weight_tiles(w, d=64, l=16, band=WEIGHT_BAND, serpentine=WEIGHT_SERPENTINE)
    assert (pack(w, d=64, l=16, band=WEIGHT_BAND) == stream.reshape(-1)).all()


@pytest.mark.parametrize("k, n", [(64, 1024), (100, 700), (4096, 1024)])
def test_residual_chunks_are_contiguous_runs_of_the_tiled_matrix(k, n):
    """The one-core programs cut ``proj`` and ``fc2`` into CONV1Ds of whole weight bands
    (``program._residual_chunks``) pointing into the matrix's tiled image: each range's tiles
    are exactly that column range tiled on its own, so every chunk computes its columns as the
    whole CONV1D does."""
    from dfx_hw.compiler.program import _residual_chunks

    class _Emit:
        mm = type("MM", (), {"geometry": U280})()

    g = U280
    rng = np.random.default_rng(k + n)
    w = rng.standard_normal((k, n)).astype(np.float16)
    flat = pack(w, d=g.d, l=g.l, band=WEIGHT_BAND)
    chunks = _residual_chunks(_Emit(), k, n)
    assert chunks[0][0] == 0 and chunks[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    for start, stop, offset in chunks:
        assert start % (WEIGHT_BAND * g.l) == 0
        part = pack(w[:, start:stop], d=g.d, l=g.l, band=WEIGHT_BAND)
        assert np.array_equal(flat[offset:offset + part.size].view(np.uint16),
                              part.view(np.uint16))
