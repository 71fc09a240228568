"""The DFX core's external port contract: what the board top level connects to.

The core (``DFXCore``: control + DMA + MPU + VPU + router) is built elsewhere; the U280 top level
(:mod:`dfx_hw.top.u280_top`) takes it as a parameter. Whatever the core is, it must be an Amaranth
``wiring.Component`` whose signature contains every member of :func:`core_signature` with the
same direction and width (:func:`check_core`, which the top calls; members beyond the contract
are left unconnected, so extra inputs stay at their initial value). Member names are
the lower-case AMBA signal names, so a bus signature from ``dfx_hw.bus`` with those names fits.

Members (the core's view)
-------------------------
``ctrl``: ``In(AXI4-Lite)`` -- the register port, an AXI4-Lite *slave* (32-bit data,
    :attr:`CorePorts.reg_addr_bits` of byte address). Driven by the XDMA AXI-Lite BAR master.
    Members ``awaddr awprot awvalid awready wdata wstrb wvalid wready bresp bvalid bready araddr
    arprot arvalid arready rdata rresp rvalid rready`` (``ready``/``resp``/``rdata`` are the
    core's outputs).
``hbm[i]`` for ``i < hbm_ports``: ``Out(AXI4)`` -- AXI4 *masters*, ``hbm_data_bits`` of data,
    ``hbm_addr_bits`` of byte address (the global HBM address: port ``i`` must keep to
    pseudo-channel ``i``, ``[i * 256 MiB, (i + 1) * 256 MiB)``, because the HBM IP is built with
    its global crossbar off), ``hbm_id_bits`` of ID. Members ``awid awaddr awlen awsize awburst
    awlock awcache awprot awqos awvalid awready wdata wstrb wlast wvalid wready bid bresp bvalid
    bready arid araddr arlen arsize arburst arlock arcache arprot arqos arvalid arready rid rdata
    rresp rlast rvalid rready``.
``ddr``: ``Out(AXI4)`` -- one AXI4 master to the DDR4 channel 0 (byte address from 0).
``ring_next``, ``ring_prev``: the two Aurora-shaped ring links (``ring_next`` leaves through
    QSFP0 to the next core, ``ring_prev`` through QSFP1 to the previous core). Each has
    ``tx_data`` (Out, ``link_bits``), ``tx_valid`` (Out), ``tx_ready`` (In): an AXI4-Stream with
    ready; ``rx_data`` (In, ``link_bits``), ``rx_valid`` (In): **no ready**, the core must accept
    every beat; status inputs ``channel_up``, ``lane_up`` (``link_lanes`` bits), ``hard_err``,
    ``soft_err``. Aurora 64B/66B carries 64 bits per lane per user clock, so
    ``link_lanes = link_bits // 64``.

Clocks and resets
-----------------
* ``ctrl``, ``hbm``, ``ddr`` are synchronous to the core's ``sync`` domain (200 MHz at the U280
  build; the top's MMCM makes it, reset synchronised).
* ``ring_next`` ports are synchronous to the clock domain ``ring_next`` and ``ring_prev`` ports to
  ``ring_prev``: each is its Aurora core's ``user_clk_out`` (390.625 MHz at 25.78125 Gb/s), its
  reset the Aurora's ``sys_reset_out`` synchronised to it. The core crosses them to ``sync``
  itself (the router's ``AsyncFIFO``; issue 11). A core that names these domains differently is
  wrapped in ``DomainRenamer`` by its factory.
"""

from dataclasses import dataclass

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["CorePorts", "U280_PORTS", "axi4_members", "axi4_lite_members", "link_members",
           "core_signature", "flat_ports", "check_core", "CoreContractError", "LINK_DOMAINS"]

#: Clock domains of the two ring links (see the module docstring).
LINK_DOMAINS = ("ring_next", "ring_prev")


