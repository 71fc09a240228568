"""VPU throughput: clocks of the LayerNorm and Softmax recipes, measured on the RTL.

Runs the cocotb bench :mod:`sim.benches.vpu_programs` (Icarus, through :mod:`sim.harness`) on the
U280 VPU (``lanes = 16``) for one LayerNorm of an emb-1600 vector and one Softmax over 1024
scores; each count runs from the recipe's first micro-op (inputs already in the register file)
to its last register-file write. Beside them: the matrix clocks of a GPT-2 layer on one core at
(d, l) = (64, 16) -- its weights per core / (d * l), the weight-streaming roofline -- and the
VPU clocks of that layer (2 LayerNorms, one Softmax per head of the core at a full 1024 context).
"""

import json
import sys
import tempfile
from pathlib import Path

from ..geometry import U280
from ..model.config import GPT2Config

__all__ = ["run", "layer_matrix_clocks"]

_REPO = Path(__file__).resolve().parents[2]


def layer_matrix_clocks(config, *, cores=4, geometry=U280):
    """Clocks the MFU needs per decoder layer on one core: the core's share of the layer's weights
    (``W_qkv``, ``W_proj``, ``W_fc1``, ``W_fc2`` = 12 emb^2) / (d * l), rounded up."""
    weights = 12 * config.n_embd ** 2
    return -(-weights // (cores * geometry.tile_elements))


def _measure(scenario, rows, component):
    if str(_REPO) not in sys.path:
        sys.path.insert(0, str(_REPO))
    from sim.harness import run_cocotb           # the repository's cocotb harness

    from ..vpu.vpu import make_vpu
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cycles.json"
        run_cocotb(make_vpu, component, test_module="sim.benches.vpu_programs",
                   bench={"scenario": scenario, "rows": rows, "seed": 1,
                          "cycles_out": str(out)})
        return json.loads(out.read_text())["timed"]


def run(*, quick=False):
    """Measure; ``quick`` uses 4 lanes and 64-element vectors (a smoke run)."""
    if quick:
        component, ln_n, sm_n = {"lanes": 4, "vrf_words": 256, "srf_words": 16}, 64, 64
    else:
        component, ln_n, sm_n = {"lanes": U280.vpu_lanes}, 1600, 1024
    (_, ln_clocks), = _measure("layernorm", [["random", ln_n]], component)
    (_, sm_clocks), = _measure("softmax", [["random", sm_n]], component)
    cores = 4
    layers = {}
    summary = [f"VPU lanes={component['lanes']}: LayerNorm n={ln_n} {ln_clocks} clocks, "
               f"Softmax n={sm_n} {sm_clocks} clocks (RTL, Icarus)"]
    for name in ("gpt2-medium", "gpt2-large", "gpt2-xl"):
        config = GPT2Config.preset(name)
        heads = -(-config.n_head // cores)                  # the busiest core
        matrix = layer_matrix_clocks(config, cores=cores)
        # K and V of the core's heads at a full context also stream through the MFU.
        kv = -(-heads * 2 * config.head_dim * config.n_positions // U280.tile_elements)
        vpu = 2 * ln_clocks + heads * sm_clocks
        layers[name] = {"n_embd": config.n_embd, "heads_on_busiest_core": heads,
                        "matrix_clocks_per_layer": matrix,
                        "attention_kv_clocks_per_layer_at_1024": kv,
                        "vpu_recipe_clocks_per_layer": vpu,
                        "vpu_over_matrix": round(vpu / matrix, 3)}
        summary.append(f"{name} on {cores} cores: matrix {matrix} clocks/layer (weights/core / "
                       f"{U280.tile_elements}) + K/V {kv}; VPU 2 LN + {heads} softmax(1024) = "
                       f"{vpu} clocks ({vpu / matrix:.2f}x the weight clocks)")
    return {
        "benchmark": "vpu",
        "lanes": component["lanes"],
        "layernorm": {"n": ln_n, "clocks": ln_clocks},
        "softmax": {"n": sm_n, "clocks": sm_clocks},
        "geometry": {"d": U280.d, "l": U280.l, "cores": cores},
        "layers": layers,
        "note": ("LayerNorm n is emb; the LayerNorm figures scale with the row length, so the "
                 "per-layer VPU estimate uses the 1600-element figure for every model (an upper "
                 "bound for the smaller ones)") if not quick else "quick smoke run",
        "summary": summary,
    }
