"""On the shipped demo model the ISA simulator (FP16, bit-true numerics, compiled programs on 1, 2
and 4 cores) continues prompts with the same greedy tokens as the float32 reference."""

from pathlib import Path

import numpy as np
import pytest

from dfx_hw.compiler import compile_model
from dfx_hw.isa import assemble, disassemble
from dfx_hw.isasim import generate
from dfx_hw.model.checkpoint import load_checkpoint
from dfx_hw.model.reference import ReferenceGPT2

DEMO = Path(__file__).resolve().parent.parent / "models" / "demo"
PROMPTS = [b"def ", b"import ", b"The "]
NEW_TOKENS = 32


@pytest.fixture(scope="module")
def demo():
    config, weights = load_checkpoint(DEMO)
    reference = ReferenceGPT2(config, weights)
    expected = {}
    for prompt in PROMPTS:
        ids = list(prompt)
        logits = [reference.prefill(ids)]
        tokens = [int(np.argmax(logits[-1]))]
        while len(tokens) < NEW_TOKENS:
            logits.append(reference.decode(tokens[-1]))
            tokens.append(int(np.argmax(logits[-1])))
        expected[prompt] = (tokens, np.stack(logits))
    return config, weights, expected


@pytest.mark.parametrize("cores", [1, 2, 4])
def test_demo_model_greedy_tokens_equal_the_float_reference(demo, cores, record_property):
    config, weights, expected = demo
    model = compile_model(config, weights, cores=cores, capture_logits=True)
    worst = scale = 0.0
    for prompt in PROMPTS:
        for program in model.programs(n_prompt=len(prompt), n_new=NEW_TOKENS):
            assert all(assemble(disassemble(instr)) == instr for instr in program)
        result = generate(model, list(prompt), NEW_TOKENS)
        tokens, logits = expected[prompt]
        assert result.tokens == tokens, (prompt, result.tokens, tokens)   # BPE ids, not bytes
        worst = max(worst, float(np.abs(result.logits.astype(np.float32) - logits).max()))
        scale = max(scale, float(np.abs(logits).max()))
    record_property("max_logit_error", worst)
    print(f"demo model, {cores} cores: max |logit(isasim) - logit(float)| = {worst:.4g} "
          f"(largest |logit| {scale:.4g})")
    # FP16 against float32 through 4 layers: measured 0.055 for logits up to 19.9 (0.3 %, about
    # 3.5 FP16 ulps at that magnitude); a numerics or compiler bug gives errors of order 1.
    assert worst < 0.01 * scale
