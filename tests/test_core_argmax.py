# amaranth: UnusedElaboratable=no
"""The core's arg-max unit (ARGMAX / ARGMAXP of the LM head) on Icarus, bit for bit against the
bit-true ``reduce.argmax`` and the ISA simulator's pair rule."""

import numpy as np
import pytest

from dfx_hw.core.argmax import ArgmaxUnit
from sim.harness import run_cocotb


def _ops(seed, lanes, count):
    rng = np.random.default_rng(seed)
    ops = []
    for i in range(count):
        pairs = bool(i % 3 == 2)
        length = int(rng.integers(1, 4 if pairs else 5 * lanes))
        ops.append({"pairs": pairs, "len": length, "base": int(rng.integers(0, 60000)),
                    "kind": ["random", "ties", "nan", "neg"][i % 4]})
    ops.append({"pairs": False, "len": 1, "base": 7, "kind": "neg"})          # one element
    ops.append({"pairs": False, "len": 1000, "base": 65000, "kind": "random"})  # index wraps
    return ops


@pytest.mark.parametrize("lanes", [4, 16])
def test_argmax_unit_matches_the_bittrue_model(lanes):
    run_cocotb(ArgmaxUnit, {"lanes": lanes}, test_module="sim.benches.core_argmax",
               bench={"ops": _ops(lanes, lanes, 60), "seed": lanes, "idle": 0.3,
                      "backpressure": 0.4})


def test_argmax_unit_refuses_bad_parameters():
    with pytest.raises(ValueError, match="lanes must be a positive power of two"):
        ArgmaxUnit(lanes=3)
    with pytest.raises(ValueError, match="lanes must be at least 2"):
        ArgmaxUnit(lanes=1)
