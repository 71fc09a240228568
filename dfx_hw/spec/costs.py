"""Documented per-instruction costs at the core clock: the ISA simulator's cycle estimate.

The estimate is deliberately simple and *serial* (no overlap between units, which the hardware
does overlap): it is an upper bound meant for comparing programs, not the RTL's cycle count.

* matrix (MPU): one ``(d, l)`` tile per clock (:attr:`TileGeometry.tile_elements` weights per
  clock, what 32 HBM channels deliver) plus :data:`MATRIX_LATENCY` of pipeline fill/drain;
* vector (VPU): ``ceil(len / vpu_lanes)`` clocks plus :data:`VECTOR_LATENCY`; scalar ones
  :data:`VECTOR_LATENCY`;
* DMA: ``ceil(bytes / DDR_BYTES_PER_CLOCK)`` plus :data:`DMA_LATENCY`;
* router: for ``cores > 1``, ``(cores - 1)`` hops of :data:`RING_HOP_LATENCY` plus the gathered
  bytes at :data:`RING_BYTES_PER_CLOCK` (100 Gb/s Aurora, 3 % framing, at 200 MHz); every core
  waits for the slowest before a sync completes;
* control: 1 clock.
"""

__all__ = ["MATRIX_LATENCY", "VECTOR_LATENCY", "DMA_LATENCY", "DDR_BYTES_PER_CLOCK",
           "RING_HOP_LATENCY", "RING_BYTES_PER_CLOCK", "CONTROL_CYCLES"]

#: MFU: FP16 multiply (6) + adder tree log2(64) x 11 + accumulate (11) + SFU_M, rounded up.
MATRIX_LATENCY = 96
#: VFU (11) + SFU_V accumulation tree and function tables, rounded up.
VECTOR_LATENCY = 32
#: DDR / HBM access latency in clocks.
DMA_LATENCY = 64
#: DDR4 bandwidth per core clock (two 64-bit DDR4-2400 channels ~ 38 GB/s at 200 MHz).
DDR_BYTES_PER_CLOCK = 192
#: Aurora 64b/66b hop latency in clocks.
RING_HOP_LATENCY = 100
#: 100 Gb/s * 0.97 / 8 / 200 MHz.
RING_BYTES_PER_CLOCK = 60
#: Control instructions.
CONTROL_CYCLES = 1
