"""The whole U280 top level at the U280 size, built with ``do_build=False`` (no Vivado):
the generated Tcl/XDC reference only files that exist and ports that exist, every pin comes from
the board file once, and Verilator ``--lint-only`` passes on the whole top with the vendor IP as
black-box stubs carrying their port lists (and fails when a stub's port list disagrees).
``make bitstream`` without Vivado stops with a message naming vivado."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from boards.alveo_u280 import AlveoU280Platform
from dfx_hw.spec.core_ports import U280_PORTS
from dfx_hw.top.checks import BuildCheckError, check_build, missing_references, top_ports
from sim.u280_lint import LintError, lint, stubs_verilog
from dfx_hw.top.u280_top import U280Top, ip_settings

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build" / "test_board"


@pytest.fixture(scope="module")
def u280_build():
    """(platform, plan) of the full U280 top with the black-box core (about 30 s)."""
    top = U280Top()
    platform = AlveoU280Platform(ip_settings=top.ip_settings())
    return platform, platform.build(top, do_build=False)


def _text(plan, name):
    content = plan.files[name]
    return content.decode() if isinstance(content, bytes) else content


def test_build_passes_every_structural_check(u280_build):
    platform, plan = u280_build
    assert check_build(plan, platform)


def test_generated_tcl_sources_the_ip_and_reads_the_constraints(u280_build):
    _, plan = u280_build
    tcl = _text(plan, "top.tcl")
    for name in ("ip_hbm.tcl", "ip_xdma.tcl", "ip_aurora_qsfp0.tcl", "ip_aurora_qsfp1.tcl",
                 "ip_axi_infrastructure.tcl", "ip_ddr4.tcl", "ip_generate.tcl"):
        assert f"source {name}" in tcl and name in plan.files
    assert 'read_xdc "timing.xdc"' in tcl and 'read_xdc "bitstream.xdc"' in tcl
    # the IP configuration follows the top's parameters (one source of truth)
    for key, value in ip_settings(U280_PORTS).items():
        assert f"set {key} {{{value}}}" in tcl
    # generate.tcl runs after every create_ip
    sources = re.findall(r"^source (\S+)", tcl, re.M)
    assert sources[-1] == "ip_generate.tcl"
    assert missing_references(tcl, set(plan.files)) == []
    # reports next to the bitstream (Amaranth's Vivado template)
    assert "report_utilization -file top_utilization_place.rpt" in tcl
    assert "report_timing_summary -datasheet -max_paths 10 -file top_timing.rpt" in tcl
    assert "write_bitstream -force -bin_file top.bit" in tcl


def test_build_check_fails_on_a_missing_file_and_a_cut_tcl(u280_build):
    platform, plan = u280_build

    class Cut:
        files = dict(plan.files)
    hbm = _text(plan, "ip_hbm.tcl")
    Cut.files["ip_hbm.tcl"] = hbm[:hbm.index("[list") + 40]     # inside the property list
    del Cut.files["ip_ddr4.tcl"]
    with pytest.raises(BuildCheckError) as info:
        check_build(Cut, platform)
    message = str(info.value)
    assert "ip_hbm.tcl is not complete Tcl" in message
    assert "`source ip_ddr4.tcl` names a file the build does not have" in message


def test_xdc_places_each_board_pin_once(u280_build):
    platform, plan = u280_build
    xdc = _text(plan, "top.xdc")
    pins = re.findall(r"set_property LOC (\S+) ", xdc)
    assert len(pins) == len(set(pins))
    assert {"D32", "L30", "BH26", "AR15", "G31", "R40", "M42", "H32", "G32", "H30",
            "G33", "BJ43"} <= set(pins)
    ports = top_ports(_text(plan, "top.v"))
    assert "hbm_cattrip_0__io" in ports


def test_xdc_check_fails_on_a_duplicated_pin(u280_build):
    platform, plan = u280_build

    class Dup:
        files = dict(plan.files)
    Dup.files["top.xdc"] = (_text(plan, "top.xdc")
                            + 'set_property LOC D32 [get_ports "rst_0__io"]\n')
    with pytest.raises(BuildCheckError, match=r"places pin D32 twice"):
        check_build(Dup, platform)


def test_whole_top_lints_with_ip_stubs(u280_build):
    _, plan = u280_build
    lint(_text(plan, "top.v"), stubs_verilog(U280_PORTS), BUILD / "lint")


def test_lint_fails_when_a_stub_disagrees_with_the_top(u280_build):
    """The lint is not vacuous: an HBM stub without one port, and one with another width."""
    _, plan = u280_build
    stubs = stubs_verilog(U280_PORTS)
    without = stubs.replace("    input wire AXI_05_ARESET_N,\n", "", 1)
    assert without != stubs
    with pytest.raises(LintError, match="AXI_05_ARESET_N"):
        lint(_text(plan, "top.v"), without, BUILD / "lint_missing")
    narrower = stubs.replace("input wire [32:0] AXI_07_ARADDR", "input wire [31:0] AXI_07_ARADDR",
                             1)
    assert narrower != stubs
    with pytest.raises(LintError, match="WIDTH"):
        lint(_text(plan, "top.v"), narrower, BUILD / "lint_width")


def _path_without_vivado():
    dirs = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d and not Path(d, "vivado").exists():
            dirs.append(d)
    return os.pathsep.join(dirs)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_bitstream_without_vivado_names_vivado():
    env = dict(os.environ, PATH=_path_without_vivado())
    result = subprocess.run(["make", "--no-print-directory", "bitstream"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "vivado" in result.stderr and "not on PATH" in result.stderr


def test_build_script_without_vivado_names_vivado():
    env = dict(os.environ, PATH=_path_without_vivado(), PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-m", "dfx_hw.top.build", "--out",
                             str(BUILD / "vivado")], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert "`vivado` is not on PATH" in result.stderr


def test_small_top_with_four_lane_links_builds_checks_and_lints():
    """The parameter paths: 2 core HBM ports (the other 30 HBM ports idle, the host's slots
    without a core port never ready) and 256-bit links = 4-lane Aurora cores."""
    from dfx_hw.spec.core_ports import CorePorts
    ports = CorePorts(hbm_ports=2, link_bits=256)
    top = U280Top(ports=ports)
    platform = AlveoU280Platform(ip_settings=top.ip_settings())
    plan = platform.build(top, do_build=False)
    assert check_build(plan, platform)
    tcl = _text(plan, "top.tcl")
    assert "set dfx_aurora_lanes {4}" in tcl
    xdc = _text(plan, "top.xdc")
    for pin in ("L53", "K51", "J53", "H51", "G48", "E48", "C48", "A49"):   # all 8 GT lanes
        assert f"set_property LOC {pin} " in xdc
    lint(_text(plan, "top.v"), stubs_verilog(ports), BUILD / "lint_small")
