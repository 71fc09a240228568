"""SFU_V reduction: the chunk adder tree, the interleaved partial sums and the running maximum
of the vector unit."""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..arith import FP16Adder, FP16Max
from ..hdl.delay import delay
from ..model.bittrue.reduce import SUM_PARTIALS

__all__ = ["Accumulator", "SUM_PAD", "MAX_PAD"]

#: Padding of the lanes past the end of a vector in a sum (``vpu_sum`` pads with +0) and in a
#: maximum (``vpu_max`` pads with -inf), and the initial value of the partial sums / the running
#: maximum.
SUM_PAD = 0x0000
MAX_PAD = 0xFC00


class Accumulator(wiring.Component):
    """Reduces a vector, ``lanes`` elements per beat, to one FP16 scalar in the bit-true order.

    Sum (``is_max`` low), :func:`dfx_hw.model.bittrue.reduce.vpu_sum`: lanes whose ``mask`` bit
    is clear count as +0; each beat (chunk ``j`` of the vector, in arrival order) is summed by a
    pairwise adder tree in lane order (``(x0 + x1) + (x2 + x3)`` ...); chunk ``j`` is added into
    partial sum ``p[j mod P]`` (``P`` = :data:`~dfx_hw.model.bittrue.reduce.SUM_PARTIALS` = 8,
    every partial starting at +0) by one accumulating adder shared by the partials; after the
    last chunk the partials go through a pairwise tree ``((p0 + p1) + (p2 + p3)) + ((p4 + p5) +
    (p6 + p7))``. Maximum (``is_max`` high), :func:`dfx_hw.model.bittrue.reduce.vpu_max`: the
    chunk tree with :class:`~dfx_hw.arith.FP16Max` nodes, padding -inf, and a running maximum
    ``acc = max(acc, chunk)`` from -inf.

    Everything is pipelined. A partial is needed again ``P`` beats after it was last updated,
    and the accumulating adder's latency is at most ``P``, so the beats of a sum may come on
    consecutive clocks (:attr:`sum_interval` = 1); the running maximum's comparator is a loop,
    so beats of a maximum must be :attr:`max_interval` clocks apart (1 with the default
    comparator). Beats may also come further apart, and a new vector may start on the clock
    after the previous one's last beat. ``result`` is valid (``result_valid`` high for one clock)
    exactly :attr:`latency` clocks after the beat marked ``last``, for both kinds (the maximum is
    delayed to the sum's latency, so results leave in beat order on one write port).

    Parameters
    ----------
    lanes : int
        Elements per beat (power of two).
    add_latency, max_latency : int or None
        Latencies of the tree's adder and comparator nodes (``None``: unit defaults); the final
        tree over the partials uses ``add_latency`` too.
    acc_latency : int or None
        Latency of the accumulating adder (``None``: the adder default); at most
        ``SUM_PARTIALS``.

    Members
    -------
    valid : In(1)
    data : In(16 * lanes)
    mask : In(lanes)
        Lanes holding elements of the vector.
    first, last : In(1)
        First and last beat of a vector.
    is_max : In(1)
        Reduction kind of the beat (constant over a vector).
    absolute : In(1)
        Clear every element's sign bit first (``vpu_amax``, with ``is_max``).
    result : Out(16)
    result_valid : Out(1)

    Raises
    ------
    ValueError
        ``lanes`` not a power of two, a negative or non-integer latency, or ``acc_latency``
        above ``SUM_PARTIALS``.
    """

    def __init__(self, *, lanes, add_latency=None, max_latency=None, acc_latency=None):
        if not isinstance(lanes, int) or lanes < 1 or lanes & (lanes - 1):
            raise ValueError(f"lanes must be a positive power of two, not {lanes!r}")
        self._lanes = lanes
        self._add_latency = FP16Adder.DEFAULT_LATENCY if add_latency is None else add_latency
        self._max_latency = FP16Max.DEFAULT_LATENCY if max_latency is None else max_latency
        self._acc_latency = FP16Adder.DEFAULT_LATENCY if acc_latency is None else acc_latency
        for name in ("_add_latency", "_max_latency", "_acc_latency"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name[1:]} must be a non-negative integer, not {value!r}")
        if self._acc_latency > SUM_PARTIALS:
            raise ValueError(f"acc_latency {self._acc_latency} exceeds SUM_PARTIALS = "
                             f"{SUM_PARTIALS}: a partial sum would be needed again before the "
                             f"accumulating adder returns it (the sum's order interleaves "
                             f"{SUM_PARTIALS} partials, dfx_hw.model.bittrue.reduce.vpu_sum)")
        super().__init__({
            "valid": In(1),
            "data": In(16 * lanes),
            "mask": In(lanes),
            "first": In(1),
            "last": In(1),
            "is_max": In(1),
            "absolute": In(1),
            "result": Out(16),
            "result_valid": Out(1),
        })

    @property
    def levels(self):
        return (self._lanes - 1).bit_length()

    @property
    def node_latency(self):
        return max(self._add_latency, self._max_latency)

    @property
    def tree_latency(self):
        return self.levels * self.node_latency

    @property
    def final_levels(self):
        """Levels of the pairwise tree over the partial sums."""
        return (SUM_PARTIALS - 1).bit_length()

    @property
    def sum_path(self):
        """Clocks of a sum from the chunk tree's output to the finished sum: the accumulating
        adder, the register that collects the partials, the tree over the partials."""
        return self._acc_latency + 1 + self.final_levels * self._add_latency

    @property
    def sum_interval(self):
        """Clocks between the beats of a sum: 1 (the partials interleave)."""
        return 1

    @property
    def max_interval(self):
        return max(1, self._max_latency)

    @property
    def latency(self):
        """Clocks from the last beat to ``result_valid``: input register, chunk tree, the slower
        of the sum path (:attr:`sum_path`) and the running maximum, output register."""
        return 1 + self.tree_latency + max(self.sum_path, self._max_latency) + 1

    def elaborate(self, platform):
        m = Module()
        lanes = self._lanes
        parts = SUM_PARTIALS

        # Where each sum beat goes, from the input ports: partial j mod P, and whether that
        # partial already holds a chunk of this vector (j >= P) or starts from +0.
        next_slot = Signal(range(parts))
        wrapped = Signal()
        in_slot = Signal(range(parts))
        in_round = Signal()
        in_take = Signal()
        m.d.comb += [in_slot.eq(Mux(self.first, 0, next_slot)),
                     in_round.eq(~self.first & wrapped),
                     in_take.eq(self.valid & ~self.is_max)]
        with m.If(in_take):
            m.d.sync += [next_slot.eq(Mux(in_slot == parts - 1, 0, in_slot + 1)),
                         wrapped.eq(in_round | (in_slot == parts - 1))]

        # Input register; masked lanes take the reduction's padding value.
        s_valid = Signal()
        s_first = Signal()
        s_last = Signal()
        s_is_max = Signal()
        level = [Signal(16, name=f"in{lane}") for lane in range(lanes)]
        m.d.sync += [s_valid.eq(self.valid), s_first.eq(self.first), s_last.eq(self.last),
                     s_is_max.eq(self.is_max)]
        for lane in range(lanes):
            pad = Mux(self.is_max, MAX_PAD, SUM_PAD)
            element = self.data[16 * lane:16 * (lane + 1)]
            element = Cat(element[:15], element[15] & ~self.absolute)
            with m.If(self.valid):               # the tree only moves for reductions
                m.d.sync += level[lane].eq(Mux(self.mask[lane], element, pad))

        # Pairwise tree, lane order; each node computes both the sum and the maximum.
        node = self.node_latency
        is_max = s_is_max
        for depth in range(self.levels):
            is_max_out = delay(m, is_max, node, name=f"is_max_l{depth}")
            nxt = []
            for i in range(len(level) // 2):
                adder = FP16Adder(latency=self._add_latency)
                comp = FP16Max(latency=self._max_latency)
                m.submodules[f"add_l{depth}_{i}"] = adder
                m.submodules[f"max_l{depth}_{i}"] = comp
                m.d.comb += [adder.a.eq(level[2 * i]), adder.b.eq(level[2 * i + 1]),
                             comp.a.eq(level[2 * i]), comp.b.eq(level[2 * i + 1])]
                total = delay(m, adder.result, node - self._add_latency, name=f"s_l{depth}_{i}")
                most = delay(m, comp.result, node - self._max_latency, name=f"m_l{depth}_{i}")
                out = Signal(16, name=f"n_l{depth}_{i}")
                m.d.comb += out.eq(Mux(is_max_out, most, total))
                nxt.append(out)
            level = nxt
            is_max = is_max_out
        chunk = level[0]
        tree = self.tree_latency
        c_valid = delay(m, s_valid, tree, name="c_valid")
        c_first = delay(m, s_first, tree, name="c_first")
        c_last = delay(m, s_last, tree, name="c_last")
        c_is_max = is_max

        # ---- sum: P partials in one accumulating adder, then a pairwise tree over them ----
        # The bookkeeping of the chunk on the tree's output, and of the chunk arriving on the
        # next clock (`pre_`: one clock ahead, to read its partial into a register).
        pre_slot = delay(m, in_slot, tree, name="pre_slot")
        c_slot = delay(m, pre_slot, 1, name="c_slot")
        c_round = delay(m, in_round, 1 + tree, name="c_round")
        c_take = delay(m, in_take, 1 + tree, name="c_take")
        acc_latency = self._acc_latency
        m.submodules.acc_sum = acc = FP16Adder(latency=acc_latency)
        res_take = delay(m, c_take, acc_latency, name="p_take")
        res_slot = delay(m, c_slot, acc_latency, name="p_slot")
        res_round = delay(m, c_round, acc_latency, name="p_round")
        res_last = delay(m, c_take & c_last, acc_latency, name="p_last")
        partial = [Signal(16, name=f"partial{k}") for k in range(parts)]
        for k in range(parts):
            with m.If(res_take & (res_slot == k)):
                m.d.sync += partial[k].eq(acc.result)
        # Partial of the next chunk, read a clock early: what the adder returns this clock, or
        # the register. A result returning on the chunk's own clock (only when acc_latency = P
        # and the beats are consecutive) is taken from the adder directly (`bypass`).
        fetched = Signal(16)
        m.d.sync += fetched.eq(Mux(res_take & (res_slot == pre_slot), acc.result,
                                   Array(partial)[pre_slot]))
        previous = fetched
        if acc_latency >= 1:                   # (at latency 0 the result is this chunk's own)
            bypass = Signal()
            ahead_take = delay(m, c_take, acc_latency - 1, name="p_ahead_take")
            ahead_slot = delay(m, c_slot, acc_latency - 1, name="p_ahead_slot")
            m.d.sync += bypass.eq(ahead_take & (ahead_slot == pre_slot))
            previous = Mux(bypass, acc.result, fetched)
        m.d.comb += [acc.a.eq(Mux(c_round, previous, SUM_PAD)), acc.b.eq(chunk)]
        # The partials once the last chunk's result returns (unused ones +0), registered.
        final = [Signal(16, name=f"final{k}") for k in range(parts)]
        with m.If(res_last):
            for k in range(parts):
                value = Mux(res_slot == k, acc.result, partial[k])
                m.d.sync += final[k].eq(Mux(res_round | (res_slot >= k), value, SUM_PAD))
        level = final
        for depth in range(self.final_levels):
            nxt = []
            for i in range(len(level) // 2):
                adder = FP16Adder(latency=self._add_latency)
                m.submodules[f"final_l{depth}_{i}"] = adder
                m.d.comb += [adder.a.eq(level[2 * i]), adder.b.eq(level[2 * i + 1])]
                nxt.append(adder.result)
            level = nxt
        sum_value = level[0]
        sum_done = delay(m, res_last, 1 + self.final_levels * self._add_latency, name="sum_done")

        # ---- maximum: a running maximum from -inf ----
        max_latency = self._max_latency
        m.submodules.acc_max = comp = FP16Max(latency=max_latency)
        take = c_valid & c_is_max
        most = Signal(16, name="acc_max")
        res_valid = delay(m, take, max_latency, name="max_res_valid")
        max_done = delay(m, take & c_last, max_latency, name="max_res_last")
        current = most if max_latency == 0 else Mux(res_valid, comp.result, most)
        m.d.comb += [comp.a.eq(Mux(c_first, MAX_PAD, current)), comp.b.eq(chunk)]
        with m.If(res_valid):
            m.d.sync += most.eq(comp.result)
        max_value = comp.result

        # Both kinds leave after the same number of clocks, through the output register.
        slowest = max(self.sum_path, max_latency)
        sum_value = delay(m, sum_value, slowest - self.sum_path, name="sum_out")
        sum_done = delay(m, sum_done, slowest - self.sum_path, name="sum_finished")
        max_value = delay(m, max_value, slowest - max_latency, name="max_out")
        max_done = delay(m, max_done, slowest - max_latency, name="max_finished")
        m.d.sync += [
            self.result_valid.eq(sum_done | max_done),
            self.result.eq(Mux(max_done, max_value, sum_value)),
        ]
        return m
