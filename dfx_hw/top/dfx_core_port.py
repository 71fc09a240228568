"""``DFXCore`` fitted to the U280 top level's port contract (:mod:`dfx_hw.spec.core_ports`).

The contract and the core agree on everything but names and three board facts, which this
component supplies with wires only (no logic, no registers):

* the register port is ``ctrl`` (the core's ``axil``);
* HBM port ``i`` must address its own pseudo-channel, ``[i * 256 MiB, (i + 1) * 256 MiB)`` (the
  HBM IP's global crossbar is off): the core's channel byte address is placed in that window;
* AXI IDs are ``hbm_id_bits`` wide on the board (the top uses the highest bit for host traffic):
  the core's narrower IDs are zero-extended out and truncated back;
* the ring links are the flat ``ring_next`` / ``ring_prev`` members in the clock domains of the
  same names (the core's ``link_next`` / ``link_prev``, renamed).

:func:`u280_core` is the factory ``python -m dfx_hw.top.build`` (``make bitstream``) uses.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import flipped

from ..core.config import CoreConfig
from ..core.core import DFXCore
from ..spec.core_ports import CorePorts, core_signature

__all__ = ["U280Core", "u280_core", "PSEUDO_CHANNEL_BYTES", "U280_CORE_PORTS"]

#: Bytes of one HBM pseudo-channel of the U280 (8 GiB / 32).
PSEUDO_CHANNEL_BYTES = 256 << 20

#: The board ports of the U280 build of the core: the contract's defaults with 4-lane (256-bit,
#: 100 Gb/s) ring links, one router beat of 16 FP16 per user clock.
U280_CORE_PORTS = CorePorts(link_bits=16 * CoreConfig().l)


class U280Core(wiring.Component):
    """Parameters
    ----------
    ports : CorePorts
        The board's port sizes (``link_bits`` must be the core's ``16 * l``).
    config : CoreConfig
        The core (default: the U280 build).
    """

    def __init__(self, *, ports, config=CoreConfig()):
        if not isinstance(ports, CorePorts):
            raise TypeError(f"ports must be a CorePorts, not {ports!r}")
        if ports.link_bits != 16 * config.l:
            raise ValueError(f"the board's links carry {ports.link_bits} bits per beat, the "
                             f"core's router {16 * config.l}: build the top with "
                             f"CorePorts(link_bits={16 * config.l})")
        if ports.hbm_ports != config.hbm_channels or \
                ports.hbm_data_bits != config.hbm_data_bits:
            raise ValueError(f"the board has {ports.hbm_ports} HBM ports of "
                             f"{ports.hbm_data_bits} bits, the core {config.hbm_channels} of "
                             f"{config.hbm_data_bits}")
        self._ports = ports
        self._config = config
        super().__init__(core_signature(ports))

    def elaborate(self, platform):
        m = Module()
        P = self._ports
        # Built here, not in __init__: the board contract needs only the signature above.
        inner = DFXCore(config=self._config)
        m.submodules.core = DomainRenamer({"link_next": "ring_next",
                                           "link_prev": "ring_prev"})(inner)

        # Register port: the same AXI4-Lite members under another name.
        for name, member in self.ctrl.signature.members.items():
            ours, theirs = getattr(self.ctrl, name), getattr(inner.axil, name)
            if member.flow == wiring.In:
                m.d.comb += theirs.eq(ours)
            else:
                m.d.comb += ours.eq(theirs)

        def axi(board, mine, offset):
            for name, member in board.signature.members.items():
                ours, theirs = getattr(board, name), getattr(mine, name)
                if name in ("awaddr", "araddr"):
                    m.d.comb += ours.eq(theirs + offset)
                elif member.flow == wiring.Out:
                    m.d.comb += ours.eq(theirs)      # IDs zero-extend
                else:
                    m.d.comb += theirs.eq(ours)      # IDs truncate (the top returns ours)

        for i in range(P.hbm_ports):
            axi(self.hbm[i], inner.hbm[i], i * PSEUDO_CHANNEL_BYTES)
        axi(self.ddr, inner.ddr, 0)

        for board, link in ((self.ring_next, inner.link_next), (self.ring_prev, inner.link_prev)):
            m.d.comb += [
                board.tx_data.eq(link.tx.payload), board.tx_valid.eq(link.tx.valid),
                link.tx.ready.eq(board.tx_ready),
                link.rx.payload.eq(board.rx_data), link.rx.valid.eq(board.rx_valid),
                link.channel_up.eq(board.channel_up), link.lane_up.eq(board.lane_up),
                link.hard_err.eq(board.hard_err), link.soft_err.eq(board.soft_err),
            ]
        return m


def u280_core(ports):
    """The U280 build of the DFX core for the top level: ``U280Top(core_factory=u280_core)``."""
    return U280Core(ports=ports)
