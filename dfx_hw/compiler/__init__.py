"""The GPT-2 compiler: from a model and a core count to per-core memory images and programs.

>>> model = compile_model(config, weights, cores=4)        # doctest: +SKIP
>>> model.cores[0].hbm, model.cores[0].ddr                 # images (float16 arrays)
>>> programs = model.programs(n_prompt=5, n_new=32)        # one instruction list per core

Modules: :mod:`.partition` (what each core computes), :mod:`.tiling` (zig-zag weight tiles),
:mod:`.memmap` (every address), :mod:`.images` (image contents), :mod:`.program` (instructions).
"""

from dataclasses import dataclass

import numpy as np

from ..geometry import U280, TileGeometry
from ..model.config import GPT2Config
from .images import ddr_image, fp16_weights, hbm_image
from .memmap import CompileError, CoreMemoryMap, build_memory_map
from .partition import core_slices
from .program import build_program

__all__ = ["CompiledCore", "CompiledModel", "compile_model", "CompileError"]


@dataclass
class CompiledCore:
    """One core's memory map and initial images (float16 arrays)."""
    memmap: CoreMemoryMap
    hbm: np.ndarray
    ddr: np.ndarray


@dataclass
class CompiledModel:
    """Everything the cores need: per-core images, and programs on request."""
    config: GPT2Config
    geometry: TileGeometry
    cores: list
    capture_logits: bool

    @property
    def n_cores(self):
        return len(self.cores)

    def programs(self, *, n_prompt, n_new, capture_logits=None, prefilled=False):
        """One instruction list per core for a prompt of ``n_prompt`` tokens continued by
        ``n_new`` tokens (see :func:`~dfx_hw.compiler.program.build_program`, also for
        ``prefilled``)."""
        capture = self.capture_logits if capture_logits is None else capture_logits
        return [build_program(core.memmap, n_prompt=n_prompt, n_new=n_new, cores=self.n_cores,
                              capture_logits=capture, prefilled=prefilled)
                for core in self.cores]


def compile_model(config, weights, *, cores, geometry=U280, capture_logits=False):
    """Compile ``weights`` (a :class:`~dfx_hw.model.checkpoint.GPT2Weights` of shape ``config``)
    for ``cores`` cores of ``geometry``.

    Parameters
    ----------
    capture_logits : bool
        Reserve a DDR region where the programs store every position's logits (for checking;
        ``context x vocab`` elements per core).

    Raises
    ------
    ValueError
        Bad core count (more cores than heads), or a model that does not fit
        (:class:`~dfx_hw.compiler.memmap.CompileError`).
    """
    if not isinstance(config, GPT2Config):
        raise TypeError(f"config must be a GPT2Config, not {type(config).__name__}")
    slices = core_slices(config, cores)
    w16 = fp16_weights(weights)
    out = []
    for s in slices:
        mm = build_memory_map(config, geometry, s, cores=cores, capture_logits=capture_logits)
        out.append(CompiledCore(mm, hbm_image(mm, w16), ddr_image(mm, w16)))
    return CompiledModel(config, geometry, out, capture_logits)
