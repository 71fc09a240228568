"""The ``xdma`` device: a U280 running the DFX bitstream, through the Linux XDMA driver's
character devices (``PREFIX`` = e.g. ``/dev/xdma0``):

``PREFIX_user``
    the AXI4-Lite BAR = the core's register map: a register is ``pread``/``pwrite`` of 4 bytes
    (little-endian) at its byte offset (:mod:`dfx_hw.spec.regmap`).
``PREFIX_h2c_0`` / ``PREFIX_c2h_0``
    DMA channel 0 host-to-card / card-to-host on the AXI-MM path: ``pwrite``/``pread`` at the
    card address of :mod:`dfx_hw.spec.card_map` (HBM port ``k`` at ``k * 0x1000_0000``, DDR at
    ``0x4_0000_0000``), in pieces of at most :data:`CHUNK` bytes.

Time passes by itself: the poll interval is a sleep of ``poll_seconds``.

A node that is a Unix-domain socket instead of a character device is a *served* node: each
access travels as a record, so a card can be emulated (the tests serve the RTL simulation this
way, byte for byte what the driver would be asked) or forwarded. Request: ``<cQI`` (``b"R"`` or
``b"W"``, offset, length) followed, for a write, by the ``length`` bytes; reply: ``<i`` (0, or
an errno) followed, for a successful read, by the ``length`` bytes.

BAR writes are posted: an SLVERR on a register write is not seen by the host (the generation
reads the configuration back instead).
"""

import errno
import glob
import os
import socket
import stat
import struct
import time

from ..spec import card_map
from .device import DDR, Device, DeviceError, DeviceNotFound, TimeBase

__all__ = ["XdmaDevice", "WallTime", "CHUNK", "REQUEST", "REPLY", "node_paths"]

#: Largest single DMA transfer (bytes).
CHUNK = 8 << 20
#: Record of a served node's request and reply.
REQUEST = struct.Struct("<cQI")
REPLY = struct.Struct("<i")


def node_paths(prefix):
    """The three device nodes of ``prefix``: user (registers), h2c_0, c2h_0."""
    return {"user": f"{prefix}_user", "h2c": f"{prefix}_h2c_0", "c2h": f"{prefix}_c2h_0"}


class WallTime(TimeBase):
    """Real time: :meth:`advance` sleeps ``seconds``."""

    def __init__(self, seconds):
        self.seconds = seconds

    def advance(self):
        time.sleep(self.seconds)


