"""The DFX core: the control unit, DMA, matrix unit, vector unit and router joined.

Built so far: :mod:`.matrix_decode` (issued matrix words -> matrix-unit operations). The rest of
the core (the join itself, its register-file traffic and its whole-core simulation) is the
subject of the core issue; ``docs/core.md`` describes the plan.
"""
