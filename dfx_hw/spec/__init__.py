"""Contracts shared by the hardware, the compiler, the simulators, the host and the docs.

This is the lowest layer of ``dfx_hw`` besides :mod:`dfx_hw.geometry`: modules here import
nothing from the unit packages (``arith``, ``mpu``, ``vpu``, ``control``, ``dma``, ``router``),
the compiler, the simulators or the host, so every one of those can import from here and the
import graph only points down. Each module states one contract:

* :mod:`.errors` -- the error codes every unit reports and the control unit latches for the host;
* :mod:`.issue` -- what the scheduler hands a unit with each instruction, and how a unit says it
  has written back.
* :mod:`.regmap` -- the host's register map of a core (AXI4-Lite), source of
  ``docs/registers.md``.

Import the modules directly (``from dfx_hw.spec.errors import ErrorCode``).
"""
