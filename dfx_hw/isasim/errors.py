"""Errors of the ISA simulator. Each names the core, the program counter and the instruction."""

__all__ = ["SimulationError", "IllegalInstructionError", "AddressError", "RegisterFileOverflow",
           "RingDeadlock"]


class SimulationError(ValueError):
    """A program did something the hardware cannot do."""

    def __init__(self, message, *, core=None, pc=None, text=None):
        where = ""
        if core is not None:
            where = f"core {core}, pc {pc}"
            if text is not None:
                where += f" ({text})"
            where += ": "
        super().__init__(where + message)
        self.core, self.pc, self.text = core, pc, text


class IllegalInstructionError(SimulationError):
    """An instruction word that does not decode, or operands the unit cannot execute."""


class AddressError(SimulationError):
    """An HBM or DDR access outside the core's image."""


class RegisterFileOverflow(SimulationError):
    """A vector or scalar register-file access beyond its size."""


class RingDeadlock(SimulationError):
    """The cores disagree on a ring sync (different tags or sizes), or some core waits at a sync
    that another core will never reach."""
