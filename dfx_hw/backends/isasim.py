"""The ``isasim`` backend: GPT-2 compiled for N DFX cores and run on the ISA simulator.

The host's part is what it would be on the hardware: it writes the prompt into every core's token
buffer, starts the cores and reads the generated tokens back; embedding, every layer, the LM head
and the (ring-agreed) argmax run in the simulated cores, greedily.
"""

from typing import Iterator

import numpy as np

from ..compiler import compile_model
from ..geometry import U280
from ..model.checkpoint import load_checkpoint
from ..model.sampling import Sampler
from .base import Backend

__all__ = ["IsaSimBackend"]


class IsaSimBackend(Backend):
    """Greedy generation on ``cores`` simulated DFX cores joined in a ring.

    Parameters
    ----------
    config, weights
        The model (see :func:`~dfx_hw.model.checkpoint.load_checkpoint`).
    cores : int
        Number of cores (1 to ``n_head``); default 1.
    capture_logits : bool
        Also collect the logits of every generated token (``last_result.logits``).
    """

    name = "isasim"
    option_names = ("cores",)
    supports_sampling = False

    def __init__(self, config, weights, *, cores=1, geometry=U280, capture_logits=False):
        super().__init__(config)
        if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
            raise ValueError(f"cores must be a positive integer, not {cores!r}")
        self._model = compile_model(config, weights, cores=cores, geometry=geometry,
                                    capture_logits=capture_logits)
        self.last_result = None

    @classmethod
    def from_model_dir(cls, model_dir, **options) -> "IsaSimBackend":
        return cls(*load_checkpoint(model_dir), cores=options.get("cores", 1))

    @property
    def compiled(self):
        """The :class:`~dfx_hw.compiler.CompiledModel` the cores run."""
        return self._model

    def _generate(self, prompt_ids: list, max_new_tokens: int,
                  sampler: Sampler) -> Iterator[int]:
        from ..isasim.run import Session

        session = Session(self._model, prompt_ids, max_new_tokens)
        self.last_result = None
        yield from session.tokens()
        self.last_result = session.result

    def stats(self) -> dict:
        result = self.last_result
        if result is None:
            return {}
        from ..host import latency_stats
        stats = {"cores": self._model.n_cores, "instructions": sum(result.counts.values()),
                 "cycles": result.overlapped_cycles, "serial_cycles": result.cycles}
        # Per-token latency in the timing model's clocks (core 0's scoreboard estimate).
        clocks = np.cumsum(result.token_overlapped_cycles).tolist()
        stats.update({f"latency_{key}_clk": round(value)
                      for key, value in latency_stats(clocks).items()})
        return stats
