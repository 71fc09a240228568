# amaranth: UnusedElaboratable=no
"""The core port contract the U280 top level is written against (dfx_hw.spec.core_ports):
the black-box core fits it, a core that does not fit is refused with a message naming the
member, the IP instance helper refuses wrong port names / widths / open inputs, and the Aurora
reset sequencer holds pma_init and reset_pb as PG074 asks (simulated)."""

import pytest
from amaranth.hdl import ClockDomain, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from dfx_hw.spec.core_ports import (CoreContractError, CorePorts, U280_PORTS,
                                    axi4_lite_members, check_core, core_signature, flat_ports)
from dfx_hw.top import ip_ports as ip
from dfx_hw.top.blackbox import BlackBoxCore, core_stub_verilog
from dfx_hw.top.reset import AuroraResetSequencer
from dfx_hw.top.u280_top import U280Top


def test_u280_contract_sizes():
    rows = {name: (d, w) for name, d, w in flat_ports(U280_PORTS)}
    assert rows["ctrl__awaddr"] == ("i", 16) and rows["ctrl__rdata"] == ("o", 32)
    assert rows["hbm__31__rdata"] == ("i", 512) and rows["hbm__0__araddr"] == ("o", 33)
    assert "hbm__32__rdata" not in rows
    assert rows["ddr__wstrb"] == ("o", 64) and rows["ddr__awaddr"] == ("o", 34)
    assert rows["ring_next__tx_data"] == ("o", 64) and rows["ring_prev__rx_data"] == ("i", 64)
    assert "ring_next__rx_ready" not in rows           # the Aurora RX has no ready
    assert rows["ring_prev__lane_up"] == ("i", 1) and rows["ring_next__tx_ready"] == ("i", 1)


def test_blackbox_core_fits_and_its_stub_has_every_port():
    core = BlackBoxCore(ports=U280_PORTS)
    assert check_core(core, U280_PORTS) is core
    stub = core_stub_verilog(U280_PORTS)
    for name, _, _ in flat_ports(U280_PORTS):
        assert f" {name}" in stub


class _WrongCore(wiring.Component):
    """The contract with the DDR port missing and the register data 64 bits wide."""

    def __init__(self):
        members = dict(core_signature(U280_PORTS).members)
        del members["ddr"]
        ctrl = {**axi4_lite_members(addr_bits=U280_PORTS.reg_addr_bits), "wdata": Out(64)}
        members["ctrl"] = In(wiring.Signature(ctrl))
        super().__init__(members)

    def elaborate(self, platform):
        return Module()


def test_core_that_does_not_fit_is_refused_naming_the_members():
    with pytest.raises(CoreContractError) as info:
        check_core(_WrongCore(), U280_PORTS)
    message = str(info.value)
    assert "missing ddr.awid" in message
    assert "ctrl.wdata is In(64), the contract needs In(32)" in message
    with pytest.raises(CoreContractError, match="must be a lib.wiring Component"):
        check_core(Module(), U280_PORTS)


def test_top_refuses_a_core_that_does_not_fit():
    from boards.alveo_u280 import AlveoU280Platform
    top = U280Top(core_factory=lambda ports: _WrongCore())
    with pytest.raises(CoreContractError, match="missing ddr"):
        AlveoU280Platform().prepare(top)


@pytest.mark.parametrize("kwargs, message", [
    ({"link_bits": 96}, "link_bits must be 64, 128, 192 or 256"),
    ({"hbm_ports": 33}, "hbm_ports must be at most 32"),
    ({"hbm_data_bits": 500}, "hbm_data_bits must be a power of two"),
    ({"reg_addr_bits": 0}, "reg_addr_bits must be a positive integer, not 0"),
])
def test_core_ports_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CorePorts(**kwargs)


def test_top_parameter_errors():
    with pytest.raises(TypeError, match="core_factory must be callable"):
        U280Top(core_factory=3)
    with pytest.raises(ValueError, match="at most 6 bits"):
        U280Top(ports=CorePorts(hbm_id_bits=7))
    with pytest.raises(ValueError, match="512-bit core ports"):
        U280Top(ports=CorePorts(hbm_data_bits=256))


def test_ip_instance_refuses_unknown_ports_widths_and_open_inputs():
    ports = ip.PRIMITIVES["BUFG"]
    with pytest.raises(ValueError, match="BUFG has no port 'X'"):
        ip.ip_instance("BUFG", ports, I=Signal(), X=Signal())
    with pytest.raises(ValueError, match=r"BUFG.I is 1 bits wide, connected to 2 bits"):
        ip.ip_instance("BUFG", ports, I=Signal(2))
    with pytest.raises(ValueError, match="inputs left unconnected: CE, CEMASK"):
        ip.ip_instance("BUFG_GT", ip.PRIMITIVES["BUFG_GT"], I=Signal(), CLR=Const(0, 1),
                       CLRMASK=Const(0, 1), DIV=Const(0, 3))


def test_hbm_table_matches_pg276_shape():
    table = {p.name: p for p in ip.hbm_ports()}
    assert table["AXI_31_WDATA"].width == 256 and table["AXI_00_ARADDR"].width == 33
    assert table["AXI_12_AWLEN"].width == 4 and table["AXI_12_ARID"].width == 6
    assert table["DRAM_1_STAT_CATTRIP"].dir == "o" and table["HBM_REF_CLK_1"].dir == "i"
    assert "AXI_32_ACLK" not in table and "AXI_00_AWREGION" not in table


def test_aurora_reset_sequence_holds_pma_init_then_reset_pb():
    """Bit-exact against the sequence PG074 asks for at these (small) counts: both high from
    reset, pma_init falls after pb + pma clocks, reset_pb pb clocks later, then both stay low."""
    pb, pma = 3, 5
    dut = AuroraResetSequencer(pma_cycles=pma, pb_cycles=pb)
    seen = []

    async def bench(ctx):
        for _ in range(2 * pb + pma + 4):
            seen.append((ctx.get(dut.pma_init), ctx.get(dut.reset_pb)))
            await ctx.tick("init")

    m = Module()
    m.domains.init = ClockDomain("init")
    m.submodules.dut = dut
    sim = Simulator(m)
    sim.add_clock(1e-8, domain="init")
    sim.add_testbench(bench)
    sim.run()
    expected = ([(1, 1)] * (pb + pma) + [(0, 1)] * pb + [(0, 0)] * 4)
    assert seen == expected


def test_aurora_reset_sequencer_parameter_errors():
    with pytest.raises(ValueError, match="pma_cycles must be a positive integer, not 0"):
        AuroraResetSequencer(pma_cycles=0)
    with pytest.raises(ValueError, match="pb_cycles must be a positive integer, not -1"):
        AuroraResetSequencer(pb_cycles=-1)
