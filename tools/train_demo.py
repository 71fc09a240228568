#!/usr/bin/env python3
"""Train the GPT-2 demo model (and its BPE tokenizer) that DFX ships in ``models/demo``.

Offline tooling only: PyTorch (CPU) is used here and nowhere in :mod:`dfx_hw`. The checkpoint is
written in the Hugging Face ``GPT2LMHeadModel`` format (``config.json`` + ``model.safetensors``,
float16, tied LM head omitted) so that any GPT-2 loader, including the project's float reference,
reads it unchanged.

Model
    GPT-2 exactly as ``GPT2LMHeadModel`` computes it: learned position embeddings, pre-LayerNorm
    blocks (eps 1e-5), causal attention scaled by ``1/sqrt(head_size)``, ``gelu_new`` (tanh
    approximation) MLP of width ``4 * n_embd``, final LayerNorm, LM head tied to ``wte``.

Tokenizer
    ``--tokenizer bpe`` (the default): a byte-level BPE (GPT-2's byte alphabet and decoder)
    trained with the ``tokenizers`` library on the training files only, ``--vocab-size`` tokens in
    all (default 4,001 = ``<|endoftext|>`` + 256 bytes + 3,744 merges; deliberately not a multiple
    of 16 or of a core count, so the vocabulary splits unevenly across cores). It is written as a
    Hugging Face ``tokenizer.json`` next to the weights. Each file is encoded on its own and
    followed by ``<|endoftext|>``. ``--tokenizer byte``: token id = byte value (vocabulary 256,
    files concatenated), the earlier demo model's scheme.

    The pre-tokenizer (``--pre-tokenizer``) decides where BPE tokens may not cross. ``code`` (the
    default, :data:`CODE_SPLIT_PATTERN`): a name is cut before each underscore run
    (``_parse_header`` -> ``_parse`` ``_header``, ``__init__`` -> ``__init`` ``__``); each such
    segment, underscore run or punctuation run takes ONE following space with it; a newline takes
    the indentation after it; other whitespace runs stand alone. ``"def "`` is then one piece
    (and one token), so a prompt ending in a space ends at a natural token boundary. Cutting
    names before ``_`` spreads "the name goes on" over many ``_word`` tokens instead of one
    ``_`` token, so greedy decoding ends a name (``(``) rather than repeating a piece
    (``_init_init_...``, seen with names kept whole). ``gpt2``: GPT-2's own regex, where a space
    belongs to the FOLLOWING word, so ``"def "`` ends in a lone space token that the training
    text almost never shows before a name (greedy decoding of such a model looped; see
    ``--space-split``).

Batches
    Windows of ``SEQ_LEN + 1`` tokens at uniformly random offsets of the training stream, except
    that ``--line-start-windows F`` starts ``round(F * batch size)`` windows of each batch at a
    line whose first token after its indentation is one of :data:`LINE_START_KEYWORDS`
    (``def ``, ``class ``), chosen uniformly among all such lines: then the keyword sits at
    position 0 with no context before it, exactly like the prompt ``"def "`` of ``make sim``,
    which uniformly placed windows almost never show (such a line opens at about one token in
    170 of the training stream, and a random window starts on one that rarely).

Data
    The ``*.py`` files of the running interpreter's standard library
    (``sysconfig.get_paths()["stdlib"]``), excluding ``test``/``tests`` directories and
    ``site-packages``, sorted by relative path. Every ``HOLDOUT_EVERY``-th file (index 0, 20, 40,
    ...) is held out; the rest are concatenated into the training stream.

Loss
    Reported in nats per byte of text (total token negative log-likelihood over the UTF-8 bytes
    those tokens stand for; ``<|endoftext|>`` counts 0 bytes but its loss is counted), so models
    with different tokenizers compare; per-token figures are recorded too.

Usage
    ``tools/train_demo.py --out models/demo`` (what ``make demo-model`` runs) trains
    ``DEFAULT_STEPS`` steps from scratch, deterministically for a seed. ``--minutes M`` instead
    trains for M minutes of wall clock with the cosine spread over time, so that it fits a busy
    machine; the step count it reached is recorded. ``--init-from DIR`` continues from the weights
    in DIR with a fresh optimiser and schedule (and must use another ``--seed``); the record of
    the earlier run is kept in ``training.json``. ``models/demo/TRAINING.md`` says how the shipped
    model was made.

    ``--record-only --init-from DIR`` trains nothing: it writes the weights of DIR unchanged
    to ``--out`` with a full record (held-out loss, check, sample), as a stage of 0 steps whose
    ``previous_stage`` is DIR's ``training.json``; it is how a periodic checkpoint of a longer
    run is shipped.

    Training ends by exporting and checking the checkpoint; ``--check`` alone re-checks an
    existing one: it is loaded with pure NumPy, run through an independent NumPy forward pass and
    compared with the PyTorch model built from the same float16 weights (in float32).
"""

import argparse
import json
import math
import os
import platform
import shlex
import sys
import sysconfig
import time
from pathlib import Path

# On a shared machine, idle OpenMP threads should sleep rather than spin (set before torch loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.numpy import load_file, save_file  # noqa: E402

# --- Model shape and training recipe ---------------------------------------------------------
BYTE_VOCAB_SIZE = 256       # byte-level: token id = byte value
DEFAULT_BPE_VOCAB = 4001    # 1 special + 256 bytes + 3744 merges; 4001 = 4*1000 + 1, odd
EOT = "<|endoftext|>"
DEFAULT_SPACE_SPLIT = 0.0   # see BPECodec.split_spaces (for the gpt2 pre-tokenizer only)
# The ``code`` pre-tokenizer: a name segment (letters/digits with the underscores before them), a
# run of underscores or of punctuation, each with one trailing space; a newline with the
# indentation after it; any other whitespace run.
CODE_SPLIT_PATTERN = (r"_*[\p{L}\p{N}]+ ?|_+ ?|[^\s\p{L}\p{N}_]+ ?|\n[^\S\n]*|[^\S\n]+")
PRE_TOKENIZERS = ("code", "gpt2")
DEFAULT_LINE_START_WINDOWS = 0.0  # see line_start_offsets
LINE_START_KEYWORDS = ("def ", "class ")  # tokens (code pre-tokenizer) a line-start window opens
N_EMBD = 256
N_HEAD = 4                  # head size 64
N_LAYER = 4
N_POSITIONS = 256
LAYER_NORM_EPS = 1e-5
HOLDOUT_EVERY = 20          # file index % 20 == 0 is held out
DEFAULT_STEPS = 1300         # batch-8 steps of a one-stage run from scratch
DEFAULT_SEED = 0
BATCH_SIZE = 8
SEQ_LEN = N_POSITIONS
PEAK_LR = 2e-3
MIN_LR_FRACTION = 0.1
WARMUP_STEPS = 50
WEIGHT_DECAY = 0.1
BETAS = (0.9, 0.95)
GRAD_CLIP = 1.0
EVAL_EVERY = 100            # steps between held-out evaluations (and checkpoint writes)
CHECKPOINT_SECONDS = 240    # also write a checkpoint at least this often (busy machines)
EVAL_WINDOWS = 64           # fixed held-out subset evaluated periodically (x SEQ_LEN bytes)
FINAL_EVAL_WINDOWS = 256    # fixed training subset evaluated once at the end
CHECK_PROMPT = "def "
CHECK_TOLERANCE = 1e-3      # max abs logit difference NumPy vs PyTorch, both float32
SAMPLE_TOKENS = 100         # tokens of the greedy sample (bytes for the byte tokenizer)
MAX_CHECKPOINT_BYTES = 10_000_000  # 10 MB

