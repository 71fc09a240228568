"""The bit-true expectation: GPT-2 written directly in terms of :mod:`dfx_hw.model.bittrue`, one
token at a time, with no tiles, cores, memory maps or instructions.

The ISA simulator running compiled programs on any number of cores must reproduce its logits and
tokens bit for bit; this module shares nothing with the compiler but the numerics.
"""

import numpy as np

from ..geometry import U280
from ..model.bittrue import functions, recipes, reduce, vector_ops
from ..model.bittrue.fp16 import round_fp16

__all__ = ["BitTrueGPT2"]


class BitTrueGPT2:
    """GPT-2 on the bit-true numerics, with a key/value cache.

    Parameters
    ----------
    config : GPT2Config
    weights : GPT2Weights
        float32 weights; rounded to FP16 once (RNE).
    geometry : TileGeometry
        Fixes ``d`` (MFU tree width) and ``vpu_lanes`` (accumulation order).
    """

    def __init__(self, config, weights, geometry=U280):
        self.config, self.geometry = config, geometry
        r = lambda a: round_fp16(np.asarray(a, np.float32))  # noqa: E731
        self.wte, self.wpe = r(weights.wte), r(weights.wpe)
        # Every LayerNorm's bias folded into the bias of the matrix that reads it (the
        # numerics contract: the hardware applies the gain, the matrix's bias the LayerNorm's).
        self.lnf_g = r(weights.lnf_g)
        self.lm_b = recipes.fold_layernorm_bias(r(weights.lnf_b), self.wte.T)
        self.layers = []
        for layer in weights.layers:
            w = {k: r(v) for k, v in vars(layer).items()}
            w["attn_b"] = recipes.fold_layernorm_bias(w.pop("ln1_b"), w["attn_w"], w["attn_b"])
            w["fc1_b"] = recipes.fold_layernorm_bias(w.pop("ln2_b"), w["fc1_w"], w["fc1_b"])
            self.layers.append(w)
        hd = config.head_dim
        self.scale = (recipes.ATTENTION_SCALE if hd == 64 else np.float16(1.0 / np.sqrt(hd)))
        self.keys = [[] for _ in self.layers]
        self.values = [[] for _ in self.layers]

    def _mfu(self, x, w, b=None):
        return reduce.mfu_matvec(x, w, b, d=self.geometry.d)

    def _ln(self, x, gamma):
        return recipes.layernorm_scale(x, gamma, self.config.layer_norm_epsilon,
                                       lanes=self.geometry.vpu_lanes)

    def step(self, token, position):
        """Logits (FP16, ``vocab``) after feeding ``token`` at ``position``."""
        cfg = self.config
        e, hd, nh = cfg.n_embd, cfg.head_dim, cfg.n_head
        x = vector_ops.vadd(self.wte[token], self.wpe[position])
        for index, w in enumerate(self.layers):
            h = self._ln(x, w["ln1_g"])
            qkv = self._mfu(h, w["attn_w"], w["attn_b"])
            q, k, v = qkv[:e], qkv[e:2 * e], qkv[2 * e:]
            self.keys[index].append(k)
            self.values[index].append(v)
            keys, values = np.stack(self.keys[index]), np.stack(self.values[index])
            heads = []
            for head in range(nh):
                cols = slice(head * hd, (head + 1) * hd)
                raw = self._mfu(q[cols], keys[:, cols].T)
                p = recipes.softmax(raw, position + 1, lanes=self.geometry.vpu_lanes,
                                    scale=self.scale)
                heads.append(self._mfu(p, values[:, cols]))
            proj = self._mfu(np.concatenate(heads), w["proj_w"], w["proj_b"])
            x = vector_ops.vadd(x, proj)
            h = self._ln(x, w["ln2_g"])
            f = functions.gelu(self._mfu(h, w["fc1_w"], w["fc1_b"]))
            x = vector_ops.vadd(x, self._mfu(f, w["fc2_w"], w["fc2_b"]))
        return self._mfu(self._ln(x, self.lnf_g), self.wte.T, self.lm_b)

    def generate(self, prompt_ids, n_new):
        """Greedy continuation: ``(tokens, logits)`` with ``logits`` ``(n_new, vocab)`` FP16
        (the logits each new token was chosen from; ties go to the lowest index)."""
        ids = [int(t) for t in prompt_ids]
        for position, token in enumerate(ids[:-1]):
            self.step(token, position)
        tokens, logits = [], []
        position, token = len(ids) - 1, ids[-1]
        for _ in range(n_new):
            out = self.step(token, position)
            token = int(reduce.argmax(out, lanes=self.geometry.vpu_lanes)[1])
            tokens.append(token)
            logits.append(out)
            position += 1
        return tokens, np.stack(logits)
