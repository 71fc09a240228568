"""SFU_V reduction: the accumulation adder tree and the running maximum of the vector unit."""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..arith import FP16Adder, FP16Max
from ..hdl.delay import delay

__all__ = ["Accumulator", "SUM_PAD", "MAX_PAD"]

#: Padding of the lanes past the end of a vector in a sum (``vpu_sum`` pads with +0) and in a
#: maximum (``vpu_max`` pads with -inf), and the initial value of the running result.
SUM_PAD = 0x0000
MAX_PAD = 0xFC00


class Accumulator(wiring.Component):
    """Reduces a vector, ``lanes`` elements per beat, to one FP16 scalar in the bit-true order.

    Sum (``is_max`` low), :func:`dfx_hw.model.bittrue.reduce.vpu_sum`: lanes whose ``mask`` bit
    is clear count as +0; each beat (chunk) is summed by a pairwise adder tree in lane order
    (``(x0 + x1) + (x2 + x3)`` ...); ``acc = +0`` and then ``acc = acc + chunk`` for each chunk in
    arrival order. Maximum (``is_max`` high), :func:`dfx_hw.model.bittrue.reduce.vpu_max`: the
    same with :class:`~dfx_hw.arith.FP16Max` nodes, padding and initial value -inf.

    The tree is fully pipelined, but ``acc + chunk`` depends on the previous sum, so beats of a
    sum must be at least :attr:`sum_interval` clocks apart (the accumulating adder's latency) and
    beats of a maximum :attr:`max_interval` clocks apart; the operand collector issues reduction
    beats at that cadence. ``result`` is valid (``result_valid`` high for one clock) exactly
    :attr:`latency` clocks after the beat marked ``last``.

    Parameters
    ----------
    lanes : int
        Elements per beat (power of two).
    add_latency, max_latency : int or None
        Latencies of the tree's adder and comparator nodes (``None``: unit defaults).
    acc_latency : int or None
        Latency of the accumulating adder (``None``: the adder default). It sets
        :attr:`sum_interval`.

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
    def sum_interval(self):
        return max(1, self._acc_latency)

    @property
    def max_interval(self):
        return max(1, self._max_latency)

    @property
    def latency(self):
        """Clocks from the last beat to ``result_valid``: input register, tree, the slower
        accumulating unit, output register."""
        return 1 + self.tree_latency + max(self._acc_latency, self._max_latency) + 1

    def elaborate(self, platform):
        m = Module()
        lanes = self._lanes

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
        c_valid = delay(m, s_valid, self.tree_latency, name="c_valid")
        c_first = delay(m, s_first, self.tree_latency, name="c_first")
        c_last = delay(m, s_last, self.tree_latency, name="c_last")
        c_is_max = is_max

        # Running sum and running maximum (each beat feeds only the one its kind selects).
        slowest = max(self._acc_latency, self._max_latency)
        done = []
        for kind, unit, latency, init in (
                ("sum", FP16Adder(latency=self._acc_latency), self._acc_latency, SUM_PAD),
                ("max", FP16Max(latency=self._max_latency), self._max_latency, MAX_PAD)):
            m.submodules[f"acc_{kind}"] = unit
            take = c_valid & (c_is_max if kind == "max" else ~c_is_max)
            acc = Signal(16, name=f"acc_{kind}")
            res_valid = delay(m, take, latency, name=f"{kind}_res_valid")
            res_last = delay(m, take & c_last, latency, name=f"{kind}_res_last")
            if latency == 0:
                current = acc
            else:
                current = Mux(res_valid, unit.result, acc)
            m.d.comb += [unit.a.eq(Mux(c_first, init, current)), unit.b.eq(chunk)]
            with m.If(res_valid):
                m.d.sync += acc.eq(unit.result)
            value = delay(m, unit.result, slowest - latency, name=f"{kind}_out")
            finished = delay(m, res_last, slowest - latency, name=f"{kind}_done")
            done.append((finished, value))
        (sum_done, sum_value), (max_done, max_value) = done
        m.d.sync += [
            self.result_valid.eq(sum_done | max_done),
            self.result.eq(Mux(max_done, max_value, sum_value)),
        ]
        return m
