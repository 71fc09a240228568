# amaranth: UnusedElaboratable=no
"""Bad latencies of the FP16 units give one clear error naming the value.

The units here are built only to provoke their errors and are never elaborated; the comment on
the first line is Amaranth's documented way to turn off its ``UnusedElaboratable`` warning for
objects created in this file.
"""

import pytest

from dfx_hw.arith import FP16Adder, FP16Max, FP16Multiplier, FP16Square


@pytest.mark.parametrize("unit", [FP16Adder, FP16Multiplier, FP16Square, FP16Max],
                         ids=lambda u: u.__name__)
@pytest.mark.parametrize("latency", [-1, 1.5, "2", True, None])
def test_bad_latency_is_a_clear_error(unit, latency):
    with pytest.raises(ValueError) as info:
        unit(latency=latency)
    assert str(info.value) == f"latency must be a non-negative integer, not {latency!r}"
