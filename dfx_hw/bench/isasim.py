"""ISA-simulator benchmark: simulated tokens/s (wall clock and CPU time of this process, which
differ on a shared machine), estimated hardware clocks per token, and per-token instruction counts
by class, for the shipped demo model and a random-weight GPT-2 124M, on 1 and 4 cores. For the demo model it also reports the largest
difference between the simulator's logits and the float reference's."""

import time
from pathlib import Path

import numpy as np

from ..compiler import compile_model
from ..model.checkpoint import load_checkpoint, random_weights
from ..model.config import GPT2Config
from ..model.reference import ReferenceGPT2

__all__ = ["run", "DEMO_MODEL"]

DEMO_MODEL = Path(__file__).resolve().parents[2] / "models" / "demo"


def _measure(label, config, weights, cores, prompt, n_new, geometry_clock=200e6,
             reference=None):
    start = time.perf_counter()
    model = compile_model(config, weights, cores=cores, capture_logits=reference is not None)
    compile_s = time.perf_counter() - start
    from ..isasim.run import Session

    session = Session(model, prompt, n_new)
    for _ in session.tokens():
        pass
    r = session.result
    # generation speed: tokens after the first (the first includes summarization)
    gen_tokens = len(r.tokens) - 1
    gen_s = r.token_seconds[-1] - r.token_seconds[0]
    gen_cpu = r.token_cpu_seconds[-1] - r.token_cpu_seconds[0]
    per_token = r.token_counts[-1]
    # weights a core streams per token (its slice of every layer and of the LM head)
    roofline = max(core.memmap.hbm_size - config.n_layer * sum(
        core.memmap.hbm_layer[name].size for name in core.memmap.hbm_layer
        if name[0] in "kv" and name[1:].isdigit()) for core in model.cores) // \
        model.geometry.tile_elements
    cycles = r.token_cycles[-1]
    overlapped = r.token_overlapped_cycles[-1]
    out = {
        "model": label, "cores": cores, "prompt_tokens": len(prompt), "new_tokens": n_new,
        "compile_seconds": round(compile_s, 2),
        "first_token_seconds": round(r.token_seconds[0], 3),
        "sim_tokens_per_second": round(gen_tokens / gen_s, 3) if gen_s > 0 else None,
        "sim_tokens_per_cpu_second": round(gen_tokens / gen_cpu, 3) if gen_cpu > 0 else None,
        "instructions_per_token_core0": dict(sorted(per_token.items())),
        "instructions_per_token_core0_total": sum(per_token.values()),
        "estimated_cycles_per_token": int(cycles),
        "estimated_hw_tokens_per_second": round(geometry_clock / cycles, 1),
        "overlapped_cycles_per_token": int(overlapped),
        "overlapped_hw_tokens_per_second": round(geometry_clock / overlapped, 1),
        "roofline_cycles_per_token": int(roofline),
    }
    if reference is not None:
        logits = [reference.prefill(prompt)]
        for token in r.tokens[:-1]:
            logits.append(reference.decode(token))
        logits = np.stack(logits)
        out["max_logit_error_vs_float"] = float(np.abs(logits - r.logits.astype(np.float32)).max())
        out["tokens_equal_float_greedy"] = [int(np.argmax(l)) for l in logits] == r.tokens
    return out


def run(*, quick=False):
    """Run the benchmark; ``quick`` uses a 2-layer random model instead of 124M."""
    results = []
    prompt = list(b"def fib(n):\n")
    if DEMO_MODEL.is_dir():
        config, weights = load_checkpoint(DEMO_MODEL)
        for cores in (1, 4):
            results.append(_measure("demo", config, weights, cores, prompt, 8 if quick else 32,
                                    reference=ReferenceGPT2(config, weights)))
    big = GPT2Config.preset("124M")
    label = "gpt2-124M-random"
    if quick:
        big = GPT2Config(vocab_size=50257, n_positions=64, n_embd=768, n_layer=1, n_head=12)
        label = "gpt2-124M-shape-1-layer-random"
    weights = random_weights(big, seed=0)
    for cores in (1, 4):
        results.append(_measure(label, big, weights, cores, [464, 2068, 7586, 21831], 4))
    summary = []
    for r in results:
        line = (f"{r['model']}, {r['cores']} core(s): {r['sim_tokens_per_second']} simulated "
                f"tokens/s ({r['sim_tokens_per_cpu_second']} per CPU second); est. clocks/token "
                f"serial {r['estimated_cycles_per_token']}, overlapped "
                f"{r['overlapped_cycles_per_token']} ({r['overlapped_hw_tokens_per_second']} "
                f"tokens/s at 200 MHz), roofline {r['roofline_cycles_per_token']}; per token on "
                f"core 0: {r['instructions_per_token_core0']}")
        if "max_logit_error_vs_float" in r:
            line += (f", max |logit - float| = {r['max_logit_error_vs_float']:.4g}, greedy equal: "
                     f"{r['tokens_equal_float_greedy']}")
        summary.append(line)
    return {"benchmark": "isasim", "results": results, "summary": summary}
