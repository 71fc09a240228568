# amaranth: UnusedElaboratable=no
"""The real DFX core at the U280 build (d=64, l=16, 32 HBM ports) in the U280 top level: it meets
the top's port contract, the top elaborates around it and passes every structural check of the
Vivado build (no Vivado needed)."""

import pytest

from boards.alveo_u280 import AlveoU280Platform
from dfx_hw.spec.core_ports import CorePorts, check_core
from dfx_hw.top.checks import check_build
from dfx_hw.top.dfx_core_port import U280_CORE_PORTS, U280Core, u280_core
from dfx_hw.top.u280_top import U280Top


def test_u280_core_meets_the_board_contract():
    # Built here for its signature only (this file silences UnusedElaboratable); the factory
    # `u280_core` is elaborated by the top-level test below.
    check_core(U280Core(ports=U280_CORE_PORTS), U280_CORE_PORTS)


def test_u280_core_refuses_board_ports_that_do_not_fit():
    with pytest.raises(ValueError, match="build the top with CorePorts\\(link_bits=256\\)"):
        U280Core(ports=CorePorts())               # the 1-lane default: 64-bit beats


@pytest.mark.slow
def test_u280_top_with_the_dfx_core_builds_and_passes_the_structural_checks(tmp_path):
    top = U280Top(core_factory=u280_core, ports=U280_CORE_PORTS)
    platform = AlveoU280Platform(ip_settings=top.ip_settings())
    plan = platform.build(top, name="top", build_dir=str(tmp_path), do_build=False)
    check_build(plan, platform)
    verilog = plan.files["top.v"].decode() if isinstance(plan.files["top.v"], bytes) \
        else plan.files["top.v"]
    assert "DFXCore" in verilog or "dfx" in verilog.lower()