LN2 = math.log(2.0)


# --- Data ------------------------------------------------------------------------------------

def stdlib_files():
    """Sorted standard-library ``*.py`` files (no test directories, no site-packages)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    excluded = {"test", "tests", "site-packages"}
    files = [p for p in root.rglob("*.py")
             if not excluded & set(p.relative_to(root).parts[:-1])]
    files.sort(key=lambda p: p.relative_to(root).as_posix())
    if not files:
        raise ValueError(f"no Python files found under the standard library at {root}")
    return root, files


def load_corpus():
    """Return ``(train_parts, heldout_parts, info)``: file contents (bytes) split by file."""
    root, files = stdlib_files()
    train_parts, heldout_parts = [], []
    for index, path in enumerate(files):
        (heldout_parts if index % HOLDOUT_EVERY == 0 else train_parts).append(path.read_bytes())
    info = {
        "source": "Python standard library *.py (no test/tests dirs, no site-packages)",
        "stdlib_path": str(root),
        "python_version": platform.python_version(),
        "split": f"sorted by relative path; file index % {HOLDOUT_EVERY} == 0 held out",
        "train_files": len(train_parts), "train_bytes": sum(map(len, train_parts)),
        "heldout_files": len(heldout_parts), "heldout_bytes": sum(map(len, heldout_parts)),
    }
    return train_parts, heldout_parts, info


class ByteCodec:
    """Token id = byte value; files are concatenated."""

    kind = "byte"
    vocab_size = BYTE_VOCAB_SIZE
    token_bytes = np.ones(BYTE_VOCAB_SIZE, dtype=np.int64)

    def encode(self, text):
        return list(text.encode("utf-8"))

    def decode(self, ids):
        return bytes(int(i) for i in ids).decode("utf-8", errors="replace")

    def encode_files(self, parts):
        return np.frombuffer(b"".join(parts), dtype=np.uint8).astype(np.int64)

    def describe(self):
        return {"kind": "byte", "vocab_size": BYTE_VOCAB_SIZE,
                "note": "token id = byte value; files concatenated"}


class BPECodec:
    """Byte-level BPE (a :class:`tokenizers.Tokenizer`); each file is followed by ``EOT``."""

    kind = "bpe"

    def __init__(self, tokenizer, trained_on=None):
        self.tokenizer = tokenizer
        pre = json.loads(tokenizer.to_str()).get("pre_tokenizer") or {}
        # "code" only with today's pattern: a file trained with another Split pattern is "custom"
        self.split_pattern = next((p["pattern"]["Regex"] for p in pre.get("pretokenizers", [])
                                   if p.get("type") == "Split"), None)
        self.pre_tokenizer = ("gpt2" if self.split_pattern is None else
                              "code" if self.split_pattern == CODE_SPLIT_PATTERN else "custom")
        self.trained_on = trained_on
        self.vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
        self.eot = tokenizer.token_to_id(EOT)
        if self.eot is None:
            raise ValueError(f"the tokenizer has no {EOT} token")
        # Byte-level BPE spells every byte as one character of its alphabet, so a token's text
        # length is the number of bytes it stands for; the special token stands for none.
        self.token_bytes = np.zeros(self.vocab_size, dtype=np.int64)
        for token, index in tokenizer.get_vocab(with_added_tokens=True).items():
            self.token_bytes[index] = 0 if token == EOT else len(token)

    @classmethod
    def train(cls, parts, vocab_size, pre_tokenizer="code"):
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

        tokenizer = Tokenizer(models.BPE())
        if pre_tokenizer == "code":
            tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(CODE_SPLIT_PATTERN), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        elif pre_tokenizer == "gpt2":
            tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        else:
            raise ValueError(f"unknown pre-tokenizer {pre_tokenizer!r}; use one of "
                             f"{', '.join(PRE_TOKENIZERS)}")
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOT],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      min_frequency=2, show_progress=False)
        tokenizer.train_from_iterator([p.decode("utf-8") for p in parts], trainer)
        codec = cls(tokenizer, trained_on="the training files of this run")
        if codec.vocab_size != vocab_size:
            raise ValueError(f"BPE training gave {codec.vocab_size} tokens, not {vocab_size}")
        return codec

    @classmethod
    def load(cls, path):
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(str(path)), trained_on=f"loaded from {path}")

    def save(self, path):
        tmp = path.with_suffix(path.suffix + ".tmp")
        self.tokenizer.save(str(tmp))
        tmp.chmod(0o644)
        os.replace(tmp, path)

    def encode(self, text):
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def decode(self, ids):
        return self.tokenizer.decode([int(i) for i in ids], skip_special_tokens=False)

    def encode_files(self, parts):
        encodings = self.tokenizer.encode_batch([p.decode("utf-8") for p in parts],
                                                add_special_tokens=False)
        ids = []
        for encoding in encodings:
            ids.extend(encoding.ids)
            ids.append(self.eot)
        stream = np.array(ids, dtype=np.int64)
        covered, expected = int(self.token_bytes[stream].sum()), sum(map(len, parts))
        if covered != expected:
            raise ValueError(f"BPE tokens stand for {covered} bytes, the files hold {expected}")
        return stream

    def split_spaces(self, stream, fraction, seed):
        """``stream`` with about ``fraction`` of the space-prefixed word tokens (``" name"``)
        re-spelled as a lone space token followed by the encoding of ``"name"``.

        GPT-2's pre-tokenizer attaches a space to the following word, so a prompt ending in a
        space (``"def "``) ends in a lone space token, which the plain training stream almost
        never shows before a word; this augmentation (a targeted BPE-dropout) teaches the model
        what follows it. Returns ``(stream, count)``; the bytes are unchanged.
        """
        vocab = self.tokenizer.get_vocab(with_added_tokens=True)
        space = vocab.get("\u0120")  # the byte-level spelling of " "
        table = {}
        for token, index in vocab.items():
            rest = token[1:]  # printable ASCII spells itself in the byte-level alphabet
            if token.startswith("\u0120") and rest and rest.isascii() and (
                    rest.replace("_", "a").isalnum()):
                split = [space] + self.encode(rest)
                if int(self.token_bytes[split].sum()) == len(token):
                    table[index] = split
        rng = np.random.default_rng(seed)
        candidates = np.isin(stream, np.fromiter(table, dtype=np.int64))
        chosen = np.nonzero(candidates & (rng.random(stream.size) < fraction))[0]
        pieces, last = [], 0
        for position in chosen.tolist():
            pieces.append(stream[last:position])
            pieces.append(np.array(table[int(stream[position])], dtype=np.int64))
            last = position + 1
        pieces.append(stream[last:])
        out = np.concatenate(pieces)
        if int(self.token_bytes[out].sum()) != int(self.token_bytes[stream].sum()):
            raise ValueError("space splitting changed the text")
        return out, int(chosen.size)

    def describe(self):
        return {"kind": "bpe", "vocab_size": self.vocab_size, "library": "tokenizers "
                + __import__("tokenizers").__version__,
                "model": ("byte-level BPE (GPT-2 byte alphabet and decoder), pre-tokenizer "
                          + (f"'{self.pre_tokenizer}': Split({self.split_pattern!r}, isolated), "
                             "then ByteLevel without its regex" if self.split_pattern else
                             "'gpt2': GPT-2's ByteLevel regex, no prefix space")),
                "pre_tokenizer": self.pre_tokenizer,
                "special_tokens": {EOT: self.eot}, "merges": self.vocab_size - 1 - 256,
                "trained_on": self.trained_on, "file": "tokenizer.json",
                "note": f"each file encoded on its own and followed by {EOT}"}


def load_codec(directory):
    """The tokenizer of a checkpoint directory: ``tokenizer.json`` if present, else bytes."""
    path = Path(directory) / "tokenizer.json"
    return BPECodec.load(path) if path.is_file() else ByteCodec()


def fixed_windows(stream, count):
    """``count`` evenly spaced, non-overlapping (SEQ_LEN + 1)-byte windows of ``stream``."""
    span = SEQ_LEN + 1
    available = stream.size // span
    count = min(count, available)
    starts = (np.arange(count) * (available // count)) * span
    return torch.from_numpy(np.stack([stream[s:s + span] for s in starts]).astype(np.int64))


def line_start_offsets(codec, stream):
    """Offsets in ``stream`` (a BPE token stream) of the tokens in :data:`LINE_START_KEYWORDS`
    that open a line: the token before is ``<|endoftext|>`` (a file's start) or whitespace only
    (the ``code`` pre-tokenizer makes a newline and the indentation after it one piece), or there
    is none.
    Only offsets where a whole training window fits are returned."""
    vocab = codec.tokenizer.get_vocab(with_added_tokens=True)
    ids = []
    for keyword in LINE_START_KEYWORDS:
        encoded = codec.encode(keyword)
        if len(encoded) != 1:
            raise ValueError(f"--line-start-windows needs {keyword!r} to be one token of the "
                             f"tokenizer (the code pre-tokenizer makes it one), not {encoded}")
        ids.append(encoded[0])
    # Byte-level spelling: "\n" is "\u010a", " " is "\u0120", "\t" is "\u0109".
    # A long indentation may take two tokens ("\n        " + "    "): whitespace-only tokens open.
    openers = [index for token, index in vocab.items()
               if token == EOT or set(token) <= {"\u010a", "\u0120", "\u0109"}]
    keyword_at = np.isin(stream, np.array(ids, dtype=np.int64))
    after_opener = np.zeros(stream.size, dtype=bool)
    after_opener[0] = True
    after_opener[1:] = np.isin(stream[:-1], np.array(openers, dtype=np.int64))
    offsets = np.nonzero(keyword_at & after_opener)[0]
    return offsets[offsets <= stream.size - SEQ_LEN - 1]


def random_batch(stream_t, generator, line_starts=None, line_start_count=0):
    """A batch of ``BATCH_SIZE`` windows: ``line_start_count`` of them start at offsets drawn
    uniformly from ``line_starts`` (:func:`line_start_offsets`), the rest anywhere."""
    starts = torch.randint(0, stream_t.numel() - SEQ_LEN - 1, (BATCH_SIZE,), generator=generator)
    if line_start_count:
        pick = torch.randint(0, line_starts.numel(), (line_start_count,), generator=generator)
        starts[:line_start_count] = line_starts[pick]
    offsets = torch.arange(SEQ_LEN + 1)
    return stream_t[starts[:, None] + offsets[None, :]]


# --- Model (PyTorch, parameter names as GPT2LMHeadModel saves them) ---------------------------

class Conv1D(torch.nn.Module):
    """GPT-2's linear layer: weight stored (in, out), ``y = x @ weight + bias``."""

    def __init__(self, n_in, n_out, std):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = torch.nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).reshape(
            *x.shape[:-1], -1)


