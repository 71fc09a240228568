"""``make sim``'s request on the shipped demo model, through its BPE tokenizer: the ISA simulator
(FP16, bit-true numerics, compiled programs) on 4 cores, where the 4,001-row vocabulary splits
unevenly (1001/1000/1000/1000), gives the same 48 greedy tokens as the float32 reference, and they
decode to Python-looking text."""

import re
from pathlib import Path

import numpy as np

from dfx_hw.compiler import compile_model
from dfx_hw.compiler.partition import core_slices
from dfx_hw.isasim import generate
from dfx_hw.model.checkpoint import load_checkpoint
from dfx_hw.model.reference import ReferenceGPT2
from dfx_hw.model.tokenizer import BPETokenizer, load_tokenizer

DEMO = Path(__file__).resolve().parent.parent / "models" / "demo"
PROMPT = "def "        # the Makefile's PROMPT
NEW_TOKENS = 48        # more than the Makefile's TOKENS (32)
CORES = 4


def test_demo_vocabulary_splits_unevenly_on_4_cores():
    config, _ = load_checkpoint(DEMO)
    sizes = [s.vocab[1] - s.vocab[0] for s in core_slices(config, CORES)]
    assert sum(sizes) == config.vocab_size
    assert len(set(sizes)) == 2, sizes
    assert config.vocab_size % 16 != 0


def test_make_sim_request_isasim_4_cores_equals_float_reference_greedy_tokens():
    config, weights = load_checkpoint(DEMO)
    tokenizer = load_tokenizer(DEMO, config)
    assert isinstance(tokenizer, BPETokenizer)
    prompt = tokenizer.encode(PROMPT)
    reference = ReferenceGPT2(config, weights)
    logits = reference.prefill(prompt)
    expected = [int(np.argmax(logits))]
    while len(expected) < NEW_TOKENS:
        expected.append(int(np.argmax(reference.decode(expected[-1]))))

    result = generate(compile_model(config, weights, cores=CORES), prompt, NEW_TOKENS)
    assert result.tokens == expected, (tokenizer.decode(result.tokens), tokenizer.decode(expected))
    text = tokenizer.decode(prompt + expected)
    print(f"{NEW_TOKENS} tokens -> {len(text) - len(PROMPT)} characters:\n{text}")
    assert len(text) - len(PROMPT) >= 2 * NEW_TOKENS          # BPE tokens, not single bytes
    assert re.search(r"[A-Za-z_]\w*\(", text), text
