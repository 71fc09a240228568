"""The ``isasim`` device: the ISA simulator (:mod:`dfx_hw.isasim`) behind the register map.

The simulator has no register port, so this device implements the map's behaviour in software,
from the same table (:mod:`dfx_hw.spec.regmap`): ``ID``/``VERSION`` answer this host's values,
``IBUF_DEPTH`` the depth given (the U280 build's by default), ``PARAMS`` 0 (the simulator has no
issue queues); configuration registers are stored (locked while running), the
instruction-buffer registers store words exactly as the core's do, ``CONTROL.START``/``CLEAR``
act, ``STATUS``/``PC`` report the simulation, ``ERR_*`` hold the first simulator error mapped
to an :class:`~dfx_hw.spec.errors.ErrorCode`, and ``PERF_CYCLES``/``PERF_ISSUED`` are the
simulator's scoreboard clock estimate and executed-instruction count (the other counters read
0). Memories are byte arrays: HBM port images (joined by :mod:`dfx_hw.spec.hbm_map` into the
flat image the simulator reads) and DDR (which the simulator updates in place, so tokens appear
there as on a card).

A ring of N simulated cores shares one :class:`IsaSimTime`: the simulation starts when every
core of it has been started; each poll runs the ring to its next all-gather.
"""

import numpy as np

from ..control.params import DEFAULT_IBUF_DEPTH
from ..spec import hbm_map
from ..spec.errors import ErrorCode
from ..spec.regmap import ID_VALUE, REGISTERS, REGMAP, VERSION_VALUE
from .appliance import Appliance
from .device import DDR, Device, RegisterRefused, TimeBase

__all__ = ["IsaSimDevice", "IsaSimTime", "isasim_ring"]

_OFF = {name: reg.offset for name, reg in REGMAP.items()}
_START = 1 << REGMAP["CONTROL"].field("START").lsb
_CLEAR = 1 << REGMAP["CONTROL"].field("CLEAR").lsb


def _code_of(error):
    """The :class:`ErrorCode` the hardware reports for a simulator error."""
    from ..isasim import errors
    text = str(error)
    if isinstance(error, errors.AddressError):
        return ErrorCode.DDR_WINDOW if "DDR" in text or "ddr" in text else ErrorCode.HBM_WINDOW
    if isinstance(error, errors.RegisterFileOverflow):
        return ErrorCode.SRF_RANGE if "scalar" in text or "SRF" in text else ErrorCode.VRF_RANGE
    if isinstance(error, errors.RingDeadlock):
        return ErrorCode.SYNC_TIMEOUT
    if isinstance(error, errors.IllegalInstructionError):
        return ErrorCode.ILLEGAL_OPCODE
    if "program counter" in text:
        return ErrorCode.PC_RANGE
    return ErrorCode.UNIT_FAULT


