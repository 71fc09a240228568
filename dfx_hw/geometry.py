"""Hardware geometry: the single source of truth for sizes shared by gateware, compiler,
simulators, tests and documentation.

Every block takes these as parameters so tests can use small values; the constants here are the
U280 build (DESIGN.md, sections 4-6).
"""

from dataclasses import dataclass

__all__ = ["TileGeometry", "U280", "FP16_BYTES"]

FP16_BYTES = 2


@dataclass(frozen=True)
class TileGeometry:
    """Shape of the matrix datapath and the memory system feeding it.

    Parameters
    ----------
    d : int
        Rows of a weight tile = inputs of one MFU lane's dot product (adder-tree width).
    l : int
        Columns of a weight tile = number of MFU lanes.
    vpu_lanes : int
        Elements the vector unit processes per clock; also the chunk width of the
        vector accumulation order in the bit-true model.
    hbm_channels : int
        HBM pseudo-channels the DMA streams weights from.
    hbm_port_bits : int
        Data bits per HBM port per core clock.
    clock_hz : int
        Core clock.
    """

    d: int = 64
    l: int = 16
    vpu_lanes: int = 16
    hbm_channels: int = 32
    hbm_port_bits: int = 512
    clock_hz: int = 200_000_000

    def __post_init__(self):
        for name in ("d", "l", "vpu_lanes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1 or value & (value - 1):
                raise ValueError(f"{name} must be a positive power of two, not {value!r}")
        if self.hbm_channels < 1:
            raise ValueError(f"hbm_channels must be positive, not {self.hbm_channels!r}")

    @property
    def tile_elements(self) -> int:
        """FP16 weights consumed by the MFU per clock (one tile)."""
        return self.d * self.l

    @property
    def hbm_bytes_per_clock(self) -> int:
        return self.hbm_channels * self.hbm_port_bits // 8


#: The U280 build: (d, l) = (64, 16), 32 HBM channels x 512 bits at 200 MHz.
U280 = TileGeometry()
