"""GPT-2 weights and Hugging Face checkpoints (``config.json`` + ``model.safetensors``).

Tensors use the Hugging Face GPT-2 names (``wte.weight``, ``h.0.attn.c_attn.weight``, ...), with
or without the ``transformer.`` prefix that ``GPT2LMHeadModel`` adds. The LM head is tied to
``wte``: ``lm_head.weight`` is optional and, when present, must have ``wte``'s shape (its values
are not used). Linear weights are in the Hugging Face ``Conv1D`` orientation ``(in, out)``, so a
layer computes ``y = x @ W + b``. A checkpoint sharded by Hugging Face
(``model.safetensors.index.json``) is read too.

All problems with a checkpoint raise :class:`CheckpointError` (a :class:`ValueError`) with a
message that names the file or tensor.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors
import safetensors.numpy

from .config import GPT2Config

__all__ = [
    "CheckpointError", "LayerWeights", "GPT2Weights", "load_checkpoint", "save_checkpoint",
    "random_weights", "tensor_shapes", "CONFIG_FILE", "WEIGHTS_FILE", "WEIGHTS_INDEX_FILE",
    "PREFIX",
]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX_FILE = "model.safetensors.index.json"
PREFIX = "transformer."

# Hugging Face names of one decoder layer's tensors, by LayerWeights field.
_LAYER_NAMES = {
    "ln1_g": "ln_1.weight", "ln1_b": "ln_1.bias",
    "attn_w": "attn.c_attn.weight", "attn_b": "attn.c_attn.bias",
    "proj_w": "attn.c_proj.weight", "proj_b": "attn.c_proj.bias",
    "ln2_g": "ln_2.weight", "ln2_b": "ln_2.bias",
    "fc1_w": "mlp.c_fc.weight", "fc1_b": "mlp.c_fc.bias",
    "fc2_w": "mlp.c_proj.weight", "fc2_b": "mlp.c_proj.bias",
}
# Non-parameter buffers some Hugging Face exports contain (the causal mask); ignored on load.
_BUFFER_SUFFIXES = (".attn.bias", ".attn.masked_bias")
_LM_HEAD = "lm_head.weight"
_LOADABLE_DTYPES = ("F16", "F32", "F64")  # safetensors dtype names


class CheckpointError(ValueError):
    """A checkpoint is missing, malformed or does not match its configuration."""


@dataclass
class LayerWeights:
    """Parameters of one decoder layer, float32, Hugging Face orientation (``y = x @ W + b``)."""

    ln1_g: np.ndarray   #: (emb,) LayerNorm 1 gain
    ln1_b: np.ndarray   #: (emb,) LayerNorm 1 bias
    attn_w: np.ndarray  #: (emb, 3 emb) Q, K, V projection (columns: Q | K | V, heads inside)
    attn_b: np.ndarray  #: (3 emb,)
    proj_w: np.ndarray  #: (emb, emb) attention output projection
    proj_b: np.ndarray  #: (emb,)
    ln2_g: np.ndarray   #: (emb,) LayerNorm 2 gain
    ln2_b: np.ndarray   #: (emb,) LayerNorm 2 bias
    fc1_w: np.ndarray   #: (emb, 4 emb) MLP up projection
    fc1_b: np.ndarray   #: (4 emb,)
    fc2_w: np.ndarray   #: (4 emb, emb) MLP down projection
    fc2_b: np.ndarray   #: (emb,)


@dataclass
class GPT2Weights:
    """All parameters of a GPT-2 model, float32 NumPy arrays.

    Attributes
    ----------
    wte : ndarray (vocab, emb)
        Token embedding; also the (tied) LM head: ``logits = x @ wte.T``.
    wpe : ndarray (ctx, emb)
        Position embedding.
    layers : list of LayerWeights
        One entry per decoder layer.
    lnf_g, lnf_b : ndarray (emb,)
        Final LayerNorm.
    """

    wte: np.ndarray
    wpe: np.ndarray
    layers: list
    lnf_g: np.ndarray
    lnf_b: np.ndarray

    def named_tensors(self, *, prefix: str = "") -> dict:
        """The tensors by Hugging Face name (``prefix`` + name), in a stable order."""
        out = {f"{prefix}wte.weight": self.wte, f"{prefix}wpe.weight": self.wpe}
        for index, layer in enumerate(self.layers):
            for field, name in _LAYER_NAMES.items():
                out[f"{prefix}h.{index}.{name}"] = getattr(layer, field)
        out[f"{prefix}ln_f.weight"] = self.lnf_g
        out[f"{prefix}ln_f.bias"] = self.lnf_b
        return out


def tensor_shapes(config: GPT2Config) -> dict:
    """The expected shape of every tensor of ``config``, by Hugging Face name (no prefix)."""
    v, c, e = config.vocab_size, config.n_positions, config.n_embd
    layer = {
        "ln1_g": (e,), "ln1_b": (e,), "attn_w": (e, 3 * e), "attn_b": (3 * e,),
        "proj_w": (e, e), "proj_b": (e,), "ln2_g": (e,), "ln2_b": (e,),
        "fc1_w": (e, 4 * e), "fc1_b": (4 * e,), "fc2_w": (4 * e, e), "fc2_b": (e,),
    }
    out = {"wte.weight": (v, e), "wpe.weight": (c, e)}
    for index in range(config.n_layer):
        for field, name in _LAYER_NAMES.items():
            out[f"h.{index}.{name}"] = layer[field]
    out["ln_f.weight"] = (e,)
    out["ln_f.bias"] = (e,)
    return out


def random_weights(config: GPT2Config, seed: int = 0, scale: float = 0.02) -> GPT2Weights:
    """Random GPT-2-style weights for tests and benchmarks.

    Matrices and embeddings are normal with standard deviation ``scale`` (the residual output
    projections ``proj_w`` and ``fc2_w`` scaled down by ``sqrt(2 n_layer)`` as in GPT-2), LayerNorm
    gains are 1, biases and LayerNorm offsets are small normal values (``scale / 10``) so that
    they are exercised.
    """
    rng = np.random.default_rng(seed)
    small = scale / 10
    residual = scale / math.sqrt(2 * config.n_layer)

    def normal(shape, std):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std))

    weights = {}
    for name, shape in tensor_shapes(config).items():
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            weights[name] = np.ones(shape, np.float32)
        elif len(shape) == 1:
            weights[name] = normal(shape, small)
        elif name.endswith(("attn.c_proj.weight", "mlp.c_proj.weight")):
            weights[name] = normal(shape, residual)
        else:
            weights[name] = normal(shape, scale)
    return _assemble(config, weights)


def _assemble(config: GPT2Config, tensors: dict) -> GPT2Weights:
    layers = [
        LayerWeights(**{field: tensors[f"h.{index}.{name}"]
                        for field, name in _LAYER_NAMES.items()})
        for index in range(config.n_layer)
    ]
    return GPT2Weights(wte=tensors["wte.weight"], wpe=tensors["wpe.weight"], layers=layers,
                       lnf_g=tensors["ln_f.weight"], lnf_b=tensors["ln_f.bias"])


def load_config(path) -> GPT2Config:
    """Read ``config.json`` from the checkpoint directory ``path``."""
    directory = _checked_dir(path)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise CheckpointError(f"checkpoint directory {str(directory)!r} has no {CONFIG_FILE}")
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{config_path} is not valid JSON: {error}") from None
    try:
        return GPT2Config.from_hf_dict(data)
    except ValueError as error:
        raise CheckpointError(f"{config_path}: {error}") from None


def _checked_dir(path) -> Path:
    directory = Path(path)
    if not directory.exists():
        raise CheckpointError(f"checkpoint directory {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint path {str(directory)!r} is not a directory")
    return directory


def _weight_files(directory: Path) -> list:
    single = directory / WEIGHTS_FILE
    if single.is_file():
        return [single]
    index = directory / WEIGHTS_INDEX_FILE
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            names = sorted(set(weight_map.values()))
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError,
                AttributeError) as error:
            raise CheckpointError(f"{index} is not a valid safetensors index: {error!r}") from None
        files = [directory / name for name in names]
        for file in files:
            if not file.is_file():
                raise CheckpointError(f"{index} names {file.name!r}, which does not exist")
        return files
    raise CheckpointError(f"checkpoint directory {str(directory)!r} has no {WEIGHTS_FILE}")


def _read_tensors(files: list) -> dict:
    """Read every parameter tensor of ``files`` as NumPy, keyed by name as stored."""
    out = {}
    for file in files:
        try:
            with safetensors.safe_open(str(file), framework="numpy") as handle:
                for name in handle.keys():
                    if name.endswith(_BUFFER_SUFFIXES):
                        continue
                    dtype_name = handle.get_slice(name).get_dtype()
                    if dtype_name not in _LOADABLE_DTYPES:
                        raise CheckpointError(
                            f"{file}: tensor {name!r} has dtype {dtype_name}; "
                            f"expected one of {', '.join(_LOADABLE_DTYPES)}")
                    out[name] = handle.get_tensor(name)
        except CheckpointError:
            raise
        except (OSError, safetensors.SafetensorError, ValueError) as error:
            raise CheckpointError(f"cannot read safetensors file {str(file)!r}: {error}") from None
    return out


def load_checkpoint(path):
    """Load a Hugging Face GPT-2 checkpoint directory.

    Parameters
    ----------
    path : str or Path
        A directory holding ``config.json`` and ``model.safetensors`` (or a sharded
        ``model.safetensors.index.json`` with its shards).

    Returns
    -------
    (GPT2Config, GPT2Weights)
        The configuration and float32 weights (half- and double-precision tensors are converted).

    Raises
    ------
    CheckpointError
        Missing directory or file, malformed JSON or configuration, unreadable safetensors file,
        a tensor that is missing, has an unexpected name, shape or dtype.
    """
    config = load_config(path)
    files = _weight_files(Path(path))
    expected = tensor_shapes(config)
    raw = _read_tensors(files)
    prefixed = f"{PREFIX}wte.weight" in raw
    prefix = PREFIX if prefixed else ""
    where = str(files[0]) if len(files) == 1 else str(Path(path) / WEIGHTS_INDEX_FILE)

    tensors = {}
    for name, shape in expected.items():
        stored = raw.pop(prefix + name, None)
        if stored is None:
            raise CheckpointError(f"{where}: missing tensor {prefix + name!r}")
        if tuple(stored.shape) != shape:
            raise CheckpointError(
                f"{where}: tensor {prefix + name!r} has shape {tuple(stored.shape)}, "
                f"expected {shape} for {_describe(config)}")
        tensors[name] = np.ascontiguousarray(stored, dtype=np.float32)
    lm_head = raw.pop(_LM_HEAD, None)
    if lm_head is not None and tuple(lm_head.shape) != expected["wte.weight"]:
        raise CheckpointError(
            f"{where}: tensor {_LM_HEAD!r} has shape {tuple(lm_head.shape)}, expected "
            f"{expected['wte.weight']} (the LM head is tied to wte)")
    if raw:
        names = ", ".join(repr(name) for name in sorted(raw)[:5])
        more = f" and {len(raw) - 5} more" if len(raw) > 5 else ""
        raise CheckpointError(
            f"{where}: unexpected tensors {names}{more} for {_describe(config)}")
    return config, _assemble(config, tensors)


def _describe(config: GPT2Config) -> str:
    return (f"vocab_size={config.vocab_size}, n_positions={config.n_positions}, "
            f"n_embd={config.n_embd}, n_layer={config.n_layer}, n_head={config.n_head}")


def save_checkpoint(path, config: GPT2Config, weights: GPT2Weights, *, prefix: bool = True,
                    dtype=np.float32, lm_head: bool = False) -> Path:
    """Write a Hugging Face GPT-2 checkpoint directory (created if needed).

    Parameters
    ----------
    path : str or Path
        Output directory; ``config.json`` and ``model.safetensors`` are (over)written.
    config, weights
        The model. Every tensor must have the shape ``config`` implies.
    prefix : bool
        Name tensors ``transformer.*`` as ``GPT2LMHeadModel`` does (default) or without the
        prefix as ``GPT2Model`` does.
    dtype : numpy.float32 or numpy.float16
        Storage type of every tensor.
    lm_head : bool
        Also store the tied head as ``lm_head.weight`` (a copy of ``wte``).

    Returns
    -------
    Path
        The directory.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float16)):
        raise ValueError(f"checkpoint dtype must be float32 or float16, not {dtype}")
    expected = tensor_shapes(config)
    tensors = {}
    for name, tensor in weights.named_tensors().items():
        if name not in expected:
            raise ValueError(f"weights have {len(weights.layers)} layers, config has "
                             f"n_layer={config.n_layer}")
        if tuple(np.shape(tensor)) != expected[name]:
            raise ValueError(f"tensor {name!r} has shape {tuple(np.shape(tensor))}, "
                             f"expected {expected[name]}")
        tensors[(PREFIX if prefix else "") + name] = np.ascontiguousarray(tensor, dtype=dtype)
    if len(tensors) != len(expected):
        raise ValueError(f"weights have {len(weights.layers)} layers, config has "
                         f"n_layer={config.n_layer}")
    if lm_head:
        tensors[_LM_HEAD] = np.ascontiguousarray(weights.wte, dtype=dtype)
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CONFIG_FILE).write_text(json.dumps(config.to_hf_dict(), indent=2) + "\n",
                                         encoding="utf-8")
    safetensors.numpy.save_file(tensors, str(directory / WEIGHTS_FILE), metadata={"format": "pt"})
    return directory
