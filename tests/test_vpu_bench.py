"""`dfx bench vpu`: the matrix-clock arithmetic and a quick run of the RTL measurement."""

from dfx_hw.bench import get_benchmark
from dfx_hw.bench.vpu import layer_matrix_clocks
from dfx_hw.model.config import GPT2Config


def test_layer_matrix_clocks_are_weights_per_core_over_a_tile():
    # 1.5B: 12 * 1600**2 weights per layer over 4 cores, 1024 weights per clock.
    assert layer_matrix_clocks(GPT2Config.preset("gpt2-xl"), cores=4) == 7500
    assert layer_matrix_clocks(GPT2Config.preset("gpt2-medium"), cores=1) == 12288


def test_quick_run_measures_recipes_on_the_rtl():
    figures = get_benchmark("vpu")(quick=True)
    # A recipe takes at least one clock per word of each of its vector passes.
    assert figures["layernorm"]["clocks"] > 8 * 64 // 4
    assert figures["softmax"]["clocks"] > 4 * 64 // 4
    assert set(figures["layers"]) == {"gpt2-medium", "gpt2-large", "gpt2-xl"}
    assert figures["summary"]
