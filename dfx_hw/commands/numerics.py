"""``dfx numerics``: write (or check) ``docs/numerics.md``, generated from the bit-true numerics."""

from pathlib import Path

__all__ = ["register"]

DEFAULT_OUT = Path("docs/numerics.md")


def register(subparsers):
    parser = subparsers.add_parser(
        "numerics", help="generate docs/numerics.md from the bit-true numerics module",
        description="Write the numerics document (tables, operation orders, measured errors).")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output file (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="do not write: exit 1 if the file differs from the generated text")
    parser.add_argument("--prove", action="store_true",
                        help="instead, check the fast FP16 add/multiply paths against the exact "
                             "rounding on all 2**32 operand pairs (about 10 minutes)")
    parser.set_defaults(func=run)


def run(args):
    if args.prove:
        return prove()
    from ..model.bittrue.report import numerics_markdown

    text = numerics_markdown()
    if args.check:
        if not args.out.exists() or args.out.read_text() != text:
            print(f"dfx: {args.out} is stale: run `dfx numerics --out {args.out}`")
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


def prove():
    from ..model.bittrue.prove import prove_fast_paths

    def progress(done, total):
        if done % 1024 == 0 or done == total:
            print(f"  {done}/{total} first operands", flush=True)

    failures = prove_fast_paths(progress=progress)
    for check, count in failures.items():
        print(f"{check}: {count} mismatching pairs")
    return 0 if not any(failures.values()) else 1
