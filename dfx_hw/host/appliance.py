"""An appliance: N DFX cards joined in a ring, driven by one host process.

The ring order is the order of the devices given: position ``i`` gets ``CORE_ID = i`` and every
card ``CORE_COUNT = N`` (written by :class:`~.generation.Generation` before any START, and read
back). The cabling must match: card ``i``'s ``ring_next`` link (QSFP0) goes to card
``(i + 1) % N``'s ``ring_prev`` (QSFP1). A single card is an appliance of one.
"""

from .device import Device

__all__ = ["Appliance"]


class Appliance:
    """Devices in ring order."""

    def __init__(self, devices):
        devices = list(devices)
        if not devices:
            raise ValueError("an appliance needs at least one device")
        for position, device in enumerate(devices):
            if not isinstance(device, Device):
                raise TypeError(f"ring position {position}: {device!r} is not a Device")
        if len({id(d) for d in devices}) != len(devices):
            raise ValueError("a device appears twice in the ring order")
        self.devices = devices

    def __len__(self):
        return len(self.devices)

    def __iter__(self):
        return iter(self.devices)

    def __getitem__(self, position):
        return self.devices[position]

    def advance(self):
        """Let one poll interval pass on every time base of the ring (once per shared one)."""
        seen = []
        for device in self.devices:
            time = device.timebase
            if not any(time is other for other in seen):
                seen.append(time)
                time.advance()

    def close(self):
        closed = []
        for device in self.devices:
            if not any(device is other for other in closed):
                device.close()
                closed.append(device)
