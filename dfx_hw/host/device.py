"""The :class:`Device` API: one DFX card as the host sees it, whatever is behind it.

A device has the core's register map (:mod:`dfx_hw.spec.regmap`, 32-bit registers at byte
offsets), its memories (``hbm_ports`` HBM port images and one DDR image, each addressed from byte
0 of that memory) and a *time base* (:class:`TimeBase`): something that lets time pass between
two polls — clocks of a simulation, or a sleep for a real card. Backends implement the five raw
accesses (:meth:`Device.read_reg`, :meth:`~Device.write_reg`, :meth:`~Device.write_memory`,
:meth:`~Device.read_memory` and the :attr:`~Device.timebase`); everything else (identity,
status, start, error decoding, counters) is built here from the register map, once.

Errors a user meets are subclasses of :class:`DeviceError` with a message that names the card
and says what to do: :class:`DeviceNotFound`, :class:`DeviceTimeout`, :class:`ModelTooLarge`,
:class:`RegisterRefused`; an old bitstream raises
:class:`dfx_hw.control.loader.BitstreamMismatch` and a run that stopped on an error
:class:`dfx_hw.control.loader.CoreError`.
"""

import abc

from ..control.loader import check_identity, decode_status, error_of
from ..spec.regmap import COUNTER_BITS, REGMAP

__all__ = ["Device", "TimeBase", "DeviceError", "DeviceNotFound", "DeviceTimeout",
           "ModelTooLarge", "RegisterRefused", "DDR"]

#: The memory name of the DDR image in :meth:`Device.write_memory` (HBM ports are 0..n-1).
DDR = "ddr"


class DeviceError(RuntimeError):
    """A device problem the user can act on (the message says which card and what to do)."""


class DeviceNotFound(DeviceError, FileNotFoundError):
    """A device node (or a card) that is not there."""


class DeviceTimeout(DeviceError, TimeoutError):
    """A run that did not finish within the given clocks or seconds."""


class ModelTooLarge(DeviceError, ValueError):
    """A model whose images do not fit the card's HBM or DDR."""


class RegisterRefused(DeviceError, OSError):
    """A register write the core answered with SLVERR."""


class TimeBase(abc.ABC):
    """What lets time pass on one or more devices (a simulation shared by a ring of cores is one
    time base)."""

    @abc.abstractmethod
    def advance(self):
        """Let one poll interval pass."""


class Device(abc.ABC):
    """One DFX card (one core): register map, memories, time base.

    Attributes
    ----------
    name : str
        How messages name the card (e.g. ``"/dev/xdma0"``, ``"rtl core 1"``).
    hbm_ports : int
        HBM ports of the core (the :mod:`~dfx_hw.spec.hbm_map` channels).
    hbm_port_bytes, ddr_bytes : int
        Bytes behind each HBM port and behind DDR.
    """

    name = "device"
    hbm_ports = 0
    hbm_port_bytes = 0
    ddr_bytes = 0

    # ---- what a backend implements ------------------------------------------------------------
    @abc.abstractmethod
    def read_reg(self, offset) -> int:
        """The 32-bit register at byte ``offset``."""

    @abc.abstractmethod
    def write_reg(self, offset, value):
        """Write the 32-bit register at byte ``offset`` (raise :class:`RegisterRefused` when the
        backend sees an SLVERR)."""

    @abc.abstractmethod
    def write_memory(self, memory, offset, data):
        """Write ``data`` (bytes) at byte ``offset`` of ``memory`` (an HBM port number or
        :data:`DDR`)."""

    @abc.abstractmethod
    def read_memory(self, memory, offset, length) -> bytes:
        """``length`` bytes at byte ``offset`` of ``memory``."""

    @property
    @abc.abstractmethod
    def timebase(self) -> TimeBase:
        """The :class:`TimeBase` this device's core runs in."""

    def close(self):
        """Release the device (nodes, simulation); default: nothing."""

    # ---- built from the register map ----------------------------------------------------------
    def reg(self, name):
        """The register called ``name`` (:data:`~dfx_hw.spec.regmap.REGMAP`)."""
        return self.read_reg(REGMAP[name].offset)

    def set_reg(self, name, value):
        self.write_reg(REGMAP[name].offset, value)

    def check_identity(self):
        """Refuse a card that is not a DFX core of this register map's version
        (:class:`~dfx_hw.control.loader.BitstreamMismatch`, with the card's name)."""
        from ..control.loader import BitstreamMismatch
        try:
            check_identity(self.reg("ID"), self.reg("VERSION"))
        except BitstreamMismatch as error:
            raise BitstreamMismatch(f"{self.name}: {error}") from None

    def status(self):
        """``STATUS`` decoded: ``{"idle", "running", "done", "error"}`` -> bool."""
        return decode_status(self.reg("STATUS"))

    def start(self):
        self.set_reg("CONTROL", 1 << REGMAP["CONTROL"].field("START").lsb)

    def clear(self):
        self.set_reg("CONTROL", 1 << REGMAP["CONTROL"].field("CLEAR").lsb)

    def error(self):
        """The :class:`~dfx_hw.control.loader.CoreError` of the error registers (``None`` when
        ``ERR_CODE`` is 0)."""
        return error_of(self.reg("ERR_CODE"), self.reg("ERR_INFO"), self.reg("ERR_PC"),
                        [self.reg(f"ERR_WORD{i}") for i in range(4)])

    def counter(self, name):
        """The 48-bit performance counter ``PERF_<name>`` (read high, low, high: consistent while
        it counts)."""
        lo, hi = REGMAP[f"PERF_{name}_LO"].offset, REGMAP[f"PERF_{name}_HI"].offset
        while True:
            high = self.read_reg(hi)
            low = self.read_reg(lo)
            if self.read_reg(hi) == high:
                return (high << 32 | low) & ((1 << COUNTER_BITS) - 1)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"