class IsaSimTime(TimeBase):
    """The time of a ring of simulated cores: :meth:`advance` runs the ring to its next
    all-gather (once every core of it is started)."""

    def __init__(self, geometry):
        self.geometry = geometry
        self.devices = []
        self._steps = None
        self.ring = None
        self.order = []

    def advance(self):
        from ..isasim.errors import SimulationError
        if self._steps is None:
            if not self.devices or not all(d._started for d in self.devices):
                return
            self._launch()
            if self._steps is None:
                return
        try:
            next(self._steps)
        except StopIteration:
            self._finish(None)
        except SimulationError as error:          # the hardware's error state
            self._finish(error)

    def _launch(self):
        from ..isasim.ring import Ring
        # Ring position = CORE_ID, as on the hardware.
        self.order = sorted(self.devices, key=lambda d: d._regs[_OFF["CORE_ID"]])
        ids = [d._regs[_OFF["CORE_ID"]] for d in self.order]
        counts = {d._regs[_OFF["CORE_COUNT"]] for d in self.order}
        if ids != list(range(len(ids))) or counts != {len(ids)}:
            self._finish(RuntimeError(f"CORE_ID {ids} / CORE_COUNT {sorted(counts)} do not "
                                      f"describe a ring of {len(ids)}"))
            return
        programs, hbm, ddr = [], [], []
        for device in self.order:
            programs.append(device._ibuf[:device._regs[_OFF["PROGRAM_LEN"]]])
            size = device._window("HBM")
            ports = [np.frombuffer(bytes(image), np.uint8) for image in device._hbm]
            flat = hbm_map.join_image(self.geometry, ports, size=min(size, len(ports[0]) *
                                                                    len(ports)))
            hbm.append(flat.view(np.float16).copy())
            ddr.append(np.frombuffer(device._ddr, np.float16, len(device._ddr) // 2))
        self.ring = Ring(programs, hbm, ddr, geometry=self.geometry)
        self._steps = self.ring.steps()

    def _finish(self, error):
        self._steps = None
        for device in self.devices:
            device._running = False
            device._done = error is None
        if error is not None:
            position = getattr(error, "core", None) or 0
            device = (self.order if self.order else self.devices)[position]
            pc = error.pc if getattr(error, "pc", None) is not None else 0
            program = device._ibuf
            word = program[pc] if 0 <= pc < len(program) else 0
            device._error = (_code_of(error).value, 0, pc, word, str(error))
        self._steps = None

    def core(self, device):
        if self.ring is None or device not in self.order:
            return None
        return self.ring.cores[self.order.index(device)]


class IsaSimDevice(Device):
    """One simulated core of ``time`` (:class:`IsaSimTime`) with the register map in software.

    Parameters
    ----------
    time : IsaSimTime
    hbm_ports : int
        The geometry's HBM channels.
    hbm_port_bytes, ddr_bytes : int
        Memory sizes (allocated as written).
    ibuf_depth : int
        ``IBUF_DEPTH``.
    """

    def __init__(self, time, *, hbm_port_bytes=256 << 20, ddr_bytes=1 << 30,
                 ibuf_depth=DEFAULT_IBUF_DEPTH):
        self._time = time
        time.devices.append(self)
        self.name = f"isasim core {len(time.devices) - 1}"
        self.hbm_ports = time.geometry.hbm_channels
        self.hbm_port_bytes, self.ddr_bytes = hbm_port_bytes, ddr_bytes
        self._depth = ibuf_depth
        self._hbm = [bytearray() for _ in range(self.hbm_ports)]
        self._ddr = bytearray()
        self._reset()

    def _reset(self):
        self._regs = {r.offset: r.reset for r in REGISTERS}
        self._regs[_OFF["ID"]], self._regs[_OFF["VERSION"]] = ID_VALUE, VERSION_VALUE
        self._regs[_OFF["IBUF_DEPTH"]] = self._depth
        self._ibuf = getattr(self, "_ibuf", [])
        self._parts = [0, 0, 0, 0]
        self._started = self._running = self._done = False
        self._error = None

    @property
    def timebase(self):
        return self._time

    def _window(self, name):
        return self._regs[_OFF[f"{name}_SIZE_LO"]] | self._regs[_OFF[f"{name}_SIZE_HI"]] << 32

    # ---- registers ----------------------------------------------------------------------------
    def read_reg(self, offset):
        reg = next((r for r in REGISTERS if r.offset == offset), None)
        if reg is None or not reg.readable:
            return 0
        name = reg.name
        if name == "STATUS":
            idle = not self._running
            return (idle << 0 | self._running << 1 | self._done << 2
                    | (self._error is not None) << 3)
        if name.startswith("ERR_"):
            if self._error is None:
                return 0
            code, info, pc, word, _ = self._error
            if name.startswith("ERR_WORD"):
                return word >> (32 * int(name[-1])) & 0xFFFFFFFF
            return {"ERR_CODE": code, "ERR_INFO": info, "ERR_PC": pc}[name]
        core = self._time.core(self)
        if name == "PC":
            return core.pc if core is not None else 0
        if name.startswith("PERF_"):
            value = 0
            if core is not None and name.startswith("PERF_CYCLES"):
                value = core.timeline.end
            elif core is not None and name.startswith("PERF_ISSUED"):
                value = sum(core.counts.values())
            return value >> 32 if name.endswith("_HI") else value & 0xFFFFFFFF
        return self._regs[offset]

    def write_reg(self, offset, value):
        reg = next((r for r in REGISTERS if r.offset == offset), None)
        if reg is None or not reg.writable or (reg.locked and self._running):
            raise RegisterRefused(f"{self.name}: register write {offset:#x} = {value:#x} "
                                  f"refused (SLVERR)")
        name = reg.name
        if name == "CONTROL":
            if value & _CLEAR:
                self._reset()
            elif value & _START and not self._running and self._error is None:
                self._started, self._running, self._done = True, True, False
            return
        if name.startswith("IBUF_DATA"):
            index = int(name[-1])
            self._parts[index] = value
            if index == 3:
                at = self._regs[_OFF["IBUF_ADDR"]]
                if at >= self._depth:
                    raise RegisterRefused(f"{self.name}: instruction store at {at} is beyond "
                                          f"IBUF_DEPTH {self._depth} (SLVERR)")
                del self._ibuf[at:]
                self._ibuf.append(sum(p << (32 * i) for i, p in enumerate(self._parts)))
                self._regs[_OFF["IBUF_ADDR"]] = at + 1
            return
        if name == "IBUF_ADDR":
            del self._ibuf[value:]
        self._regs[offset] = value & 0xFFFFFFFF

    # ---- memories -----------------------------------------------------------------------------
    def _memory(self, memory, offset, length):
        if memory == DDR:
            image, size = self._ddr, self.ddr_bytes
        elif isinstance(memory, int) and 0 <= memory < self.hbm_ports:
            image, size = self._hbm[memory], self.hbm_port_bytes
        else:
            raise ValueError(f"{self.name}: no memory {memory!r}")
        if offset < 0 or offset + length > size:
            raise ValueError(f"{self.name}: {length} bytes at {offset:#x} are outside "
                             f"{memory!r} ({size:#x} bytes)")
        if self._running and len(image) < offset + length:
            raise ValueError(f"{self.name}: {memory!r} cannot grow while the core runs")
        if len(image) < offset + length:
            image.extend(bytes(offset + length - len(image)))
        return image

    def write_memory(self, memory, offset, data):
        data = bytes(data)
        self._memory(memory, offset, len(data))[offset:offset + len(data)] = data

    def read_memory(self, memory, offset, length):
        return bytes(self._memory(memory, offset, length)[offset:offset + length])


def isasim_ring(geometry, cores=1, **options):
    """An :class:`Appliance` of ``cores`` simulated cores (one :class:`IsaSimTime`)."""
    time = IsaSimTime(geometry)
    return Appliance([IsaSimDevice(time, **options) for _ in range(cores)])
