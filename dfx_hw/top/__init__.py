"""The U280 board top level: the DFX core among the vendor IP (HBM, XDMA, Aurora, DDR4, AXI
infrastructure), the clocks and resets. See ``docs/u280.md``."""
