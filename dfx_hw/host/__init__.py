"""The host runtime: one :class:`Device` API for a DFX card, whatever is behind it — the
whole-core RTL simulation (:class:`RtlDevice`), a U280 through the Linux XDMA driver
(:class:`XdmaDevice`), the ISA simulator behind a software register map
(:class:`~dfx_hw.host.isasim.IsaSimDevice`) — an :class:`Appliance` of N cards in a ring, and the one host sequence
that runs a compiled model on any of them (:class:`Generation`). See ``docs/host.md``."""

from ..control.loader import BitstreamMismatch, CoreError
from .appliance import Appliance
from .device import (DDR, Device, DeviceError, DeviceNotFound, DeviceTimeout, ModelTooLarge,
                     RegisterRefused, TimeBase)
from .generation import Generation, geometry_of, latency_stats

__all__ = ["Device", "TimeBase", "Appliance", "Generation", "geometry_of", "latency_stats",
           "DDR", "DeviceError", "DeviceNotFound", "DeviceTimeout", "ModelTooLarge",
           "RegisterRefused", "BitstreamMismatch", "CoreError", "RtlDevice", "rtl_ring",
           "XdmaDevice"]


def __getattr__(name):
    # The backends load on demand (the RTL one needs Verilator's model only when used).
    if name in ("RtlDevice", "rtl_ring"):
        from . import rtl
        return getattr(rtl, name)
    if name == "XdmaDevice":
        from .xdma import XdmaDevice
        return XdmaDevice
    raise AttributeError(name)
