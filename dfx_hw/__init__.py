"""DFX: a GPT-2 text-generation accelerator for Xilinx Alveo U280 FPGAs, in Amaranth HDL."""

__version__ = "0.1.0"
