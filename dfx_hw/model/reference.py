"""The float32 NumPy GPT-2: level 0 of the checks (DESIGN.md, section 5).

GPT-2 as published: token + position embedding, ``n_layer`` pre-LayerNorm decoder layers
(``x += proj(attn(LN1(x)))``, ``x += fc2(gelu_new(fc1(LN2(x))))``), final LayerNorm, and the LM
head tied to the token embedding (``logits = LNf(x) @ wte.T``). Attention is causal and scaled by
``1 / sqrt(head_dim)``. Every operation is float32 (NumPy BLAS matrix products).

:class:`ReferenceGPT2` keeps a key/value cache so that *summarization* (:meth:`~ReferenceGPT2.
prefill`, the whole prompt at once) is followed by *generation* (:meth:`~ReferenceGPT2.decode`,
one token at a time), as the hardware does; :meth:`~ReferenceGPT2.forward_full` recomputes a whole
sequence without the cache, for checking.
"""

import numpy as np

from .checkpoint import GPT2Weights, tensor_shapes
from .config import GPT2Config

__all__ = ["ReferenceGPT2", "gelu_new", "layer_norm", "softmax"]

_GELU_C = np.float32(np.sqrt(2.0 / np.pi))


def gelu_new(x: np.ndarray) -> np.ndarray:
    """GPT-2's GELU, the tanh approximation ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    x = np.asarray(x, dtype=np.float32)
    return np.float32(0.5) * x * (np.float32(1) + np.tanh(
        _GELU_C * (x + np.float32(0.044715) * x * x * x)))


def layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis: ``(x - mean) / sqrt(var + eps) * gain + bias``
    (biased variance, as PyTorch)."""
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * gain + bias


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (the row maximum is subtracted first)."""
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class ReferenceGPT2:
    """Float32 GPT-2 with a key/value cache.

    Parameters
    ----------
    config : GPT2Config
        The model's shape.
    weights : GPT2Weights
        Its parameters (float32, Hugging Face orientation), as from
        :func:`dfx_hw.model.checkpoint.load_checkpoint` or
        :func:`~dfx_hw.model.checkpoint.random_weights`.

    Raises
    ------
    ValueError
        If ``weights`` do not have the shapes ``config`` implies.

    Notes
    -----
    Token ids are validated on every call: an empty prompt, a prompt longer than the context,
    decoding past the context and an id outside ``[0, vocab_size)`` each raise :class:`ValueError`
    naming the problem.
    """

    def __init__(self, config: GPT2Config, weights: GPT2Weights):
        if not isinstance(config, GPT2Config):
            raise TypeError(f"config must be a GPT2Config, not {type(config).__name__}")
        expected = tensor_shapes(config)
        if len(weights.layers) != config.n_layer:
            raise ValueError(f"weights have {len(weights.layers)} layers, config has "
                             f"n_layer={config.n_layer}")
        for name, tensor in weights.named_tensors().items():
            if tuple(np.shape(tensor)) != expected[name]:
                raise ValueError(f"weight {name!r} has shape {tuple(np.shape(tensor))}, "
                                 f"expected {expected[name]}")
        self._config = config
        self._w = weights
        shape = (config.n_layer, config.n_head, config.n_positions, config.head_dim)
        self._k_cache = np.zeros(shape, np.float32)
        self._v_cache = np.zeros(shape, np.float32)
        self._position = 0

    @property
    def config(self) -> GPT2Config:
        return self._config

    @property
    def weights(self) -> GPT2Weights:
        return self._w

    @property
    def position(self) -> int:
        """Number of tokens in the key/value cache (the position the next token will take)."""
        return self._position

    def reset(self):
        """Empty the key/value cache."""
        self._position = 0

    def prefill(self, token_ids) -> np.ndarray:
        """Summarization: empty the cache, run the whole prompt, return the last position's
        logits ``(vocab_size,)``."""
        ids = self._check_ids(token_ids, what="prompt")
        if len(ids) > self._config.n_positions:
            raise ValueError(f"prompt has {len(ids)} tokens, longer than the context of "
                             f"{self._config.n_positions} positions")
        self.reset()
        hidden = self._run_cached(ids)
        return self._logits(hidden[-1])

    def decode(self, token_id) -> np.ndarray:
        """Generation: append one token at :attr:`position` and return its logits
        ``(vocab_size,)``."""
        ids = self._check_ids([token_id], what="token")
        if self._position == 0:
            raise ValueError("decode() needs a prefill() first: the cache is empty")
        if self._position >= self._config.n_positions:
            raise ValueError(f"cannot decode past the context: all {self._config.n_positions} "
                             f"positions are used")
        hidden = self._run_cached(ids)
        return self._logits(hidden[-1])

    def forward_full(self, token_ids) -> np.ndarray:
        """Logits ``(n, vocab_size)`` of every position of a sequence, recomputed without the
        cache (which it leaves untouched)."""
        ids = self._check_ids(token_ids, what="sequence")
        n = len(ids)
        if n > self._config.n_positions:
            raise ValueError(f"sequence has {n} tokens, longer than the context of "
                             f"{self._config.n_positions} positions")
        x = self._embed(ids, 0)
        for layer in self._w.layers:
            q, k, v = self._qkv(layer, x)
            x = self._finish_layer(layer, x, self._attend(q, k, v, first_query=0))
        return self._logits(x)

    # -- internals ---------------------------------------------------------------------------

    def _check_ids(self, token_ids, *, what: str) -> np.ndarray:
        ids = np.asarray(token_ids)
        if ids.ndim != 1:
            raise ValueError(f"{what} must be a 1-D sequence of token ids, got shape {ids.shape}")
        if len(ids) == 0:
            raise ValueError(f"{what} is empty: at least one token is needed")
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"{what} token ids must be integers, not {ids.dtype}")
        vocab = self._config.vocab_size
        bad = (ids < 0) | (ids >= vocab)
        if bad.any():
            raise ValueError(f"token id {int(ids[np.argmax(bad)])} is outside the vocabulary "
                             f"(vocab_size={vocab}, valid ids 0..{vocab - 1})")
        return ids.astype(np.int64)

    def _embed(self, ids: np.ndarray, start: int) -> np.ndarray:
        return self._w.wte[ids] + self._w.wpe[start:start + len(ids)]

    def _qkv(self, layer, x: np.ndarray):
        """Q, K, V of ``x`` (n, emb), each (n_head, n, head_dim)."""
        c = self._config
        h = layer_norm(x, layer.ln1_g, layer.ln1_b, c.layer_norm_epsilon)
        qkv = h @ layer.attn_w + layer.attn_b
        qkv = qkv.reshape(len(x), 3, c.n_head, c.head_dim).transpose(1, 2, 0, 3)
        return qkv[0], qkv[1], qkv[2]

    def _attend(self, q, k, v, *, first_query: int) -> np.ndarray:
        """Causal attention of queries at positions ``first_query..`` over keys ``0..``; returns
        (n, emb) with the heads concatenated."""
        n, t = q.shape[1], k.shape[1]
        scores = (q @ k.transpose(0, 2, 1)) * np.float32(1.0 / np.sqrt(self._config.head_dim))
        if n > 1:
            future = np.arange(t)[None, :] > (first_query + np.arange(n))[:, None]
            scores = np.where(future, np.float32(-np.inf), scores)
        out = softmax(scores) @ v                                   # (n_head, n, head_dim)
        return out.transpose(1, 0, 2).reshape(n, self._config.n_embd)

    def _finish_layer(self, layer, x: np.ndarray, attn: np.ndarray) -> np.ndarray:
        x = x + (attn @ layer.proj_w + layer.proj_b)
        h = layer_norm(x, layer.ln2_g, layer.ln2_b, self._config.layer_norm_epsilon)
        return x + (gelu_new(h @ layer.fc1_w + layer.fc1_b) @ layer.fc2_w + layer.fc2_b)

    def _run_cached(self, ids: np.ndarray) -> np.ndarray:
        start, end = self._position, self._position + len(ids)
        x = self._embed(ids, start)
        for index, layer in enumerate(self._w.layers):
            q, k, v = self._qkv(layer, x)
            self._k_cache[index, :, start:end] = k
            self._v_cache[index, :, start:end] = v
            attn = self._attend(q, self._k_cache[index, :, :end], self._v_cache[index, :, :end],
                                first_query=start)
            x = self._finish_layer(layer, x, attn)
        self._position = end
        return x

    def _logits(self, hidden: np.ndarray) -> np.ndarray:
        eps = self._config.layer_norm_epsilon
        return layer_norm(hidden, self._w.lnf_g, self._w.lnf_b, eps) @ self._w.wte.T
