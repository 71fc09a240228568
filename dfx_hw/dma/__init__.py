"""The DMA (DESIGN.md, section 4): ``n`` HBM AXI4 masters and a DDR AXI4 master feeding the
matrix unit's weight and bias streams and executing the DMA instructions. See ``docs/dma.md``.

One concern per module: :mod:`.dma` (the top level), :mod:`.matrix_front` and
:mod:`.dma_front` (instruction decode, address arithmetic, window checks), :mod:`.weights` (the
tile stream from every HBM channel), :mod:`.ddr_read` (the DDR read port), :mod:`.bursts`
(burst cutting and read credits), :mod:`.read_align` / :mod:`.write_align` (element
realignment), :mod:`.scatter` (STHT), :mod:`.writer` (AXI writes), :mod:`.progress`
(write-back pulses), :mod:`.multiplier`, :mod:`.report` (error reports).
"""

from .dma import DMA, make_dma

__all__ = ["DMA", "make_dma"]