class Attention(torch.nn.Module):
    def __init__(self, cfg, proj_std):
        super().__init__()
        emb = cfg["n_embd"]
        self.n_head = cfg["n_head"]
        self.c_attn = Conv1D(emb, 3 * emb, 0.02)
        self.c_proj = Conv1D(emb, emb, proj_std)

    def forward(self, x):
        batch, length, emb = x.shape
        q, k, v = self.c_attn(x).split(emb, dim=2)
        q, k, v = (t.view(batch, length, self.n_head, emb // self.n_head).transpose(1, 2)
                   for t in (q, k, v))
        # Default scale is 1/sqrt(head_size), as in GPT-2.
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(batch, length, emb))


class MLP(torch.nn.Module):
    def __init__(self, cfg, proj_std):
        super().__init__()
        emb = cfg["n_embd"]
        self.c_fc = Conv1D(emb, 4 * emb, 0.02)
        self.c_proj = Conv1D(4 * emb, emb, proj_std)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))  # gelu_new


class Block(torch.nn.Module):
    def __init__(self, cfg, proj_std):
        super().__init__()
        emb, eps = cfg["n_embd"], cfg["layer_norm_epsilon"]
        self.ln_1 = torch.nn.LayerNorm(emb, eps=eps)
        self.attn = Attention(cfg, proj_std)
        self.ln_2 = torch.nn.LayerNorm(emb, eps=eps)
        self.mlp = MLP(cfg, proj_std)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        emb = cfg["n_embd"]
        proj_std = 0.02 / math.sqrt(2 * cfg["n_layer"])  # GPT-2's scaled residual init
        self.wte = torch.nn.Embedding(cfg["vocab_size"], emb)
        self.wpe = torch.nn.Embedding(cfg["n_positions"], emb)
        torch.nn.init.normal_(self.wte.weight, std=0.02)
        torch.nn.init.normal_(self.wpe.weight, std=0.01)
        self.h = torch.nn.ModuleList(Block(cfg, proj_std) for _ in range(cfg["n_layer"]))
        self.ln_f = torch.nn.LayerNorm(emb, eps=cfg["layer_norm_epsilon"])


