"""Alveo U280 board file: every package pin used once, pins only from the board file, and the
checks themselves fail on a duplicated or unknown pin (structural; no Vivado needed)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from amaranth.build import Attrs, Pins, Resource

from boards.alveo_u280 import VIVADO_DIR, AlveoU280Platform
from dfx_hw.top.checks import board_pin_problems, board_pins, xdc_pin_problems

REPO = Path(__file__).resolve().parent.parent


def test_platform_imports_from_the_repository_root():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c",
                             "from boards.alveo_u280 import AlveoU280Platform as P; "
                             "print(P()._part)"],
                            cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "xcu280-fsvh2892-2L-e"


def test_every_board_pin_is_used_once():
    assert board_pin_problems(AlveoU280Platform()) == []


def test_board_resources_have_the_card_sizes():
    platform = AlveoU280Platform()
    pcie = platform.lookup("pcie_x16", 0)
    sizes = {sub.name: len(sub.ios[0].p.names) for sub in pcie.ios if sub.name in ("rx", "tx")}
    assert sizes == {"rx": 16, "tx": 16}
    for q in (0, 1):
        assert [platform.lookup(f"qsfp{q}_lane", k).name for k in range(4)] == [f"qsfp{q}_lane"] * 4
    ddr = {sub.name: sub for sub in platform.lookup("ddr4", 0).ios}
    assert len(ddr["dq"].ios[0].names) == 72 and len(ddr["dqs"].ios[0].p.names) == 18
    assert len(ddr["adr"].ios[0].names) == 17
    # 2x3 system clock pins + button + CATTRIP + PCIe (2 + 1 + 64) + QSFP (2 x (2 + 2 + 16 + 2))
    # + DDR4 C0 (17 + 2 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 72 + 36 + 2)
    assert len(board_pins(platform)) == 6 + 1 + 1 + 67 + 44 + 137


def test_hbm_cattrip_is_d32_with_pulldown():
    cattrip = AlveoU280Platform().lookup("hbm_cattrip", 0)
    assert cattrip.ios[0].names == ["D32"]
    assert cattrip.attrs["PULLDOWN"] == "TRUE" and cattrip.attrs["IOSTANDARD"] == "LVCMOS18"


class _DuplicatedPin(AlveoU280Platform):
    resources = AlveoU280Platform.resources + [
        Resource("led", 0, Pins("D32", dir="o"), Attrs(IOSTANDARD="LVCMOS18")),
    ]


def test_duplicated_board_pin_is_reported():
    problems = board_pin_problems(_DuplicatedPin())
    assert len(problems) == 1
    assert "D32" in problems[0] and "hbm_cattrip#0" in problems[0] and "led#0" in problems[0]


def test_xdc_pin_checks_fail_on_unknown_and_repeated_pins():
    platform = AlveoU280Platform()
    good = 'set_property LOC D32 [get_ports "hbm_cattrip_0__io"]\n'
    assert xdc_pin_problems(good, platform) == []
    unknown = 'set_property LOC ZZ99 [get_ports "x"]\n'
    assert any("ZZ99" in p and "no board resource" in p
               for p in xdc_pin_problems(unknown, platform))
    twice = good + 'set_property PACKAGE_PIN D32 [get_ports {other}]\n'
    assert any("twice" in p and "D32" in p for p in xdc_pin_problems(twice, platform))


def test_project_constraint_files_place_no_pins():
    platform = AlveoU280Platform()
    for path in sorted(Path(VIVADO_DIR, "constraints").glob("*.xdc")):
        assert xdc_pin_problems(path.read_text(), platform, name=path.name,
                                may_place=False) == []
    placed = 'set_property PACKAGE_PIN D32 [get_ports x]\n'
    assert any("pins come only from the board file" in p
               for p in xdc_pin_problems(placed, platform, may_place=False))


def test_every_board_pin_passes_the_xdc_pin_check():
    # Every LOC the board file implies is one the board file has (sanity of the parser).
    platform = AlveoU280Platform()
    text = "".join(f'set_property LOC {pin} [get_ports "p{i}"]\n'
                   for i, pin in enumerate(board_pins(platform)))
    assert xdc_pin_problems(text, platform) == []


@pytest.mark.parametrize("name", ["sysclk", "rst", "pcie_x16", "qsfp", "qsfp_refclk0",
                                  "hbm_cattrip", "ddr4"])
def test_resources_named_by_the_issue_exist(name):
    AlveoU280Platform().lookup(name, 0)
