"""The ``rtl`` device: a core of the whole-core Verilator simulation (:class:`~dfx_hw.rtlsim.sim.
CoreSim`). A simulation of N cores is a ring of N devices sharing one :class:`SimTime`;
:func:`rtl_ring` makes the :class:`~.appliance.Appliance` of all of them in ring order."""

from .appliance import Appliance
from .device import DDR, Device, RegisterRefused, TimeBase

__all__ = ["RtlDevice", "SimTime", "rtl_ring", "POLL_CLOCKS"]

#: Clocks simulated between two polls.
POLL_CLOCKS = 2000


class SimTime(TimeBase):
    """Time of a :class:`CoreSim`: :meth:`advance` simulates up to ``poll_clocks`` clocks (fewer
    once no core runs)."""

    def __init__(self, sim, poll_clocks=POLL_CLOCKS):
        self.sim, self.poll_clocks = sim, poll_clocks

    def advance(self):
        self.sim.run(self.poll_clocks, min_clocks=1)


class RtlDevice(Device):
    """Core ``core`` of ``sim``; ``hbm_port_bytes``/``ddr_bytes`` are the sizes the simulation
    was made with (:class:`CoreSim`'s ``hbm_bytes``/``ddr_bytes``)."""

    def __init__(self, sim, core, *, hbm_port_bytes, ddr_bytes, time=None):
        if not 0 <= core < sim.cores:
            raise ValueError(f"the simulation has cores 0..{sim.cores - 1}, not {core}")
        self.sim, self.core = sim, core
        self.name = f"rtl core {core}"
        self.hbm_ports = sim.hbm_ports
        self.hbm_port_bytes, self.ddr_bytes = hbm_port_bytes, ddr_bytes
        self._time = time if time is not None else SimTime(sim)

    @property
    def timebase(self):
        return self._time

    def read_reg(self, offset):
        return self.sim.read_reg(self.core, offset)

    def write_reg(self, offset, value):
        resp = self.sim.write_reg(self.core, offset, value)
        if resp:
            raise RegisterRefused(f"{self.name}: register write {offset:#x} = {value:#x} "
                                  f"refused (BRESP={resp})")

    def _port(self, memory):
        if memory == DDR:
            return self.sim.ddr_port
        if isinstance(memory, int) and 0 <= memory < self.hbm_ports:
            return memory
        raise ValueError(f"{self.name}: no memory {memory!r} (HBM ports 0..{self.hbm_ports - 1} "
                         f"or {DDR!r})")

    def write_memory(self, memory, offset, data):
        self.sim.write_memory(self.core, self._port(memory), offset, data)

    def read_memory(self, memory, offset, length):
        return self.sim.read_memory(self.core, self._port(memory), offset, length)

    def close(self):
        self.sim.close()


def rtl_ring(sim, *, hbm_bytes, ddr_bytes, poll_clocks=POLL_CLOCKS):
    """The :class:`Appliance` of every core of ``sim`` in ring order (core ``i`` at position
    ``i``: the simulation wires core ``i``'s next link to core ``i + 1``)."""
    time = SimTime(sim, poll_clocks)
    return Appliance([RtlDevice(sim, core, hbm_port_bytes=hbm_bytes, ddr_bytes=ddr_bytes,
                                time=time) for core in range(sim.cores)])
