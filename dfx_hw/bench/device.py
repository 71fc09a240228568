"""Device benchmark: the host runtime (:mod:`dfx_hw.host`) driving a random-weight model on the
``rtl`` device (the whole-core Verilator simulation of the SMALL core, 1 and 2 cores in a ring)
and on the ``isasim`` device (the ISA simulator behind the register map), with the same host
sequence. Figures per run: load time (register writes and images), clocks per token (card 0's
``PERF_CYCLES`` when each token was seen, at the poll resolution), per-token latency
mean/p50/p99 in clocks, simulation wall seconds per token, and the host's traffic: register
reads and writes and memory bytes, for loading and per generated token (what a real card's PCIe
BAR and DMA channels would carry). The RTL clocks are cycle-accurate to the poll (2,000 clocks);
the isasim clocks are the simulator's scoreboard estimate."""

import dataclasses
import time

from ..compiler import compile_model
from ..model.checkpoint import random_weights
from ..model.config import GPT2Config

__all__ = ["run"]


def _counting(device):
    """Wrap ``device``'s raw accesses with counters (returned dict)."""
    counts = {"reg_reads": 0, "reg_writes": 0, "mem_write_bytes": 0, "mem_read_bytes": 0}
    read_reg, write_reg = device.read_reg, device.write_reg
    write_memory, read_memory = device.write_memory, device.read_memory

    def _read_reg(offset):
        counts["reg_reads"] += 1
        return read_reg(offset)

    def _write_reg(offset, value):
        counts["reg_writes"] += 1
        return write_reg(offset, value)

    def _write_memory(memory, offset, data):
        counts["mem_write_bytes"] += len(data)
        return write_memory(memory, offset, data)

    def _read_memory(memory, offset, length):
        counts["mem_read_bytes"] += length
        return read_memory(memory, offset, length)

    device.read_reg, device.write_reg = _read_reg, _write_reg
    device.write_memory, device.read_memory = _write_memory, _read_memory
    return counts


def _measure(kind, model, prompt, n_new):
    from ..core.config import SMALL
    from ..host import Generation, geometry_of, latency_stats
    if kind == "rtl":
        from ..host import rtl_ring
        from ..rtlsim.sim import CoreSim
        hbm = max(2 * c.hbm.size for c in model.cores) // SMALL.hbm_channels + (1 << 16)
        ddr = max(2 * c.ddr.size for c in model.cores) + (1 << 16)
        sim = CoreSim(SMALL, cores=model.n_cores, hbm_bytes=hbm, ddr_bytes=ddr)
        sim.set_hbm_timing(read_latency=200)
        ring = rtl_ring(sim, hbm_bytes=hbm, ddr_bytes=ddr)
    else:
        from ..host.isasim import isasim_ring
        ring = isasim_ring(geometry_of(SMALL), model.n_cores)
    counters = [_counting(device) for device in ring]

    def total():
        return {key: sum(c[key] for c in counters) for key in counters[0]}

    start = time.perf_counter()
    run = Generation(ring, model, prompt, n_new)
    load_s = time.perf_counter() - start
    loaded = total()
    start = time.perf_counter()
    tokens = [token for token, _ in run.tokens(max_clocks=50_000_000)]
    run_s = time.perf_counter() - start
    after = total()
    ring.close()
    clocks = run.token_clocks
    latency = latency_stats(clocks)
    steady = [b - a for a, b in zip(clocks[:-1], clocks[1:])]
    return {
        "device": kind, "cores": model.n_cores, "prompt_tokens": len(prompt),
        "new_tokens": len(tokens), "tokens": tokens,
        "load_seconds": round(load_s, 3), "run_seconds": round(run_s, 3),
        "seconds_per_token": round(run_s / len(tokens), 3),
        "first_token_clocks": clocks[0],
        "clocks_per_token": round(sum(steady) / len(steady)) if steady else None,
        "latency_clocks": {key: round(value) for key, value in latency.items()},
        "load_traffic": loaded,
        "traffic_per_token": {key: round((after[key] - loaded[key]) / len(tokens), 1)
                              for key in after},
    }


def run(*, quick=False):
    """Figures of each device on a random-weight model compiled for the SMALL core."""
    from ..core.config import SMALL
    from ..host import geometry_of
    heads = 3 if quick else 6
    config = GPT2Config(vocab_size=211, n_positions=32, n_embd=8 * heads, n_layer=2,
                        n_head=heads)
    weights = random_weights(config, seed=3, scale=0.3)
    prompt, n_new = [5, 17, 99, 4], 4 if quick else 12
    results = []
    for cores in ((1,) if quick else (1, 2)):
        model = compile_model(config, weights, cores=cores, geometry=geometry_of(SMALL))
        for kind in ("isasim", "rtl"):
            results.append(_measure(kind, model, prompt, n_new))
    summary = [f"{'device':<7} {'cores':>5} {'clk/token':>10} {'p50':>8} {'p99':>8} "
               f"{'s/token':>8} {'reg r/w per token':>18} {'load regs':>9} {'load bytes':>10}"]
    for r in results:
        t, lt = r["traffic_per_token"], r["load_traffic"]
        summary.append(f"{r['device']:<7} {r['cores']:>5} {r['clocks_per_token'] or '-':>10} "
                       f"{r['latency_clocks'].get('p50', '-'):>8} "
                       f"{r['latency_clocks'].get('p99', '-'):>8} {r['seconds_per_token']:>8} "
                       f"{t['reg_reads']:>9}/{t['reg_writes']:<8} {lt['reg_writes']:>9} "
                       f"{lt['mem_write_bytes']:>10}")
    same = all(a["tokens"] == b["tokens"] for a, b in zip(results[::2], results[1::2]))
    summary.append(f"rtl tokens equal isasim tokens: {same}")
    return {"model": dataclasses.asdict(config),
            "runs": results, "rtl_equals_isasim": same, "summary": summary}
