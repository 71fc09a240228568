"""The ``xdma`` backend: GPT-2 compiled for N DFX cards (U280s running the DFX bitstream) and run
on them through the Linux XDMA driver (:class:`dfx_hw.host.XdmaDevice`), the cards joined in a
ring in the order given.

``device`` names the cards by node prefix, comma-separated in ring order (``/dev/xdma0`` or
``/dev/xdma0,/dev/xdma1``). The model is compiled for the bitstream's core (``core_config``,
default the U280 build). Every token is checked against the ISA simulator unless
``check=False``. The summary gives per-token latency in core clocks (card 0's ``PERF_CYCLES``
at each poll) and in microseconds of wall time.
"""

from typing import Iterator

from ..compiler import compile_model
from ..model.checkpoint import load_checkpoint
from ..model.sampling import Sampler
from .base import Backend
from .device import device_generate

__all__ = ["XdmaBackend"]


def _prefixes(device):
    prefixes = [p.strip() for p in str(device).split(",")] if isinstance(device, str) \
        else [str(p) for p in device]
    if not prefixes or not all(prefixes):
        raise ValueError(f"device must name the cards' node prefixes in ring order "
                         f"(e.g. /dev/xdma0,/dev/xdma1), not {device!r}")
    return prefixes


class XdmaBackend(Backend):
    """Greedy generation on the DFX cards at ``device`` (node prefixes in ring order).

    Parameters
    ----------
    config, weights
        The model.
    device : str or list of str
        Node prefixes (default ``/dev/xdma0``).
    cores : int, optional
        Must equal the number of cards when given.
    core_config : CoreConfig or None
        The bitstream's core (default the U280 build).
    check : bool
        Compare every token with the ISA simulator (default).
    poll_seconds, timeout : float
        Sleep between polls; seconds after which a run that is not done is a
        :class:`~dfx_hw.host.DeviceTimeout`.
    """

    name = "xdma"
    option_names = ("device", "cores", "check")
    supports_sampling = False

    def __init__(self, config, weights, *, device="/dev/xdma0", cores=None, core_config=None,
                 check=True, poll_seconds=1e-3, timeout=600.0):
        super().__init__(config)
        from ..core.config import CoreConfig
        from ..host import geometry_of
        self._prefixes = _prefixes(device)
        if cores is not None and cores != len(self._prefixes):
            raise ValueError(f"--cores {cores} but {len(self._prefixes)} card(s) given with "
                             f"--device ({', '.join(self._prefixes)})")
        self._core_config = CoreConfig() if core_config is None else core_config
        self._model = compile_model(config, weights, cores=len(self._prefixes),
                                    geometry=geometry_of(self._core_config))
        self._check, self._poll, self._timeout = bool(check), poll_seconds, timeout
        self.last_stats = {}

    @classmethod
    def from_model_dir(cls, model_dir, **options) -> "XdmaBackend":
        return cls(*load_checkpoint(model_dir), **options)

    @property
    def compiled(self):
        return self._model

    def ring(self):
        """Open the cards (:class:`~dfx_hw.host.Appliance` in ring order)."""
        from ..host import Appliance, XdmaDevice
        devices = []
        try:
            for prefix in self._prefixes:
                devices.append(XdmaDevice(prefix, hbm_ports=self._core_config.hbm_channels,
                                          poll_seconds=self._poll))
        except BaseException:
            for device in devices:
                device.close()
            raise
        return Appliance(devices)

    def _generate(self, prompt_ids: list, max_new_tokens: int,
                  sampler: Sampler) -> Iterator[int]:
        ring = self.ring()
        try:
            yield from device_generate(self, ring, prompt_ids, max_new_tokens,
                                       check=self._check, wall_time=True,
                                       timeout=self._timeout)
        finally:
            ring.close()

    def stats(self) -> dict:
        return dict(self.last_stats)
