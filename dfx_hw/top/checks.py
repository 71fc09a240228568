"""Structural checks of the U280 build that run without Vivado.

* :func:`tcl_incomplete` -- Tcl files that ``tclsh``'s ``info complete`` rejects (a file cut
  short, an unbalanced brace or bracket, an open quote);
* :func:`board_pin_problems` -- package pins used twice in the board file;
* :func:`xdc_pin_problems` -- constraint text that places a pin twice or places a pin the board
  file does not have, or that a project constraint file places pins at all (pins come only from
  the board file);
* :func:`missing_references` -- files the generated ``top.tcl`` sources / reads / adds that are
  not in the build;
* :func:`unknown_ports` -- ``get_ports`` names in the constraints that the top module lacks.

Each returns a list of problems (empty = fine); :func:`check_build` runs them all on a
``BuildPlan`` and raises :class:`BuildCheckError` listing every problem.
"""

import re
import shutil
import subprocess
from collections import defaultdict

from amaranth.build import DiffPairs, Pins

__all__ = ["tcl_incomplete", "board_pins", "board_pin_problems", "xdc_pin_problems",
           "missing_references", "unknown_ports", "top_ports", "check_build",
           "BuildCheckError"]


class BuildCheckError(AssertionError):
    """A structural check of the Vivado build failed; the message lists every problem."""


def tcl_incomplete(texts):
    """Names of the Tcl texts (``{name: text}``) that are not complete Tcl scripts.

    Runs one ``tclsh`` (``info complete`` on each text, passed through a temporary variable so
    that no script is evaluated). Raises ``RuntimeError`` naming ``tclsh`` when it is missing."""
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        raise RuntimeError("tclsh is not on PATH (Debian package 'tcl'): it checks the Tcl files")
    names = sorted(texts)
    script = "".join(
        f"set t [binary decode hex {texts[n].encode().hex()}]\n"
        f"puts [info complete [encoding convertfrom utf-8 $t]]\n" for n in names)
    result = subprocess.run([tclsh], input=script, capture_output=True, text=True, check=True)
    verdicts = result.stdout.split()
    if len(verdicts) != len(names):
        raise RuntimeError(f"tclsh answered {verdicts!r} for {len(names)} files: {result.stderr}")
    return [n for n, ok in zip(names, verdicts) if ok != "1"]


def _resource_pins(resource):
    """``(pin, subsignal path)`` of every package pin of a resource."""
    def walk(io, path):
        if isinstance(io, Pins):
            for pin in io.names:
                yield pin, path
        elif isinstance(io, DiffPairs):
            for pin in list(io.p.names) + list(io.n.names):
                yield pin, path
        else:                                     # Subsignal
            for child in io.ios:
                yield from walk(child, path + (child.name,) if hasattr(child, "name")
                                else path)
    for io in resource.ios:
        yield from walk(io, (f"{resource.name}#{resource.number}",) +
                        ((io.name,) if hasattr(io, "name") else ()))


def board_pins(platform):
    """``{pin: [owner, ...]}`` over every resource of the platform."""
    owners = defaultdict(list)
    for resource in platform.resources.values():
        for pin, path in _resource_pins(resource):
            owners[pin].append(".".join(path))
    return dict(owners)


def board_pin_problems(platform):
    """Pins that more than one resource (or subsignal) of the board file uses."""
    return [f"package pin {pin} is used {len(owners)} times: {', '.join(owners)}"
            for pin, owners in sorted(board_pins(platform).items()) if len(owners) > 1]


_PORT = r"(?:\"([^\"]+)\"|\{\s*([^}]+?)\s*\}|([^\s\]]+))"
_LOC = re.compile(r"set_property\s+(?:LOC|PACKAGE_PIN)\s+(\S+)\s+\[\s*get_ports\s+" + _PORT)
_LOC_DICT = re.compile(r"PACKAGE_PIN\s+(\w+)")


def xdc_pin_problems(xdc, platform, *, name="top.xdc", may_place=True):
    """Problems with the pins placed by constraint text ``xdc``: a pin placed twice, a pin the
    board file does not have; with ``may_place=False`` any placement at all."""
    problems = []
    known = board_pins(platform)
    seen = {}
    for pin, *port in _LOC.findall(xdc):
        port = "".join(port).replace("\\", "")
        if not may_place:
            problems.append(f"{name} places pin {pin} ({port}): pins come only from the board "
                            f"file")
        if pin not in known:
            problems.append(f"{name} places {port} on {pin}, which no board resource has")
        if pin in seen:
            problems.append(f"{name} places pin {pin} twice: {seen[pin]} and {port}")
        seen[pin] = port
    if not may_place:
        for pin in _LOC_DICT.findall(xdc):
            if not any(pin == found[0] for found in _LOC.findall(xdc)):
                problems.append(f"{name} places pin {pin} with -dict: pins come only from the "
                                f"board file")
    return problems


_REFERENCE = re.compile(r"^\s*(source|read_xdc|read_verilog|add_files|read_ip)\s+(.+?)\s*$",
                        re.M)


def missing_references(tcl, files, *, name="top.tcl"):
    """Files ``tcl`` sources / reads / adds that are not among ``files`` (names in the build)."""
    problems = []
    for command, argument in _REFERENCE.findall(tcl):
        for path in argument.split():
            if path.startswith("-"):
                continue
            path = path.strip("\"{}")
            if path not in files:
                problems.append(f"{name}: `{command} {path}` names a file the build does not "
                                f"have")
    return problems


def top_ports(verilog, top="top"):
    """Port names of module ``top`` in Verilog text."""
    match = re.search(rf"^module {re.escape(top)}\s*\(([^;]*)\);", verilog, re.M)
    if match is None:
        raise ValueError(f"no module {top} in the Verilog")
    return {p.strip() for p in match.group(1).split(",")}


_GET_PORTS = re.compile(r"\[\s*get_ports\s+" + _PORT)


def _port_base(name):
    """``ddr4_0__dq__io\\[3]`` -> ``ddr4_0__dq__io`` (the bit index dropped)."""
    return re.sub(r"\[\d+\]$", "", name.replace("\\", "")).strip()


def unknown_ports(xdc, ports, *, name):
    """``get_ports`` names in constraint text that are not ports of the top module."""
    names = {_port_base("".join(found)) for found in _GET_PORTS.findall(xdc)}
    return [f"{name}: get_ports {port} is not a port of the top level"
            for port in sorted(names) if port not in ports]


def check_build(plan, platform, *, extra_tcl=()):
    """Every check on a ``BuildPlan`` (``platform.build(..., do_build=False)``): raises
    :class:`BuildCheckError` listing every problem."""
    files = plan.files
    problems = []
    problems += board_pin_problems(platform)
    tcl = {n: (c.decode() if isinstance(c, bytes) else c) for n, c in files.items()
           if n.endswith(".tcl")}
    tcl.update(extra_tcl)
    problems += [f"{n} is not complete Tcl (cut short? unbalanced braces?)"
                 for n in tcl_incomplete(tcl)]
    for n in ("top.tcl",):
        problems += missing_references(tcl[n], set(files), name=n)
    ports = top_ports(files["top.v"])
    for n, text in files.items():
        if not n.endswith(".xdc"):
            continue
        text = text.decode() if isinstance(text, bytes) else text
        problems += xdc_pin_problems(text, platform, name=n, may_place=(n == "top.xdc"))
        problems += unknown_ports(text, ports, name=n)
    if problems:
        raise BuildCheckError("the U280 build fails its structural checks:\n  " +
                              "\n  ".join(problems))
    return True