class GPT2LMHead(torch.nn.Module):
    """GPT-2 with the LM head tied to ``transformer.wte``; returns logits."""

    def __init__(self, cfg):
        super().__init__()
        self.transformer = Transformer(cfg)

    def forward(self, ids):
        t = self.transformer
        x = t.wte(ids) + t.wpe(torch.arange(ids.shape[1]))
        for block in t.h:
            x = block(x)
        return t.ln_f(x) @ t.wte.weight.T


def hf_config(vocab_size=BYTE_VOCAB_SIZE):
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": vocab_size,
        "n_positions": N_POSITIONS,
        "n_ctx": N_POSITIONS,
        "n_embd": N_EMBD,
        "n_layer": N_LAYER,
        "n_head": N_HEAD,
        "n_inner": None,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": LAYER_NORM_EPS,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "torch_dtype": "float16",
    }


def expected_shapes(cfg):
    """Tensor name -> shape, as GPT2LMHeadModel saves them (tied ``lm_head`` omitted)."""
    emb, vocab, pos = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    shapes = {"transformer.wte.weight": (vocab, emb), "transformer.wpe.weight": (pos, emb),
              "transformer.ln_f.weight": (emb,), "transformer.ln_f.bias": (emb,)}
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        shapes.update({
            p + "ln_1.weight": (emb,), p + "ln_1.bias": (emb,),
            p + "attn.c_attn.weight": (emb, 3 * emb), p + "attn.c_attn.bias": (3 * emb,),
            p + "attn.c_proj.weight": (emb, emb), p + "attn.c_proj.bias": (emb,),
            p + "ln_2.weight": (emb,), p + "ln_2.bias": (emb,),
            p + "mlp.c_fc.weight": (emb, 4 * emb), p + "mlp.c_fc.bias": (4 * emb,),
            p + "mlp.c_proj.weight": (4 * emb, emb), p + "mlp.c_proj.bias": (emb,),
        })
    return shapes


# --- Export and independent NumPy check --------------------------------------------------------

