"""What the known performance levers would give, by the ISA simulator's timing model (calibrated
to the RTL within 3 %, `docs/performance.md`): one decoder layer of GPT-2 345M shape at
d=64, l=16, per core count and context, with each lever applied alone and all together.

    python tools/timing_what_if.py [--contexts 64 256] [--cores 1 4] [--out FILE.json]

A projection, not a measurement: each lever is a change to the timing model's rules
(`dfx_hw/isasim/timing.py`, `dfx_hw/spec/costs.py`) standing for a hardware or compiler change
that has not been built. The efficiency is the layer's weight-tile roofline over its clocks.
"""

import argparse
import contextlib
import json
from pathlib import Path

from dfx_hw.bench.rtl import _config, measure_point
from dfx_hw.core.config import CoreConfig
from dfx_hw.model.checkpoint import random_weights
from dfx_hw.spec import costs


@contextlib.contextmanager
def _patched(target, name, value):
    old = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, old)


#: lever -> list of (object, attribute, value) patches
LEVERS = {
    "HBM latency fully hidden (deeper prefetch, current K/V from the register file)":
        [(costs, "HBM_READ_LATENCY", 0)],
    "matrix operations start with no sequencer overhead (MATRIX_START 7 -> 0)":
        [(costs, "MATRIX_START", 0)],
    "vector instructions chained with no path overhead (VECTOR_PATH 12 -> 6)":
        [(costs, "VECTOR_PATH", 6)],
    "ring hop latency 25 clocks instead of 100":
        [(costs.sync_cycles, "__defaults__", (25,))],
}


def layer_clocks(cores, context, patches=()):
    config = _config(1024, 16, vocab=16 * 16 + 1, context=context)
    weights = random_weights(config, seed=1, scale=0.02)
    with contextlib.ExitStack() as stack:
        for target, name, value in patches:
            stack.enter_context(_patched(target, name, value))
        point = measure_point(config, weights, cores=cores, context=context,
                              core_config=CoreConfig(), rtl=False)
    return point["isa"]["sections"]["layer"], point["roofline"]["layer"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--out", type=Path, default=Path("build/bench/what_if.json"))
    args = parser.parse_args()
    rows = []
    every = [patch for patches in LEVERS.values() for patch in patches]
    for cores in args.cores:
        for context in args.contexts:
            base, roof = layer_clocks(cores, context)
            cases = [("timing model as calibrated", [])] + list(LEVERS.items()) + \
                [("all of the above", every)]
            for name, patches in cases:
                clocks = base if not patches else layer_clocks(cores, context, patches)[0]
                rows.append({"cores": cores, "context": context, "lever": name,
                             "layer_clocks": int(clocks), "roofline": int(roof),
                             "efficiency": round(roof / clocks, 4)})
                print(f"{cores} core(s) ctx {context:5d}: {clocks:7d} clocks, "
                      f"{roof / clocks:6.1%}  {name}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"what_if": rows}, indent=1))


if __name__ == "__main__":
    main()
