"""DFX: a GPT-2 text-generation accelerator for Xilinx Alveo U280 FPGAs, in Amaranth HDL."""

import time as _time

__version__ = "0.1.0"

#: When this process imported the package: a source file modified later may differ from the
#: module in memory (the whole-core model's build cache refuses to store under such a key,
#: :func:`dfx_hw.rtlsim.build.build`).
IMPORTED_AT = _time.time()
