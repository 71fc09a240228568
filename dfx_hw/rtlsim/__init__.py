"""Whole-core simulation of the DFX RTL: N cores (Verilator 5.048) in a ring with C++ memory and
link models (:mod:`.build` builds and caches the model, :mod:`.sim` drives it). The host's
sequence over the register map is :mod:`dfx_hw.host`; the ``rtl`` backend of ``dfx generate``
runs on both. ``docs/core.md`` describes it.
"""