def export_checkpoint(model, cfg, out):
    """Write ``config.json`` and float16 ``model.safetensors`` atomically into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    shapes = expected_shapes(cfg)
    if set(state) != set(shapes):
        raise ValueError(f"parameter names differ from GPT-2's: {sorted(set(state) ^ set(shapes))}")
    tensors = {name: state[name].detach().to(torch.float16).numpy() for name in sorted(shapes)}
    tmp = out / "model.safetensors.tmp"
    save_file(tensors, str(tmp), metadata={"format": "pt"})
    tmp.chmod(0o644)
    os.replace(tmp, out / "model.safetensors")
    write_json(out / "config.json", cfg)


def write_json(path, obj):
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def load_numpy_checkpoint(out):
    """Load ``config.json`` and ``model.safetensors`` with NumPy only, checking names and shapes."""
    cfg = json.loads((out / "config.json").read_text())
    tensors = load_file(str(out / "model.safetensors"))
    shapes = expected_shapes(cfg)
    if set(tensors) != set(shapes):
        raise ValueError(f"{out}/model.safetensors: tensor names differ from GPT-2's: "
                         f"{sorted(set(tensors) ^ set(shapes))}")
    for name, shape in shapes.items():
        if tensors[name].shape != shape:
            raise ValueError(f"{out}/model.safetensors: {name} has shape {tensors[name].shape}, "
                             f"expected {shape}")
    return cfg, {name: t.astype(np.float32) for name, t in tensors.items()}


def numpy_layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def numpy_gelu_new(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def numpy_forward(cfg, w, ids):
    """Logits (len(ids), vocab) of a GPT-2 given NumPy weights ``w``: written independently."""
    n_head, eps = cfg["n_head"], cfg["layer_norm_epsilon"]
    length = len(ids)
    x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][:length]
    emb = x.shape[1]
    head = emb // n_head
    future = np.triu(np.ones((length, length), dtype=bool), k=1)
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        h = numpy_layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        heads = []
        for j in range(n_head):
            q = qkv[:, j * head:(j + 1) * head]
            k = qkv[:, emb + j * head:emb + (j + 1) * head]
            v = qkv[:, 2 * emb + j * head:2 * emb + (j + 1) * head]
            scores = (q @ k.T) / np.sqrt(head)
            scores[future] = -np.inf
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            heads.append((scores / scores.sum(axis=-1, keepdims=True)) @ v)
        x = x + np.concatenate(heads, axis=1) @ w[p + "attn.c_proj.weight"] \
            + w[p + "attn.c_proj.bias"]
        h = numpy_layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        h = numpy_gelu_new(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = numpy_layer_norm(x, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    return x @ w["transformer.wte.weight"].T


def numpy_greedy(cfg, w, codec, prompt, count):
    ids = codec.encode(prompt)
    for _ in range(count):
        context = ids[-cfg["n_positions"]:]
        ids.append(int(np.argmax(numpy_forward(cfg, w, np.array(context))[-1])))
    return codec.decode(ids)


def check_checkpoint(out):
    """Compare the NumPy forward with the PyTorch model on the float16 weights; return a summary."""
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    cfg, weights = load_numpy_checkpoint(out)
    codec = load_codec(out)
    if codec.vocab_size != cfg["vocab_size"]:
        raise ValueError(f"{out}: the tokenizer has {codec.vocab_size} tokens, the model "
                         f"{cfg['vocab_size']}")
    model = GPT2LMHead(cfg)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    model.eval()
    text = CHECK_PROMPT + "return self._data[key]\n\nclass Foo(object):\n    pass\n"
    ids = np.array(codec.encode(text), dtype=np.int64)
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(ids)[None])[0].numpy()
    numpy_logits = numpy_forward(cfg, weights, ids)
    diff = float(np.abs(torch_logits - numpy_logits).max())
    sample = numpy_greedy(cfg, weights, codec, CHECK_PROMPT, SAMPLE_TOKENS)
    summary = {"prompt_bytes": len(text.encode()), "prompt_tokens": int(ids.size),
               "max_abs_logit_diff": diff,
               "tolerance": CHECK_TOLERANCE, "passed": diff <= CHECK_TOLERANCE,
               "directory_bytes": size, "size_ok": size <= MAX_CHECKPOINT_BYTES}
    print(f"check: NumPy vs PyTorch (float32 from float16 weights) on {ids.size} tokens: "
          f"max |logit diff| = {diff:.3g} (tolerance {CHECK_TOLERANCE:g})")
    print(f"check: {out} holds {size / 1e6:.2f} MB (limit {MAX_CHECKPOINT_BYTES / 1e6:.2f} MB)")
    print(f"check: NumPy greedy after {CHECK_PROMPT!r}:\n{sample}")
    return summary, sample


# --- Training --------------------------------------------------------------------------------

def learning_rate(step, progress):
    """Linear warm-up over ``WARMUP_STEPS``, then cosine decay over ``progress`` in [0, 1]."""
    if step < WARMUP_STEPS:
        return PEAK_LR * (step + 1) / WARMUP_STEPS
    progress = min(1.0, max(0.0, progress))
    return PEAK_LR * (MIN_LR_FRACTION + (1 - MIN_LR_FRACTION) * 0.5 * (1 + math.cos(
        math.pi * progress)))


def make_codec(args, train_parts):
    """The tokenizer of this run: bytes, the BPE of ``--init-from`` (same size), or a new BPE."""
    if args.tokenizer == "byte":
        return ByteCodec()
    if args.init_from is not None and (args.init_from / "tokenizer.json").is_file():
        codec = BPECodec.load(args.init_from / "tokenizer.json")
        if codec.vocab_size == args.vocab_size and codec.pre_tokenizer == args.pre_tokenizer:
            print(f"tokenizer: reusing {args.init_from}/tokenizer.json", flush=True)
            return codec
    start = time.time()
    codec = BPECodec.train(train_parts, args.vocab_size, args.pre_tokenizer)
    print(f"tokenizer: trained a {codec.vocab_size}-token byte-level BPE "
          f"({args.pre_tokenizer} pre-tokenizer) in "
          f"{time.time() - start:.1f}s", flush=True)
    return codec


def transfer_embeddings(old_codec, new_codec, old_wte):
    """Token embeddings for ``new_codec`` from ``old_wte`` (rows of ``old_codec``'s tokens).

    A token spelled the same in both vocabularies (byte-level spelling) keeps its row; any other
    token gets the mean of the rows of its spelling's tokens under the old BPE (its model alone,
    no pre-tokenizer). Returns ``(wte, copied, averaged)``.
    """
    old_vocab = old_codec.tokenizer.get_vocab(with_added_tokens=True)
    old_model = old_codec.tokenizer.model
    wte = np.empty((new_codec.vocab_size, old_wte.shape[1]), dtype=np.float32)
    copied = averaged = 0
    for token, index in new_codec.tokenizer.get_vocab(with_added_tokens=True).items():
        if token in old_vocab:
            wte[index] = old_wte[old_vocab[token]]
            copied += 1
        else:
            rows = [t.id for t in old_model.tokenize(token)]
            wte[index] = old_wte[rows].astype(np.float32).mean(axis=0)
            averaged += 1
    return wte, copied, averaged


def init_from_checkpoint(model, cfg, args, codec):
    """Start from the float16 weights in ``args.init_from``; return ``(record, note)``.

    With the same tokenizer every tensor is kept. With another BPE vocabulary, ``wte`` (tied to
    the LM head) is carried over token by token (:func:`transfer_embeddings`); from a byte-level
    model it keeps its fresh initialisation. Everything else must match. The earlier run must
    have used another seed, or this one would replay its batches.
    """
    old_cfg, weights = load_numpy_checkpoint(args.init_from)
    if {k: v for k, v in old_cfg.items() if k != "vocab_size"} != \
            {k: v for k, v in cfg.items() if k != "vocab_size"}:
        raise ValueError(f"{args.init_from}/config.json differs from this script's configuration "
                         "in more than the vocabulary size")
    record_path = args.init_from / "training.json"
    previous = json.loads(record_path.read_text()) if record_path.is_file() else None
    if previous is not None and previous["seed"] == args.seed and not args.record_only:
        raise ValueError(f"{args.init_from} was trained with seed {args.seed}: continue with "
                         "another --seed so that the batches differ")
    old_codec = load_codec(args.init_from)
    same = old_codec.kind == codec.kind and (
        codec.kind == "byte" or old_codec.tokenizer.get_vocab(with_added_tokens=True)
        == codec.tokenizer.get_vocab(with_added_tokens=True))
    kept = {k: v for k, v in weights.items() if k != "transformer.wte.weight"}
    if same:
        kept = weights
        note = f"all weights from {args.init_from}"
    elif old_codec.kind == "bpe" and codec.kind == "bpe":
        wte, copied, averaged = transfer_embeddings(old_codec, codec,
                                                    weights["transformer.wte.weight"])
        kept = {**kept, "transformer.wte.weight": wte}
        note = (f"all weights from {args.init_from}; its BPE vocabulary differs, so wte was "
                f"carried over token by token: {copied} tokens spelled the same keep their row, "
                f"{averaged} others get the mean row of their spelling's old tokens")
    else:
        note = (f"weights from {args.init_from} except transformer.wte.weight (tokenizer "
                f"{old_codec.kind} {old_cfg['vocab_size']} -> {codec.kind} {cfg['vocab_size']}; "
                "fresh initialisation)")
    state = model.state_dict()
    state.update({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in kept.items()})
    model.load_state_dict(state)
    print(f"init: {note}", flush=True)
    return previous, note


@torch.no_grad()
def evaluate(model, windows, token_bytes):
    """Cross-entropy over fixed windows, every position counted: nats/token and nats/byte."""
    model.eval()
    total, tokens, nbytes = 0.0, 0, 0
    for chunk in windows.split(BATCH_SIZE):
        logits = model(chunk[:, :-1])
        targets = chunk[:, 1:]
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                 reduction="sum").item()
        tokens += targets.numel()
        nbytes += int(token_bytes[targets.numpy()].sum())
    model.train()
    return {"nats_per_byte": total / nbytes, "nats_per_token": total / tokens,
            "tokens": tokens, "bytes": nbytes}


def loss_record(result):
    nats = result["nats_per_byte"]
    record = {"nats_per_byte": round(nats, 4), "bits_per_byte": round(nats / LN2, 4)}
    if "nats_per_token" in result:
        record.update(nats_per_token=round(result["nats_per_token"], 4),
                      tokens=result["tokens"], bytes=result["bytes"])
    return record


def train(args):
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    train_parts, heldout_parts, data_info = load_corpus()
    print(f"data: {data_info['train_files']} train files ({data_info['train_bytes']} bytes), "
          f"{data_info['heldout_files']} held-out files ({data_info['heldout_bytes']} bytes)",
          flush=True)
    codec = make_codec(args, train_parts)
    train_ids, heldout_ids = codec.encode_files(train_parts), codec.encode_files(heldout_parts)
    if codec.kind == "bpe" and args.space_split > 0:
        train_ids, splits = codec.split_spaces(train_ids, args.space_split, args.seed)
        data_info.update(space_split={
            "fraction": args.space_split, "tokens_split": splits,
            "note": "training stream only: this fraction of the space-prefixed word tokens "
                    "re-spelled as a lone space + the word's tokens (seeded); held-out text "
                    "is encoded plainly"})
        print(f"space split: {splits} word tokens re-spelled", flush=True)
    line_starts, line_start_count = None, 0
    if args.line_start_windows > 0:
        offsets = line_start_offsets(codec, train_ids)
        line_start_count = round(args.line_start_windows * BATCH_SIZE)
        line_starts = torch.from_numpy(offsets)
        data_info.update(line_start_windows={
            "fraction": args.line_start_windows, "windows_per_batch": line_start_count,
            "keywords": list(LINE_START_KEYWORDS), "lines": int(offsets.size),
            "note": "this many windows of each batch start at a line whose first token after "
                    "its indentation is one of the keywords (uniformly among those lines), so "
                    "the keyword is at position 0 as in the prompt 'def '; the other windows "
                    "start at uniformly random offsets"})
        print(f"line-start windows: {line_start_count} of {BATCH_SIZE} per batch, drawn from "
              f"{offsets.size} lines opening with {' / '.join(map(repr, LINE_START_KEYWORDS))}",
              flush=True)
    data_info.update(train_tokens=int(train_ids.size), heldout_tokens=int(heldout_ids.size),
                     train_bytes_per_token=round(data_info["train_bytes"] / train_ids.size, 3),
                     heldout_bytes_per_token=round(data_info["heldout_bytes"] / heldout_ids.size,
                                                   3))
    print(f"tokens: {train_ids.size} train ({data_info['train_bytes_per_token']} bytes/token), "
          f"{heldout_ids.size} held-out ({data_info['heldout_bytes_per_token']} bytes/token)",
          flush=True)
    train_t = torch.from_numpy(train_ids)
    eval_heldout = fixed_windows(heldout_ids, EVAL_WINDOWS)
    cfg = hf_config(codec.vocab_size)
    model = GPT2LMHead(cfg)
    previous, init_note = (init_from_checkpoint(model, cfg, args, codec) if args.init_from
                           else (None, None))
    args.out.mkdir(parents=True, exist_ok=True)
    tokenizer_file = args.out / "tokenizer.json"
    if codec.kind == "bpe":
        codec.save(tokenizer_file)
    elif tokenizer_file.exists():
        tokenizer_file.unlink()  # a byte-level model must not be read with an old BPE
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    global PEAK_LR
    PEAK_LR = args.peak_lr
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=PEAK_LR, betas=BETAS)
    total = args.steps
    budget = None if args.minutes is None else args.minutes * 60.0
    print(f"model: {n_params} parameters; "
          f"{f'{total} steps' if total is not None else f'{args.minutes} min wall-clock schedule'}", flush=True)
    history, recent = [], []
    start = time.time()
    last_export = start
    step = 0
    warm_end = None
    while True:
        elapsed = time.time() - start
        if step == WARMUP_STEPS:
            warm_end = elapsed
        if budget is None:
            if step >= total:
                break
            progress = (step - WARMUP_STEPS) / (total - WARMUP_STEPS)
        else:
            # Wall-clock schedule: the cosine spans the budget left after warm-up, whatever the
            # machine's load; the step count it reached is recorded.
            if step > WARMUP_STEPS and elapsed >= budget:
                break
            progress = 0.0 if warm_end is None else (
                (elapsed - warm_end) / max(1e-9, budget - warm_end))
        lr = learning_rate(step, progress)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = random_batch(train_t, generator, line_starts, line_start_count)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, cfg["vocab_size"]), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        optimizer.step()
        recent = (recent + [loss.item()])[-EVAL_EVERY:]
        step += 1
        if step % 10 == 0:
            print(f"step {step}/{total or '?'} loss {loss.item():.4f} nats/token lr {lr:.2e} "
                  f"{time.time() - start:.0f}s", flush=True)
        if step % EVAL_EVERY == 0 and (budget is not None or step != total):
            heldout = evaluate(model, eval_heldout, codec.token_bytes)
            history.append({"step": step, "tokens_seen": step * BATCH_SIZE * SEQ_LEN,
                            "train_loss_recent": round(sum(recent) / len(recent), 4),
                            "heldout_loss_subset": round(heldout["nats_per_token"], 4),
                            "heldout_nats_per_byte_subset": round(heldout["nats_per_byte"], 4),
                            "wall_seconds": round(time.time() - start, 1)})
            print(f"eval step {step}: held-out {heldout['nats_per_byte']:.4f} nats/byte "
                  f"({heldout['nats_per_token']:.4f} nats/token)", flush=True)
        if (step % EVAL_EVERY == 0 or time.time() - last_export >= CHECKPOINT_SECONDS) \
                and (budget is not None or step != total):
            export_checkpoint(model, cfg, args.out)  # something usable exists early
            last_export = time.time()
            print(f"checkpoint: step {step} written to {args.out}", flush=True)
    train_seconds = time.time() - start

    # Final numbers are measured on the float16 weights that ship, read back from disk.
    export_checkpoint(model, cfg, args.out)
    _, shipped = load_numpy_checkpoint(args.out)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in shipped.items()})
    final_train = evaluate(model, fixed_windows(train_ids, FINAL_EVAL_WINDOWS), codec.token_bytes)
    full_heldout = evaluate(model, fixed_windows(heldout_ids, heldout_ids.size), codec.token_bytes)
    print(f"final: train {final_train['nats_per_byte']:.4f}, held-out "
          f"{full_heldout['nats_per_byte']:.4f} nats/byte "
          f"({full_heldout['nats_per_token']:.4f} nats/token)", flush=True)
    check, sample = check_checkpoint(args.out)
    recent_nats = sum(recent) / len(recent) if recent else None
    record = {
        "command": " ".join(shlex.quote(a) for a in [sys.argv[0], *sys.argv[1:]]),
        "schedule": ("step-based" if budget is None else
                     f"wall-clock ({args.minutes} min): reproduce approximately with "
                     f"--steps {step} --seed {args.seed}"
                     + (f" --init-from {args.init_from}" if args.init_from else "")
                     + ", which spreads the cosine over steps"),
        "seed": args.seed,
        "record_only": args.record_only,
        "init_from": None if previous is None and init_note is None else str(args.init_from),
        "init_note": init_note,
        "previous_stage": previous,
        "tokenizer": codec.describe(),
        "steps": step,
        "tokens_seen": step * BATCH_SIZE * SEQ_LEN,
        "epochs": round(step * BATCH_SIZE * SEQ_LEN / train_ids.size, 3),
        "train_wall_seconds": round(train_seconds, 1),
        "total_wall_seconds": round(time.time() - start, 1),
        "parameters": n_params,
        "hyper_parameters": {
            "batch_size": BATCH_SIZE, "seq_len": SEQ_LEN, "optimizer": "AdamW",
            "peak_lr": PEAK_LR, "min_lr": PEAK_LR * MIN_LR_FRACTION,
            "schedule": f"linear warm-up {WARMUP_STEPS} steps, cosine decay to min_lr",
            "betas": list(BETAS), "weight_decay": WEIGHT_DECAY,
            "weight_decay_on": "matrices and embeddings (not biases or LayerNorm)",
            "grad_clip_norm": GRAD_CLIP, "dropout": 0.0, "precision": "float32",
            "init": "normal(0, 0.02); residual projections 0.02/sqrt(2*n_layer); wpe 0.01",
        },
        "data": data_info,
        "loss": {
            "note": "cross-entropy of the float16 checkpoint over non-overlapping "
                    f"{SEQ_LEN}-token windows, every position counted (early positions have "
                    "little context); nats_per_byte = total token NLL / UTF-8 bytes of the "
                    "predicted tokens",
            "train": {**loss_record(final_train), "windows": FINAL_EVAL_WINDOWS},
            "heldout": {**loss_record(full_heldout),
                        "windows": int(heldout_ids.size // (SEQ_LEN + 1)),
                        "coverage": "every non-overlapping window of the held-out stream"},
            "train_recent_steps": None if recent_nats is None else {
                "nats_per_token": round(recent_nats, 4), "steps": len(recent),
                "note": "mean minibatch loss of the last steps (per token)"},
        },
        "history": history,
        "check": check,
        "sample_numpy_greedy": sample,
        "environment": {"torch": torch.__version__, "numpy": np.__version__,
                        "threads": torch.get_num_threads(), "machine": platform.machine()},
    }
    write_json(args.out / "training.json", record)
    write_training_md(args.out, record)
    return 0 if check["passed"] and check["size_ok"] else 1


def write_training_md(out, r):
    loss, tok = r["loss"], r["tokenizer"]
    # A --record-only stage trains nothing: "last stage" below means the one that trained.
    shipped = r
    if r.get("record_only") and r.get("previous_stage"):
        r = r["previous_stage"]
    hp, data = r["hyper_parameters"], r["data"]
    cfg = hf_config(tok["vocab_size"])
    hist = "\n".join(f"| {h['step']} | {h['tokens_seen']:,} | {h['train_loss_recent']:.4f} | "
                     f"{h['heldout_loss_subset']:.4f} | "
                     f"{h.get('heldout_nats_per_byte_subset', h['heldout_loss_subset']):.4f} | "
                     f"{h['wall_seconds']:.0f} |" for h in r["history"])
    sample = shipped["sample_numpy_greedy"].replace("```", "` ` `")
    check = shipped["check"]
    stages = []
    stage = shipped
    while stage is not None:
        stages.insert(0, stage)
        stage = stage.get("previous_stage")
    def stage_tokenizer(st):
        t = st.get("tokenizer") or {}
        if t.get("kind") != "bpe":
            return "bytes"
        return f"BPE {t['vocab_size']:,}, {t.get('pre_tokenizer', 'gpt2')} pre-tokenizer"
    stage_rows = "\n".join(
        f"| {i + 1} | `{st['command']}` | {stage_tokenizer(st)} | "
        f"{st.get('init_from') or 'random init'} | "
        f"{st['steps']} | {st['tokens_seen']:,} | {st['train_wall_seconds'] / 60:.1f} | "
        f"{st['loss']['heldout']['nats_per_byte']:.4f}"
        f"{' (64-window subset; stopped early)' if st.get('stopped_early') else ''}"
        f"{' (64-window subset at that checkpoint)' if st.get('periodic_checkpoint') else ''} |"
        for i, st in enumerate(stages))
    total_steps = sum(st["steps"] for st in stages)
    total_tokens = sum(st["tokens_seen"] for st in stages)
    total_minutes = sum(st["train_wall_seconds"] for st in stages) / 60
    if tok["kind"] == "bpe":
        vocabulary = (f"vocabulary {tok['vocab_size']:,}: a byte-level BPE with "
                      f"{tok['merges']:,} merges, the 256 bytes and `<|endoftext|>`, "
                      f"{tok.get('pre_tokenizer', 'gpt2')} pre-tokenizer, in `tokenizer.json`")
    else:
        vocabulary = "vocabulary = the 256 byte values"
    def per_token(entry):
        return f"{entry['nats_per_token']:.4f}" if "nats_per_token" in entry else "-"
    split = data.get("space_split")
    line_windows = data.get("line_start_windows")
    batches_note = ("uniformly random offsets of the training token stream (seeded)"
                    if not line_windows else
                    f"uniformly random offsets of the training token stream (seeded), except that "
                    f"in the last stage {line_windows['windows_per_batch']} of each batch's "
                    f"{hp['batch_size']} windows started at a line opening with "
                    f"{' or '.join(f'`{k!r}`' for k in line_windows['keywords'])} (after its "
                    f"indentation; chosen uniformly among the {line_windows['lines']:,} such "
                    f"lines), so that the keyword is at position 0 as in `make sim`'s prompt")
    space_note = "" if not split else f"""

