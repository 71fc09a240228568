"""The Vivado Tcl of the U280 flow: every file is complete Tcl (``tclsh``'s ``info complete``),
the check fails on a file cut short or with an unbalanced brace, and the reference check fails
on a sourced file that the build does not have. Structural only: Vivado is not run here."""

from pathlib import Path

import pytest

from boards.alveo_u280 import IP_TCL, VIVADO_DIR
from dfx_hw.top.checks import missing_references, tcl_incomplete

TCL_FILES = sorted(Path(VIVADO_DIR).rglob("*.tcl"))


def test_the_flow_has_one_tcl_per_ip():
    names = {p.name for p in TCL_FILES}
    assert {"hbm.tcl", "aurora_qsfp0.tcl", "aurora_qsfp1.tcl", "xdma.tcl",
            "axi_infrastructure.tcl", "ddr4.tcl"} <= names
    assert set(IP_TCL) <= names


def test_every_tcl_file_is_complete():
    assert tcl_incomplete({p.name: p.read_text() for p in TCL_FILES}) == []


@pytest.mark.parametrize("path", TCL_FILES, ids=lambda p: p.name)
def test_a_tcl_file_cut_short_is_caught(path):
    text = path.read_text()
    # Cut inside the first braced or bracketed block (every IP file has one).
    cut = min(i for i in (text.find("{"), text.find("[")) if i >= 0) + 1
    assert tcl_incomplete({path.name: text[:cut]}) == [path.name]


def test_unbalanced_brace_and_open_quote_are_caught():
    texts = {"ok": "set a {1 2}\n", "brace": "if {1} {\n  puts x\n",
             "quote": 'puts "abc\n', "bracket": "set a [list 1 2\n"}
    assert tcl_incomplete(texts) == ["brace", "bracket", "quote"]


def test_ip_tcl_only_creates_ips_it_configures():
    # Every module created with create_ip is the target of a set_property in the same file,
    # so no IP is left at its defaults by accident.
    import re
    for path in TCL_FILES:
        text = path.read_text()
        for module in re.findall(r"create_ip\b[^\n]*-module_name\s+(\S+)", text):
            if module.startswith("$"):
                continue
            assert f"[get_ips {module}]" in text, f"{path.name}: {module} is never configured"


def test_missing_sourced_file_is_reported():
    tcl = "add_files top.v\nread_xdc top.xdc\nsource ip_hbm.tcl\nsource ip_gone.tcl\n"
    problems = missing_references(tcl, {"top.v", "top.xdc", "ip_hbm.tcl"})
    assert problems == ["top.tcl: `source ip_gone.tcl` names a file the build does not have"]


def test_toolchain_hook_sources_the_ip_tcl_and_keeps_the_callers_script():
    """A small design on the platform: the hook adds every IP Tcl and constraint file to the
    build, sources them in order after the design is read, then runs the caller's script."""
    from amaranth.hdl import Elaboratable, Module
    from amaranth.lib import io
    from boards.alveo_u280 import CONSTRAINTS, AlveoU280Platform

    class Cattrip(Elaboratable):
        def elaborate(self, platform):
            m = Module()
            m.submodules.pin = pin = io.Buffer("o", platform.request("hbm_cattrip", 0, dir="-"))
            m.d.comb += pin.o.eq(0)
            return m

    platform = AlveoU280Platform(ip_settings={"dfx_aurora_lanes": 4})
    plan = platform.build(Cattrip(), do_build=False, script_after_read="puts caller")
    tcl = plan.files["top.tcl"]
    for name in IP_TCL:
        assert f"ip_{name}" in plan.files
    for name in CONSTRAINTS:
        assert name in plan.files and f'read_xdc "{name}"' in tcl
    lines = tcl.splitlines()
    order = [lines.index(f"source ip_{name}") for name in IP_TCL]
    assert order == sorted(order)
    assert lines.index("set dfx_aurora_lanes {4}") < order[0] < lines.index("puts caller")
    assert lines.index("puts caller") < lines.index(next(l for l in lines
                                                         if l.startswith("synth_design")))
    assert missing_references(tcl, set(plan.files)) == []
