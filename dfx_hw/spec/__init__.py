"""Contracts shared by the hardware, the compiler, the simulators, the host and the docs.

This is the contracts layer of ``dfx_hw``: modules here import only from the layers below it
(:mod:`dfx_hw.geometry`, the bit-true model :mod:`dfx_hw.model.bittrue` and the instruction
words :mod:`dfx_hw.isa`), never from the HDL utilities, the unit packages (``arith``, ``mpu``,
``vpu``, ``control``, ``dma``, ``router``), the compiler, the simulators or the host, so every
one of those can import from here and the import graph only points down
(``tests/test_layering.py`` checks it). Each module states one contract:

* :mod:`.errors` -- the error codes every unit reports and the control unit latches for the host;
* :mod:`.issue` -- what the scheduler hands a unit with each instruction, and how a unit says it
  has written back;
* :mod:`.walk` -- the order in which the MPU consumes weight tiles and bias beats (the compiler's
  HBM images and the matrix unit both follow it);
* :mod:`.costs` -- the documented per-instruction costs (the ISA simulator's cycle estimate and
  the ISA document);
* :mod:`.params` -- validation of size parameters, one message format everywhere;
* :mod:`.tiles` -- the weight-tile and FP16-vector formats the DMA hands the matrix unit;
* :mod:`.regmap` -- the host's register map of a core (AXI4-Lite), source of
  ``docs/registers.md``;
* :mod:`.hbm_map` -- where each byte of a core's flat HBM image lives in the HBM channels;
* :mod:`.ring` -- the ring protocol of the routers (header beats, credits);
* :mod:`.core_ports` -- the core's external ports as the U280 top level connects them;
* :mod:`.card_map` -- the card's address map as the host's XDMA path sees it.

Import the modules directly (``from dfx_hw.spec.errors import ErrorCode``).
"""
