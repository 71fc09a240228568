"""``dfx generate``: continue a prompt with GPT-2 on a chosen backend.

Prints the prompt and its continuation on stdout, streamed as the tokens come; on stderr, a
progress bar while tokens are produced and a final summary line (backend, tokens, tokens/s, and
the backend's own figures: cycles, and for the device backends per-token latency mean/p50/p99 in
clocks ``latency_*_clk`` and, for ``xdma``, in microseconds ``latency_*_us``). ``--quiet``
leaves only the text. A device problem (missing node, old bitstream, core error, timeout) is one
line on stderr and exit status 2, and so is the first token the ``rtl`` backend generates
differently from the ISA simulator.
"""

import sys
import time

from tqdm import tqdm

from ..backends import BACKENDS, get_backend
from ..backends.device import RtlMismatch
from ..host import BitstreamMismatch, CoreError, DeviceError
from ..model.sampling import Sampler
from ..model.tokenizer import load_tokenizer

__all__ = ["register", "run"]

DEFAULT_MODEL = "models/demo"


def register(subparsers):
    parser = subparsers.add_parser(
        "generate", help="generate text from a prompt",
        description="Continue a prompt with a GPT-2 checkpoint (Hugging Face format) on a "
                    "backend: greedy by default, or seeded temperature/top-k sampling.")
    parser.add_argument("--model", default=DEFAULT_MODEL, metavar="DIR",
                        help="checkpoint directory with config.json + model.safetensors "
                             "(default: %(default)s)")
    parser.add_argument("--prompt", default="def ", help="text to continue (default: %(default)r)")
    parser.add_argument("--max-new-tokens", type=int, default=64, metavar="N",
                        help="tokens to generate (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="0 = greedy argmax (default); > 0 samples from softmax(logits / T)")
    parser.add_argument("--top-k", type=int, default=None, metavar="K",
                        help="sample among the K most likely tokens only (needs --temperature)")
    parser.add_argument("--backend", default="reference", metavar="NAME",
                        help=f"one of: {', '.join(BACKENDS)} (default: %(default)s)")
    parser.add_argument("--cores", type=int, default=None, metavar="N",
                        help="number of DFX cores, for backends that simulate them")
    parser.add_argument("--no-check", dest="check", action="store_const", const=False,
                        default=None,
                        help="rtl backend: do not compare every token with the ISA simulator")
    parser.add_argument("--core", default=None, metavar="BUILD",
                        help="rtl backend: the core build to simulate: u280 (default; d=64, "
                             "l=16, 32 HBM ports), demo (d=64, l=4, 4 ports: builds in minutes) "
                             "or small")
    parser.add_argument("--hbm-latency", type=int, default=None, metavar="CLOCKS",
                        help="rtl backend: read latency of the simulated HBM (default 200)")
    parser.add_argument("--device", default=None, metavar="PREFIX[,PREFIX...]",
                        help="xdma backend: the cards' XDMA node prefixes in ring order "
                             "(default /dev/xdma0)")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the text: no progress bar, no summary")
    parser.set_defaults(func=run)


def run(args) -> int:
    sampler = Sampler(temperature=args.temperature, top_k=args.top_k, seed=args.seed)
    backend = get_backend(args.backend, args.model, cores=args.cores, check=args.check,
                          hbm_latency=args.hbm_latency, device=args.device, core=args.core)
    tokenizer = load_tokenizer(args.model, backend.config)
    prompt_ids = tokenizer.encode(args.prompt)
    # Validate (context length, vocabulary, sampling support) before any work.
    backend.check_request(prompt_ids, args.max_new_tokens, sampler)

    if not args.quiet:
        backend.prepare(progress=lambda text: print(f"dfx: {text}", file=sys.stderr,
                                                     flush=True))
    else:
        backend.prepare()

    tokens = []
    shown = tokenizer.decode(prompt_ids)
    sys.stdout.write(shown)
    sys.stdout.flush()
    start = time.perf_counter()
    try:
        with tqdm(total=args.max_new_tokens, desc=backend.name, unit="tok", file=sys.stderr,
                  disable=args.quiet, leave=False, dynamic_ncols=True) as bar:
            for token in backend.generate(prompt_ids, args.max_new_tokens, sampler):
                tokens.append(token)
                shown = _stream(shown, tokenizer.decode(prompt_ids + tokens))
                bar.update(1)
    except (DeviceError, BitstreamMismatch, CoreError, RtlMismatch) as error:
        sys.stdout.write("\n")
        print(f"dfx: error: {error}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start

    _stream(shown, tokenizer.decode(prompt_ids + tokens), final=True)
    sys.stdout.write("\n")
    sys.stdout.flush()
    if not args.quiet:
        rate = len(tokens) / elapsed if elapsed > 0 else float("inf")
        fields = [f"backend={backend.name}", f"tokens={len(tokens)}",
                  f"seconds={elapsed:.3f}", f"tokens/s={rate:.1f}"]
        fields += [f"{key}={value}" for key, value in backend.stats().items()]
        print("dfx generate: " + " ".join(fields), file=sys.stderr)
    return 0


def _stream(shown, text, *, final=False):
    """Write what ``text`` adds to ``shown`` (the text written so far); hold back a trailing
    partial character (U+FFFD of an unfinished UTF-8 sequence) until the end."""
    if not final:
        text = text.rstrip("\ufffd")
    if text.startswith(shown) and len(text) > len(shown):
        sys.stdout.write(text[len(shown):])
        sys.stdout.flush()
        return text
    return shown
