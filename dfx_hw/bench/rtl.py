"""RTL benchmark (``dfx bench rtl``): clocks per generated token on the whole-core Verilator
simulation, against the HBM roofline, with the ISA simulator's timing model beside it.

Points, each one token generated at a given context (positions attended: the caches hold
``context - 1``, the token at position ``context - 1`` is run) on a prefilled key/value cache
(:func:`dfx_hw.compiler.program.build_program` ``prefilled=True``; the caches hold random values,
identical for both simulators):

* one decoder layer of GPT-2 345M shape (emb 1024, 16 heads) at contexts 64, 256 and 1024, and
  the LM head (vocabulary 50,257), on 1 and 4 cores of the U280 build (d=64, l=16, 32 HBM ports),
  HBM read latency :data:`HBM_LATENCY` clocks, ring links of
  :data:`~dfx_hw.spec.costs.RING_HOP_LATENCY` core clocks;
* whole models (345M, 774M, 1.5B on 1 and 4 cores): for 345M the measured embedding, layer and
  LM-head clocks put together; for the larger ones the ISA simulator's timing model on one layer
  and the head of their shape (each row says which numbers were simulated and which derived).

A section's clocks run from the issue of its first instruction to the issue of the next
section's first (the head: to the last write-back), read from the core's trace port (RTL) and
from the timing model's schedule (ISA simulator). The roofline of a section is the weight tiles
a core streams for it (``d * l`` weights per clock); efficiency = roofline / clocks. The clocks
of a section are split by what the machine did (:func:`_breakdown`): tiles streaming, the rest of
the time the matrix unit had an instruction in flight (pipeline and memory latency), and the
clocks it had none, by the unit that was busy then. Tokens are checked equal between the RTL
and the ISA simulator on every point.
"""

import time

import numpy as np

from ..compiler import compile_model
from ..control.rules import unit_of
from ..core.config import CoreConfig, core_build
from ..core.core import TRACE_UNITS
from ..isa.encoding import encode_program
from ..isa.layouts import InstrClass
from ..isasim.run import Session
from ..model.checkpoint import random_weights
from ..model.config import GPT2Config
from ..spec import costs

__all__ = ["run", "measure_point", "HBM_LATENCY", "PAPER_TOKENS_PER_SECOND"]

#: HBM read latency of the simulated memory (core clocks): the timing model's.
HBM_LATENCY = costs.HBM_READ_LATENCY
#: DFX's published figure: GPT-2 345M on one U280 card, about 185 tokens/s (DESIGN.md, 6).
PAPER_TOKENS_PER_SECOND = 185.0
#: A point's RTL run stops with :class:`~dfx_hw.host.generation.DeviceTimeout` (which says what
#: the cores were doing) past this many times the timing model's clocks for it (plus 10,000):
#: the model is within a few per cent, so a run that long is a hang, reported in minutes of
#: simulation instead of hours.
RTL_CLOCKS_LIMIT = 4
_CLOCK_HZ = 200e6
_SHAPES = {"345M": (1024, 16, 24), "774M": (1280, 20, 36), "1.5B": (1600, 25, 48)}
_VOCAB = 50257


def _config(emb, heads, *, vocab, context):
    return GPT2Config(vocab_size=vocab, n_positions=context + 1, n_embd=emb, n_layer=1,
                      n_head=heads)


def _fill_caches(model, rng):
    """Random FP16 keys and values (N(0, 0.5)) in every core's cache regions."""
    for core in model.cores:
        for name, region in core.memmap.hbm_layer.items():
            if name[0] in "kv" and name[1:].isdigit():
                core.hbm[region.addr:region.addr + region.size] = \
                    rng.normal(0, 0.5, region.size).astype(np.float16)


