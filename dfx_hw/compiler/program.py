"""Instruction programs: summarization of an ``n``-token prompt, then the generation loop.

Each core runs its own program (its heads and column ranges differ); the cores meet at the ring
syncs: four per layer-loop iteration -- after the attention heads, after ``proj``, after
``fc1 + GELU``, after ``fc2`` (tags 0-3) -- and one per token after the LM head's local argmax
(tag 4). On one core the four layer syncs would only copy a vector, so they are left out and the
next instruction reads the core's own result.

Structure (``TOKEN`` is the position of the token being processed)::

    setup:     SETR HBM_STRIDE / DDR_STRIDE; SETS the recipe constants; SETR TOKEN 0
    summarize: (only when n >= 2)  embed, layers;  LOOP TOKEN < n-1
    generate:  embed, layers, head;                LOOP TOKEN < n-1+new
    END

``embed`` reads the token id at ``tokens[TOKEN]`` from DDR and fetches ``WTE[id] + WPE[TOKEN]``;
``layers`` is one decoder layer looped over ``LAYER``; ``head`` is the final LayerNorm, this core's
slice of the logits, the local argmax, the ring agreement on the global argmax and the store of
the next token id at ``tokens[TOKEN+1]`` -- so the host only writes the prompt, starts the cores
and reads the token buffer back. LayerNorm and softmax are emitted step by step from
:mod:`dfx_hw.model.bittrue.recipes`.
"""

import numpy as np

from ..isa.encoding import Instruction
from ..isa.layouts import Opcode, Register
from ..model.bittrue.fp16 import to_bits
from ..model.bittrue.recipes import (ATTENTION_SCALE, LAYERNORM_SCALE_STEPS, SOFTMAX_STEPS,
                                     layernorm_constants)
from ..model.bittrue.vector_ops import VECTOR_PRIMITIVES
from ..spec.walk import WEIGHT_BAND
from .memmap import RECIPE_SREG, SOFTMAX_SETS, SREG, CoreMemoryMap, recipe_registers

__all__ = ["build_program", "SYNC_TAGS", "attention_scale"]

#: Ring sync tags, in the order a token meets them.
SYNC_TAGS = {"attention": 0, "proj": 1, "fc1": 2, "fc2": 3, "argmax": 4}


def attention_scale(config):
    """The head scale ``fp16(1 / sqrt(head_dim))`` (GPT-2's ``1/8``:
    :data:`~dfx_hw.model.bittrue.recipes.ATTENTION_SCALE`)."""
    if config.head_dim == 64:
        return ATTENTION_SCALE
    return np.float16(1.0 / np.sqrt(config.head_dim))


class _Emitter:
    def __init__(self, mm: CoreMemoryMap):
        self.mm = mm
        self.code = []

    @property
    def pc(self):
        return len(self.code)

    def __call__(self, op, *flags, **fields):
        self.code.append(Instruction(Opcode[op], fields, frozenset(flags)))

    def v(self, name):
        return self.mm.vrf[name].addr

    def tile(self, addr):
        assert addr % self.mm.tile == 0
        return addr // self.mm.tile


def _recipe(emit, prefix, steps, bind, length, flags=(), skip=()):
    """Emit ``steps`` one instruction each; vector names are VRF buffers ``prefix.name`` unless
    ``bind`` maps them to an address; scalar names use :data:`RECIPE_SREG`."""
    vectors, _ = recipe_registers(steps)
    vaddr = {name: bind.get(name, emit.mm.vrf.get(f"{prefix}.{name}")) for name in vectors}
    vaddr = {name: (a.addr if hasattr(a, "addr") else a) for name, a in vaddr.items()}
    for step in steps:
        if step.dst in skip:          # computed by an earlier instruction (its producer)
            continue
        primitive = VECTOR_PRIMITIVES[step.op]
        fields = {}
        operands = list(zip(step.srcs, primitive.operands))
        vsrcs = [vaddr[n] for n, k in operands if k == "v"]
        ssrcs = [RECIPE_SREG[f"{prefix}.{n}"] for n, k in operands if k == "s"]
        if vsrcs:
            fields["vsrc"] = vsrcs[0]
        if len(vsrcs) > 1:
            fields["vsrc2"] = vsrcs[1]
        if primitive.operands == "vs":
            fields["ssrc"] = ssrcs[0]
        elif ssrcs:
            fields["ssrc"] = ssrcs[0]
            if len(ssrcs) > 1:
                fields["ssrc2"] = ssrcs[1]
        if primitive.result == "vs":
            fields["vdst"] = vaddr[step.dsts[0]]
            fields["sdst"] = RECIPE_SREG[f"{prefix}.{step.dsts[1]}"]
        elif primitive.result == "v":
            fields["vdst"] = vaddr[step.dst]
        else:
            fields["sdst"] = RECIPE_SREG[f"{prefix}.{step.dst}"]
        step_flags = ()
        if "v" in primitive.operands:
            fields["len"] = length
            step_flags = flags
        emit(step.op, *step_flags, **fields)


