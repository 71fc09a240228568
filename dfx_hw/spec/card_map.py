"""The card address map: where the host's XDMA AXI-MM path (the H2C/C2H DMA channels) finds each
memory of a DFX card. One table, shared by the U280 top level (``docs/u280.md``, "Host path":
``xbar_host_top`` -> ``xbar_hbm_lo``/``xbar_hbm_hi`` and DDR), the host runtime
(:mod:`dfx_hw.host.xdma`) and the tests that serve a simulated card.

* HBM port (pseudo-channel) ``k`` holds its channel image (:mod:`dfx_hw.spec.hbm_map`) at card
  address ``HBM_BASE + k * HBM_PORT_STRIDE``; a port is ``HBM_PORT_BYTES`` (256 MiB), and an
  access never crosses from one port into the next.
* DDR (channel 0 of the U280's DDR4) is at ``DDR_BASE``, ``DDR_BYTES`` (16 GiB).
* Card addresses are ``ADDRESS_BITS`` wide (the top's ``HOST_ADDR_BITS``).

The register map is not in this space: it is the XDMA AXI4-Lite BAR (``xdma0_user``), at the
byte offsets of :mod:`dfx_hw.spec.regmap`.
"""

__all__ = ["ADDRESS_BITS", "HBM_BASE", "HBM_PORT_STRIDE", "HBM_PORT_BYTES", "HBM_PORTS",
           "DDR_BASE", "DDR_BYTES", "hbm_address", "ddr_address", "region_of"]

#: Card address bits (35: HBM in the lower 8 GiB, DDR from 16 GiB).
ADDRESS_BITS = 35
#: Card address of HBM port 0.
HBM_BASE = 0x0_0000_0000
#: Distance between the card addresses of two HBM ports.
HBM_PORT_STRIDE = 0x1000_0000
#: Bytes behind one HBM port (one pseudo-channel of the U280: 256 MiB).
HBM_PORT_BYTES = 0x1000_0000
#: HBM ports of the U280 (2 stacks x 16 pseudo-channels).
HBM_PORTS = 32
#: Card address of DDR byte 0.
DDR_BASE = 0x4_0000_0000
#: Bytes of DDR (one 16 GiB DDR4 channel).
DDR_BYTES = 0x4_0000_0000


def _span(what, offset, length, size):
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"{what}: offset must be a non-negative integer, not {offset!r}")
    if length < 0 or offset + length > size:
        raise ValueError(f"{what}: {length} bytes at offset {offset:#x} do not fit its "
                         f"{size:#x} bytes")


def hbm_address(port, offset=0, length=0, *, ports=HBM_PORTS):
    """Card address of byte ``offset`` of HBM port ``port`` (an access of ``length`` bytes must
    stay inside the port)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < ports:
        raise ValueError(f"HBM port {port!r} does not exist (the card has ports 0..{ports - 1})")
    _span(f"HBM port {port}", offset, length, HBM_PORT_BYTES)
    return HBM_BASE + port * HBM_PORT_STRIDE + offset


def ddr_address(offset=0, length=0):
    """Card address of DDR byte ``offset``."""
    _span("DDR", offset, length, DDR_BYTES)
    return DDR_BASE + offset


def region_of(address, length=1, *, ports=HBM_PORTS):
    """``("hbm", port, offset)`` or ``("ddr", None, offset)`` of a card address; raises
    ``ValueError`` for an address (or an access of ``length`` bytes) outside every memory."""
    if HBM_BASE <= address < HBM_BASE + ports * HBM_PORT_STRIDE:
        port, offset = divmod(address - HBM_BASE, HBM_PORT_STRIDE)
        if offset + length <= HBM_PORT_BYTES:
            return "hbm", port, offset
    elif DDR_BASE <= address and address + length <= DDR_BASE + DDR_BYTES:
        return "ddr", None, address - DDR_BASE
    raise ValueError(f"card address {address:#x} (+{length} bytes) is in no memory of the card "
                     f"map (HBM ports 0..{ports - 1} from {HBM_BASE:#x} every "
                     f"{HBM_PORT_STRIDE:#x}, DDR at {DDR_BASE:#x})")