def _roofline(model):
    """Per core: weight tiles of one layer (caches excluded) and of the LM head."""
    tile = model.geometry.tile_elements
    layer = [sum(r.size for n, r in c.memmap.hbm_layer.items()
                 if not (n[0] in "kv" and n[1:].isdigit())) // tile for c in model.cores]
    head = [c.memmap.hbm["lm_head"].size // tile for c in model.cores]
    return max(layer), max(head)


def _sections(issue, marks, end):
    """``{"embed", "layer", "head"}`` clocks from ``issue`` = [(pc, clock)] in issue order."""
    first = {}
    for pc, clock in issue:
        for name, start in marks.items():
            if pc == start and name not in first:
                first[name] = clock
    return {"embed": first["layers"] - first["embed"], "layer": first["head"] - first["layers"],
            "head": end - first["head"]}, first


def _breakdown(intervals, tiles, start, stop):
    """Clocks of ``[start, stop)`` by what the machine did: ``tiles`` (weight tiles streamed,
    from the section's roofline), ``matrix_latency`` (a matrix instruction in flight, beyond its
    tiles), and with no matrix instruction in flight, the first of ``vector``, ``dma``,
    ``router`` busy, else ``issue`` (nothing in flight: the front end)."""
    span = max(stop - start, 0)
    busy = {unit: np.zeros(span, bool) for unit in TRACE_UNITS}
    for unit, a, b in intervals:
        a, b = max(a, start) - start, min(b, stop) - start
        if b > a:
            busy[unit][a:b] = True
    matrix = busy["matrix"]
    out = {"tiles": int(min(tiles, matrix.sum())),
           "matrix_latency": int(matrix.sum() - min(tiles, matrix.sum()))}
    rest = ~matrix
    for unit in ("vector", "dma", "router"):
        out[unit] = int((rest & busy[unit]).sum())
        rest &= ~busy[unit]
    out["issue"] = int(rest.sum())
    return out


def _rtl_schedule(events, program):
    """From one core's trace: [(pc, issue clock)] and [(unit, issue clock, done clock)]."""
    issue, intervals = [], []
    pending = {unit: [] for unit in TRACE_UNITS}
    for event in events:
        clock, done = int(event["clock"]), int(event["done"])
        for u, unit in enumerate(TRACE_UNITS):
            if done >> u & 1:
                intervals.append((unit, pending[unit].pop(0), clock))
        if event["issue"]:
            pc = int(event["pc"])
            issue.append((pc, clock))
            cls = unit_of(program[pc])
            if cls is not None:
                pending[cls.name.lower()].append(clock)
    return issue, intervals


def _isa_schedule(session):
    """The ISA simulator's schedule of core 0: [(pc, start)] and [(unit, start, done)]."""
    core = session.ring.cores[0]
    issue, intervals = [], []
    for (pc, instr), (unit, start, done) in zip(session.executed, core.timeline.log):
        issue.append((pc, start))
        cls = unit_of(instr)
        if cls is not None and cls is not InstrClass.CONTROL:
            intervals.append((cls.name.lower(), start, done))
    return issue, intervals, core.timeline.end


def measure_point(config, weights, *, cores, context, core_config, rtl=True,
                  hbm_latency=HBM_LATENCY, seed=0):
    """One token at ``context`` (prefilled caches) on ``cores`` cores: RTL and ISA-simulator
    clocks per section, rooflines, breakdowns, counters. Raises ``AssertionError`` if the RTL's
    token differs from the ISA simulator's."""
    from ..host import Generation, geometry_of, rtl_ring
    rng = np.random.default_rng(seed)
    model = compile_model(config, weights, cores=cores, geometry=geometry_of(core_config))
    _fill_caches(model, rng)
    # `context` positions attended: the caches hold context - 1, the token at context - 1 is run
    prompt = [int(t) for t in rng.integers(0, config.vocab_size, context)]
    marks = {}
    programs = [model.programs(n_prompt=len(prompt), n_new=1, prefilled=True)[c]
                for c in range(cores)]
    from ..compiler.program import build_program
    build_program(model.cores[0].memmap, n_prompt=len(prompt), n_new=1, cores=cores,
                  prefilled=True, sections=marks)
    layer_tiles, head_tiles = _roofline(model)

    session = Session(model, prompt, 1, prefilled=True)
    session.executed = []
    session.ring.cores[0].timeline.log = []
    session.ring.cores[0].trace = lambda core, pc, instr: session.executed.append((pc, instr))
    for _ in session.tokens():
        pass
    isa_issue, isa_intervals, isa_end = _isa_schedule(session)
    isa_sections, isa_first = _sections(isa_issue, marks, isa_end)
    point = {
        "context": context, "cores": cores, "emb": config.n_embd, "heads": config.n_head,
        "vocab": config.vocab_size, "hbm_latency": hbm_latency,
        "roofline": {"layer": layer_tiles, "head": head_tiles},
        "isa": {"sections": isa_sections,
                "breakdown": {
                    "layer": _breakdown(isa_intervals, layer_tiles, isa_first["layers"],
                                        isa_first["head"]),
                    "head": _breakdown(isa_intervals, head_tiles, isa_first["head"], isa_end)}},
        "token": session.result.tokens[0],
    }
    if not rtl:
        return point
    from ..rtlsim.sim import CoreSim
    hbm_bytes = -(-max(2 * c.hbm.size for c in model.cores) // core_config.hbm_channels) + 4096
    ddr_bytes = max(2 * c.ddr.size for c in model.cores) + 4096
    sim = CoreSim(core_config, cores=cores, hbm_bytes=hbm_bytes, ddr_bytes=ddr_bytes)
    try:
        sim.set_hbm_timing(read_latency=hbm_latency)
        sim.set_ring_hop_latency()
        for c in range(cores):
            sim.trace(c)
        ring = rtl_ring(sim, hbm_bytes=hbm_bytes, ddr_bytes=ddr_bytes)
        run = Generation(ring, model, prompt, 1,
                         programs=[encode_program(p) for p in programs])
        started = time.perf_counter()
        limit = RTL_CLOCKS_LIMIT * isa_end + 10_000
        tokens = [token for token, _ in run.tokens(max_clocks=limit)]
        seconds = time.perf_counter() - started
        assert tokens == session.result.tokens, (
            f"RTL token {tokens} differs from the ISA simulator's {session.result.tokens}")
        events = sim.take_trace(0)
        issue, intervals = _rtl_schedule(events, programs[0])
        end = max(b for _, _, b in intervals)
        sections, first = _sections(issue, marks, end)
        from ..spec.regmap import COUNTER_NAMES
        counters = {name: ring[0].counter(name) for name in COUNTER_NAMES}
        point["rtl"] = {
            "sections": sections,
            "breakdown": {
                "layer": _breakdown(intervals, layer_tiles, first["layers"], first["head"]),
                "head": _breakdown(intervals, head_tiles, first["head"], end)},
            "counters": counters, "sim_clocks": sim.clocks,
            "sim_seconds": round(seconds, 1),
        }
    finally:
        sim.close()
    return point


def _loss(breakdown):
    unit, clocks = max(((k, v) for k, v in breakdown.items() if k != "tiles"),
                       key=lambda kv: kv[1])
    return {"unit": unit, "clocks": clocks}


def _row(model_name, cores, context, per_token, roofline, source, **extra):
    return {"model": model_name, "cores": cores, "context": context,
            "clocks_per_token": int(per_token), "roofline_clocks_per_token": int(roofline),
            "efficiency": round(roofline / per_token, 4),
            "tokens_per_second_at_200MHz": round(_CLOCK_HZ / per_token, 1),
            "source": source, **extra}


def run(*, quick=False, cores_list=(1, 4), contexts=(64, 256, 1024)):
    """The benchmark: ``quick`` runs the SMALL core build on a small model (a smoke run)."""
    if quick:
        core_config, emb, heads, vocab = core_build("small"), 32, 4, 101
        contexts, shapes = (8,), {"small": (32, 4, 2)}
    else:
        core_config, emb, heads, vocab = CoreConfig(), 1024, 16, _VOCAB
        shapes = _SHAPES
    points, results, summary = [], [], []
    small_vocab = 16 * 16 + 1
    for cores in cores_list:
        for context in contexts:
            head_point = context == contexts[0]
            config = _config(emb, heads, vocab=vocab if head_point else small_vocab,
                             context=max(contexts))
            weights = random_weights(config, seed=1, scale=0.02)
            point = measure_point(config, weights, cores=cores, context=context,
                                  core_config=core_config)
            points.append(point)
            rtl, isa = point["rtl"], point["isa"]
            for section in ("layer", "head") if head_point else ("layer",):
                roof = point["roofline"][section]
                measured = rtl["sections"][section]
                model_estimate = isa["sections"][section]
                loss = _loss(rtl["breakdown"][section])
                results.append(_row(
                    f"{'345M' if not quick else 'small'} {section}", cores, context, measured,
                    roof, "simulated (RTL)",
                    isa_timing_model_clocks=int(model_estimate),
                    timing_model_error=round(model_estimate / measured - 1, 4),
                    breakdown=rtl["breakdown"][section], largest_loss=loss,
                    counters=rtl["counters"]))
                summary.append(
                    f"{results[-1]['model']:>12s} {cores} core(s) ctx {context:5d}: "
                    f"{measured:8d} clocks (roofline {roof}, efficiency "
                    f"{roof / measured:.1%}); timing model {model_estimate} "
                    f"({model_estimate / measured - 1:+.1%}); largest loss: {loss['unit']} "
                    f"{loss['clocks']} clocks")
    results += _whole_models(points, shapes, core_config, cores_list, contexts, quick)
    for row in results[len(summary):]:
        summary.append(f"{row['model']:>12s} {row['cores']} core(s) ctx {row['context']:5d}: "
                       f"{row['clocks_per_token']:8d} clocks/token, efficiency "
                       f"{row['efficiency']:.1%}, {row['tokens_per_second_at_200MHz']} tokens/s "
                       f"at 200 MHz ({row['source']})")
    out = {"benchmark": "rtl", "hbm_latency": HBM_LATENCY, "core": core_config.as_dict(),
           "points": points, "results": results, "summary": summary}
    return out


def _whole_models(points, shapes, core_config, cores_list, contexts, quick):
    """Whole models per token: 345M from the measured sections (embedding and head at the first
    context, layer at each context); the other shapes from the timing model on one layer and
    the head of their shape, scaled by the RTL/timing-model ratio measured on the 345M points."""
    rows = []
    base_name = "small" if quick else "345M"
    for name, (emb, heads, layers) in shapes.items():
        for cores in cores_list:
            for context in contexts:
                layer_point = next(p for p in points if p["cores"] == cores
                                   and p["context"] == context)
                head_point = next(p for p in points if p["cores"] == cores
                                  and p["context"] == contexts[0])
                if name == base_name:
                    rtl = (head_point["rtl"]["sections"]["embed"]
                           + layers * layer_point["rtl"]["sections"]["layer"]
                           + head_point["rtl"]["sections"]["head"])
                    roof = (layers * layer_point["roofline"]["layer"]
                            + head_point["roofline"]["head"])
                    rows.append(_row(f"{name}", cores, context, rtl, roof,
                                     "derived: measured RTL embedding, layer and head sections"))
                    continue
                vocab = _VOCAB
                config = _config(emb, heads, vocab=vocab, context=max(contexts))
                weights = random_weights(config, seed=1, scale=0.02)
                point = measure_point(config, weights, cores=cores, context=context,
                                      core_config=core_config, rtl=False)
                isa = point["isa"]["sections"]
                ratio = {s: layer_point["rtl"]["sections"][s] / layer_point["isa"]["sections"][s]
                         for s in ("layer",)}
                ratio["head"] = (head_point["rtl"]["sections"]["head"]
                                 / head_point["isa"]["sections"]["head"])
                ratio["embed"] = (head_point["rtl"]["sections"]["embed"]
                                  / head_point["isa"]["sections"]["embed"])
                clocks = (isa["embed"] * ratio["embed"] + layers * isa["layer"] * ratio["layer"]
                          + isa["head"] * ratio["head"])
                roof = layers * point["roofline"]["layer"] + point["roofline"]["head"]
                rows.append(_row(name, cores, context, clocks, roof,
                                 f"derived: timing model on one layer and the head of this shape, "
                                 f"times the RTL/model ratio of the {base_name} points",
                                 timing_model_clocks=int(isa["embed"] + layers * isa["layer"]
                                                         + isa["head"])))
    return rows


def chart(figures, path):
    """Efficiency (roofline / clocks) of every whole-model row, grouped by model and core count,
    one bar per context; the roofline (1.0) and DFX's published 345M figure drawn in."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in figures["results"] if r["source"].startswith("derived")]
    groups = sorted({(r["model"], r["cores"]) for r in rows},
                    key=lambda g: (list(_SHAPES).index(g[0]) if g[0] in _SHAPES else 0, g[1]))
    contexts = sorted({r["context"] for r in rows})
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / max(len(contexts), 1)
    for i, context in enumerate(contexts):
        values = [next((r["efficiency"] for r in rows if (r["model"], r["cores"]) == g
                        and r["context"] == context), 0) for g in groups]
        ax.bar([x + i * width for x in range(len(groups))], values, width,
               label=f"context {context}")
    ax.axhline(1.0, color="black", linewidth=1, label="HBM roofline")
    paper = next((r for r in rows if r["model"] == "345M" and r["cores"] == 1), None)
    if paper is not None:
        dfx = PAPER_TOKENS_PER_SECOND * paper["roofline_clocks_per_token"] / _CLOCK_HZ
        ax.axhline(dfx, color="tab:red", linestyle="--", linewidth=1,
                   label=f"DFX paper, 345M on 1 U280 ({PAPER_TOKENS_PER_SECOND:.0f} tokens/s)")
    ax.set_xticks([x + width * (len(contexts) - 1) / 2 for x in range(len(groups))])
    ax.set_xticklabels([f"{m}\n{c} core{'s' if c > 1 else ''}" for m, c in groups])
    ax.set_ylabel("efficiency (roofline clocks / clocks)")
    ax.set_ylim(0, 1.3)  # room for the legend above the bars
    ax.set_title(f"DFX RTL: clocks per token against the HBM roofline "
                 f"(HBM latency {figures['hbm_latency']} clocks)")
    ax.legend(fontsize=8, loc="upper right", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