def _embed(emit):
    mm, e = emit.mm, emit.mm.config.n_embd
    # the gain of the first LayerNorm, first: its words reach the VPU while the embedding is
    # still loading, not in the LayerNorm's chain (later gains are loaded during the layer
    # before theirs)
    emit("LDD", vdst=emit.v("gain1"), ddr=mm.ddr["ln1_g0"].addr, len=e, stride=0, ssrc=0)
    emit("LDTOK", "token", sdst=SREG["token"], ddr=mm.ddr["tokens"].addr)
    emit("LDD", "index", vdst=emit.v("x"), ddr=mm.ddr["wte"].addr, len=e, stride=e,
         ssrc=SREG["token"])
    emit("LDD", "token", vdst=emit.v("t0"), ddr=mm.ddr["wpe"].addr, len=e, stride=e, ssrc=0)
    _residual(emit, "t0")


def _residual(emit, addend):
    """``x += addend`` with ``VADDAMAX``: the maximum magnitude of the new ``x``, the first step
    of the LayerNorm that reads it, comes out of the same pass (into ``ln.amax``)."""
    emit("VADDAMAX", vdst=emit.v("x"), sdst=RECIPE_SREG["ln.amax"], vsrc=emit.v("x"),
         vsrc2=emit.v(addend), len=emit.mm.config.n_embd)


#: Weight bands (:data:`~dfx_hw.spec.walk.WEIGHT_BAND` column tiles each) per CONV1D of a
#: residual branch's last matrix on one core (:func:`_residual_matrix`).
RESIDUAL_CHUNK_BANDS = 2


