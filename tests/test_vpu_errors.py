# amaranth: UnusedElaboratable=no
"""Bad parameters of the VPU's components give one clear error naming the value.

The components here are built only to provoke their errors and are never elaborated; the comment
on the first line is Amaranth's documented way to turn off its ``UnusedElaboratable`` warning for
objects created in this file.
"""

import pytest

from dfx_hw.vpu.accumulator import Accumulator
from dfx_hw.vpu.isa_decoder import IsaDecoder
from dfx_hw.vpu.layouts import Unary, VPUConfig
from dfx_hw.vpu.operand_collector import OperandCollector
from dfx_hw.vpu.regfile import RegisterFile
from dfx_hw.vpu.unary_rom import UnaryUnit
from dfx_hw.vpu.vfu import VFU
from dfx_hw.vpu.vpu import VPU


@pytest.mark.parametrize("build, message", [
    (lambda: RegisterFile(lanes=3, depth=8), "lanes must be a positive power of two, not 3"),
    (lambda: RegisterFile(lanes=4, depth=1), "depth must be an integer of at least 2, not 1"),
    (lambda: VFU(lanes=0), "lanes must be a positive power of two, not 0"),
    (lambda: VFU(lanes=4, mul_latency=-2), "mul_latency must be a non-negative integer, not -2"),
    (lambda: Accumulator(lanes=4, acc_latency="6"),
     "acc_latency must be a non-negative integer, not '6'"),
    (lambda: Accumulator(lanes=4, acc_latency=9),
     "acc_latency 9 exceeds SUM_PARTIALS = 8: a partial sum would be needed again before"),
    (lambda: VPU(config=VPUConfig(lanes=4, acc_latency=12)), "acc_latency 12 exceeds SUM_PARTIALS"),
    (lambda: UnaryUnit(functions=(Unary.NONE,)), "functions must be drawn from"),
    (lambda: OperandCollector(config=VPUConfig(), short_latency=5, long_latency=9,
                              reduction_latency=9,
                              sum_interval=1, max_interval=1, store_depth=4, slots=0),
     "slots must be an integer of at least 1, not 0"),
    (lambda: VPU(config={"lanes": 4}), "config must be a VPUConfig, not"),
    (lambda: IsaDecoder(config=16), "config must be a VPUConfig, not 16"),
])
def test_component_parameter_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()
