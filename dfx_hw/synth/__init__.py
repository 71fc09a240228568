"""Resource estimation with Yosys ``synth_xilinx -family xcup`` (see ``docs/arith.md``).

:mod:`.targets` is the registry of designs, :mod:`.yosys` runs Yosys and counts cells,
:mod:`.levels` measures logic levels between registers, :mod:`.dedupe` merges identical module
bodies in Verilog, :mod:`.flow` ties them together.
"""
