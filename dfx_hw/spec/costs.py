"""Per-instruction costs at the core clock: the ISA simulator's cycle estimates.

Two estimates use them:

* the *serial* one (``Core.cycles``): every instruction's clocks added up, no overlap -- an
  upper bound for comparing programs;
* the *overlapped* one (:mod:`dfx_hw.isasim.timing`), calibrated on the RTL through the core's
  trace port (``docs/performance.md``): in-order issue that waits only for dependencies on
  other units (a vector instruction that depends on an earlier vector instruction issues at
  once and starts when the vector unit has finished everything before it), each unit running
  its queue in order, with the constants below:

  * vector unit: :func:`vector_clocks` (:data:`VECTOR_PATH`, :data:`VECTOR_TABLE`,
    :data:`VECTOR_REDUCTION`, :data:`SUM_CADENCE`);
  * matrix unit, pipelined across instructions (the next one's tiles follow the previous
    one's): weights prefetched at the issue stage, in program order, and arriving
    :data:`HBM_READ_LATENCY` later, :data:`MATRIX_START`, :func:`mpu_clocks` for the tiles,
    :data:`MATRIX_DRAIN` (+ :data:`MASKED_MAX`);
  * DMA, one instruction at a time: :func:`dma_clocks` (a store to HBM is not held by the
    weight stream: the memory alternates a waiting write beat with the read beats);
  * router: :func:`sync_cycles`, the RTL router's clocks per sync (docs/router.md): this core's
    slice loaded and every other slice received over both ring directions (one register-file
    word per clock, a header per slice, at most ``cores // 2`` hops of
    :data:`RING_HOP_LATENCY` link latency plus :data:`ROUTER_HOP_OVERHEAD`, a segment of
    store-and-forward per hop), then the gathered vector written back one word per clock; the
    sync starts when every core is ready for it and completes for all of them together;
  * control: :data:`CONTROL_CYCLES`.

"""

from .ring import SEGMENT_BEATS, direction_slices

__all__ = ["RING_HOP_LATENCY", "ROUTER_HOP_OVERHEAD", "ROUTER_FIXED_CYCLES", "CONTROL_CYCLES",
           "sync_cycles", "vector_clocks", "dma_clocks", "VECTOR_PATH", "VECTOR_CHAIN_LEAD",
           "VECTOR_TABLE", "VECTOR_REDUCTION", "SUM_CADENCE", "MATRIX_START", "MATRIX_DRAIN",
           "GELU_DRAIN", "MATRIX_PENDING", "MATRIX_MODEL_STARTED", "MATRIX_MODEL_LEAD",
           "MASKED_MAX", "MATRIX_LOAD_WORDS",
           "HBM_READ_LATENCY", "DDR_READ_LATENCY", "DMA_LOAD_EXTRA", "DMA_STORE_BASE",
           "ACCUMULATOR_GAP", "mpu_clocks"]

#: Link latency of one hop (Aurora 64B/66B TX + RX, transceivers, cable) in core clocks.
RING_HOP_LATENCY = 100
#: The router's own clocks per hop on top of the link (both clock crossings and registers),
#: measured on the RTL (docs/router.md).
ROUTER_HOP_OVERHEAD = 10
#: The router's fixed clocks per sync (issue, requests, pipeline fill, done), measured.
ROUTER_FIXED_CYCLES = 15
#: Control instructions.
CONTROL_CYCLES = 1


# ---- the overlapped timing model, calibrated on the RTL ------------------------------------------
# Measured with the core's trace port (`dfx bench rtl`, docs/performance.md): clocks from an
# instruction's issue to its write-back when its unit was idle, at the U280 build.

#: Vector unit: issue to write-back of a one-word instruction without a table function (the
#: issue queue, the register-file port, the VPU's read, adder and write, the retire pulse; 13
#: with the latency-6 adder before session 12).
VECTOR_PATH = 12
#: Vector unit: a vector instruction that depends on earlier vector instructions enters the VPU
#: a few clocks before they have all written back (when the VPU is settling,
#: ``dfx_hw.vpu.operand_collector.SETTLE_LEAD``), so it starts this many clocks before the last
#: of them is written back (a chain of dependent one-word instructions: 8 clocks each on the
#: trace port instead of 13).
VECTOR_CHAIN_LEAD = 5
#: Vector unit: extra clocks of a table function (exp, recip, rsqrt, pow2inv): SFU_V's latency
#: (measured with the reductions, below; 25 with the latency-6 adder).
VECTOR_TABLE = 23
#: Vector unit: extra clocks of a reduction (sum or maximum) beyond a one-word element-wise
#: instruction: the accumulator's input register, chunk tree (4 levels x 5), accumulating adder
#: (5), the register collecting the 8 partial sums, the tree over them (3 levels x 5) and the
#: output register; a maximum is delayed to the same latency (one scalar write port, results in
#: order). Measured on the VPU RTL (U280, 16 lanes, Icarus):
#: ``tests/test_vpu_rtl.py::test_vpu_reduction_clocks_match_the_timing_model`` clocks each
#: micro-op alone from its offer to its retire pulse; ACCUM of w words and VMAX of w words take
#: ``(w - 1) + 43`` clocks more than a one-word VADD (w = 1, 8, 9, 64, 100), VEXPACC (the sum of
#: a table function's results) ``(w - 1) + 23 + 43``. (51 with the latency-6 adder before
#: session 12; 32 + 6 (w - 1) with the serial accumulator before session 9.)
VECTOR_REDUCTION = 43
#: Vector unit: clocks between the words of a sum: 1 (the accumulator interleaves
#: ``SUM_PARTIALS`` partial sums); a maximum also takes one word per clock.
SUM_CADENCE = 1
TABLE_FUNCTIONS = frozenset({"VEXP", "VEXPACC", "SRECIP", "SRSQRT", "SPOW2INV"})
SUM_REDUCTIONS = frozenset({"ACCUM", "SQSUM", "VMULSACC", "VEXPACC"})
MAX_REDUCTIONS = frozenset({"VMAX", "VAMAX", "VADDAMAX"})

