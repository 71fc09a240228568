"""The ``rtl`` backend: GPT-2 compiled for N DFX cores and run on the cores' RTL, simulated whole
in Verilator (:mod:`dfx_hw.rtlsim`), with the host's part done through the register map.

By default every token is checked against the ISA simulator as it comes (the same compiled
model run on :mod:`dfx_hw.isasim`): generation stops with :class:`RtlMismatch` at the first
token that differs. ``check=False`` turns the check off.
"""

from typing import Iterator

from ..compiler import compile_model
from ..model.checkpoint import load_checkpoint
from ..model.sampling import Sampler
from .base import Backend
from .device import RtlMismatch, device_generate

__all__ = ["RtlBackend", "RtlMismatch"]


class RtlBackend(Backend):
    """Greedy generation on ``cores`` simulated DFX cores (RTL) joined in a ring.

    Parameters
    ----------
    config, weights
        The model (see :func:`~dfx_hw.model.checkpoint.load_checkpoint`).
    cores : int
        Number of cores (1 to ``n_head``); default 1.
    core_config : CoreConfig or None
        The core's build parameters; default the U280 build (d=64, l=16, 32 HBM ports).
    core : str or None
        A named build instead (:data:`dfx_hw.core.config.BUILDS`: ``u280``, ``demo``,
        ``small``).
    check : bool
        Compare every token with the ISA simulator (default).
    hbm_latency : int
        Read latency of the HBM model in clocks.
    """

    name = "rtl"
    option_names = ("cores", "check", "hbm_latency", "core")
    supports_sampling = False

    def __init__(self, config, weights, *, cores=1, core_config=None, check=True,
                 hbm_latency=200, core=None):
        super().__init__(config)
        from ..core.config import CoreConfig, core_build
        from ..host import geometry_of
        if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
            raise ValueError(f"cores must be a positive integer, not {cores!r}")
        if core is not None:
            if core_config is not None:
                raise ValueError("give core (a build name) or core_config, not both")
            core_config = core_build(core)
        self._core_config = CoreConfig() if core_config is None else core_config
        self._model = compile_model(config, weights, cores=cores,
                                    geometry=geometry_of(self._core_config))
        self._check = bool(check)
        self._hbm_latency = int(hbm_latency)
        self.last_stats = {}

    @classmethod
    def from_model_dir(cls, model_dir, **options) -> "RtlBackend":
        return cls(*load_checkpoint(model_dir), **options)

    @property
    def compiled(self):
        return self._model

    def prepare(self, progress=None) -> None:
        """Build the core's Verilator model (or find it in the cache under ``build/coresim``)."""
        from ..rtlsim.build import build
        build(self._core_config, progress=progress)

    def _generate(self, prompt_ids: list, max_new_tokens: int,
                  sampler: Sampler) -> Iterator[int]:
        from ..host import rtl_ring
        from ..rtlsim.sim import CoreSim

        model = self._model
        hbm_bytes = max(2 * core.hbm.size for core in model.cores)
        port_bytes = -(-hbm_bytes // self._core_config.hbm_channels) + (1 << 16)
        ddr_bytes = max(2 * core.ddr.size for core in model.cores) + (1 << 16)
        sim = CoreSim(self._core_config, cores=model.n_cores, hbm_bytes=port_bytes,
                      ddr_bytes=ddr_bytes)
        sim.set_hbm_timing(read_latency=self._hbm_latency)
        sim.set_ring_hop_latency()        # the hop the ISA simulator's estimate assumes
        try:
            yield from device_generate(self, rtl_ring(sim, hbm_bytes=port_bytes,
                                                      ddr_bytes=ddr_bytes),
                                       prompt_ids, max_new_tokens, check=self._check)
        finally:
            sim.close()

    def stats(self) -> dict:
        return dict(self.last_stats)
