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
from .yosys import RESOURCE_KEYS, count_resources, synthesize

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


def estimate(target, workdir):
    """Synthesise one target; return its record (resources, logic levels, timings).

    Returns
    -------
    dict
        ``name``, ``factory``, ``params``, ``latency`` (when the component has one), the
        counts of :func:`~dfx_hw.synth.yosys.count_resources`, ``logic_levels``,
        ``critical_path`` (cells of one longest path) and ``synth_seconds``.
    """
    workdir = Path(workdir) / target.name
    start = time.monotonic()
    component = target.build()
    source = write_text_atomic(workdir / f"{target.name}.v", verilog_text(component))
    netlist = synthesize(source, top=TOP, workdir=workdir)
    depth = logic_levels(netlist, TOP)
    record = {
        "name": target.name,
        "factory": target.factory,
        "params": dict(target.params),
        "latency": getattr(component, "latency", None),
        **count_resources(netlist, TOP),
        "logic_levels": depth.levels,
        "critical_path": list(depth.path),
        "synth_seconds": round(time.monotonic() - start, 1),
    }
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