#: Matrix unit: issue to the first tile entering the MFU when its weights are already there
#: (sequencer, decoder, the input vector's register-file read).
MATRIX_START = 7
#: Matrix unit: last tile to write-back (MFU, accumulator, SFU_M's scale and mask, the
#: sequencer's output FIFO, output into the register file) of an operation without GELU (73
#: with the latency-6 adder: the matrix unit's pipeline is 8 clocks shorter at latency 5).
MATRIX_DRAIN = 65
#: Matrix unit: extra drain of a GELU operation (SFU_M's GELU lane; :class:`dfx_hw.mpu.sfu_m.SFUM`
#: sends only GELU beats, and beats behind one still in the lane, through it).
GELU_DRAIN = 11
#: Matrix sequencer: started operations whose results wait for the back (its ``pending`` FIFO).
#: An operation starts once the matrix unit has taken every earlier operation's input
#: (``core/matrix_path.py``'s deadlock rule). Session 9's rule (at most two started operations
#: not yet writing back) left the matrix unit idle for a pipeline latency between attention's
#: small operations; reserving input-FIFO room per operation instead (the front running ahead)
#: measured worse: the input STOREs then reach the in-order VPU early, ahead of softmax work.
MATRIX_PENDING = 4
#: Timing model: its approximation of that rule, an operation starts once the one this many
#: before it has begun writing back (the rule of the sequencer up to session 9). Within 1 % of
#: the RTL on the calibration points; modelling the sequencer's rule literally put the input
#: STOREs into the model's single-timeline vector unit ahead of softmax work that the RTL's VPU
#: takes first (one core, context 64: +5.8 %).
MATRIX_MODEL_STARTED = 2
#: ... less this many clocks: the instruction may start that long before the one
#: ``MATRIX_MODEL_STARTED`` before it begins writing back (fitted on the trace, session 11: once
#: STHT no longer held the attention, the RTL started a QKV CONV1D's tiles about 130 clocks
#: before the MaskedMM two before it wrote back; 25 kept every 345M section within 2.2 %).
#: Refitted in session 12: with the matrix sequencer's kept CONV1D input the RTL starts the
#: next projection earlier still (the VPU no longer holds its input STORE behind softmax work),
#: and 25 left one core at context 64 +2.9 %; 60 gives +0.3 / -0.7 / -2.8 % at contexts 64 /
#: 256 / 1,024 (the 1,024 point does not move with the lead: there the in-order VPU's
#: queueing, which the model charges as capacity only, binds).
MATRIX_MODEL_LEAD = 60
#: Matrix unit: register-file words per ``LOAD`` micro-op that writes a matrix result (the
#: sequencer's output FIFO holds one band of output words; ``core/matrix_path.py``). The timing
#: model charges these micro-ops to the vector unit's timeline.
MATRIX_LOAD_WORDS = 8
#: Matrix unit: extra clocks of MaskedMM's row maximum (a scalar write after the scores).
MASKED_MAX = 18
#: HBM read latency of the timing model (the RTL benchmark's simulated HBM uses the same).
HBM_READ_LATENCY = 200
#: DDR read latency (the simulated DDR's).
DDR_READ_LATENCY = 100
#: DMA unit, one instruction at a time: clocks beyond the memory latency and one clock per
#: register-file word, per opcode (loads: after the DDR read latency; stores: in all).
DMA_LOAD_EXTRA = 35
#: STHT: the base plus one clock per *element* (each element is one write beat; the writer
#: keeps one beat register per HBM port, so beats to ports still waiting for their turn do not
#: hold the others: one beat per clock).
DMA_STORE_BASE = {"STH": 60, "STHT": 61, "STD": 90, "STTOK": 62}


