"""The host runtime's errors, each with its message: a model that does not fit the card's HBM,
a run that times out waiting for DONE, a ring link that goes down (RTL, Verilator, SMALL), and
the card address map agreeing with the U280 top's crossbars."""

import re
from pathlib import Path

import pytest

from dfx_hw.control.loader import CoreError
from dfx_hw.core.config import SMALL
from dfx_hw.host import DeviceTimeout, Generation, ModelTooLarge, rtl_ring
from dfx_hw.rtlsim.sim import CoreSim
from dfx_hw.spec import card_map
from dfx_hw.spec.errors import ErrorCode
from tests.test_core_rtl import DDR_BYTES, HBM_BYTES, _model


def _ring(cores, hbm_bytes=HBM_BYTES):
    sim = CoreSim(SMALL, cores=cores, hbm_bytes=hbm_bytes, ddr_bytes=DDR_BYTES)
    sim.set_hbm_timing(read_latency=60)
    return sim, rtl_ring(sim, hbm_bytes=hbm_bytes, ddr_bytes=DDR_BYTES)


def test_model_that_does_not_fit_the_cards_hbm_is_refused_before_loading():
    model = _model(3, 1)
    sim, ring = _ring(1, hbm_bytes=1024)                  # 1 KiB per HBM port
    with pytest.raises(ModelTooLarge) as caught:
        Generation(ring, model, [1, 2], 2)
    message = str(caught.value)
    assert re.search(r"rtl core 0 \(ring position 0\): the model does not fit the card's HBM: "
                     r"its slice needs [\d,]+ bytes per HBM port .* the card has 1,024 per port "
                     r"\(4 ports\); use more cards", message), message
    assert sim.read_reg(0, 0x38) == 0                     # PROGRAM_LEN: nothing was loaded


def test_timeout_waiting_for_done_names_the_running_card():
    model = _model(3, 1)
    sim, ring = _ring(1)
    run = Generation(ring, model, [1, 2], 2)
    with pytest.raises(DeviceTimeout) as caught:
        for _ in run.tokens(max_clocks=3000):
            pass
    message = str(caught.value)
    assert re.fullmatch(r"no DONE after 3,000 clocks: 0 of 2 tokens; still running: "
                        r"rtl core 0 \(pc \d+\)", message), message


def test_ring_link_down_names_the_card_and_the_cabling():
    model = _model(5, 2)
    sim, ring = _ring(2)
    run = Generation(ring, model, [3, 8], 2)
    run.start()
    sim.run(1500)
    sim.drop_link(1)
    with pytest.raises(CoreError) as caught:
        for _ in run.tokens(max_clocks=400_000, start=False):
            pass
    error = caught.value
    assert error.code in (ErrorCode.LINK_DOWN, ErrorCode.LINK_HARD_ERROR)
    message = str(error)
    assert re.match(rf"core {error.core} \(rtl core {error.core}\): core stopped at pc \d+ ",
                    message), message
    assert "ring link" in message and "check the cabling" in message
    assert "QSFP0 goes to position" in message


def test_card_map_matches_the_u280_host_crossbars():
    """The host's card addresses are the ones the top's Vivado crossbars decode
    (``vivado/ip/axi_infrastructure.tcl``)."""
    tcl = (Path(__file__).resolve().parent.parent / "vivado/ip/axi_infrastructure.tcl").read_text()
    top = re.search(r"module_name xbar_host_top(.*?)\[get_ips xbar_host_top\]", tcl, re.S)[1]
    bases = [int(b, 16) for b in re.findall(r"M0\d_A00_BASE_ADDR \{(0x[0-9a-f]+)\}", top)]
    widths = [int(w) for w in re.findall(r"M0\d_A00_ADDR_WIDTH \{(\d+)\}", top)]
    assert bases[2] == card_map.DDR_BASE and 1 << widths[2] == card_map.DDR_BYTES
    assert bases[:2] == [card_map.hbm_address(0), card_map.hbm_address(16)]
    assert "$i * 0x10000000" in tcl and "ADDR_WIDTH {28}" in tcl
    assert card_map.HBM_PORT_STRIDE == 0x10000000 == card_map.HBM_PORT_BYTES == 1 << 28
    from dfx_hw.top.u280_top import HOST_ADDR_BITS
    assert HOST_ADDR_BITS == card_map.ADDRESS_BITS
    assert card_map.region_of(card_map.hbm_address(31, 0x40)) == ("hbm", 31, 0x40)
    assert card_map.region_of(card_map.DDR_BASE + 8) == ("ddr", None, 8)
    with pytest.raises(ValueError, match="in no memory of the card map"):
        card_map.region_of(0x2_0000_0000)
    with pytest.raises(ValueError, match="do not fit"):
        card_map.hbm_address(0, HBM_PORT_END := card_map.HBM_PORT_BYTES - 4, 8)
    assert HBM_PORT_END
