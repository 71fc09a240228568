"""Build the U280 bitstream with Vivado (batch mode): ``python -m dfx_hw.top.build``.

Elaborates :class:`~dfx_hw.top.u280_top.U280Top` around the core named by ``--core``
(``module:factory``, the factory called with the :class:`~dfx_hw.spec.core_ports.CorePorts`),
checks the build structurally (:func:`~dfx_hw.top.checks.check_build`), writes the build
directory and runs ``vivado -mode batch`` on it (Amaranth's ``build_top.sh``). Vivado writes the
bitstream ``top.bit`` and, next to it, ``top_utilization_place.rpt`` / ``..._synth.rpt`` and
``top_timing.rpt`` (timing summary) among the other reports of Amaranth's Vivado template.

Without Vivado on ``PATH`` it stops at once with an error naming ``vivado`` (``--no-run`` writes
the build directory only, which needs no Vivado).
"""

import argparse
import importlib
import shutil
import sys
from pathlib import Path

__all__ = ["main", "DEFAULT_CORE"]

#: The integrated core's factory: ``module:callable``.
DEFAULT_CORE = "dfx_hw.top.dfx_core_port:u280_core"


def _load_factory(spec):
    if spec == "blackbox":
        from .blackbox import BlackBoxCore
        return lambda ports: BlackBoxCore(ports=ports)
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise SystemExit(f"dfx: error: --core must be MODULE:FACTORY or 'blackbox', "
                         f"not {spec!r}")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except (ImportError, AttributeError) as error:
        raise SystemExit(f"dfx: error: cannot load the DFX core factory {spec!r} ({error}); "
                         f"the integrated core is not in this tree yet -- pass --core") from None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dfx_hw.top.build",
                                     description="Build the DFX bitstream for the Alveo U280")
    parser.add_argument("--out", default="build/vivado", help="build directory")
    parser.add_argument("--core", default=DEFAULT_CORE,
                        help="core factory MODULE:CALLABLE (default %(default)s); 'blackbox' "
                             "writes a build whose core Vivado cannot synthesise")
    parser.add_argument("--no-run", action="store_true",
                        help="write and check the build directory, do not run Vivado")
    args = parser.parse_args(argv)

    if not args.no_run and shutil.which("vivado") is None:
        print("dfx: error: `vivado` is not on PATH: the bitstream needs AMD Vivado (2022.2 or "
              "later with the xcu280 device); source its settings64.sh, or pass --no-run to only "
              "write the build directory", file=sys.stderr)
        return 2

    from boards.alveo_u280 import AlveoU280Platform
    from .checks import check_build
    from .dfx_core_port import U280_CORE_PORTS
    from .u280_top import U280Top

    top = U280Top(core_factory=_load_factory(args.core), ports=U280_CORE_PORTS)
    platform = AlveoU280Platform(ip_settings=top.ip_settings())
    plan = platform.build(top, name="top", build_dir=args.out, do_build=False)
    check_build(plan, platform)
    out = Path(args.out)
    if args.no_run:
        plan.extract(out)
        print(f"dfx: wrote the Vivado build to {out} (not run)")
    else:
        plan.execute_local(out)             # runs build_top.sh: vivado -mode batch
        print(f"dfx: bitstream {out / 'top.bit'}; reports next to it: "
              f"{out / 'top_utilization_place.rpt'}, {out / 'top_timing.rpt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