#: Matrix unit: a column tile's next tile may follow its previous one no sooner than this
#: (the accumulator's read-after-write gap at the default FP16 adder latency,
#: ``dfx_hw.mpu.accumulator.gap_for()``; docs/mpu.md).
ACCUMULATOR_GAP = 7


def mpu_clocks(row_tiles, col_tiles, band, gap=ACCUMULATOR_GAP):
    """Clocks the matrix unit takes the tiles of one operation in (raster walk, ``band`` column
    tiles per band, weights waiting): one per tile plus ``gap - width`` bubbles at every row
    step of a band narrower than the gap (:func:`dfx_hw.spec.walk.issue_clocks` in closed
    form)."""
    full, rest = divmod(col_tiles, band)
    per_step = full * max(0, gap - band) + (max(0, gap - rest) if rest else 0)
    return row_tiles * col_tiles + (row_tiles - 1) * per_step


def vector_clocks(mnemonic, words):
    """``(occupancy, latency)`` of a vector-unit instruction over ``words`` register-file words
    (1 for a scalar one): the next independent instruction starts ``occupancy`` clocks later
    (one idle clock per micro-op), the result is written back ``occupancy + latency`` after the
    issue."""
    words = max(words, 1)
    if mnemonic in SUM_REDUCTIONS:
        beats = SUM_CADENCE * (words - 1) + 1
    else:
        beats = words
    total = VECTOR_PATH + beats
    if mnemonic in TABLE_FUNCTIONS:
        total += VECTOR_TABLE
    if mnemonic in SUM_REDUCTIONS or mnemonic in MAX_REDUCTIONS:
        total += VECTOR_REDUCTION
    occupancy = beats + 1
    return occupancy, total - occupancy


def dma_clocks(mnemonic, elements, lanes):
    """Clocks of a DMA instruction moving ``elements`` elements (``ceil(elements / lanes)``
    register-file words), issue to write-back (the DMA runs one instruction at a time, so this
    is also its occupancy)."""
    words = max(-(-elements // lanes), 1)
    if mnemonic in ("LDD", "LDTOK"):
        return DDR_READ_LATENCY + DMA_LOAD_EXTRA + words
    if mnemonic == "STHT":
        return DMA_STORE_BASE[mnemonic] + max(elements, 1)
    return DMA_STORE_BASE[mnemonic] + words


def sync_cycles(lengths, lanes, hop_latency=RING_HOP_LATENCY):
    """Core clocks of one SYNC (``lengths`` = every core's ``len`` in core-id order) or SYNCS
    (``lengths`` = ``[2] * cores``) on the RTL router, from the last core's issue to the last
    core's ``done``, when the register file keeps up (docs/router.md). Slices reach core ``i``
    clockwise from ``i - 1, ..., i - a`` and counter-clockwise from ``i + 1, ..., i + b``
    (``a, b = spec.ring.direction_slices(N)``); per direction ``D`` with ``k`` slices, the last
    from core ``j``::

        recv[i, D] = max(H + sum(w[s] + 1 for s in D), k (H + g[j]) + w[j] + 1)
        T = ROUTER_FIXED_CYCLES + max over cores i of max(w[i], recv[i]) + W + 2 N

    with ``recv[i]`` the larger direction, ``w[s] = ceil(len[s] / lanes)`` words per slice,
    ``g[j] = min(w[j], SEGMENT_BEATS)`` (each hop forwards a whole segment),
    ``W = ceil(total / lanes)``, ``H = hop_latency + ROUTER_HOP_OVERHEAD``; ``recv[i]`` = 0 for
    one core. An even, word-aligned split (every ``len`` the same non-zero multiple of
    ``lanes``) is written slice by slice as the slices arrive, so only the last one to arrive is
    written after the ring::

        T = ROUTER_FIXED_CYCLES + max over cores i of max(w + W, recv[i] + w)
    """
    n = len(lengths)
    words = [-(-length // lanes) for length in lengths]
    hop = hop_latency + ROUTER_HOP_OVERHEAD
    total_words = -(-sum(lengths) // lanes)
    even = lengths[0] > 0 and lengths[0] % lanes == 0 and all(x == lengths[0] for x in lengths)
    worst = 0
    for i in range(n):
        recv = last_words = 0
        for count, sign in zip(direction_slices(n), (-1, 1)):
            if count == 0:
                continue
            sources = [(i + sign * p) % n for p in range(1, count + 1)]
            last = words[sources[-1]]
            streamed = hop + sum(words[j] + 1 for j in sources)
            arrival = max(streamed, count * (hop + min(last, SEGMENT_BEATS)) + last + 1)
            if arrival >= recv:
                recv, last_words = arrival, last
        if even:
            worst = max(worst, words[i] + total_words, recv + last_words)
        else:
            worst = max(worst, words[i], recv)
    if even:
        return ROUTER_FIXED_CYCLES + worst
    return ROUTER_FIXED_CYCLES + worst + total_words + 2 * n