The last stage re-spelled {split['fraction']:.0%} of the space-prefixed word tokens of the training
stream (`" name"` -> `" "` + `"name"`, {split['tokens_split']:,} tokens, seeded; held-out text is
encoded plainly): GPT-2's pre-tokenizer attaches a space to the following word, so a prompt
ending in a space (`"def "`) ends in a lone space token that the plain stream almost never shows
before a name."""
    recent = loss.get("train_recent_steps") or (r.get("loss") or {}).get("train_recent_steps")
    recent_row = "" if not recent else (
        f"| training, mean minibatch loss of the last {recent['steps']} steps of the last stage "
        f"| - | - | {per_token(recent)} |\n")
    shipped_note = "" if shipped is r else f"""

The shipped weights are the step-{r['steps']} checkpoint of the last training stage below,
written out unchanged and measured by a `--record-only` stage (no training; command
`{shipped['command']}`); the losses above are theirs, over the full held-out stream."""
    text = f"""# Demo model: training record

Written by `tools/train_demo.py` at the end of training (the same numbers are in
`training.json`). GPT-2 ({r['parameters']:,} parameters: {cfg['n_layer']} layers,
{cfg['n_head']} heads of 64, `n_embd` {cfg['n_embd']}, context {cfg['n_positions']} tokens,
{vocabulary}), stored in float16 in the Hugging Face `GPT2LMHeadModel` format.

