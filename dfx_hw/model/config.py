"""GPT-2 model shapes: the four published presets, custom shapes, and the Hugging Face
``config.json`` format.

:class:`GPT2Config` is the one description of a model's shape used by the float reference, the
bit-true model, the compiler, the simulators and the hardware generator.
"""

from dataclasses import dataclass, fields
from types import MappingProxyType

__all__ = ["GPT2Config", "PRESETS", "PRESET_ALIASES"]


@dataclass(frozen=True)
class GPT2Config:
    """Shape of a GPT-2 model (pre-LayerNorm decoder, ``gelu_new`` activation, tied LM head).

    Parameters
    ----------
    vocab_size : int
        Number of tokens (rows of ``wte``; columns of the logits).
    n_positions : int
        Context length (rows of ``wpe``): the most tokens a sequence may hold.
    n_embd : int
        Embedding width ``emb``.
    n_layer : int
        Number of decoder layers.
    n_head : int
        Number of attention heads; must divide ``n_embd``.
    layer_norm_epsilon : float
        Added to the variance inside the square root of every LayerNorm.

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``n_head`` does not divide ``n_embd``, or
        ``layer_norm_epsilon`` is not a positive finite number. The message names the field and
        the value.
    """

    vocab_size: int
    n_positions: int
    n_embd: int
    n_layer: int
    n_head: int
    layer_norm_epsilon: float = 1e-5

    def __post_init__(self):
        for name in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"GPT2Config.{name} must be a positive integer, not {value!r}")
        if self.n_embd % self.n_head != 0:
            raise ValueError(
                f"GPT2Config.n_embd ({self.n_embd}) must be a multiple of "
                f"GPT2Config.n_head ({self.n_head})")
        eps = self.layer_norm_epsilon
        if (isinstance(eps, bool) or not isinstance(eps, (int, float))
                or not 0 < eps < float("inf")):
            raise ValueError(
                f"GPT2Config.layer_norm_epsilon must be a positive finite number, not {eps!r}")
        object.__setattr__(self, "layer_norm_epsilon", float(eps))

    @property
    def head_dim(self) -> int:
        """Width of one attention head, ``n_embd // n_head``."""
        return self.n_embd // self.n_head

    @property
    def n_params(self) -> int:
        """Number of parameters (with the LM head tied to ``wte``, so counted once)."""
        e = self.n_embd
        layer_norms = 4 * e
        per_layer = layer_norms + (3 * e * e + 3 * e) + (e * e + e) + (4 * e * e + 4 * e) \
            + (4 * e * e + e)
        return self.vocab_size * e + self.n_positions * e + self.n_layer * per_layer + 2 * e

    @classmethod
    def preset(cls, name: str) -> "GPT2Config":
        """The published GPT-2 shape called ``name``.

        Parameters
        ----------
        name : str
            ``"124M"``, ``"345M"``, ``"774M"`` or ``"1.5B"``, or the Hugging Face model names
            ``"gpt2"``, ``"gpt2-medium"``, ``"gpt2-large"``, ``"gpt2-xl"``.

        Raises
        ------
        ValueError
            For an unknown name; the message lists the known ones.
        """
        key = PRESET_ALIASES.get(name, name)
        if key not in PRESETS:
            known = ", ".join([*PRESETS, *PRESET_ALIASES])
            raise ValueError(f"unknown GPT-2 preset {name!r}; known presets: {known}")
        return PRESETS[key]

    @classmethod
    def from_hf_dict(cls, data) -> "GPT2Config":
        """Build a config from a Hugging Face GPT-2 ``config.json`` (already parsed).

        ``n_ctx`` is used when ``n_positions`` is absent. Keys that do not change the computation
        (dropout rates, ``architectures``, ...) are ignored; those that would (``n_inner`` other
        than ``4 * n_embd``, ``scale_attn_weights`` false, ``scale_attn_by_inverse_layer_idx``,
        ``add_cross_attention``) are refused.

        Raises
        ------
        ValueError
            If ``data`` is not a JSON object, a required key is missing, a value is invalid, or
            an option is not GPT-2's (``activation_function`` other than ``"gelu_new"``, ...).
        """
        if not isinstance(data, dict):
            raise ValueError(f"config must be a JSON object, not {type(data).__name__}")
        activation = data.get("activation_function", "gelu_new")
        if activation != "gelu_new":
            raise ValueError(
                f"activation_function {activation!r} is not supported; "
                f"GPT-2 uses 'gelu_new' (the tanh approximation)")
        for key, default in _HF_FIXED.items():
            if data.get(key, default) not in (None, default):
                raise ValueError(f"{key}={data[key]!r} is not supported; GPT-2 has "
                                 f"{key}={default!r}")
        n_inner = data.get("n_inner")
        if n_inner is not None and n_inner != 4 * data.get("n_embd", -1):
            raise ValueError(f"n_inner={n_inner!r} is not supported; GPT-2's MLP width is "
                             f"4 * n_embd (n_inner null)")
        values = {}
        for name in ("vocab_size", "n_embd", "n_layer", "n_head"):
            if name not in data:
                raise ValueError(f"config is missing the key {name!r}")
            values[name] = data[name]
        if "n_positions" in data:
            values["n_positions"] = data["n_positions"]
        elif "n_ctx" in data:
            values["n_positions"] = data["n_ctx"]
        else:
            raise ValueError("config is missing the key 'n_positions' (or 'n_ctx')")
        if "layer_norm_epsilon" in data:
            values["layer_norm_epsilon"] = data["layer_norm_epsilon"]
        return cls(**values)

    def to_hf_dict(self) -> dict:
        """This config as a Hugging Face ``GPT2LMHeadModel`` ``config.json`` object."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update({
            "model_type": "gpt2",
            "architectures": ["GPT2LMHeadModel"],
            "n_ctx": self.n_positions,
            "activation_function": "gelu_new",
            "tie_word_embeddings": True,
        })
        return data


# Hugging Face GPT-2 options that change the computation: only GPT-2's own values are accepted.
_HF_FIXED = {
    "scale_attn_weights": True,
    "scale_attn_by_inverse_layer_idx": False,
    "add_cross_attention": False,
}

PRESETS = MappingProxyType({
    "124M": GPT2Config(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12),
    "345M": GPT2Config(vocab_size=50257, n_positions=1024, n_embd=1024, n_layer=24, n_head=16),
    "774M": GPT2Config(vocab_size=50257, n_positions=1024, n_embd=1280, n_layer=36, n_head=20),
    "1.5B": GPT2Config(vocab_size=50257, n_positions=1024, n_embd=1600, n_layer=48, n_head=25),
})
"""The published GPT-2 shapes, by parameter count."""

PRESET_ALIASES = MappingProxyType({
    "gpt2": "124M",
    "gpt2-medium": "345M",
    "gpt2-large": "774M",
    "gpt2-xl": "1.5B",
})
"""Hugging Face model names of the presets."""
