"""Choosing the next token from logits: greedy argmax, or seeded temperature / top-k sampling.

A :class:`Sampler` is what every backend takes. Greedy decoding is what the hardware does on its
own (argmax on the cards); sampling needs the logits on the host.
"""

import math

import numpy as np

__all__ = ["Sampler", "greedy"]


def greedy(logits) -> int:
    """Index of the largest logit; the lowest index wins a tie."""
    logits = np.asarray(logits)
    if logits.ndim != 1 or logits.size == 0:
        raise ValueError(f"logits must be a non-empty 1-D array, got shape {logits.shape}")
    return int(np.argmax(logits))


class Sampler:
    """Next-token rule.

    Parameters
    ----------
    temperature : float
        0 (the default) selects greedy argmax; a positive value samples from
        ``softmax(logits / temperature)``.
    top_k : int or None
        When sampling, keep only the ``top_k`` largest logits (ties at the boundary are broken
        towards the lower index). ``None`` keeps all. Only allowed with ``temperature > 0``.
    seed : int
        Seed of the :class:`numpy.random.Generator`; the same seed gives the same tokens.

    Raises
    ------
    ValueError
        For a negative or non-finite temperature, a ``top_k`` that is not a positive integer, or
        a ``top_k`` with greedy decoding.
    """

    def __init__(self, *, temperature: float = 0.0, top_k=None, seed: int = 0):
        if (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                or not math.isfinite(temperature) or temperature < 0):
            raise ValueError(
                f"temperature must be a finite number >= 0 (0 = greedy), not {temperature!r}")
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k <= 0:
                raise ValueError(f"top_k must be a positive integer, not {top_k!r}")
            if temperature == 0:
                raise ValueError(f"top_k={top_k} needs sampling (temperature > 0); "
                                 f"greedy decoding always takes the top token")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, not {seed!r}")
        self._temperature = float(temperature)
        self._top_k = top_k
        self._seed = seed
        self._rng = np.random.default_rng(seed)

    @property
    def temperature(self) -> float:
        return self._temperature

    @property
    def top_k(self):
        return self._top_k

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def is_greedy(self) -> bool:
        """True when the choice is the argmax (no randomness)."""
        return self._temperature == 0

    def reset(self):
        """Restart the random stream from :attr:`seed`."""
        self._rng = np.random.default_rng(self._seed)

    def __call__(self, logits) -> int:
        """The next token id for ``logits`` (1-D, one entry per vocabulary token)."""
        if self.is_greedy:
            return greedy(logits)
        logits = np.asarray(logits, dtype=np.float64)
        if logits.ndim != 1 or logits.size == 0:
            raise ValueError(f"logits must be a non-empty 1-D array, got shape {logits.shape}")
        scaled = logits / self._temperature
        if self._top_k is not None and self._top_k < scaled.size:
            # Stable sort: among equal logits the lower index ranks first.
            order = np.argsort(-scaled, kind="stable")
            dropped = order[self._top_k:]
            scaled = scaled.copy()
            scaled[dropped] = -np.inf
        probs = np.exp(scaled - scaled.max())
        cumulative = np.cumsum(probs)
        draw = self._rng.random() * cumulative[-1]
        return int(min(np.searchsorted(cumulative, draw, side="right"), logits.size - 1))

    def __repr__(self):
        return (f"Sampler(temperature={self._temperature}, top_k={self._top_k}, "
                f"seed={self._seed})")
