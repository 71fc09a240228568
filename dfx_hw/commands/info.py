"""``dfx info``: a device's ID/version and status registers, decoded by the register map.

``--backend rtl`` builds (or reuses) the whole-core Verilator model and reads a freshly reset
simulated core; ``--backend xdma`` reads the card at ``--device`` (``/dev/xdma0``);
``--backend isasim`` reads a fresh :class:`dfx_hw.host.isasim.IsaSimDevice`: the ISA simulator
behind the register map implemented in software (``PARAMS`` reads 0, the counters are the
simulator's estimates; see ``docs/host.md``).
"""

import sys

__all__ = ["register", "run"]


def register(subparsers):
    parser = subparsers.add_parser(
        "info", help="print a device's identity and status registers",
        description="Read a DFX device's ID, VERSION, parameters, STATUS, configuration, error "
                    "and counter registers and decode them with the register map.")
    parser.add_argument("--backend", default="rtl", choices=("rtl", "isasim", "xdma"),
                        help="device to read (default: %(default)s)")
    parser.add_argument("--device", default="/dev/xdma0", metavar="PREFIX",
                        help="xdma: the card's node prefix (default: %(default)s)")
    parser.add_argument("--core-config", default="u280", choices=("u280", "demo", "small"),
                        help="rtl/isasim: the core's build (default: %(default)s)")
    parser.set_defaults(func=run)


def _core_config(name):
    from ..core.config import core_build
    return core_build(name)


def run(args) -> int:
    from ..host import DeviceError
    from ..host.info import describe
    if args.backend == "xdma":
        from ..host import XdmaDevice
        try:
            device = XdmaDevice(args.device, hbm_ports=_core_config(args.core_config)
                                .hbm_channels)
        except DeviceError as error:
            print(f"dfx: error: {error}", file=sys.stderr)
            return 2
    elif args.backend == "isasim":
        from ..host import geometry_of
        from ..host.isasim import isasim_ring
        config = _core_config(args.core_config)
        device = isasim_ring(geometry_of(config), ibuf_depth=config.ibuf_depth)[0]
    else:
        from ..host import RtlDevice
        from ..rtlsim.sim import CoreSim
        config = _core_config(args.core_config)
        sim = CoreSim(config, cores=1, hbm_bytes=1 << 16, ddr_bytes=1 << 16)
        sim.run(16)
        device = RtlDevice(sim, 0, hbm_port_bytes=1 << 16, ddr_bytes=1 << 16)
    try:
        lines, ok = describe(device)
    finally:
        device.close()
    print("\n".join(lines))
    return 0 if ok else 2
