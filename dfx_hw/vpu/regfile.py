"""Vector and scalar register files of the VPU (DESIGN.md, section 4).

Both are :class:`amaranth.lib.memory.Memory` arrays with synchronous read ports (one clock of read
latency, so they map onto block or ultra RAM) and lane-granular write ports.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["RegisterFile", "read_port_signature", "write_port_signature"]


def read_port_signature(*, addr_width, data_width):
    """Signature of a synchronous read port, seen from the reader.

    ``addr`` and ``en`` are sampled on a clock edge; ``data`` holds the word one clock later (and
    keeps it while ``en`` is low).
    """
    return wiring.Signature({
        "addr": Out(addr_width),
        "en":   Out(1),
        "data": In(data_width),
    })


def write_port_signature(*, addr_width, data_width, lanes):
    """Signature of a lane-granular write port, seen from the writer.

    ``en`` has one bit per element (lane); the lanes whose bit is set are written on the clock edge.
    """
    return wiring.Signature({
        "addr": Out(addr_width),
        "en":   Out(lanes),
        "data": Out(data_width),
    })


class RegisterFile(wiring.Component):
    """A register file of ``depth`` words of ``lanes`` FP16 elements.

    Used for the vector register file (``lanes`` = the VPU width; a vector of ``n`` elements
    occupies ``ceil(n / lanes)`` consecutive words, element ``i`` in lane ``i % lanes``) and for the
    scalar register file (``lanes = 1``).

    Reads are synchronous: a read issued on one clock returns data on the next. A read of a word
    written on the same clock returns the old contents (the port is not transparent); the operand
    collector's hazard logic never relies on either behaviour.

    Parameters
    ----------
    lanes : int
        FP16 elements per word (a power of two).
    depth : int
        Words.
    read_ports : int
        Number of independent read ports.
    write_ports : int
        Number of write ports (lane granular). Ports are prioritised in index order for the same
        lane of the same word on the same clock (a higher index wins).

    Members
    -------
    read : list of ``In(read_port_signature(...))``
    write : list of ``In(write_port_signature(...))``
    """

    def __init__(self, *, lanes, depth, read_ports=2, write_ports=1):
        if not isinstance(lanes, int) or lanes < 1 or lanes & (lanes - 1):
            raise ValueError(f"lanes must be a positive power of two, not {lanes!r}")
        if not isinstance(depth, int) or depth < 2:
            raise ValueError(f"depth must be an integer of at least 2, not {depth!r}")
        if not isinstance(read_ports, int) or read_ports < 1:
            raise ValueError(f"read_ports must be a positive integer, not {read_ports!r}")
        if not isinstance(write_ports, int) or write_ports < 1:
            raise ValueError(f"write_ports must be a positive integer, not {write_ports!r}")
        self._lanes = lanes
        self._depth = depth
        self._read_ports = read_ports
        self._write_ports = write_ports
        addr_width = (depth - 1).bit_length()
        rd = read_port_signature(addr_width=addr_width, data_width=16 * lanes)
        wr = write_port_signature(addr_width=addr_width, data_width=16 * lanes, lanes=lanes)
        super().__init__({
            "read": In(rd).array(read_ports),
            "write": In(wr).array(write_ports),
        })

    @property
    def lanes(self):
        return self._lanes

    @property
    def depth(self):
        return self._depth

    @property
    def addr_width(self):
        return (self._depth - 1).bit_length()

    @property
    def elements(self):
        """Capacity in FP16 elements."""
        return self._lanes * self._depth

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = Memory(shape=unsigned(16 * self._lanes), depth=self._depth,
                                        init=[])
        for port in self.write:
            wp = mem.write_port(granularity=16)
            m.d.comb += [wp.addr.eq(port.addr), wp.data.eq(port.data), wp.en.eq(port.en)]
        for port in self.read:
            rp = mem.read_port()
            m.d.comb += [rp.addr.eq(port.addr), rp.en.eq(port.en), port.data.eq(rp.data)]
        return m