class _Node:
    """One device node: ``pread``/``pwrite`` on a character device (or any seekable file), or
    the record protocol on a served (socket) node."""

    def __init__(self, path, flags):
        self.path = path
        mode = os.stat(path).st_mode
        self._socket = None
        self._fd = None
        if stat.S_ISSOCK(mode):
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._socket.connect(path)
        elif stat.S_ISFIFO(mode) or stat.S_ISDIR(mode):
            raise DeviceError(f"{path} is a {'FIFO' if stat.S_ISFIFO(mode) else 'directory'}, "
                              "not an XDMA character device")
        else:
            self._fd = os.open(path, flags)

    def _exchange(self, op, offset, length, data=b""):
        sock = self._socket
        sock.sendall(REQUEST.pack(op, offset, length) + data)
        (status,) = REPLY.unpack(self._receive(REPLY.size))
        if status:
            raise OSError(status, f"{self.path}: {os.strerror(status)} at {offset:#x} "
                                  f"({length} bytes)")
        return self._receive(length) if op == b"R" else b""

    def _receive(self, length):
        parts, left = [], length
        while left:
            part = self._socket.recv(min(left, 1 << 20))
            if not part:
                raise OSError(errno.EPIPE, f"{self.path}: the served device closed")
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def pread(self, length, offset):
        if self._socket is not None:
            return self._exchange(b"R", offset, length)
        out = bytearray()
        while len(out) < length:
            part = os.pread(self._fd, length - len(out), offset + len(out))
            if not part:
                raise OSError(errno.EIO, f"{self.path}: short read at {offset + len(out):#x}")
            out += part
        return bytes(out)

    def pwrite(self, data, offset):
        if self._socket is not None:
            self._exchange(b"W", offset, len(data), bytes(data))
            return
        view = memoryview(data)
        while view:
            done = os.pwrite(self._fd, view, offset)
            if done <= 0:
                raise OSError(errno.EIO, f"{self.path}: short write at {offset:#x}")
            view, offset = view[done:], offset + done

    def close(self):
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class XdmaDevice(Device):
    """A DFX card behind the XDMA driver nodes ``prefix``\\ ``_user`` / ``_h2c_0`` / ``_c2h_0``.

    Parameters
    ----------
    prefix : str
        Node path prefix (``/dev/xdma0`` for the first card).
    hbm_ports : int
        HBM ports the bitstream's core uses (32 on the U280 build).
    poll_seconds : float
        Sleep between two polls.
    hbm_port_bytes, ddr_bytes : int
        Memory behind each port and behind DDR (the U280's by default).

    Raises
    ------
    DeviceNotFound
        A node is missing (the message lists the ones that exist).
    """

    def __init__(self, prefix="/dev/xdma0", *, hbm_ports=card_map.HBM_PORTS, poll_seconds=1e-3,
                 hbm_port_bytes=card_map.HBM_PORT_BYTES, ddr_bytes=card_map.DDR_BYTES):
        if not 1 <= hbm_ports <= card_map.HBM_PORTS:
            raise ValueError(f"hbm_ports must be 1..{card_map.HBM_PORTS}, not {hbm_ports}")
        self.name = str(prefix)
        self.hbm_ports = hbm_ports
        self.hbm_port_bytes = min(hbm_port_bytes, card_map.HBM_PORT_BYTES)
        self.ddr_bytes = min(ddr_bytes, card_map.DDR_BYTES)
        paths = node_paths(prefix)
        missing = [path for path in paths.values() if not os.path.exists(path)]
        if missing:
            found = sorted(glob.glob(glob.escape(os.path.dirname(str(prefix)) or ".")
                                     + "/xdma*"))
            raise DeviceNotFound(
                f"XDMA device node{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"not found: is the card programmed with the DFX bitstream and the XDMA driver "
                f"loaded (lsmod | grep xdma)? Nodes present: "
                f"{', '.join(found) if found else 'none'}")
        self._nodes = {}
        try:
            for key, flags in (("user", os.O_RDWR), ("h2c", os.O_WRONLY), ("c2h", os.O_RDONLY)):
                self._nodes[key] = _Node(paths[key], flags)
        except PermissionError as error:
            self.close()
            raise DeviceError(f"{error.filename}: permission denied (run as root or add a udev "
                              f"rule for the xdma nodes)") from None
        except BaseException:
            self.close()
            raise
        self._time = WallTime(poll_seconds)

    @property
    def timebase(self):
        return self._time

    def read_reg(self, offset):
        return int.from_bytes(self._nodes["user"].pread(4, offset), "little")

    def write_reg(self, offset, value):
        self._nodes["user"].pwrite((value & 0xFFFFFFFF).to_bytes(4, "little"), offset)

    def _address(self, memory, offset, length):
        if memory == DDR:
            if offset + length > self.ddr_bytes:
                raise ValueError(f"{self.name}: {length} bytes at DDR offset {offset:#x} exceed "
                                 f"the card's {self.ddr_bytes:#x}")
            return card_map.ddr_address(offset, length)
        if isinstance(memory, int) and offset + length > self.hbm_port_bytes:
            raise ValueError(f"{self.name}: {length} bytes at HBM port {memory} offset "
                             f"{offset:#x} exceed the port's {self.hbm_port_bytes:#x}")
        return card_map.hbm_address(memory, offset, length, ports=self.hbm_ports)

    def write_memory(self, memory, offset, data):
        data = memoryview(bytes(data))
        address = self._address(memory, offset, len(data))
        for at in range(0, len(data), CHUNK):
            self._nodes["h2c"].pwrite(data[at:at + CHUNK], address + at)

    def read_memory(self, memory, offset, length):
        address = self._address(memory, offset, length)
        return b"".join(self._nodes["c2h"].pread(min(CHUNK, length - at), address + at)
                        for at in range(0, length, CHUNK))

    def close(self):
        for node in self._nodes.values():
            node.close()
        self._nodes = {}
