# amaranth: UnusedElaboratable=no
"""The DMA and its building blocks refuse parameters they cannot build, with a message naming the
parameter. The first line is Amaranth's documented way to turn off its ``UnusedElaboratable``
warning for the objects this file creates only to provoke these errors."""

import pytest

from dfx_hw.bus.axi4 import AXI4Signature
from dfx_hw.dma import DMA
from dfx_hw.dma.bursts import BurstGenerator
from dfx_hw.dma.read_align import ReadAligner


def test_parameters_are_validated():
    with pytest.raises(ValueError, match="hbm_channels must be a positive power of two, not 3"):
        DMA(d=16, l=8, lanes=4, hbm_channels=3)
    with pytest.raises(ValueError, match=r"a tile \(2048 bits\) must be a whole number of rows"):
        DMA(d=16, l=8, lanes=4, hbm_channels=8)
    with pytest.raises(ValueError, match=r"ddr_data_bits \(128\) must hold a bias beat \(16\)"):
        DMA(d=64, l=16, lanes=4, hbm_channels=32, ddr_data_bits=128)
    with pytest.raises(ValueError, match="max_burst must be <= 256 beats and <= 4096 bytes"):
        BurstGenerator(addr_bits=32, count_bits=8, beat_bytes=64, max_burst=128, depth=256)
    with pytest.raises(ValueError, match=r"word_elements \(16\) must be <= beat_elements \(8\)"):
        ReadAligner(beat_elements=8, word_elements=16, count_bits=8)
    with pytest.raises(ValueError, match="data_bits must be a power of two in"):
        AXI4Signature(addr_bits=32, data_bits=48, id_bits=1)
    with pytest.raises(ValueError, match="id_bits must be an integer in"):
        AXI4Signature(addr_bits=32, data_bits=64, id_bits=0)