@dataclass(frozen=True)
class CorePorts:
    """Sizes of the core's external ports.

    Parameters
    ----------
    hbm_ports : int
        AXI4 masters to HBM (one per pseudo-channel; 32 at the U280).
    hbm_data_bits, hbm_addr_bits, hbm_id_bits : int
        HBM port data width (512 at 200 MHz = the 256-bit 450 MHz HBM port's rate), byte address
        (33 bits = 8 GiB), ID width.
    ddr_data_bits, ddr_addr_bits, ddr_id_bits : int
        DDR port data width (512 = the DDR4 MIG's AXI width for a 64-bit DIMM at 4:1), byte
        address (34 bits = the 16 GiB DIMM), ID width.
    reg_addr_bits : int
        Byte-address bits of the AXI4-Lite register port. **Placeholder** until the control
        unit's register map (issue 9) exists: 16 bits = a 64 KiB BAR, which holds the 0x2000 /
        0x3000 offsets the Linux XDMA driver probes. The XDMA BAR is sized from this value.
    link_bits : int
        Data bits per ring-link beat (64 per Aurora lane: 64 = one 25.78 Gb/s lane, 256 = four
        lanes = the QSFP28's 100 Gb/s).
    """

    hbm_ports: int = 32
    hbm_data_bits: int = 512
    hbm_addr_bits: int = 33
    hbm_id_bits: int = 6
    ddr_data_bits: int = 512
    ddr_addr_bits: int = 34
    ddr_id_bits: int = 6
    reg_addr_bits: int = 16
    link_bits: int = 64

    def __post_init__(self):
        for name, value in vars(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        for name in ("hbm_data_bits", "ddr_data_bits"):
            value = getattr(self, name)
            if value < 8 or value & (value - 1):
                raise ValueError(f"{name} must be a power of two of at least 8, not {value!r}")
        if self.link_bits % 64 or not 1 <= self.link_bits // 64 <= 4:
            raise ValueError(f"link_bits must be 64, 128, 192 or 256 (64 per Aurora 64B/66B "
                             f"lane, one QSFP28 has 4 lanes), not {self.link_bits!r}")
        if self.hbm_ports > 32:
            raise ValueError(f"hbm_ports must be at most 32 (the U280 HBM has 32 AXI ports), "
                             f"not {self.hbm_ports!r}")

    @property
    def link_lanes(self):
        return self.link_bits // 64


#: The U280 build: 32 HBM ports x 512 bits, DDR 512 bits, 64-bit links (the brief's contract).
U280_PORTS = CorePorts()


def axi4_members(*, addr_bits, data_bits, id_bits):
    """AXI4 members from the *master's* view (``Out`` = driven by the master)."""
    return {
        "awid": Out(id_bits), "awaddr": Out(addr_bits), "awlen": Out(8), "awsize": Out(3),
        "awburst": Out(2), "awlock": Out(1), "awcache": Out(4), "awprot": Out(3),
        "awqos": Out(4), "awvalid": Out(1), "awready": In(1),
        "wdata": Out(data_bits), "wstrb": Out(data_bits // 8), "wlast": Out(1),
        "wvalid": Out(1), "wready": In(1),
        "bid": In(id_bits), "bresp": In(2), "bvalid": In(1), "bready": Out(1),
        "arid": Out(id_bits), "araddr": Out(addr_bits), "arlen": Out(8), "arsize": Out(3),
        "arburst": Out(2), "arlock": Out(1), "arcache": Out(4), "arprot": Out(3),
        "arqos": Out(4), "arvalid": Out(1), "arready": In(1),
        "rid": In(id_bits), "rdata": In(data_bits), "rresp": In(2), "rlast": In(1),
        "rvalid": In(1), "rready": Out(1),
    }


def axi4_lite_members(*, addr_bits, data_bits=32):
    """AXI4-Lite members from the *master's* view."""
    return {
        "awaddr": Out(addr_bits), "awprot": Out(3), "awvalid": Out(1), "awready": In(1),
        "wdata": Out(data_bits), "wstrb": Out(data_bits // 8), "wvalid": Out(1),
        "wready": In(1),
        "bresp": In(2), "bvalid": In(1), "bready": Out(1),
        "araddr": Out(addr_bits), "arprot": Out(3), "arvalid": Out(1), "arready": In(1),
        "rdata": In(data_bits), "rresp": In(2), "rvalid": In(1), "rready": Out(1),
    }


def link_members(*, link_bits):
    """Ring-link members from the *core's* view."""
    return {
        "tx_data": Out(link_bits), "tx_valid": Out(1), "tx_ready": In(1),
        "rx_data": In(link_bits), "rx_valid": In(1),
        "channel_up": In(1), "lane_up": In(link_bits // 64), "hard_err": In(1),
        "soft_err": In(1),
    }


def core_signature(ports=U280_PORTS):
    """The signature every core the top accepts must contain (the core's view)."""
    if not isinstance(ports, CorePorts):
        raise TypeError(f"ports must be a CorePorts, not {ports!r}")
    hbm = wiring.Signature(axi4_members(addr_bits=ports.hbm_addr_bits,
                                        data_bits=ports.hbm_data_bits,
                                        id_bits=ports.hbm_id_bits))
    return wiring.Signature({
        "ctrl": In(wiring.Signature(axi4_lite_members(addr_bits=ports.reg_addr_bits))),
        "hbm": Out(hbm).array(ports.hbm_ports),
        "ddr": Out(wiring.Signature(axi4_members(addr_bits=ports.ddr_addr_bits,
                                                 data_bits=ports.ddr_data_bits,
                                                 id_bits=ports.ddr_id_bits))),
        "ring_next": Out(wiring.Signature(link_members(link_bits=ports.link_bits))),
        "ring_prev": Out(wiring.Signature(link_members(link_bits=ports.link_bits))),
    })


def _path_name(path):
    return "__".join(str(p) for p in path)


def flat_ports(ports=U280_PORTS):
    """The contract as flat ``(name, direction, width)`` rows, the core's view (``"i"`` / ``"o"``).

    Names join the member path with ``__`` as Amaranth's Verilog does (``hbm__3__awaddr``);
    the black-box core and its Verilog stub use these names, plus ``clk``/``rst`` (``sync``)
    and ``ring_next_clk``/``ring_next_rst``/``ring_prev_clk``/``ring_prev_rst``.
    """
    rows = [("clk", "i", 1), ("rst", "i", 1)]
    for domain in LINK_DOMAINS:
        rows += [(f"{domain}_clk", "i", 1), (f"{domain}_rst", "i", 1)]
    for path, (flow, width) in _ports(core_signature(ports)).items():
        rows.append((_path_name(path), "o" if flow == Out else "i", width))
    return rows


def _ports(signature, obj=None):
    """``{path: (flow, width)}`` of every port of ``signature`` (array members expanded)."""
    if obj is None:
        obj = signature.create()
    return {path: (member.flow, len(value)) for path, member, value in signature.flatten(obj)}


class CoreContractError(TypeError):
    """A core does not provide the ports the top level needs."""


def check_core(core, ports=U280_PORTS):
    """Raise :class:`CoreContractError` naming every member of the contract the core lacks or has
    with another direction or width; return ``core`` when it fits."""
    signature = getattr(core, "signature", None)
    if not isinstance(signature, wiring.Signature):
        raise CoreContractError(f"the core must be a lib.wiring Component with a signature, "
                                f"not {core!r}")
    have = _ports(signature, core)
    problems = []
    for path, (flow, width) in _ports(core_signature(ports)).items():
        got = have.get(path)
        name = ".".join(str(p) for p in path)
        if got is None:
            problems.append(f"missing {name}")
        elif got != (flow, width):
            problems.append(f"{name} is {got[0].name}({got[1]}), the contract "
                            f"needs {flow.name}({width})")
    if problems:
        shown = "; ".join(problems[:8]) + (f"; ... {len(problems) - 8} more"
                                           if len(problems) > 8 else "")
        raise CoreContractError(f"the core does not fit the U280 top level's port contract "
                                f"(dfx_hw.spec.core_ports): {shown}")
    return core
