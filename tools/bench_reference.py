"""Generation speed of the float32 reference GPT-2 (``dfx_hw.model.reference``).

Measures, for the shipped demo model (when ``models/demo`` exists) and for a random-weight
GPT-2 124M, the prefill time of a prompt and the greedy decode rate in tokens/s, prints a table
and writes ``build/bench/reference.json``.

    .venv/bin/python tools/bench_reference.py [--tokens 32] [--prompt-tokens 16] [--threads 1]

``--threads`` sets the BLAS thread count (``OPENBLAS_NUM_THREADS``, before NumPy is imported);
on a shared two-core machine one thread is several times faster than OpenBLAS's default.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path


def measure(name, config, weights, *, prompt_tokens, new_tokens, repeats=2):
    """Best-of-``repeats`` prefill seconds and greedy decode tokens/s."""
    import numpy as np

    from dfx_hw.model.reference import ReferenceGPT2
    from dfx_hw.model.sampling import greedy

    model = ReferenceGPT2(config, weights)
    prompt = np.random.default_rng(0).integers(0, config.vocab_size, prompt_tokens)
    best_prefill, best_decode = float("inf"), float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        logits = model.prefill(prompt)
        prefill = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(new_tokens):
            logits = model.decode(greedy(logits))
        decode = time.perf_counter() - start
        best_prefill, best_decode = min(best_prefill, prefill), min(best_decode, decode)
    return {
        "model": name,
        "n_params": config.n_params,
        "config": config.to_hf_dict(),
        "prompt_tokens": prompt_tokens,
        "new_tokens": new_tokens,
        "prefill_s": round(best_prefill, 4),
        "prefill_tokens_per_s": round(prompt_tokens / best_prefill, 1),
        "decode_tokens_per_s": round(new_tokens / best_decode, 1),
        "decode_ms_per_token": round(1e3 * best_decode / new_tokens, 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="models/demo", help="demo checkpoint directory")
    parser.add_argument("--tokens", type=int, default=32, help="decoded tokens per run")
    parser.add_argument("--prompt-tokens", type=int, default=16, help="prompt length")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads; 0 keeps the library default (default: %(default)s)")
    parser.add_argument("--out", default="build/bench/reference.json")
    args = parser.parse_args(argv)
    if args.threads > 0:
        if "numpy" in sys.modules:
            raise RuntimeError("--threads must be applied before NumPy is imported")
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    import numpy as np

    from dfx_hw.model.checkpoint import load_checkpoint, random_weights
    from dfx_hw.model.config import GPT2Config

    results = []
    if (Path(args.demo) / "config.json").is_file():
        config, weights = load_checkpoint(args.demo)
        results.append(measure(f"demo ({args.demo})", config, weights,
                               prompt_tokens=args.prompt_tokens, new_tokens=args.tokens))
    else:
        print(f"bench_reference: no demo model in {args.demo}, skipping it", file=sys.stderr)
    config = GPT2Config.preset("124M")
    results.append(measure("random-weight GPT-2 124M", config, random_weights(config, seed=0),
                           prompt_tokens=args.prompt_tokens, new_tokens=args.tokens))

    report = {
        "benchmark": "float32 NumPy reference GPT-2, greedy decoding with KV cache",
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "cpus": os.cpu_count(), "processor": platform.machine(),
                    "blas_threads": args.threads or "library default",
                    "load_average_1min": round(os.getloadavg()[0], 2)},
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    for r in results:
        print(f"{r['model']:32s} {r['n_params'] / 1e6:8.1f}M params  "
              f"prefill {r['prompt_tokens']} tok {1e3 * r['prefill_s']:8.1f} ms  "
              f"decode {r['decode_tokens_per_s']:8.1f} tok/s ({r['decode_ms_per_token']} ms/tok)")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
