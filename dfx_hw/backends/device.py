"""What the device backends (``rtl``, ``xdma``) share: generation of a compiled model on a
:mod:`dfx_hw.host` ring, each token optionally checked against the ISA simulator as it comes,
and the figures of the summary line (per-token latency in clocks, and in microseconds of wall
time for a real card)."""

from ..geometry import U280

__all__ = ["RtlMismatch", "device_generate"]


class RtlMismatch(RuntimeError):
    """The hardware (RTL or card) produced a token the ISA simulator did not."""


def device_generate(backend, ring, prompt_ids, max_new_tokens, *, check, wall_time=False,
                    timeout=None):
    """Generator of the tokens of ``backend.compiled`` run on ``ring`` (a
    :class:`~dfx_hw.host.Appliance`); sets ``backend.last_stats``."""
    from ..host import Generation, latency_stats
    from ..isasim.run import Session

    model = backend.compiled
    backend.last_stats = {}
    run = Generation(ring, model, prompt_ids, max_new_tokens)
    session = Session(model, prompt_ids, max_new_tokens) if check else None
    expected = session.tokens() if session is not None else None
    for index, (token, _) in enumerate(run.tokens(timeout=timeout)):
        if expected is not None:
            want = next(expected)
            if token != want:
                raise RtlMismatch(
                    f"token {index} differs: {backend.name} generated {token}, the ISA "
                    f"simulator {want} (prompt {prompt_ids}); rerun with --no-check to see "
                    f"the text")
        yield token
    if expected is not None:
        for _ in expected:              # let the ISA simulator finish for its figures
            pass
    clocks = run.token_clocks
    stats = {"cores": model.n_cores, "clocks": clocks[-1] if clocks else 0}
    latency = latency_stats(clocks)
    if latency:
        stats.update({f"latency_{key}_clk": round(value) for key, value in latency.items()})
    gaps = [b - a for a, b in zip(clocks[:-1], clocks[1:])]
    if gaps:                            # steady state: after the first token (the prompt)
        stats["clocks/token"] = round(sum(gaps) / len(gaps))
        stats["tokens/s@200MHz"] = round(U280.clock_hz * len(gaps) / sum(gaps), 1) \
            if sum(gaps) else "inf"
    if wall_time:
        seconds = latency_stats(run.token_seconds)
        stats.update({f"latency_{key}_us": round(1e6 * value, 1)
                      for key, value in seconds.items()})
    stats["checked"] = "isasim" if check else "off"
    if session is not None and session.result is not None:
        isa = session.result.token_overlapped_cycles
        isa_steady = isa[1:] if len(isa) > 1 else isa
        stats["isasim_clocks/token"] = round(sum(isa_steady) / len(isa_steady))
    backend.last_stats = stats
