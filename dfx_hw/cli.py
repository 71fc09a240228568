"""The ``dfx`` command line.

Each subcommand lives in its own module under :mod:`dfx_hw.commands` and exposes

``register(subparsers)``
    adds its ``argparse`` parser and sets ``func`` (a callable taking the parsed arguments and
    returning an exit status) with ``parser.set_defaults(func=...)``.

Modules are discovered by name, so adding a subcommand touches no other file.
"""

import argparse
import importlib
import os
import pkgutil
import sys

# One BLAS thread unless the user says otherwise, set before any command imports NumPy: the float
# reference's matrix products are small, and OpenBLAS's own threads made them up to 100x slower on
# a busy two-core machine (measured: demo-model prefill of 64 tokens 1.26 s vs 32 ms).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from . import __version__, commands  # noqa: E402

__all__ = ["main", "DFXError"]


class DFXError(Exception):
    """An error the user can act on: printed as one line, without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dfx", description="DFX: GPT-2 text generation on (simulated) Alveo U280 hardware.")
    parser.add_argument("--version", action="version", version=f"dfx {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (DFXError, ValueError, FileNotFoundError) as error:
        # Library errors are written to be read by a user: one line naming the problem.
        print(f"dfx: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
