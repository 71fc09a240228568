"""The DFX instruction-set simulator: N cores in a ring running compiled programs on the bit-true
numerics (:mod:`dfx_hw.model.bittrue`).

:class:`~.ring.Ring` runs programs on images; :func:`~.run.generate` drives a whole generation
the way the host does (write the prompt, start, read the tokens back).
"""

from .errors import (AddressError, IllegalInstructionError, RegisterFileOverflow, RingDeadlock,
                     SimulationError)
from .ring import Ring
from .run import GenerationResult, generate

__all__ = ["Ring", "generate", "GenerationResult", "SimulationError", "IllegalInstructionError",
           "AddressError", "RegisterFileOverflow", "RingDeadlock"]
