"""Resource estimation of registered targets: Amaranth -> Verilog -> Yosys -> figures."""

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path

from ..hdl.leaf import convert_hierarchical
from .dedupe import dedupe_modules
from .levels import logic_levels
from .yosys import (RESOURCE_KEYS, count_resources, design_modules, module_instances,
                    synthesize)

__all__ = ["TOP", "verilog_text", "write_verilog", "estimate", "format_table",
           "write_json_atomic", "write_text_atomic"]

TOP = "top"
#: Logic levels between registers we aim for at the default latency (stand-in for 200+ MHz).
LEVELS_TARGET = 8


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same folder, moved into place
    with :func:`os.replace` (readers never see half a file; parallel writers are safe).

    The file gets the mode of any ordinary output, ``0o666`` less the umask (``0644`` usually),
    not the ``0600`` of :func:`tempfile.mkstemp`. Returns ``path`` as a :class:`Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_json_atomic(path, data):
    """Write ``data`` as indented JSON to ``path`` (:func:`write_text_atomic`)."""
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def verilog_text(component, name=TOP):
    """The project's Verilog of ``component``: hierarchical (every distinct leaf unit one module,
    instantiated: :func:`~dfx_hw.hdl.leaf.convert_hierarchical`), then the remaining identical
    submodule bodies merged (:func:`~dfx_hw.synth.dedupe.dedupe_modules`). ``make verilog``, the
    Yosys estimates and the cocotb harness all use this."""
    return dedupe_modules(convert_hierarchical(component, name))


def write_verilog(target, path):
    """Elaborate ``target`` and write its Verilog (:func:`verilog_text`, top module ``top``) to
    ``path``."""
    return write_text_atomic(path, verilog_text(target.build()))


def estimate(target, workdir, *, per_module=False):
    """Synthesise one target; return its record (resources, logic levels, timings).

    With ``per_module=True`` the hierarchy is kept (:func:`~dfx_hw.synth.yosys.synthesize` with
    ``flatten=False``): every distinct module (each leaf unit: FP16 adder, multiplier, MFU lane,
    ...) is synthesised once and its cells are multiplied by its number of instances. This takes
    minutes where the flattened full-size MFU takes hours, but nothing is optimised across module
    boundaries (so the counts are an upper bound of the flattened ones), and ``logic_levels`` is
    the longest path *inside* any one module (module ports count as path ends, as registers do):
    a path through a leaf's unregistered input stage is counted in pieces.

    Returns
    -------
    dict
        ``name``, ``factory``, ``params``, ``latency`` (when the component has one), the
        counts of :func:`~dfx_hw.synth.yosys.count_resources`, ``logic_levels``,
        ``critical_path`` (cells of one longest path), ``synth_seconds``, ``per_module``; with
        ``per_module``, ``modules``: per module name its ``instances``, own resources (one
        instance, submodules left out) and ``logic_levels``.
    """
    workdir = Path(workdir) / target.name
    start = time.monotonic()
    component = target.build()
    source = write_text_atomic(workdir / f"{target.name}.v", verilog_text(component))
    netlist = synthesize(source, top=TOP, workdir=workdir, flatten=not per_module)
    record = {
        "name": target.name,
        "factory": target.factory,
        "params": dict(target.params),
        "latency": getattr(component, "latency", None),
        **count_resources(netlist, TOP, hierarchy=per_module),
        "per_module": per_module,
    }
    if per_module:
        names = design_modules(netlist)
        modules = {}
        for name, times in sorted(module_instances(netlist, TOP).items()):
            depth = logic_levels(netlist, name, boundaries=names)
            own = count_resources(netlist, name, hierarchy=False)
            own["other"] = {k: v for k, v in own["other"].items() if k not in names}
            modules[name] = {"instances": times, **own, "logic_levels": depth.levels,
                             "critical_path": list(depth.path)}
        worst = max(modules.values(), key=lambda m: m["logic_levels"])
        record.update(modules=modules, logic_levels=worst["logic_levels"],
                      critical_path=worst["critical_path"])
    else:
        depth = logic_levels(netlist, TOP)
        record.update(logic_levels=depth.levels, critical_path=list(depth.path))
    record["synth_seconds"] = round(time.monotonic() - start, 1)
    return record


def format_table(records):
    """A plain-text table of records (one row per target)."""
    columns = ["name", "latency"] + [k for k in RESOURCE_KEYS] + ["logic_levels"]
    header = ["target", "lat", "LUT", "FF", "SRL", "LUTRAM", "CARRY4", "CARRY8", "MUXF",
              "DSP48E2", "RAMB36", "RAMB18", "URAM288", "levels"]
    rows = [[str(r.get(c, "")) if r.get(c) is not None else "-" for c in columns]
            for r in records]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(header, widths)))]
    for row in rows:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)
