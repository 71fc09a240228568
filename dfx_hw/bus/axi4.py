"""The AXI4 bus (AMBA AXI4, full protocol, no user signals): a flat ``lib.wiring`` signature.

Every member is named exactly as the AXI specification names the signal, in lower case
(``awaddr``, ``wstrb``, ``rlast`` ...), directly in the signature (no nested channel
signatures), so the Verilog port of a component member ``hbm[3]`` with this signature is
``hbm__3__araddr`` and cocotbext-axi binds it with
``AxiBus.from_prefix(dut, "hbm__3", bus_separator="__")``.

The signature is the *manager's* view: address, write data and ready-for-response signals are
``Out``; use ``AXI4Signature(...).flip()`` (or ``In(...)``) for a subordinate.

Constant fields a manager drives (``awburst``/``arburst`` = INCR, ``awcache``/``arcache`` = 0b0011
"normal non-cacheable bufferable", ``awprot``/``arprot`` = 0, ``awlock``/``arlock`` = 0,
``awqos``/``arqos`` = 0) are ports like the others; :data:`BURST_INCR`, :data:`CACHE_NORMAL` and
:class:`Resp` name their values.
"""

from amaranth.lib import enum, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["AXI4Signature", "Resp", "BURST_INCR", "CACHE_NORMAL", "MAX_BURST_BEATS",
           "BOUNDARY_BYTES", "size_code"]

#: ``AxBURST`` value of an incrementing burst.
BURST_INCR = 0b01
#: ``AxCACHE`` value "normal, non-cacheable, bufferable".
CACHE_NORMAL = 0b0011
#: Longest INCR burst AXI4 allows (``AxLEN`` = 255).
MAX_BURST_BEATS = 256
#: A burst never crosses an address multiple of this many bytes (AXI4, A3.4.1).
BOUNDARY_BYTES = 4096


class Resp(enum.Enum, shape=2):
    """``RRESP`` / ``BRESP``."""
    OKAY = 0b00
    EXOKAY = 0b01
    SLVERR = 0b10
    DECERR = 0b11


def size_code(data_bits):
    """``AxSIZE`` of a full-width beat of ``data_bits`` bits (log2 of its bytes)."""
    return (data_bits // 8).bit_length() - 1


class AXI4Signature(wiring.Signature):
    """An AXI4 manager port.

    Parameters
    ----------
    addr_bits : int
        Address width (bytes), 12 .. 64.
    data_bits : int
        Data width: a power of two from 8 to 1024.
    id_bits : int
        Transaction ID width, >= 1 (cocotbext-axi's models need the ID signals).

    Raises
    ------
    ValueError
        Naming the offending parameter.
    """

    def __init__(self, *, addr_bits, data_bits, id_bits):
        for name, value, low, high in (("addr_bits", addr_bits, 12, 64),
                                       ("id_bits", id_bits, 1, 32)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in [{low}, {high}], not {value!r}")
        if (isinstance(data_bits, bool) or not isinstance(data_bits, int) or data_bits < 8
                or data_bits > 1024 or data_bits & (data_bits - 1)):
            raise ValueError(f"data_bits must be a power of two in [8, 1024], not {data_bits!r}")
        self._addr_bits, self._data_bits, self._id_bits = addr_bits, data_bits, id_bits
        members = {}
        for ch in ("aw", "ar"):
            members.update({
                f"{ch}id": Out(id_bits), f"{ch}addr": Out(addr_bits), f"{ch}len": Out(8),
                f"{ch}size": Out(3), f"{ch}burst": Out(2), f"{ch}lock": Out(1),
                f"{ch}cache": Out(4), f"{ch}prot": Out(3), f"{ch}qos": Out(4),
                f"{ch}valid": Out(1), f"{ch}ready": In(1),
            })
        members.update({
            "wdata": Out(data_bits), "wstrb": Out(data_bits // 8), "wlast": Out(1),
            "wvalid": Out(1), "wready": In(1),
            "bid": In(id_bits), "bresp": In(Resp), "bvalid": In(1), "bready": Out(1),
            "rid": In(id_bits), "rdata": In(data_bits), "rresp": In(Resp), "rlast": In(1),
            "rvalid": In(1), "rready": Out(1),
        })
        super().__init__(members)

    @property
    def addr_bits(self):
        return self._addr_bits

    @property
    def data_bits(self):
        return self._data_bits

    @property
    def id_bits(self):
        return self._id_bits

    def __eq__(self, other):
        return (type(other) is type(self) and other.addr_bits == self.addr_bits
                and other.data_bits == self.data_bits and other.id_bits == self.id_bits)

    def __repr__(self):
        return (f"AXI4Signature(addr_bits={self._addr_bits}, data_bits={self._data_bits}, "
                f"id_bits={self._id_bits})")
