"""Whole-core simulation of the DFX RTL: N cores (Verilator 5.048) in a ring with C++ memory and
link models (:mod:`.build`, :mod:`.sim`), and the host's sequence over the register map
(:mod:`.run`). The ``rtl`` backend of ``dfx generate`` runs on it; ``docs/core.md`` describes it.
"""
