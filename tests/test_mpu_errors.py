# amaranth: UnusedElaboratable=no
"""Bad parameters of the MPU's components give one clear error naming the value.

The components here are built only to provoke their errors and are never elaborated; the comment
on the first line is Amaranth's documented way to turn off its ``UnusedElaboratable`` warning for
objects created in this file. A component made of parts checks every parameter before building
any part, so none is left half-built (a warning this comment would not cover).
"""

import pytest

from dfx_hw.mpu.accumulator import Accumulator
from dfx_hw.mpu.adder_tree import AdderTree
from dfx_hw.mpu.gelu_rom import GeluUnit
from dfx_hw.mpu.matrix_unit import MatrixUnit
from dfx_hw.mpu.mfu import MFU
from dfx_hw.mpu.operand_collector import OperandCollector
from dfx_hw.mpu.reduce_max import ReduceMax
from dfx_hw.mpu.sfu_m import SFUM
from dfx_hw.mpu.vectorizer import Vectorizer


@pytest.mark.parametrize("factory, kwargs, message", [
    (AdderTree, {"width": 6}, "width must be a positive power of two, not 6"),
    (AdderTree, {"width": 4, "add_latency": -1}, "latency must be a non-negative integer"),
    (MFU, {"d": 3, "l": 4, "band": 2}, "d must be a positive power of two, not 3"),
    (MFU, {"d": 4, "l": 0, "band": 2}, "l must be a positive power of two, not 0"),
    (MFU, {"d": 4, "l": 4, "band": 2, "mul_latency": 1.5},
     "latency must be a non-negative integer, not 1.5"),
    (Accumulator, {"l": 4, "band": 0}, "band must be a positive integer, not 0"),
    (OperandCollector, {"d": 4, "l": 4, "band": 2, "max_rows": 0},
     r"max_rows must be an integer in \[1, 65535\], not 0"),
    (OperandCollector, {"d": 4, "l": 4, "band": True, "max_rows": 8},
     "band must be a positive integer, not True"),
    (SFUM, {"l": 5}, "l must be a positive power of two, not 5"),
    (ReduceMax, {"l": 4, "max_latency": -2}, "latency must be a non-negative integer, not -2"),
    (Vectorizer, {"l": 12}, "l must be a positive power of two, not 12"),
    (GeluUnit, {"add_latency": "3"}, "latency must be a non-negative integer, not '3'"),
    (MatrixUnit, {"d": 4, "l": 4, "band": -1}, "band must be a positive integer, not -1"),
    (MatrixUnit, {"d": 4, "l": 4, "max_rows": 0}, r"max_rows must be an integer in \[1, 65535\]"),
    (MatrixUnit, {"d": 4, "l": 4, "max_latency": -1}, "latency must be a non-negative integer"),
])
def test_component_parameter_errors(factory, kwargs, message):
    with pytest.raises(ValueError, match=message):
        factory(**kwargs)

