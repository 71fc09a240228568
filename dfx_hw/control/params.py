"""Parameters of the control unit, validated once and shared by its blocks."""

from dataclasses import dataclass

from ..geometry import U280
from ..isa.layouts import FIELD_BITS, SRF_ADDR_BITS, VRF_ADDR_BITS

__all__ = ["ControlConfig", "DEFAULT_IBUF_DEPTH", "LARGEST_PROGRAM", "PC_BITS"]

#: The largest compiled program: GPT-2 1.5B on one core is 605 instructions (606 with logit
#: capture; no layer syncs on one core; the QKV projection is one CONV1D per group of two
#: heads; ``proj`` and ``fc2`` are seven CONV1Ds each, their residual additions one VADDAMAX per
#: CONV1D; LayerNorm's sum of squares is one SQSUM, its scaled input and sum one VMULSACC, its
#: maximum magnitude comes from the residual VADDAMAX, its bias is folded into the next
#: matrix; a softmax's exponentials and their sum are one VEXPACC), whatever the prompt and token counts (the loops are in the program); measured with
#: ``dfx_hw.compiler`` (``tests/test_control_regmap.py`` recomputes it).
LARGEST_PROGRAM = 606
#: Instruction-buffer depth of the U280 build: 3.4x the largest program (one 36-Kbit block RAM
#: column of 128-bit words: 8 RAMB36).
DEFAULT_IBUF_DEPTH = 2048
#: Bits of a program counter (the LOOP ``target`` field).
PC_BITS = FIELD_BITS["target"]


def _power_of_two(name, value, low):
    if isinstance(value, bool) or not isinstance(value, int) or value < low \
            or value & (value - 1):
        raise ValueError(f"{name} must be a power of two of at least {low}, not {value!r}")


@dataclass(frozen=True)
class ControlConfig:
    """Build parameters of the control unit.

    Parameters
    ----------
    ibuf_depth : int
        Instruction-buffer capacity in 128-bit words (power of two, at most 2**PC_BITS).
    inflight : int
        Instructions each unit may have issued and not yet written back: the scoreboard's
        entries per unit and the depth of each unit's issue queue (power of two, >= 2).
    vrf_elements : int
        Vector register-file size in FP16 elements (ranges beyond it are VRF_RANGE errors).
    srf_words : int
        Scalar registers (registers beyond are SRF_RANGE errors).
    d, l : int
        Tile geometry (MaskedMM: ``k <= d``, scores padded to a multiple of ``l``, HBM addresses
        in tiles of ``d * l`` elements).
    """
    ibuf_depth: int = DEFAULT_IBUF_DEPTH
    inflight: int = 8
    vrf_elements: int = 1 << VRF_ADDR_BITS
    srf_words: int = 1 << SRF_ADDR_BITS
    d: int = U280.d
    l: int = U280.l

    def __post_init__(self):
        _power_of_two("ibuf_depth", self.ibuf_depth, 2)
        if self.ibuf_depth > 1 << PC_BITS:
            raise ValueError(f"ibuf_depth must be at most {1 << PC_BITS}, not {self.ibuf_depth}")
        _power_of_two("inflight", self.inflight, 2)
        if self.inflight > 64:
            raise ValueError(f"inflight must be at most 64, not {self.inflight}")
        _power_of_two("vrf_elements", self.vrf_elements, 2)
        if self.vrf_elements > 1 << VRF_ADDR_BITS:
            raise ValueError(f"vrf_elements must be at most {1 << VRF_ADDR_BITS} (the ISA's "
                             f"address fields), not {self.vrf_elements}")
        if isinstance(self.srf_words, bool) or not isinstance(self.srf_words, int) \
                or not 2 <= self.srf_words <= 1 << SRF_ADDR_BITS:
            raise ValueError(f"srf_words must be an integer in 2..{1 << SRF_ADDR_BITS}, not "
                             f"{self.srf_words!r}")
        _power_of_two("d", self.d, 1)
        _power_of_two("l", self.l, 1)

    @property
    def tile_shift(self):
        return (self.d * self.l).bit_length() - 1
