"""``dfx verilog [NAME ...] --out DIR``: write ``DIR/NAME.v`` for every registered target at its
U280 parameters (:mod:`dfx_hw.synth.targets`, entries with ``u280=True``)."""

from pathlib import Path

from ..synth.flow import write_verilog
from ..synth.targets import select_targets


def _verilog(args):
    targets = select_targets(args.names, u280_only=True, include_slow=True)
    out = Path(args.out)
    for target in targets:
        path = write_verilog(target, out / f"{target.name}.v")
        print(f"wrote {path} ({target.factory} {target.params})", flush=True)
    return 0


def register(subparsers):
    parser = subparsers.add_parser("verilog", help="elaborate the U280 gateware to Verilog")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="targets to write (default: every U280 target)")
    parser.add_argument("--out", default="build/verilog", help="output directory")
    parser.set_defaults(func=_verilog)
