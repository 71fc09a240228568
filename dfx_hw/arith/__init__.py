"""IEEE binary16 arithmetic units (Amaranth), equal bit for bit to ``numpy.float16``.

See ``docs/arith.md`` for pipelines, latencies and measured resources.
"""

from .adder import FP16Adder
from .maximum import FP16Max
from .multiplier import FP16Multiplier, FP16Square
from .sign import fp16_abs, fp16_negate

__all__ = ["FP16Adder", "FP16Multiplier", "FP16Square", "FP16Max", "fp16_negate", "fp16_abs"]
