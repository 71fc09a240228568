"""The ``reference`` backend: the float32 NumPy GPT-2 (:class:`~dfx_hw.model.reference.
ReferenceGPT2`) with greedy or sampled decoding."""

import time
from typing import Iterator

from ..model.checkpoint import load_checkpoint
from ..model.reference import ReferenceGPT2
from ..model.sampling import Sampler
from .base import Backend

__all__ = ["ReferenceBackend"]


class ReferenceBackend(Backend):
    """Generation with the float32 reference model and its key/value cache.

    Parameters
    ----------
    config, weights
        The model, as returned by :func:`~dfx_hw.model.checkpoint.load_checkpoint`.
    """

    name = "reference"
    option_names = ()
    supports_sampling = True

    def __init__(self, config, weights):
        super().__init__(config)
        self._model = ReferenceGPT2(config, weights)
        self._stats = {}

    @classmethod
    def from_model_dir(cls, model_dir, **options) -> "ReferenceBackend":
        if options:
            raise ValueError(f"backend {cls.name!r} takes no options, got {sorted(options)}")
        return cls(*load_checkpoint(model_dir))

    @property
    def model(self) -> ReferenceGPT2:
        return self._model

    def _generate(self, prompt_ids: list, max_new_tokens: int,
                  sampler: Sampler) -> Iterator[int]:
        self._stats = {}
        start = time.perf_counter()
        logits = self._model.prefill(prompt_ids)
        self._stats["prefill_ms"] = round(1e3 * (time.perf_counter() - start), 1)
        for index in range(max_new_tokens):
            token = sampler(logits)
            yield token
            if index + 1 < max_new_tokens:
                logits = self._model.decode(token)

    def stats(self) -> dict:
        return dict(self._stats)
