"""Small HDL utilities shared by every unit package (no unit logic of their own).

* :mod:`.delay` -- delay lines that keep side signals aligned with a pipelined datapath;
* :mod:`.leaf` -- leaf units emitted once per parameter set as a Verilog module of their own
  and instantiated (hierarchical Verilog).

This package sits just above the contracts (:mod:`dfx_hw.spec`) and below the FP16 units
(:mod:`dfx_hw.arith`); it imports nothing else from ``dfx_hw``.
"""
