"""How a model is split over cores (DESIGN.md, section 3).

Attention is split by head, the FC and projection layers by output column, the LM head by
vocabulary row. A count that does not divide goes unevenly: the first ``count % cores`` cores get
one more (25 heads on 4 cores = 7/6/6/6). Core ``c`` always holds a contiguous range, so an
all-gather that concatenates the cores' sub-vectors in core-id order rebuilds the full vector.
"""

from dataclasses import dataclass

__all__ = ["split", "CoreSlices", "core_slices"]


def split(count, cores):
    """``[(start, stop), ...]``: core ``c``'s contiguous share of ``count`` items."""
    if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
        raise ValueError(f"cores must be a positive integer, not {cores!r}")
    base, extra = divmod(count, cores)
    out, start = [], 0
    for core in range(cores):
        size = base + (core < extra)
        out.append((start, start + size))
        start += size
    return out


@dataclass(frozen=True)
class CoreSlices:
    """What core ``core`` computes: ranges of heads, projection columns (``emb``), FC1 columns
    (``4 emb``), FC2 columns (``emb``) and vocabulary rows."""

    core: int
    heads: tuple
    proj: tuple
    fc1: tuple
    fc2: tuple
    vocab: tuple

    @staticmethod
    def size(rng):
        return rng[1] - rng[0]


def core_slices(config, cores):
    """The :class:`CoreSlices` of every core for ``config`` on ``cores`` cores.

    Raises
    ------
    ValueError
        If some core would get no head (more cores than heads).
    """
    if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
        raise ValueError(f"cores must be a positive integer, not {cores!r}")
    if cores > config.n_head:
        raise ValueError(
            f"{cores} cores for a model with {config.n_head} heads: every core needs a head")
    e = config.n_embd
    parts = [split(config.n_head, cores), split(e, cores), split(4 * e, cores),
             split(e, cores), split(config.vocab_size, cores)]
    return [CoreSlices(c, *(p[c] for p in parts)) for c in range(cores)]