def _residual_chunks(emit, k, n):
    """``(start, stop, offset)`` of each CONV1D of a ``k x n`` residual matrix: column ranges of
    whole weight bands, and the element offset of the range's tiles in the matrix's tiled
    image. The walk is band by band, so those tiles are one contiguous run, the column range
    tiled on its own."""
    g = emit.mm.geometry
    width = RESIDUAL_CHUNK_BANDS * WEIGHT_BAND * g.l
    row_tiles = -(-k // g.d)
    return [(start, min(start + width, n), row_tiles * (start // g.l) * g.d * g.l)
            for start in range(0, n, width)]


def _residual_matrix(emit, flags, *, out, src, hbm, bias, k, n, then=()):
    """``x += CONV1D(src)`` on one core, the matrix cut into column chunks
    (:func:`_residual_chunks`), each chunk's ``VADDAMAX`` after its own CONV1D: the additions
    of the first chunks and the LayerNorm maximum's partial results run while the matrix unit
    streams the last chunks' weights, so only the last chunk's addition follows the matrix.
    Every column is computed exactly as by one CONV1D; the partial maxima are combined with
    ``SMAX`` (the same comparator order: the maximum of the parts is the whole's, bit for bit).
    ``then`` is called between the CONV1Ds and the additions (instructions that belong behind
    the matrix in issue order)."""
    chunks = _residual_chunks(emit, k, n)
    for start, stop, offset in chunks:
        emit("CONV1D", *flags, vdst=emit.v(out) + start, vsrc=emit.v(src),
             hbm=emit.tile(hbm + offset), ddr=bias + start, k=k, n=stop - start)
    for step in then:
        step()
    amax = RECIPE_SREG["ln.amax"]
    parts = (SREG["amax_part"], SREG["amax_part"] + 1)
    for index, (start, stop, _) in enumerate(chunks):
        part = amax if index == 0 else parts[index % 2]
        emit("VADDAMAX", vdst=emit.v("x") + start, sdst=part, vsrc=emit.v("x") + start,
             vsrc2=emit.v(out) + start, len=stop - start)
        if index:
            emit("SMAX", sdst=amax, ssrc=amax, ssrc2=part)


def _layernorm(emit, src, dst, gain):
    """LayerNorm of ``src`` into ``dst`` without its bias (:data:`LAYERNORM_SCALE_STEPS`) with
    the gain in buffer ``gain``: the images fold the bias into the bias of the matrix that reads
    ``dst`` (:func:`~dfx_hw.model.bittrue.recipes.fold_layernorm_bias`). Its first step
    (``amax``) was computed by the residual addition that wrote ``src`` (:func:`_residual`).
    The gain was loaded earlier, while the VPU had time for the words (a ``LOAD`` between the
    residual addition and the LayerNorm's first step would hold that chain for a pass)."""
    _recipe(emit, "ln", LAYERNORM_SCALE_STEPS,
            {"x": emit.v(src), "scaled": emit.v(dst), "gamma": emit.v(gain)},
            emit.mm.config.n_embd, skip=("amax",))


def _load_gain(emit, gain, ddr):
    """``LDD`` of a LayerNorm gain (this layer's block, ``layer`` flag) into buffer ``gain``."""
    e = emit.mm.config.n_embd
    emit("LDD", "layer", vdst=emit.v(gain), ddr=ddr, len=e, stride=0, ssrc=0)


def _sync(emit, tag, src, dst, length, total, cores):
    """All-gather this core's ``src`` into ``dst``; return the buffer that holds the gathered
    vector: ``dst``, or ``src`` itself on one core (no SYNC: the gather would be a copy)."""
    if cores == 1:
        return src
    emit("SYNC", vdst=emit.v(dst), vsrc=emit.v(src), len=length, total=total,
         tag=SYNC_TAGS[tag])
    return dst



#: QKV groups projected ahead of the group being attended: group ``g + PROJECT_AHEAD``'s CONV1D
#: is emitted before group ``g``'s stores and heads. Two groups ahead measured the same on the
#: RTL as one (345M layer, one core, context 64: 19,115 against 19,094 clocks).
PROJECT_AHEAD = 1


def _attention(emit, scale, h, bias):
    """The QKV projection of LayerNorm output ``h`` (biases at DDR ``bias``), this token's keys
    and values into the caches, and every local head's ``MaskedMM -> softmax -> MM``.

    The projection runs per group of heads (:attr:`CoreMemoryMap.qkv_groups`: two heads per
    CONV1D at the U280 build) and is interleaved with the attention: group
    ``g +`` :data:`PROJECT_AHEAD`'s CONV1D is emitted before group ``g``'s keys and values are
    stored and its heads attended, so the matrix unit streams the next group's weights while
    the DMA stores this group's keys and values and the vector unit runs softmaxes. The heads are software-pipelined over
    :data:`SOFTMAX_SETS` buffer sets: head ``j`` uses set ``j % depth`` and its MaskedMM is
    emitted right after head ``j - depth``'s softmax, before that head's MM
    (``MK0 MK1 softmax0 MK2 MM0 softmax1 MK3 MM1 ...`` with two sets), so the matrix unit
    computes one head's scores or output while the vector unit runs another head's softmax,
    and a MaskedMM never waits behind an MM that waits for its softmax (session 10: -103 /
    -267 clocks per one-core layer at contexts 64 / 256 against the MM first). Every head
    computes exactly what it did unpipelined."""
    mm, cfg, g = emit.mm, emit.mm.config, emit.mm.geometry
    hd, nh = cfg.head_dim, mm.local_heads
    lay = mm.hbm_layer
    groups = mm.qkv_groups
    group_of = {j: group for group in groups for j in range(group.start, group.stop)}

    def part(which, j):
        group = group_of[j]
        return emit.v("qkv") + group.column + (which * group.heads + j - group.start) * hd

    def project(group):
        emit("CONV1D", "layer", vdst=emit.v("qkv") + group.column, vsrc=emit.v(h),
             hbm=emit.tile(lay["qkv"].addr + group.hbm), ddr=bias + group.column,
             k=cfg.n_embd, n=3 * group.heads * hd)

    def store(group):
        # Keys first (a column of K^T each: the MaskedMMs read them next), then the values
        # (transposed on write).
        for j in range(group.start, group.stop):
            emit("STH", "layer", "token", hbm=emit.tile(lay[f"k{j}"].addr), vsrc=part(1, j),
                 len=hd, stride=g.d)
        for j in range(group.start, group.stop):
            emit("STHT", "layer", "token", hbm=emit.tile(lay[f"v{j}"].addr), vsrc=part(2, j),
                 len=hd)

    def scores(j):
        prefix = SOFTMAX_SETS[j % len(SOFTMAX_SETS)]
        emit("MASKEDMM", "layer", "token", vdst=emit.v(f"{prefix}.s"), vsrc=part(0, j),
             hbm=emit.tile(lay[f"k{j}"].addr), sdst=RECIPE_SREG[f"{prefix}.m"], k=hd, n=1,
             imm16=scale)

    def softmax(j):
        prefix = SOFTMAX_SETS[j % len(SOFTMAX_SETS)]
        # The row maximum comes from MaskedMM (SFU_M), so the recipe's VMAX step is skipped.
        _recipe(emit, prefix, SOFTMAX_STEPS, {}, 1, flags=("token",), skip=("m",))

    def output(j):
        prefix = SOFTMAX_SETS[j % len(SOFTMAX_SETS)]
        emit("MM", "layer", "token", vdst=emit.v("att") + j * hd, vsrc=emit.v(f"{prefix}.p"),
             hbm=emit.tile(lay[f"v{j}"].addr), k=1, n=hd)

    depth = len(SOFTMAX_SETS)
    for group in groups[:PROJECT_AHEAD]:
        project(group)
    for index, group in enumerate(groups):
        if index + PROJECT_AHEAD < len(groups):
            project(groups[index + PROJECT_AHEAD])
        store(group)
        for j in range(group.start, group.stop):
            if j >= depth:
                # head j's MaskedMM (its set is free once head j - depth's softmax has read
                # it) goes before head j - depth's MM, which waits for that softmax: the
                # matrix unit and the issue stage are in order, so the MM would hold it
                softmax(j - depth)
                scores(j)
                output(j - depth)
            else:
                scores(j)
    for j in range(max(nh - depth, 0), nh):
        softmax(j)
        output(j)


def _layers(emit, cores):
    mm, cfg, g = emit.mm, emit.mm.config, emit.mm.geometry
    e, hd, nh = cfg.n_embd, cfg.head_dim, mm.local_heads
    s = mm.slices
    nproj, nfc1, nfc2 = s.size(s.proj), s.size(s.fc1), s.size(s.fc2)
    lay = mm.hbm_layer
    par = mm.ddr_layer
    pbase = mm.ddr["layers"].addr

    scale = int(to_bits(attention_scale(cfg)))
    emit("SETR", reg=Register.LAYER, imm32=0)
    top = emit.pc
    _layernorm(emit, "x", "h", "gain1")
    _attention(emit, scale, "h", pbase + par["attn_b"].addr)
    att = _sync(emit, "attention", "att", "att_full", nh * hd, e, cores)
    # ln_2's gain: issued behind the projection (which waits for the attention's output), so
    # its words reach the VPU while the projection streams, not in a softmax or LayerNorm chain
    def gain2():
        _load_gain(emit, "gain2", pbase + par["ln2_g"].addr)

    if cores == 1:
        _residual_matrix(emit, ("layer",), out="proj", src=att, hbm=lay["proj"].addr,
                         bias=pbase + par["proj_b"].addr, k=e, n=nproj, then=(gain2,))
    else:
        emit("CONV1D", "layer", vdst=emit.v("proj"), vsrc=emit.v(att),
             hbm=emit.tile(lay["proj"].addr), ddr=pbase + par["proj_b"].addr, k=e, n=nproj)
        gain2()
        _residual(emit, _sync(emit, "proj", "proj", "proj_full", nproj, e, cores))
    _layernorm(emit, "x", "h", "gain2")
    emit("CONV1D", "layer", "gelu", vdst=emit.v("fc1"), vsrc=emit.v("h"),
         hbm=emit.tile(lay["fc1"].addr), ddr=pbase + par["fc1_b"].addr, k=e, n=nfc1)
    # the next LayerNorm's gain (the next ln_1, or ln_f): issued behind FC1 (which waits for
    # ln_2), so its words reach the VPU while FC1 streams
    _load_gain(emit, "gain1", pbase + par["next_g"].addr)
    fc1 = _sync(emit, "fc1", "fc1", "fc1_full", nfc1, 4 * e, cores)
    if cores == 1:
        _residual_matrix(emit, ("layer",), out="fc2", src=fc1, hbm=lay["fc2"].addr,
                         bias=pbase + par["fc2_b"].addr, k=4 * e, n=nfc2)
    else:
        emit("CONV1D", "layer", vdst=emit.v("fc2"), vsrc=emit.v(fc1),
             hbm=emit.tile(lay["fc2"].addr), ddr=pbase + par["fc2_b"].addr, k=4 * e, n=nfc2)
        _residual(emit, _sync(emit, "fc2", "fc2", "fc2_full", nfc2, e, cores))
    emit("LOOP", reg=Register.LAYER, limit=cfg.n_layer, target=top)


def _head(emit, capture_logits, cores):
    mm, cfg = emit.mm, emit.mm.config
    e, vocab = cfg.n_embd, cfg.vocab_size
    start, stop = mm.slices.vocab
    _layernorm(emit, "x", "h", "gain1")
    # the arg-max is found as the logits are written (`argmax`), the ARGMAX only reads it
    # (`tap`): the logits are not streamed through the vector unit a second time
    emit("CONV1D", "argmax", vdst=emit.v("logits"), vsrc=emit.v("h"),
         hbm=emit.tile(mm.hbm["lm_head"].addr), ddr=mm.ddr["lm_b"].addr, k=e, n=stop - start)
    if capture_logits:
        emit("STD", "token", ddr=mm.ddr["logits"].addr + start, vsrc=emit.v("logits"),
             len=stop - start, stride=vocab)
    emit("ARGMAX", "tap", sdst=SREG["local"], vsrc=emit.v("logits"), len=stop - start,
         base=start)
    emit("SYNCS", vdst=emit.v("pairs"), ssrc=SREG["local"], tag=SYNC_TAGS["argmax"])
    emit("ARGMAXP", sdst=SREG["global"], vsrc=emit.v("pairs"), len=cores)
    emit("STTOK", "token", ddr=mm.ddr["tokens"].addr + 1, ssrc=SREG["global"] + 1)


def build_program(mm: CoreMemoryMap, *, n_prompt, n_new, cores, capture_logits=False,
                  prefilled=False, sections=None):
    """The instruction list of the core of ``mm`` for a prompt of ``n_prompt`` tokens continued
    by ``n_new`` tokens.

    Parameters
    ----------
    prefilled : bool
        The key and value caches already hold the first ``n_prompt - 1`` positions (a host that
        kept them, or a benchmark that measures one token at a given context): the program
        starts at ``TOKEN = n_prompt - 1`` with no summarization.
    sections : dict, optional
        Filled with the pc where each part of the generation loop starts: ``"embed"``,
        ``"layers"``, ``"head"`` and ``"loop"`` (the token LOOP).

    Raises
    ------
    ValueError
        If ``n_prompt < 1``, ``n_new < 1`` or ``n_prompt + n_new`` exceeds the context.
    """
    cfg = mm.config
    for name, value in (("n_prompt", n_prompt), ("n_new", n_new)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    if n_prompt + n_new > cfg.n_positions:
        raise ValueError(f"n_prompt ({n_prompt}) + n_new ({n_new}) exceeds the context of "
                         f"{cfg.n_positions} positions")
    if capture_logits and mm.ddr["logits"].size == 0:
        raise ValueError("capture_logits needs images built with capture_logits=True")
    emit = _Emitter(mm)
    emit("SETR", reg=Register.HBM_STRIDE, imm32=mm.hbm_layer_stride)
    emit("SETR", reg=Register.DDR_STRIDE, imm32=mm.ddr_layer_stride)
    constants = layernorm_constants(cfg.n_embd, cfg.layer_norm_epsilon)
    for name, value in constants.items():
        emit("SETS", sdst=RECIPE_SREG[f"ln.{name}"], imm16=int(to_bits(np.float16(value))))
    emit("SETR", reg=Register.TOKEN, imm32=n_prompt - 1 if prefilled else 0)
    if n_prompt >= 2 and not prefilled:
        top = emit.pc
        _embed(emit)
        _layers(emit, cores)
        emit("LOOP", reg=Register.TOKEN, limit=n_prompt - 1, target=top)
    top = emit.pc
    marks = {"embed": emit.pc}
    _embed(emit)
    marks["layers"] = emit.pc
    _layers(emit, cores)
    marks["head"] = emit.pc
    _head(emit, capture_logits, cores)
    marks["loop"] = emit.pc
    emit("LOOP", reg=Register.TOKEN, limit=n_prompt - 1 + n_new, target=top)
    emit("END")
    if sections is not None:
        sections.update(marks)
    return emit.code
