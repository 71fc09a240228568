"""Bit-true numerics of DFX: the numeric contract between the hardware and the software.

Every FP16 value the accelerator computes is defined here, bit for bit:

* :mod:`.fp16` -- one FP16 add / multiply / compare (IEEE binary16, round to nearest even);
* :mod:`.reduce` -- MFU adder tree and tile accumulation, vector accumulation, reduce-max/argmax;
* :mod:`.tables` -- the one generator of every lookup table (GELU, exp, recip, rsqrt) that the
  hardware ROMs import;
* :mod:`.functions` -- the unary functions computed from those tables;
* :mod:`.vector_ops` -- the vector-unit instructions (``VECTOR_PRIMITIVES``);
* :mod:`.recipes` -- LayerNorm and Softmax as sequences of vector instructions.

``docs/numerics.md`` is generated from this package (``dfx numerics``).
"""

from . import fp16, functions, recipes, reduce, tables, vector_ops
from .fp16 import (CANONICAL_NAN_BITS, to_bits, from_bits, canonical_nan, bits_equal, add, sub,
                   mul, maximum, neg, abs)
from .functions import gelu, exp, recip, rsqrt
from .recipes import layernorm, softmax, attention_scores
from .reduce import tree_sum, mfu_matvec, mfu_matmul, vpu_sum, vpu_max, vpu_amax, argmax
from .vector_ops import VECTOR_PRIMITIVES
