"""The MFU's column accumulator: adds tile sums into per-column partial sums in the bit-true
model's order, with an interlock for the adder latency."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..arith.adder import FP16Adder
from ..arith.pipeline import check_latency
from ..hdl.delay import delay
from ..spec.params import check_positive, check_power_of_two
from .layouts import column_meta_layout, lane_sums_layout, tile_meta_layout, vector_layout

__all__ = ["Accumulator", "gap_for"]


def gap_for(*, add_latency=FP16Adder.DEFAULT_LATENCY):
    """Minimum distance, in accepted-or-bubble clocks, between two tiles of one column tile that
    does not stall the accumulator: ``add_latency + 2`` (adder, output register, write-back)."""
    return check_latency(add_latency) + 2


class Accumulator(wiring.Component):
    """Per-column accumulation of tile sums: ``acc = bias; acc = acc + t_0; acc = acc + t_1 ...``
    in ascending row-tile order (the bit-true model's ``reduce.mfu_matvec`` order).

    The partial sums of a band's ``band`` column tiles live in a ``band``-entry memory (``slot``).
    A tile with ``meta.first`` starts from ``meta.bias``; the others read their entry. A column
    tile leaves on ``o`` when its ``meta.last_row`` tile has been added.

    Hazard: the sum of a tile accepted on a clock is written back :attr:`gap` - 1 enabled clocks
    later, so a tile that reads an entry still being computed is held (``i.ready`` low, a bubble
    enters the adders) until the write lands. The zig-zag walk revisits an entry once per band
    width of tiles, so bands of at least :attr:`gap` column tiles never stall.

    Parameters
    ----------
    l : int
        Lanes.
    band : int
        Accumulator entries.
    add_latency : int
        Latency of the FP16 adders.

    Members
    -------
    i : In(stream.Signature(lane_sums_layout(meta=tile_meta_layout)))
    o : Out(stream.Signature(lane_sums_layout(meta=column_meta_layout)))
        Completed column tiles, in the order their last tiles arrived.
    """

    def __init__(self, *, l, band, add_latency=FP16Adder.DEFAULT_LATENCY):
        self._l = check_power_of_two("l", l)
        self._band = check_positive("band", band)
        self._add_latency = check_latency(add_latency)
        super().__init__({
            "i": In(stream.Signature(lane_sums_layout(l=l, meta=tile_meta_layout(l=l,
                                                                                band=band)))),
            "o": Out(stream.Signature(lane_sums_layout(l=l, meta=column_meta_layout(l=l)))),
        })

    @property
    def latency(self):
        """Clocks from an accepted last-row tile to its column on ``o``: adder + 1."""
        return self._add_latency + 1

    @property
    def gap(self):
        """See :func:`gap_for`."""
        return gap_for(add_latency=self._add_latency)

    def elaborate(self, platform):
        m = Module()
        l, lat = self._l, self._add_latency
        meta = self.i.payload.meta

        m.submodules.acc = acc = Memory(shape=vector_layout(l), depth=self._band, init=[])
        rd = acc.read_port(domain="comb")
        wr = acc.write_port()

        # Output register stage R holds the adder result; it is what gets written back.
        r_valid = Signal()
        r_slot = Signal(range(self._band))
        r_last_row = Signal()
        r_column = Signal(column_meta_layout(l=l))
        en = ~self.o.valid | self.o.ready

        # Tiles in flight: adder stages 1..lat and R. The memory entry of each is stale.
        accepted = Signal()
        valids, slots = [accepted], [meta.slot]
        for k in range(1, lat + 1):
            valids.append(delay(m, valids[-1], 1, en=en, name=f"valid{k}"))
            slots.append(delay(m, slots[-1], 1, en=en, name=f"slot{k}"))
        hazard = 0
        for valid, slot in list(zip(valids[1:], slots[1:])) + [(r_valid, r_slot)]:
            hazard = hazard | (valid & (slot == meta.slot))
        hazard = hazard & ~meta.first
        m.d.comb += [
            self.i.ready.eq(en & ~hazard),
            rd.addr.eq(meta.slot),
        ]

        results = Signal(vector_layout(l))
        for j in range(l):
            adder = FP16Adder(latency=lat)
            m.submodules[f"add{j}"] = adder
            m.d.comb += [
                adder.a.eq(Mux(meta.first, meta.bias[j], rd.data[j])),
                adder.b.eq(self.i.payload.sums[j]),
                adder.en.eq(en),
                results[j].eq(adder.result),
            ]
        m.d.comb += accepted.eq(self.i.valid & self.i.ready)
        with m.If(en):
            m.d.sync += [
                r_valid.eq(valids[-1]),
                r_slot.eq(slots[-1]),
                r_last_row.eq(delay(m, meta.last_row, lat, en=en, name="last_row")),
                r_column.eq(delay(m, meta.column, lat, en=en, name="column")),
                self.o.payload.sums.eq(results),
            ]
        m.d.comb += [
            wr.en.eq(r_valid),
            wr.addr.eq(r_slot),
            wr.data.eq(self.o.payload.sums),
            self.o.valid.eq(r_valid & r_last_row),
            self.o.payload.meta.eq(r_column),
        ]
        return m