## Result

| loss | nats/byte | bits/byte | nats/token |
| --- | --- | --- | --- |
| held-out, all {loss['heldout']['windows']} windows | {loss['heldout']['nats_per_byte']:.4f} \
| {loss['heldout']['bits_per_byte']:.4f} | {per_token(loss['heldout'])} |
| training, {loss['train']['windows']} fixed windows | {loss['train']['nats_per_byte']:.4f} \
| {loss['train']['bits_per_byte']:.4f} | {per_token(loss['train'])} |
{recent_row}
Losses are the cross-entropy of the shipped float16 weights over non-overlapping
{hp['seq_len']}-token windows, every position counted (the first tokens of a window have little
context, so this slightly overstates the loss at full context). Nats per byte = the windows' total
token negative log-likelihood / the UTF-8 bytes of the tokens predicted (`<|endoftext|>`
counts no bytes, its loss is counted), so it compares across tokenizers.{shipped_note}

- Last stage: {r['steps']} steps, batch {hp['batch_size']} x {hp['seq_len']} tokens, tokens seen
  {r['tokens_seen']:,} ({r['epochs']} epochs of the training stream).
- Wall time: {r['train_wall_seconds'] / 60:.1f} min of training
  ({r['total_wall_seconds'] / 60:.1f} min including final evaluation and check), on
  {r['environment']['threads']} CPU threads shared with other work, torch
  {r['environment']['torch']}.
