"""The ``isasim`` device: the same host sequence (:class:`dfx_hw.host.Generation`, register
writes, memory images, START, polls) drives the ISA simulator behind a software register map,
and produces the simulator's own tokens and logits bit for bit (checked against
:func:`dfx_hw.isasim.generate`, the simulator's own host sequence); its errors reach the host
through the error registers."""

import pytest

from dfx_hw.control.loader import CoreError
from dfx_hw.core.config import SMALL
from dfx_hw.host import Appliance, Generation, RegisterRefused, geometry_of
from dfx_hw.host.isasim import isasim_ring
from dfx_hw.isa.encoding import encode_program
from dfx_hw.isasim import generate
from dfx_hw.model.bittrue.fp16 import to_bits
from dfx_hw.spec import hbm_map
from dfx_hw.spec.errors import ErrorCode
from dfx_hw.spec.regmap import REGMAP
from tests.test_core_rtl import _model


@pytest.mark.parametrize("heads, cores, prompt", [(3, 1, [5, 17, 99]), (5, 4, [7])],
                         ids=["1core", "4cores"])
def test_isasim_device_generation_equals_the_simulator_bit_for_bit(heads, cores, prompt):
    model = _model(heads, cores)
    ring = isasim_ring(geometry_of(SMALL), cores)
    run = Generation(ring, model, prompt, 3)
    tokens = [token for token, _ in run.tokens(max_clocks=10_000_000)]
    expected = generate(model, prompt, 3)
    assert tokens == expected.tokens
    assert (to_bits(run.logits()) == to_bits(expected.logits)).all()
    assert all(device.status()["done"] for device in ring)
    assert run.token_clocks == sorted(run.token_clocks) and run.token_clocks[0] > 0


def test_isasim_ring_position_comes_from_core_id():
    """Devices given in another ring order than they were made: CORE_ID decides."""
    model = _model(5, 2)
    made = isasim_ring(geometry_of(SMALL), 2)
    ring = Appliance([made[1], made[0]])
    tokens = [token for token, _ in Generation(ring, model, [7], 2).tokens()]
    assert tokens == generate(model, [7], 2).tokens


def test_isasim_device_error_reaches_the_error_registers():
    model = _model(3, 1)
    program = encode_program(model.programs(n_prompt=2, n_new=2)[0])
    program[5] = 0
    run = Generation(isasim_ring(geometry_of(SMALL)), model, [3, 8], 2, programs=[program])
    with pytest.raises(CoreError) as caught:
        for _ in run.tokens():
            pass
    assert caught.value.code is ErrorCode.ILLEGAL_OPCODE and caught.value.pc == 5
    assert "core 0 (isasim core 0): core stopped at pc 5" in str(caught.value)


def test_isasim_device_refuses_locked_writes_while_running():
    model = _model(3, 1)
    ring = isasim_ring(geometry_of(SMALL))
    run = Generation(ring, model, [3], 2)
    run.start()
    with pytest.raises(RegisterRefused, match=r"isasim core 0: register write 0x20 = 0x1 "
                                              r"refused \(SLVERR\)"):
        ring[0].write_reg(REGMAP["CORE_ID"].offset, 1)


def test_device_bench_counts_the_host_traffic():
    """``dfx bench device`` figures on the isasim device: the load's register writes are the
    configuration and program writes exactly; memory bytes are the images."""
    from dfx_hw.bench.device import _measure
    from dfx_hw.control.loader import config_writes, program_writes

    model = _model(3, 1)
    figures = _measure("isasim", model, [5, 17], 3)
    program = encode_program(model.programs(n_prompt=2, n_new=3)[0])
    expected_writes = len(program_writes(list(program), depth=1 << 20)) + len(config_writes(
        core_id=0, core_count=1, layer_count=2, prompt_len=2, new_tokens=3, watchdog=0,
        hbm_base=0, hbm_size=0, ddr_base=0, ddr_size=0))
    assert figures["load_traffic"]["reg_writes"] == expected_writes
    core = model.cores[0]
    images = 2 * core.ddr.size + sum(len(i.tobytes())
                                     for i in hbm_map.split_image(model.geometry, core.hbm))
    assert figures["load_traffic"]["mem_write_bytes"] == images
    assert figures["new_tokens"] == 3 and figures["tokens"] == generate(model, [5, 17], 3).tokens
    assert figures["clocks_per_token"] > 0 and figures["traffic_per_token"]["reg_reads"] > 0
