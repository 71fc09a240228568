"""The ``rtl`` backend: GPT-2 compiled for N DFX cores and run on the cores' RTL, simulated whole
in Verilator (:mod:`dfx_hw.rtlsim`), with the host's part done through the register map.

By default every token is checked against the ISA simulator as it comes (the same compiled
model run on :mod:`dfx_hw.isasim`): generation stops with :class:`RtlMismatch` at the first
token that differs. ``check=False`` turns the check off.
"""

from typing import Iterator

from ..compiler import compile_model
from ..geometry import U280
from ..model.checkpoint import load_checkpoint
from ..model.sampling import Sampler
from .base import Backend

__all__ = ["RtlBackend", "RtlMismatch"]


class RtlMismatch(RuntimeError):
    """The RTL produced a token the ISA simulator did not."""


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
    check : bool
        Compare every token with the ISA simulator (default).
    hbm_latency : int
        Read latency of the HBM model in clocks.
    """

    name = "rtl"
    option_names = ("cores", "check", "hbm_latency")
    supports_sampling = False

    def __init__(self, config, weights, *, cores=1, core_config=None, check=True,
                 hbm_latency=200):
        super().__init__(config)
        from ..core.config import CoreConfig
        from ..rtlsim.run import geometry_of
        if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
            raise ValueError(f"cores must be a positive integer, not {cores!r}")
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

    def _generate(self, prompt_ids: list, max_new_tokens: int,
                  sampler: Sampler) -> Iterator[int]:
        from ..isasim.run import Session
        from ..rtlsim.run import RtlRun
        from ..rtlsim.sim import CoreSim

        model = self._model
        hbm_bytes = max(2 * core.hbm.size for core in model.cores)
        port_bytes = -(-hbm_bytes // self._core_config.hbm_channels) + (1 << 16)
        ddr_bytes = max(2 * core.ddr.size for core in model.cores) + (1 << 16)
        sim = CoreSim(self._core_config, cores=model.n_cores, hbm_bytes=port_bytes,
                      ddr_bytes=ddr_bytes)
        sim.set_hbm_timing(read_latency=self._hbm_latency)
        run = RtlRun(sim, model, prompt_ids, max_new_tokens)
        session = Session(model, prompt_ids, max_new_tokens) if self._check else None
        expected = session.tokens() if session is not None else None
        self.last_stats = {}
        clocks = []
        for index, (token, clock) in enumerate(run.tokens()):
            if expected is not None:
                want = next(expected)
                if token != want:
                    raise RtlMismatch(
                        f"token {index} differs: the RTL generated {token}, the ISA simulator "
                        f"{want} (prompt {prompt_ids}); rerun with --no-check to see the RTL's "
                        f"text")
            clocks.append(clock)
            yield token
        if expected is not None:
            for _ in expected:          # let the ISA simulator finish for its figures
                pass
        per_token = [b - a for a, b in zip([0] + clocks[:-1], clocks)]
        steady = per_token[1:] if len(per_token) > 1 else per_token
        mean = sum(steady) / len(steady)
        self.last_stats = {
            "cores": model.n_cores,
            "clocks": clocks[-1] if clocks else 0,
            "clocks/token": round(mean),
            "tokens/s@200MHz": round(U280.clock_hz / mean, 1),
            "checked": "isasim" if self._check else "off",
        }
        if session is not None and session.result is not None:
            isa = session.result.token_overlapped_cycles
            isa_steady = isa[1:] if len(isa) > 1 else isa
            self.last_stats["isasim_clocks/token"] = round(sum(isa_steady) / len(isa_steady))
        sim.close()

    def stats(self) -> dict:
        return dict(self.last_stats)