- Command: `{r['command']}` (seed {r['seed']}).
- Optimiser: {hp['optimizer']}, peak LR {hp['peak_lr']:g}, {hp['schedule']}
  ({hp['min_lr']:g}; {r['schedule']}), betas {tuple(hp['betas'])},
  weight decay {hp['weight_decay']} on {hp['weight_decay_on']}, gradient clipping at norm
  {hp['grad_clip_norm']}, no dropout, {hp['precision']} training; init {hp['init']}.

## Stages

| stage | command | tokenizer | start | steps | tokens seen | training minutes | held-out nats/byte |
| --- | --- | --- | --- | --- | --- | --- | --- |
{stage_rows}

In total: {total_steps} steps, {total_tokens:,} tokens seen, {total_minutes:.1f} min of training.
A stage that starts from earlier weights uses a fresh optimiser, warm-up and schedule and another
seed (so its batches differ). A stage whose tokenizer differs from its start's keeps every
weight but carries `wte` over token by token (see `init_note` in `training.json`).{space_note}

## Data

{data['source']} of Python {data['python_version']}, {data['split']}:
{data['train_files']} training files ({data['train_bytes']:,} bytes, \
{data.get('train_tokens', data['train_bytes']):,} tokens) and {data['heldout_files']}
held-out files ({data['heldout_bytes']:,} bytes, \
{data.get('heldout_tokens', data['heldout_bytes']):,} tokens). Training batches are windows at
{batches_note}.

## Progress of the last stage (held-out on a fixed subset of {EVAL_WINDOWS} windows)

| step | tokens seen | train nats/token (recent mean) | held-out nats/token (subset) \
| held-out nats/byte (subset) | seconds |
| --- | --- | --- | --- | --- | --- |
{hist}

## Export check

The checkpoint was read back with NumPy only and run through an independent NumPy forward pass;
against the PyTorch model on the same float16 weights (float32 arithmetic) the largest logit
difference over a {check['prompt_bytes']}-byte prompt \
({check.get('prompt_tokens', check['prompt_bytes'])} tokens) was
{check['max_abs_logit_diff']:.3g} (tolerance {check['tolerance']:g}). The directory holds
{check['directory_bytes']:,} bytes.

## Sample

Greedy decoding after `{CHECK_PROMPT!r}` ({SAMPLE_TOKENS} tokens, NumPy forward):

```
{sample}
```
"""
    (out / "TRAINING.md").write_text(text)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="checkpoint directory")
    parser.add_argument("--steps", type=int, help=f"training steps (default {DEFAULT_STEPS})")
    parser.add_argument("--minutes", type=float,
                        help="train for this many minutes of wall clock instead of --steps")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--init-from", type=Path, metavar="DIR",
                        help="continue from the checkpoint in DIR (fresh optimiser and schedule)")
    parser.add_argument("--tokenizer", choices=["bpe", "byte"], default="bpe",
                        help="byte-level BPE trained on the training files (default) or bytes")
    parser.add_argument("--pre-tokenizer", choices=PRE_TOKENIZERS, default="code",
                        help="BPE pre-tokenizer: 'code' (a space joins the preceding word; "
                             "default) or 'gpt2' (a space joins the following word)")
    parser.add_argument("--vocab-size", type=int, default=DEFAULT_BPE_VOCAB,
                        help=f"BPE vocabulary incl. {EOT} (default {DEFAULT_BPE_VOCAB})")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--peak-lr", type=float, default=PEAK_LR,
                        help=f"learning rate after warm-up (default {PEAK_LR:g})")
    parser.add_argument("--space-split", type=float, default=DEFAULT_SPACE_SPLIT,
                        help="fraction of space-prefixed word tokens re-spelled as a lone space "
                             f"+ word in the training stream (BPE only; default "
                             f"{DEFAULT_SPACE_SPLIT:g})")
    parser.add_argument("--line-start-windows", type=float, default=DEFAULT_LINE_START_WINDOWS,
                        metavar="FRACTION",
                        help="fraction of each batch's windows that start at a line opening "
                             f"with {' or '.join(map(repr, LINE_START_KEYWORDS))} (BPE only; "
                             f"default {DEFAULT_LINE_START_WINDOWS:g})")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help=f"sequences per step (default {BATCH_SIZE})")
    parser.add_argument("--check", action="store_true",
                        help="only check the existing checkpoint in --out (no training)")
    parser.add_argument("--record-only", action="store_true",
                        help="train nothing: write the weights of --init-from unchanged to --out "
                             "with a full record (a stage of 0 steps), e.g. to ship a periodic "
                             "checkpoint")
    args = parser.parse_args(argv)
    if args.steps is not None and args.minutes is not None:
        parser.error("give --steps or --minutes, not both")
    if args.steps is not None and args.steps <= WARMUP_STEPS:
        parser.error(f"--steps must exceed the {WARMUP_STEPS} warm-up steps, not {args.steps}")
    if args.minutes is not None and args.minutes <= 0:
        parser.error(f"--minutes must be positive, not {args.minutes}")
    if args.tokenizer == "bpe" and not 258 <= args.vocab_size <= 65536:
        parser.error(f"--vocab-size must be 258..65536 (256 bytes, {EOT}, merges), "
                     f"not {args.vocab_size}")
    if not 0 <= args.space_split <= 1:
        parser.error(f"--space-split must be in [0, 1], not {args.space_split}")
    if not 0 <= args.line_start_windows <= 1:
        parser.error(f"--line-start-windows must be in [0, 1], not {args.line_start_windows}")
    if args.line_start_windows > 0 and args.tokenizer != "bpe":
        parser.error("--line-start-windows needs --tokenizer bpe")
    if args.peak_lr <= 0:
        parser.error(f"--peak-lr must be positive, not {args.peak_lr}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be at least 1, not {args.batch_size}")
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, not {args.threads}")
    if args.record_only:
        if args.init_from is None:
            parser.error("--record-only needs --init-from DIR (the weights to record)")
        if args.steps is not None or args.minutes is not None:
            parser.error("--record-only trains nothing: give no --steps or --minutes")
        args.steps = 0
    if args.steps is None and args.minutes is None:
        args.steps = DEFAULT_STEPS
    return args


def main(argv=None):
    global BATCH_SIZE
    args = parse_args(argv)
    BATCH_SIZE = args.batch_size
    torch.set_num_threads(args.threads)
    if args.check:
        summary, _ = check_checkpoint(args.out)
        return 0 if summary["passed"] and summary["size_ok"] else 1
    return train(args)


if __name__ == "__main__":
    sys.exit(main())
