"""The GPT-2 model in software: shapes (:mod:`.config`), Hugging Face checkpoints
(:mod:`.checkpoint`), the float32 reference with key/value cache (:mod:`.reference`), token
sampling (:mod:`.sampling`) and tokenizers (:mod:`.tokenizer`).
"""

from .checkpoint import (CheckpointError, GPT2Weights, LayerWeights, load_checkpoint,
                         random_weights, save_checkpoint)
from .config import GPT2Config
from .reference import ReferenceGPT2
from .sampling import Sampler, greedy
from .tokenizer import BPETokenizer, ByteTokenizer, TokenizerError, load_tokenizer

__all__ = [
    "GPT2Config", "GPT2Weights", "LayerWeights", "CheckpointError", "load_checkpoint",
    "save_checkpoint", "random_weights", "ReferenceGPT2", "Sampler", "greedy", "ByteTokenizer",
    "BPETokenizer", "TokenizerError", "load_tokenizer",
]
