"""The host side of a run: load images and programs, write the prompt, start, read tokens back."""

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .ring import Ring

__all__ = ["Session", "GenerationResult", "generate"]


@dataclass
class GenerationResult:
    """What a run produced.

    Attributes
    ----------
    tokens : list of int
        The generated token ids (read back from core 0's token buffer).
    logits : (n_new, vocab) float16 array or None
        With logit capture, the logits each generated token was chosen from, gathered from every
        core's DDR.
    counts : Counter
        Executed instructions by class, summed over the cores.
    token_counts : list of Counter
        Core 0's executed instructions by class for each generated token (the first includes
        summarization).
    cycles : int
        Serial estimate of the clocks (:mod:`dfx_hw.spec.costs`).
    token_cycles : list of int
        Core 0's serial clocks for each generated token.
    overlapped_cycles : int
        Scoreboard estimate of the clocks, units running concurrently
        (:mod:`dfx_hw.isasim.timing`).
    token_overlapped_cycles : list of int
        Core 0's scoreboard clocks for each generated token.
    seconds : float
        Wall-clock time of the simulation.
    token_seconds : list of float
        Wall-clock time from the start at which each token was read back.
    token_cpu_seconds : list of float
        The same in CPU time of this process (meaningful on a loaded machine).
    """

    tokens: list
    logits: object
    counts: Counter
    token_counts: list = field(default_factory=list)
    cycles: int = 0
    token_cycles: list = field(default_factory=list)
    overlapped_cycles: int = 0
    token_overlapped_cycles: list = field(default_factory=list)
    seconds: float = 0.0
    token_seconds: list = field(default_factory=list)
    token_cpu_seconds: list = field(default_factory=list)


class Session:
    """One generation on fresh copies of a :class:`~dfx_hw.compiler.CompiledModel`'s images.

    Iterate :meth:`tokens` to run; :attr:`result` is set when it is exhausted.
    """

    def __init__(self, model, prompt_ids, n_new, *, prefilled=False):
        self.model = model
        self.prompt = [int(t) for t in prompt_ids]
        self.n_new = int(n_new)
        vocab = model.config.vocab_size
        for t in self.prompt:
            if not 0 <= t < vocab:
                raise ValueError(f"token id {t} is outside the vocabulary (0..{vocab - 1})")
        programs = model.programs(n_prompt=len(self.prompt), n_new=self.n_new,
                                  prefilled=prefilled)
        self.hbm = [core.hbm.copy() for core in model.cores]
        self.ddr = [core.ddr.copy() for core in model.cores]
        for core, image in zip(model.cores, self.ddr):
            tokens = core.memmap.ddr["tokens"].addr
            image.view(np.uint16)[tokens:tokens + len(self.prompt)] = self.prompt
        self.ring = Ring(programs, self.hbm, self.ddr, geometry=model.geometry)
        self.result = None

    def _token(self, index):
        core = self.model.cores[0]
        at = core.memmap.ddr["tokens"].addr + len(self.prompt) + index
        return int(self.ddr[0].view(np.uint16)[at])

    def tokens(self):
        """Generator of the new token ids, each yielded as soon as the cores have stored it."""
        start = time.perf_counter()
        cpu_start = time.process_time()
        lead = self.ring.cores[0]
        times, cpu_times = [], []

        def mark():
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
            return self._token(len(times) - 1)

        for _ in self.ring.steps():
            while len(times) < len(lead.token_marks):
                yield mark()
        while len(times) < len(lead.token_marks):
            yield mark()
        seconds = time.perf_counter() - start
        marks = lead.token_marks
        token_counts, token_cycles, token_overlapped = [], [], []
        previous = (Counter(), 0, 0)
        for counts, cycles, overlapped in marks:
            token_counts.append(counts - previous[0])
            token_cycles.append(cycles - previous[1])
            token_overlapped.append(overlapped - previous[2])
            previous = (counts, cycles, overlapped)
        self.result = GenerationResult(
            tokens=[self._token(i) for i in range(len(marks))], logits=self._logits(),
            counts=self.ring.counts, token_counts=token_counts, cycles=self.ring.cycles,
            token_cycles=token_cycles, overlapped_cycles=self.ring.overlapped_cycles,
            token_overlapped_cycles=token_overlapped, seconds=seconds, token_seconds=times,
            token_cpu_seconds=cpu_times)

    def _logits(self):
        if not self.model.capture_logits:
            return None
        vocab = self.model.config.vocab_size
        first = len(self.prompt) - 1
        out = np.zeros((self.n_new, vocab), np.float16)
        for core, image in zip(self.model.cores, self.ddr):
            base = core.memmap.ddr["logits"].addr
            start, stop = core.memmap.slices.vocab
            for i in range(self.n_new):
                row = base + (first + i) * vocab
                out[i, start:stop] = image[row + start:row + stop]
        return out


def generate(model, prompt_ids, n_new):
    """Run a whole generation; return its :class:`GenerationResult`."""
    session = Session(model, prompt_ids, n_new)
    for _ in session.tokens():
        pass
    return session.result
