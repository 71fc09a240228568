"""Memory maps of one core: HBM, DDR, vector and scalar register files.

Defined once here and used by the image builder, the program generator, the ISA simulator and
the documentation. All sizes are in 16-bit elements (HBM and DDR) or register-file words.

HBM (per core; every region tile aligned)
    ``n_layer`` layer blocks of :attr:`CoreMemoryMap.hbm_layer_stride` elements, then the LM head.
    A layer block holds, in this order: ``qkv`` (per group of local heads, :class:`QkvGroup`,
    an ``emb x 3*heads*hd`` matrix, columns Q of the group's heads, then K, then V), ``proj`` (``emb x`` this core's projection columns),
    ``fc1`` (``emb x`` its FC1 columns), ``fc2`` (``4 emb x`` its FC2 columns) -- all tiles in
    the walk of :mod:`~dfx_hw.compiler.tiling` (bands of
    :data:`~dfx_hw.compiler.tiling.WEIGHT_BAND` column tiles) -- then per local head the key cache
    ``K^T`` (``hd x ctx``, a key per column, full-width band) and the value cache ``V``
    (``ctx x hd``, full-width band, written transposed).
    ``lm_head``: ``WTE^T`` restricted to this core's vocabulary rows (``emb x vocab_c``).
DDR (per core)
    ``tokens`` (``ctx + 1`` token ids), ``wte``, ``wpe``, ``ln1_g0`` (layer 0's ``ln_1`` gain),
    ``lm_b`` (the LM head's bias: ``ln_f``'s bias folded in,
    :func:`~dfx_hw.model.bittrue.recipes.fold_layernorm_bias`, this core's vocabulary slice),
    then ``n_layer`` parameter blocks of :attr:`CoreMemoryMap.ddr_layer_stride` (``attn_b``
    (local, in the column order of the ``qkv`` groups, ``ln_1``'s bias folded in), ``proj_b,
    ln2_g, fc1_b`` (``ln_2``'s bias folded in), ``fc2_b`` (local), ``next_g`` (the gain of the
    LayerNorm after this layer: the next layer's ``ln_1``, after the last layer ``ln_f``; the
    program loads it during this layer)), then ``logits`` (``ctx x vocab``, only with logit capture: core
    ``c`` writes its slice of position ``t``'s logits at ``logits + t*vocab + vocab_start``).
VRF
    Named buffers (:attr:`CoreMemoryMap.vrf`), each starting at a multiple of
    ``max(vpu_lanes, l)`` elements.
SRF
    :data:`SREG` names the scalar registers the programs use.
"""

from dataclasses import dataclass, field

from ..isa.layouts import FIELD_BITS, SRF_ADDR_BITS, VRF_ADDR_BITS
from ..model.bittrue.recipes import LAYERNORM_SCALE_STEPS, SOFTMAX_STEPS
from ..model.bittrue.vector_ops import VECTOR_PRIMITIVES
from .partition import CoreSlices
from .tiling import tiled_size

__all__ = ["Region", "CoreMemoryMap", "QkvGroup", "qkv_groups", "qkv_group_heads", "build_memory_map", "SREG", "VRF_SIZE", "SRF_SIZE",
           "CompileError", "RECIPES", "RECIPE_SREG", "recipe_registers"]

#: Vector register file size in FP16 words (what the address fields can reach).
VRF_SIZE = 1 << VRF_ADDR_BITS
#: Scalar register file size in 32-bit words.
SRF_SIZE = 1 << SRF_ADDR_BITS

#: Scalar registers used by the generated programs.
SREG = {
    "token": 0,       # the current token id
    "rowmax": 1,      # MaskedMM row maximum
    "local": 2,       # local argmax (value, index) pair: registers 2, 3
    "global": 4,      # global argmax pair: registers 4, 5
    "amax_part": 6,   # partial maxima of a chunked residual addition: registers 6, 7
    "scratch": 8,     # recipes use registers 8 and up
}


class CompileError(ValueError):
    """A model that does not fit the core (register file, address fields)."""


@dataclass(frozen=True)
class Region:
    """``size`` elements at element address ``addr``."""
    addr: int
    size: int

    @property
    def end(self):
        return self.addr + self.size


