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
    parser.set_defaults(func=run)


def run(args):
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
