"""HBM and DDR images of each core (contents laid out by :mod:`.memmap`)."""

import numpy as np

from ..model.bittrue.fp16 import round_fp16
from ..model.bittrue.recipes import fold_layernorm_bias
from .memmap import CoreMemoryMap
from .tiling import WEIGHT_BAND, pack

__all__ = ["fp16_weights", "hbm_image", "ddr_image", "qkv_columns"]


def fp16_weights(weights):
    """Every tensor of ``weights`` rounded to FP16 (the one conversion used by the compiler and
    the bit-true expectation): ``{name: array}`` keyed like :class:`GPT2Weights` fields, with
    ``layers`` a list of dicts."""
    def conv(a):
        return round_fp16(np.asarray(a, np.float32))
    layers = [{name: conv(getattr(layer, name)) for name in vars(layer)}
              for layer in weights.layers]
    return {"wte": conv(weights.wte), "wpe": conv(weights.wpe), "lnf_g": conv(weights.lnf_g),
            "lnf_b": conv(weights.lnf_b), "layers": layers}


def qkv_columns(config, heads, groups):
    """Columns of the full ``attn_w`` a core with global heads ``range(*heads)`` computes, in its
    local order: per group of ``groups`` (:class:`~.memmap.QkvGroup`, local head numbers) Q of
    each of its heads, then K, then V."""
    e, hd = config.n_embd, config.head_dim
    cols = []
    for group in groups:
        for part in range(3):
            for h in range(heads[0] + group.start, heads[0] + group.stop):
                start = part * e + h * hd
                cols.extend(range(start, start + hd))
    return np.asarray(cols, np.int64)


def hbm_image(mm: CoreMemoryMap, w16):
    """The HBM image (float16 array) of the core of ``mm``; ``w16`` from :func:`fp16_weights`."""
    g, s, cfg = mm.geometry, mm.slices, mm.config
    image = np.zeros(mm.hbm_size, np.float16)
    cols = qkv_columns(cfg, s.heads, mm.qkv_groups)

    def put(addr, matrix):
        flat = pack(matrix, d=g.d, l=g.l, band=WEIGHT_BAND)
        image[addr:addr + flat.size] = flat

    for index, layer in enumerate(w16["layers"]):
        for group in mm.qkv_groups:
            first = group.column
            put(mm.hbm_layer_addr(index, "qkv") + group.hbm,
                layer["attn_w"][:, cols[first:first + 3 * group.heads * cfg.head_dim]])
        put(mm.hbm_layer_addr(index, "proj"), layer["proj_w"][:, slice(*s.proj)])
        put(mm.hbm_layer_addr(index, "fc1"), layer["fc1_w"][:, slice(*s.fc1)])
        put(mm.hbm_layer_addr(index, "fc2"), layer["fc2_w"][:, slice(*s.fc2)])
    put(mm.hbm["lm_head"].addr, w16["wte"][slice(*s.vocab)].T)
    return image


def ddr_image(mm: CoreMemoryMap, w16):
    """The DDR image (float16 array; token ids are stored as their 16-bit integers) of the core
    of ``mm``. The token buffer is zero: the host writes the prompt before starting."""
    s, cfg = mm.slices, mm.config
    image = np.zeros(mm.ddr_size, np.float16)
    cols = qkv_columns(cfg, s.heads, mm.qkv_groups)

    def put(addr, values):
        values = np.asarray(values, np.float16).reshape(-1)
        image[addr:addr + values.size] = values

    put(mm.ddr["wte"].addr, w16["wte"])
    put(mm.ddr["wpe"].addr, w16["wpe"])
    layers = w16["layers"]
    put(mm.ddr["ln1_g0"].addr, layers[0]["ln1_g"] if layers else w16["lnf_g"])
    put(mm.ddr["lm_b"].addr, fold_layernorm_bias(w16["lnf_b"], w16["wte"][slice(*s.vocab)].T))
    for index, layer in enumerate(w16["layers"]):
        fc1 = slice(*s.fc1)
        # each LayerNorm's bias is folded into the bias of the matrix that reads it
        following = layers[index + 1]["ln1_g"] if index + 1 < len(layers) else w16["lnf_g"]
        local = {"ln2_g": layer["ln2_g"], "next_g": following,
                 "attn_b": fold_layernorm_bias(layer["ln1_b"], layer["attn_w"][:, cols],
                                               layer["attn_b"][cols]),
                 "proj_b": layer["proj_b"][slice(*s.proj)],
                 "fc1_b": fold_layernorm_bias(layer["ln2_b"], layer["fc1_w"][:, fc1],
                                              layer["fc1_b"][fc1]),
                 "fc2_b": layer["fc2_b"][slice(*s.fc2)]}
        for name in mm.ddr_layer:
            put(mm.ddr_layer_addr(index, name), local[name])
    return image
