"""Reduce-max of SFU_M: the maximum of an operation's outputs and the index of its first
occurrence, by a comparator tree over the lanes and a running comparison over column tiles."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..arith.maximum import FP16Max
from ..arith.pipeline import check_latency
from ..hdl.delay import delay
from ..spec.params import check_power_of_two
from .layouts import DIM_BITS, FP16, column_meta_layout, lane_sums_layout, max_layout

__all__ = ["ReduceMax"]

#: -inf: what padding lanes (past ``meta.lanes``) compare as; never wins (see the model).
_NEG_INF = 0xFC00


class ReduceMax(wiring.Component):
    """Passes column tiles through (one register stage) and, for operations with
    ``meta.reduce_max``, emits ``(maximum, first index)`` on ``max`` after the ``meta.last``
    column tile: :func:`dfx_hw.model.bittrue.reduce.argmax` bit for bit.

    The comparator is :class:`~dfx_hw.arith.maximum.FP16Max` (total order ``-inf < ... < -0 < +0
    < ... < +inf < NaN``, canonical NaN). Lanes: a pairwise tree, the lower-index pair as operand
    ``a`` so ties keep the lower index; padding lanes compare as ``-inf``. Column tiles: a running
    comparison that resolves ties by index, so column tiles may arrive in any order.

    Members
    -------
    i : In(stream.Signature(lane_sums_layout(meta=column_meta_layout)))
    o : Out(stream.Signature(lane_sums_layout(meta=column_meta_layout)))
    max : Out(stream.Signature(max_layout()))
    """

    def __init__(self, *, l, max_latency=FP16Max.DEFAULT_LATENCY):
        self._l = check_power_of_two("l", l)
        self._max_latency = check_latency(max_latency)
        layout = lane_sums_layout(l=l, meta=column_meta_layout(l=l))
        super().__init__({
            "i": In(stream.Signature(layout)),
            "o": Out(stream.Signature(layout)),
            "max": Out(stream.Signature(max_layout())),
        })

    @property
    def tree_latency(self):
        return (self._l.bit_length() - 1) * self._max_latency

    def elaborate(self, platform):
        m = Module()
        l, lat = self._l, self._max_latency
        en = (~self.o.valid | self.o.ready) & (~self.max.valid | self.max.ready)
        m.d.comb += self.i.ready.eq(en)
        with m.If(en):
            m.d.sync += [self.o.valid.eq(self.i.valid), self.o.payload.eq(self.i.payload)]
        with m.Elif(self.o.ready):
            # Taken on `o` while a pending maximum holds the stage: do not offer it again.
            m.d.sync += self.o.valid.eq(0)

        meta = self.i.payload.meta
        base = Signal(DIM_BITS)
        m.d.comb += base.eq(meta.col_tile << (l.bit_length() - 1))
        level = []
        for j in range(l):
            value = Signal(FP16, name=f"leaf{j}_value")
            m.d.comb += value.eq(Mux(j < meta.lanes, self.i.payload.sums[j], _NEG_INF))
            level.append((value, base | j))
        for k in range(l.bit_length() - 1):
            nxt = []
            for n in range(len(level) // 2):
                (va, ia), (vb, ib) = level[2 * n], level[2 * n + 1]
                cmp = FP16Max(latency=lat)
                m.submodules[f"cmp_l{k}_{n}"] = cmp
                m.d.comb += [cmp.a.eq(va), cmp.b.eq(vb), cmp.en.eq(en)]
                ia = delay(m, ia, lat, en=en, name=f"ia_l{k}_{n}")
                ib = delay(m, ib, lat, en=en, name=f"ib_l{k}_{n}")
                index = Signal(DIM_BITS, name=f"index_l{k}_{n}")
                m.d.comb += index.eq(Mux(cmp.b_greater, ib, ia))
                nxt.append((cmp.result, index))
            level = nxt
        chunk_value, chunk_index = level[0]
        valid = delay(m, self.i.valid, self.tree_latency, en=en, name="t_valid")
        last = delay(m, meta.last, self.tree_latency, en=en, name="t_last")
        wanted = delay(m, meta.reduce_max, self.tree_latency, en=en, name="t_reduce")

        # Running comparison. Ties go to the lower index, so the comparison is made in both
        # operand orders at once (in parallel with the index comparison, to keep the path
        # short) and the order with the lower index as operand ``a`` decides.
        have = Signal()
        run_value = Signal(FP16)
        run_index = Signal(DIM_BITS)
        m.submodules.run_fwd = fwd = FP16Max(latency=0)   # a = running, b = chunk
        m.submodules.run_rev = rev = FP16Max(latency=0)   # a = chunk, b = running
        m.d.comb += [
            fwd.a.eq(run_value), fwd.b.eq(chunk_value),
            rev.a.eq(chunk_value), rev.b.eq(run_value),
        ]
        chunk_first = chunk_index < run_index
        chunk_wins = Mux(chunk_first, ~rev.b_greater, fwd.b_greater)
        # Both orders give the same value (equal keys mean equal bits; NaN is canonical).
        best_value = Mux(have, fwd.result, chunk_value)
        best_index = Mux(have & ~chunk_wins, run_index, chunk_index)

        with m.If(self.max.ready):
            m.d.sync += self.max.valid.eq(0)
        with m.If(en & valid):
            with m.If(last):
                m.d.sync += have.eq(0)
                with m.If(wanted):
                    m.d.sync += [
                        self.max.valid.eq(1),
                        self.max.payload.value.eq(best_value),
                        self.max.payload.index.eq(best_index),
                    ]
            with m.Else():
                m.d.sync += [have.eq(1), run_value.eq(best_value), run_index.eq(best_index)]
        return m