class _Allocator:
    def __init__(self, align=1):
        self.top = 0
        self.align = align
        self.regions = {}

    def add(self, name, size):
        self.top = -(-self.top // self.align) * self.align
        self.regions[name] = Region(self.top, size)
        self.top += size
        return self.regions[name]


@dataclass(frozen=True)
class QkvGroup:
    """Local heads ``start .. stop - 1`` whose Q, K and V columns one CONV1D computes: their
    weights are the tiled ``emb x 3 * (stop - start) * hd`` matrix at ``hbm`` (element offset in
    the ``qkv`` region), its columns (and the ``attn_b`` biases from ``column``, the ``qkv``
    buffer from ``column``) Q of each of these heads, then K, then V."""
    start: int
    stop: int
    hbm: int
    column: int

    @property
    def heads(self):
        return self.stop - self.start


#: Fewest heads per QKV group. Every group's CONV1D reads the whole LayerNorm output through
#: the vector unit again, so one head per group costs more than it overlaps. By the timing model
#: on the 345M layer, two heads per group take 2.5 % / 4.2 % fewer clocks than one group of all
#: heads on one core (contexts 64 / 256) and 2.3 % / 1.6 % fewer on four; one head per group
#: takes 0.6 % / 1.0 % more (one / four cores, context 64).
QKV_GROUP_MIN_HEADS = 2


def qkv_group_heads(head_dim, heads, align):
    """Heads per QKV group: the fewest, at least :data:`QKV_GROUP_MIN_HEADS`, whose
    ``3 * heads * head_dim`` outputs fill whole ``align``-element register-file rows (so every
    group's output starts on a row), at most ``heads``."""
    for size in range(min(QKV_GROUP_MIN_HEADS, heads), heads + 1):
        if 3 * size * head_dim % align == 0:
            return size
    return heads


def qkv_groups(emb, head_dim, heads, *, d, l, align):
    """The :class:`QkvGroup` list of a core with ``heads`` local heads."""
    size = qkv_group_heads(head_dim, heads, align)
    out, hbm = [], 0
    for start in range(0, heads, size):
        stop = min(start + size, heads)
        out.append(QkvGroup(start, stop, hbm, 3 * start * head_dim))
        hbm += tiled_size(emb, 3 * (stop - start) * head_dim, d, l)
    return tuple(out)


@dataclass
class CoreMemoryMap:
    """Addresses of everything core ``slices.core`` uses (see the module docstring)."""

    config: object
    geometry: object
    slices: CoreSlices
    hbm_layer: dict = field(default_factory=dict)     # offsets inside a layer block
    hbm_layer_stride: int = 0
    hbm: dict = field(default_factory=dict)           # absolute (lm_head)
    hbm_size: int = 0
    ddr: dict = field(default_factory=dict)           # absolute
    ddr_layer: dict = field(default_factory=dict)     # offsets inside a parameter block
    ddr_layer_stride: int = 0
    ddr_size: int = 0
    vrf: dict = field(default_factory=dict)
    vrf_size: int = 0
    #: The QKV projection's groups of local heads, one CONV1D each (:func:`qkv_groups`).
    qkv_groups: tuple = ()

    @property
    def local_heads(self):
        return self.slices.size(self.slices.heads)

    @property
    def tile(self):
        return self.geometry.d * self.geometry.l

    def ddr_layer_addr(self, layer, name):
        """Absolute DDR address of parameter ``name`` of ``layer``."""
        return self.ddr["layers"].addr + layer * self.ddr_layer_stride + self.ddr_layer[name].addr

    def hbm_layer_addr(self, layer, name):
        """Absolute HBM element address of region ``name`` of ``layer``."""
        return layer * self.hbm_layer_stride + self.hbm_layer[name].addr


def build_memory_map(config, geometry, slices, *, cores, capture_logits=False):
    """The :class:`CoreMemoryMap` of one core.

    Raises
    ------
    CompileError
        If the head width exceeds the tile height ``d`` (a key must fit one tile column), or the
        buffers exceed the vector register file or an address field.
    """
    d, l = geometry.d, geometry.l
    e, hd, ctx, vocab = config.n_embd, config.head_dim, config.n_positions, config.vocab_size
    if hd > d:
        raise CompileError(f"head width {hd} is larger than the tile height d={d}")
    nh = slices.size(slices.heads)
    nproj, nfc1, nfc2 = (slices.size(s) for s in (slices.proj, slices.fc1, slices.fc2))
    nvocab = slices.size(slices.vocab)
    mm = CoreMemoryMap(config=config, geometry=geometry, slices=slices)

    tile = d * l
    align = max(geometry.vpu_lanes, l)
    mm.qkv_groups = qkv_groups(e, hd, nh, d=d, l=l, align=align)
    last = mm.qkv_groups[-1]
    hbm = _Allocator(align=tile)
    hbm.add("qkv", last.hbm + tiled_size(e, 3 * last.heads * hd, d, l))
    hbm.add("proj", tiled_size(e, nproj, d, l))
    hbm.add("fc1", tiled_size(e, nfc1, d, l))
    hbm.add("fc2", tiled_size(4 * e, nfc2, d, l))
    for h in range(nh):
        hbm.add(f"k{h}", tiled_size(hd, ctx, d, l))
    for h in range(nh):
        hbm.add(f"v{h}", tiled_size(ctx, hd, d, l))
    mm.hbm_layer = hbm.regions
    mm.hbm_layer_stride = -(-hbm.top // tile) * tile
    lm = Region(config.n_layer * mm.hbm_layer_stride, tiled_size(e, nvocab, d, l))
    mm.hbm = {"lm_head": lm}
    mm.hbm_size = lm.end

    layer = _Allocator()
    for name, size in [("attn_b", 3 * nh * hd), ("proj_b", nproj), ("ln2_g", e),
                       ("fc1_b", nfc1), ("fc2_b", nfc2), ("next_g", e)]:
        layer.add(name, size)
    mm.ddr_layer = layer.regions
    mm.ddr_layer_stride = layer.top
    ddr = _Allocator()
    ddr.add("tokens", ctx + 1)
    ddr.add("wte", vocab * e)
    ddr.add("wpe", ctx * e)
    ddr.add("ln1_g0", e)
    ddr.add("lm_b", nvocab)
    ddr.add("layers", config.n_layer * mm.ddr_layer_stride)
    ddr.add("logits", ctx * vocab if capture_logits else 0)
    mm.ddr = ddr.regions
    mm.ddr_size = ddr.top

    ctx_pad = -(-ctx // l) * l
    vrf = _Allocator(align=align)  # buffers start on a VPU/MFU lane row
    for name in recipe_registers(RECIPES["ln"])[0]:
        if name != "gamma":
            vrf.add(f"ln.{name}", e)
    # the gains of the two LayerNorms of a layer: each loaded while the other one's part of the
    # layer runs (the LayerNorm that follows a layer uses `gain1`: the next ln_1 or ln_f)
    vrf.add("gain1", e)
    vrf.add("gain2", e)
    for prefix in SOFTMAX_SETS:
        for name in recipe_registers(RECIPES[prefix])[0]:
            vrf.add(f"{prefix}.{name}", ctx_pad)
    for name, size in [("x", e), ("h", e), ("t0", e),
                       ("qkv", 3 * nh * hd), ("scores", ctx_pad), ("att", nh * hd),
                       ("att_full", e), ("proj", nproj), ("proj_full", e), ("fc1", nfc1),
                       ("fc1_full", 4 * e), ("fc2", nfc2), ("fc2_full", e), ("logits", nvocab),
                       ("pairs", 2 * cores)]:
        vrf.add(name, size)
    mm.vrf = vrf.regions
    mm.vrf_size = vrf.top

    if mm.vrf_size > VRF_SIZE:
        raise CompileError(
            f"core {slices.core}: the buffers need {mm.vrf_size} vector register-file words, "
            f"more than the {VRF_SIZE} there are")
    if mm.hbm_size // tile >= 1 << FIELD_BITS["hbm"]:
        raise CompileError(f"core {slices.core}: HBM image of {mm.hbm_size} elements exceeds the "
                           f"{FIELD_BITS['hbm']}-bit tile address field")
    if mm.ddr_size >= 1 << FIELD_BITS["ddr"]:
        raise CompileError(f"core {slices.core}: DDR image of {mm.ddr_size} elements exceeds the "
                           f"{FIELD_BITS['ddr']}-bit address field")
    for what, value in [("vocabulary", vocab), ("4*emb", 4 * e), ("context", ctx)]:
        if value >= 1 << 16:
            raise CompileError(f"{what} = {value} does not fit a 16-bit length field")
    return mm


def recipe_registers(steps):
    """``(vectors, scalars)``: the names a recipe's steps use, by kind (vector or scalar), in
    order of first appearance (inputs and constants included)."""
    kinds = {}
    for step in steps:
        primitive = VECTOR_PRIMITIVES[step.op]
        for name, kind in zip(step.srcs, primitive.operands):
            kinds.setdefault(name, kind)
        for name, kind in zip(step.dsts, primitive.result):
            kinds.setdefault(name, kind)
    return ([n for n, k in kinds.items() if k == "v"], [n for n, k in kinds.items() if k == "s"])


#: The softmax buffer sets the attention heads use in turn
#: (:func:`dfx_hw.compiler.program._attention`): head ``j`` uses set ``j % len(SOFTMAX_SETS)``.
SOFTMAX_SETS = ("sm", "sm2")
#: Recipes the programs use, by prefix: each prefix has its own vector buffers and scalar
#: registers; every softmax buffer set is a prefix of the same softmax recipe.
RECIPES = {"ln": LAYERNORM_SCALE_STEPS, **{prefix: SOFTMAX_STEPS for prefix in SOFTMAX_SETS}}


def _recipe_scalars():
    """Scalar register of every scalar name of every recipe (``"ln.mean"`` -> register)."""
    out, reg = {}, SREG["scratch"]
    for prefix, steps in RECIPES.items():
        for name in recipe_registers(steps)[1]:
            out[f"{prefix}.{name}"] = reg
            reg += 1
    if reg > SRF_SIZE:  # pragma: no cover - a recipe bug, caught at import
        raise AssertionError("the recipes need more scalar registers than there are")
    return out


#: Scalar registers of the recipes' scalar names.
RECIPE_SREG = _recipe_scalars()
