"""The control unit of a DFX core (DESIGN.md, section 4; ``docs/control.md``).

Modules: :mod:`.params` (build parameters), :mod:`.rules` (what each instruction reads and
writes; the Python model of the scoreboard), :mod:`.decode` (instruction word -> normalized
form), :mod:`.scoreboard` (in-flight entries, conflict test), :mod:`.scheduler` (fetch, control
instructions, issue), :mod:`.ibuf` (instruction buffer), :mod:`.regs` (AXI4-Lite register block),
:mod:`.counters` (performance counters), :mod:`.unit` (the whole unit), :mod:`.loader` (host-side
helpers: program load, error decode).
"""
