"""The interface every text-generation backend implements (see :mod:`dfx_hw.backends`)."""

import abc
from typing import ClassVar, Iterator

import numpy as np

from ..model.config import GPT2Config
from ..model.sampling import Sampler

__all__ = ["Backend"]


class Backend(abc.ABC):
    """Something that continues a prompt with GPT-2: the float reference, the instruction-level
    simulator of the DFX cores, the RTL simulation, ...

    Subclasses set the class attributes, implement :meth:`from_model_dir` and :meth:`_generate`,
    and may override :meth:`stats`.

    Parameters
    ----------
    config : GPT2Config
        Shape of the loaded model (used to validate requests).

    Attributes
    ----------
    name : str
        Registry name (``dfx generate --backend NAME``).
    option_names : tuple of str
        Keyword options :meth:`from_model_dir` accepts (e.g. ``("cores",)``); the registry
        rejects any other option with a clear error.
    supports_sampling : bool
        False for backends that only decode greedily; a sampling :class:`Sampler` is then refused
        by :meth:`check_request`.
    """

    name: ClassVar[str]
    option_names: ClassVar[tuple] = ()
    supports_sampling: ClassVar[bool] = True

    def __init__(self, config: GPT2Config):
        if not isinstance(config, GPT2Config):
            raise TypeError(f"config must be a GPT2Config, not {type(config).__name__}")
        self._config = config

    @classmethod
    @abc.abstractmethod
    def from_model_dir(cls, model_dir, **options) -> "Backend":
        """Load the Hugging Face checkpoint in ``model_dir`` and build the backend.

        Raises
        ------
        ValueError
            For a bad checkpoint (:class:`~dfx_hw.model.checkpoint.CheckpointError`) or option.
        """

    @property
    def config(self) -> GPT2Config:
        """Shape of the loaded model."""
        return self._config

    def check_request(self, prompt_ids, max_new_tokens: int, sampler: Sampler) -> list:
        """Validate a generation request before any work is done; return the prompt as a list.

        Raises
        ------
        ValueError
            Empty prompt, a token id outside the vocabulary, ``max_new_tokens`` not a positive
            integer, prompt plus new tokens longer than the context, or a sampling request to a
            greedy-only backend. The message names the problem and the numbers.
        """
        ids = [int(i) for i in np.asarray(prompt_ids, dtype=np.int64).reshape(-1)]
        if not ids:
            raise ValueError("the prompt is empty: at least one token is needed")
        vocab = self._config.vocab_size
        for i in ids:
            if not 0 <= i < vocab:
                raise ValueError(f"token id {i} is outside the vocabulary "
                                 f"(vocab_size={vocab}, valid ids 0..{vocab - 1})")
        if (isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, (int, np.integer))
                or max_new_tokens <= 0):
            raise ValueError(f"max_new_tokens must be a positive integer, not {max_new_tokens!r}")
        total, context = len(ids) + int(max_new_tokens), self._config.n_positions
        if total > context:
            raise ValueError(
                f"prompt ({len(ids)} tokens) + max_new_tokens ({max_new_tokens}) = {total} "
                f"tokens, more than the model's context of {context} positions")
        if not isinstance(sampler, Sampler):
            raise TypeError(f"sampler must be a Sampler, not {type(sampler).__name__}")
        if not sampler.is_greedy and not self.supports_sampling:
            raise ValueError(f"backend {self.name!r} decodes greedily only; "
                             f"use temperature 0 (got {sampler!r})")
        return ids

    def prepare(self, progress=None) -> None:
        """Do the slow one-time set-up now (building a simulation model, say) rather than in the
        first token; ``progress(text)`` is told what is being done. Nothing by default."""

    def generate(self, prompt_ids, max_new_tokens: int, sampler: Sampler) -> Iterator[int]:
        """Continue ``prompt_ids`` by ``max_new_tokens`` tokens chosen by ``sampler``.

        The request is validated at once (:meth:`check_request`); the returned iterator yields
        each new token id as soon as it is produced.
        """
        ids = self.check_request(prompt_ids, max_new_tokens, sampler)
        return self._generate(ids, int(max_new_tokens), sampler)

    @abc.abstractmethod
    def _generate(self, prompt_ids: list, max_new_tokens: int,
                  sampler: Sampler) -> Iterator[int]:
        """Generator behind :meth:`generate`; its arguments are already validated."""

    def stats(self) -> dict:
        """Figures about the last :meth:`generate` for the summary line (e.g. ``cycles``,
        ``instructions``), as ``{name: number or str}``; empty by default."""
        return {}
