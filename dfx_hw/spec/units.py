"""The units an instruction is issued to, and which of them order their own instructions.

Shared by the control unit's scoreboard (:mod:`dfx_hw.control`), its Python rules
(:mod:`dfx_hw.control.rules`) and the ISA simulator's timing model
(:mod:`dfx_hw.isasim.timing`).
"""

from ..isa.layouts import InstrClass, Opcode

__all__ = ["UNITS", "SELF_ORDERED", "unit_of"]

#: The units the scheduler issues to, in port order. SETS goes to the VECTOR unit (the scalar
#: register file lives in the VPU).
UNITS = (InstrClass.MATRIX, InstrClass.VECTOR, InstrClass.DMA, InstrClass.ROUTER)


#: Units that order their own instructions, so that the issue stage does not hold an
#: instruction for an earlier one *of the same unit*: it issues at once with the ``after`` bit
#: (:mod:`dfx_hw.spec.issue`) and the unit starts it once everything it was given before has
#: written back. The vector unit: a chain of dependent vector instructions (a LayerNorm, a
#: softmax) then leaves the issue stage at once and the instructions behind it (a matrix
#: instruction's weight prefetch) move on, while the chain waits in the vector unit's queue --
#: not at the head of the VPU, whose in-order acceptance would hold every other requester.
#: Conflicts with instructions of other units hold the issue stage as before.
SELF_ORDERED = (InstrClass.VECTOR,)


def unit_of(instr):
    """The :class:`InstrClass` an instruction is issued to, or ``None`` for SETR/LOOP/END."""
    if instr.op is Opcode.SETS:
        return InstrClass.VECTOR
    cls = instr.info.cls
    return None if cls is InstrClass.CONTROL else cls
