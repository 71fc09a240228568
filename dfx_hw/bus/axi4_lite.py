"""AXI4-Lite (AMBA AXI4-Lite, ARM IHI 0022) bus signature: the host's register port.

:func:`axi4_lite_signature` is the *master's* view (``Out`` = driven by the master). A slave
declares ``In(axi4_lite_signature(...))``. Members are flat and named like the AXI signals
without the ``s_axil_`` prefix (``awaddr``, ``awvalid``, ...), so in Verilog they appear as
``<port>__awaddr`` and cocotbext-axi binds them with
``AxiLiteBus.from_prefix(dut, "<port>", bus_separator="__")``.

Handshake rules are AXI's: a source never makes ``valid`` depend on ``ready`` and holds the
payload until accepted; the slave answers each write with one B beat and each read with one R
beat, in order. ``resp``: 0 OKAY, 2 SLVERR (see :class:`Resp`).
"""

from amaranth.lib import enum, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Resp", "axi4_lite_signature"]


class Resp(enum.Enum, shape=2):
    """AXI response codes."""
    OKAY = 0
    EXOKAY = 1
    SLVERR = 2
    DECERR = 3


def axi4_lite_signature(*, addr_width, data_width=32):
    """The AXI4-Lite signature (master's view) with ``addr_width`` address bits and
    ``data_width`` (32 or 64) data bits.

    Raises
    ------
    ValueError
        For an address width outside 1..64 or a data width other than 32 or 64.
    """
    if isinstance(addr_width, bool) or not isinstance(addr_width, int) \
            or not 1 <= addr_width <= 64:
        raise ValueError(f"addr_width must be an integer in 1..64, not {addr_width!r}")
    if data_width not in (32, 64):
        raise ValueError(f"data_width must be 32 or 64, not {data_width!r}")
    strb = data_width // 8
    return wiring.Signature({
        "awaddr": Out(addr_width), "awprot": Out(3), "awvalid": Out(1), "awready": In(1),
        "wdata": Out(data_width), "wstrb": Out(strb), "wvalid": Out(1), "wready": In(1),
        "bresp": In(2), "bvalid": In(1), "bready": Out(1),
        "araddr": Out(addr_width), "arprot": Out(3), "arvalid": Out(1), "arready": In(1),
        "rdata": In(data_width), "rresp": In(2), "rvalid": In(1), "rready": Out(1),
    })
