"""The matrix operand collector: turns one matrix-operation descriptor into the MFU's tile
sequence."""

from amaranth.hdl import C, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..spec.params import check_positive, check_power_of_two
from .layouts import (
    BAND_BITS, DIM_BITS, MatOp, collector_payload_layout, descriptor_layout, tile_layout,
    vector_layout,
)

__all__ = ["OperandCollector", "check_max_rows"]


def check_max_rows(max_rows):
    """Return ``max_rows`` if it is an integer in ``[1, 2**DIM_BITS - 1]``, else raise
    ``ValueError``."""
    if (isinstance(max_rows, bool) or not isinstance(max_rows, int)
            or not 1 <= max_rows < 2 ** DIM_BITS):
        raise ValueError(f"max_rows must be an integer in [1, {2 ** DIM_BITS - 1}], "
                         f"not {max_rows!r}")
    return max_rows


class OperandCollector(wiring.Component):
    """Walks the tiles of each accepted descriptor in the zig-zag order of
    :func:`dfx_hw.spec.walk.tile_order` and hands the MFU one beat per clock: the input slice
    (broadcast to every lane), the weight tile (column ``j`` to lane ``j``) and the bookkeeping
    (accumulator slot, first/last row, the column tile's bias, the post-processing flags).

    The input slices arrive once, during the first band, and are kept in an input buffer (a
    block RAM of ``ceil(max_rows / d)`` slices) from which the later bands re-read them; the read
    is issued one clock ahead, so every walk step takes one clock. The next descriptor is
    accepted on the clock that issues the current one's last tile, so back-to-back operations
    leave no gap. A tile is issued when the output register is free and every operand it needs
    is valid: the weight tile always, the input slice in the first band's first column tile of
    each row, the bias beat in the first row tile when ``bias`` is set.

    Parameters
    ----------
    d, l : int
        Tile shape (powers of two).
    band : int
        Column tiles per band (accumulator entries).
    max_rows : int
        Largest ``k`` (``K``) a descriptor may have; sizes the input buffer.
    serpentine : bool
        Walk odd row tiles of a band right to left (see :mod:`dfx_hw.spec.walk`).

    Members
    -------
    desc : In(stream.Signature(descriptor_layout()))
    x : In(stream.Signature(ArrayLayout(16, d)))
        Input slices, ``ceil(k / d)`` per descriptor, zero-padded past ``k``.
    weights : In(stream.Signature(tile_layout))
        Weight tiles in walk order, zero-padded past ``k``/``n``.
    bias : In(stream.Signature(ArrayLayout(16, l)))
        Bias beats, one per column tile in ascending order, only for descriptors with ``bias``.
    o : Out(stream.Signature(collector_payload_layout))
    busy : Out(1)
        A descriptor is being walked.
    """

    def __init__(self, *, d, l, band, max_rows, serpentine=False):
        self._d = check_power_of_two("d", d)
        self._l = check_power_of_two("l", l)
        check_positive("band", band)
        self._band = band
        self._max_rows = check_max_rows(max_rows)
        self._serpentine = bool(serpentine)
        super().__init__({
            "desc": In(stream.Signature(descriptor_layout())),
            "x": In(stream.Signature(vector_layout(d))),
            "weights": In(stream.Signature(tile_layout(d=d, l=l))),
            "bias": In(stream.Signature(vector_layout(l))),
            "o": Out(stream.Signature(collector_payload_layout(d=d, l=l, band=band))),
            "busy": Out(1),
        })

    @property
    def row_tiles_max(self):
        """Depth of the input buffer: ``ceil(max_rows / d)``."""
        return -(-self._max_rows // self._d)

    def elaborate(self, platform):
        m = Module()
        d, l, band = self._d, self._l, self._band
        depth = self.row_tiles_max

        m.submodules.xbuf = xbuf = Memory(shape=vector_layout(d), depth=depth, init=[])
        xwr = xbuf.write_port()
        xrd = xbuf.read_port(transparent_for=(xwr,))

        # The operation being walked.
        active = Signal()
        cur = Signal(descriptor_layout())
        last_row_tile = Signal(DIM_BITS)     # row tiles - 1
        # Walk position.
        op_band = Signal(range(band + 1))    # this operation's band width
        band_start = Signal(DIM_BITS + 1)    # first column tile of the band
        # The band's width is kept as the registers the walk's tests read, each one compare
        # or subtraction from registers (no chain in front of the input-buffer address or
        # the descriptor handshake):
        # the band's last column tile in it, width - 1 (-1 for an empty operation)
        band_last = Signal(range(-1, band))
        # this band is the operation's last
        last_band = Signal()
        # column tiles after a full-width band from here: col_tiles - band_start - op_band
        rest = Signal(signed(DIM_BITS + 3))
        first_band = Signal()
        r = Signal(DIM_BITS)
        # r == 0, r == last_row_tile and r + 1, registered beside r (no compare or add of the
        # row counter in front of the issue decision or the input-buffer address)
        r_first = Signal()
        r_last = Signal()
        r_plus1 = Signal(DIM_BITS)
        s = Signal(range(band))

        en = ~self.o.valid | self.o.ready
        reverse = Signal()
        m.d.comb += reverse.eq(r[0] if self._serpentine else 0)
        start_of_row = Mux(reverse, s == band_last, s == 0)
        end_of_row = Mux(reverse, s == 0, s == band_last)
        need_x = first_band & start_of_row
        need_bias = r_first & cur.bias
        can_issue = (active & self.weights.valid & (~need_x | self.x.valid)
                     & (~need_bias | self.bias.valid))
        issue = Signal()
        end_of_band = end_of_row & r_last
        end_of_op = end_of_band & last_band
        take_desc = Signal()

        m.d.comb += [
            issue.eq(can_issue & en),
            take_desc.eq(~active | (issue & end_of_op)),
            self.desc.ready.eq(take_desc),
            self.weights.ready.eq(issue),
            self.x.ready.eq(issue & need_x),
            self.bias.ready.eq(issue & need_bias),
            self.busy.eq(active),
            xwr.en.eq(issue & need_x),
            xwr.addr.eq(r),
            xwr.data.eq(self.x.payload),
        ]

        # Input-buffer read one clock ahead: the address is the next state's row tile.
        r_next = Signal(DIM_BITS)
        m.d.comb += r_next.eq(r)
        with m.If(issue & end_of_row):
            m.d.comb += r_next.eq(Mux(r_last, 0, r_plus1))
        with m.If(take_desc & self.desc.valid):
            m.d.comb += r_next.eq(0)
        m.d.comb += xrd.addr.eq(r_next)

        # The beat to the MFU.
        col_tile = Signal(DIM_BITS + 1)
        # only the operation's last column tile can have fewer than l lanes: its index and
        # lanes come from the descriptor (registered at acceptance), so a tile's lanes are one
        # compare after the column add instead of a subtraction and a compare
        last_col = Signal(DIM_BITS + 1)
        tail_lanes = Signal(range(l + 1))
        out = self.o.payload
        m.d.comb += col_tile.eq(band_start + s)
        with m.If(en):
            m.d.sync += self.o.valid.eq(can_issue)
        with m.If(issue):
            m.d.sync += [
                out.w.eq(self.weights.payload),
                out.meta.slot.eq(s),
                out.meta.first.eq(r_first),
                out.meta.last_row.eq(r_last),
                out.meta.bias.eq(Mux(need_bias, self.bias.payload, 0)),
                out.meta.column.col_tile.eq(col_tile),
                out.meta.column.lanes.eq(Mux(col_tile == last_col, tail_lanes, l)),
                out.meta.column.last.eq(end_of_op),
                out.meta.column.mask.eq(cur.op == MatOp.MASKED_MM),
                out.meta.column.token.eq(cur.token),
                out.meta.column.scale_en.eq(cur.scale_en),
                out.meta.column.scale.eq(cur.scale),
                out.meta.column.gelu.eq(cur.gelu),
                out.meta.column.reduce_max.eq(cur.reduce_max),
            ]
            with m.If(start_of_row):
                m.d.sync += out.x.eq(Mux(first_band, self.x.payload, xrd.data))
            # Advance the walk.
            with m.If(end_of_row):
                m.d.sync += s.eq(0)
                with m.If(r_last):
                    m.d.sync += [
                        r.eq(0), r_first.eq(1), r_last.eq(last_row_tile == 0), r_plus1.eq(1),
                        first_band.eq(0),
                        band_start.eq(band_start + op_band),
                        band_last.eq(Mux(rest >= op_band, op_band - 1, rest - 1)),
                        last_band.eq(rest <= op_band),
                        rest.eq(rest - op_band),
                    ]
                with m.Else():
                    m.d.sync += [r.eq(r_plus1), r_first.eq(0),
                                 r_last.eq(r_plus1 == last_row_tile), r_plus1.eq(r_plus1 + 1)]
                    if self._serpentine:
                        with m.If(~r[0]):
                            m.d.sync += s.eq(band_last)
            with m.Elif(reverse):
                m.d.sync += s.eq(s - 1)
            with m.Else():
                m.d.sync += s.eq(s + 1)
            with m.If(end_of_op):
                m.d.sync += active.eq(0)

        # A descriptor's first band registers, computed in a submodule of their own: the
        # walk's band-change subtraction and these are never used on the same clock, and Yosys's
        # resource sharing would otherwise put one subtractor, with the descriptor handshake
        # steering its operands, in front of `rest`.
        m.submodules.plan = plan = _DescriptorPlan(d=d, l=l, band=band)
        m.d.comb += [plan.n.eq(self.desc.payload.n), plan.k.eq(self.desc.payload.k),
                     plan.band.eq(self.desc.payload.band)]
        with m.If(take_desc & self.desc.valid):
            m.d.sync += [
                op_band.eq(plan.op_band),
                active.eq(1),
                cur.eq(self.desc.payload),
                last_row_tile.eq(plan.last_row_tile),
                band_start.eq(0),
                band_last.eq(plan.band_last),
                last_band.eq(plan.last_band),
                rest.eq(plan.rest),
                first_band.eq(1),
                r.eq(0), r_first.eq(1), r_last.eq(plan.last_row_tile == 0), r_plus1.eq(1),
                s.eq(0),
                last_col.eq(plan.last_col), tail_lanes.eq(plan.tail_lanes),
            ]
        return m


class _DescriptorPlan(wiring.Component):
    """Combinational: the walk's first values from a descriptor's ``n``, ``k`` and ``band``.

    The band is the descriptor's (1 .. ``band``), or ``band`` for 0 or one too large; every
    output is computed for both and chosen last. ``ceil(n / l)`` (the column tiles) is never
    formed: ``ceil(n / l) >= b`` iff ``n > (b - 1) l``, ``ceil(n / l) <= b`` iff ``n <= b l``,
    ``ceil(n / l) - b = floor((n - (b l - (l - 1))) / l)`` and ``ceil(n / l) - 1 =
    (n - 1) >> log2(l)``.

    Members
    -------
    n, k, band : In
        The descriptor's fields.
    op_band : Out
        The operation's band width.
    band_last : Out
        The first band's width - 1 (-1 for ``n = 0``).
    last_band : Out(1)
        The first band is the last.
    rest : Out(signed)
        Column tiles after a full-width first band (negative when there are fewer).
    last_row_tile : Out(DIM_BITS)
        Row tiles - 1.
    last_col, tail_lanes : Out
        The last column tile, ``ceil(n / l) - 1``, and its lanes, ``n - l last_col``
        (``n >= 1``).
    """

    def __init__(self, *, d, l, band):
        self._d, self._l, self._band = d, l, band
        super().__init__({
            "n": In(DIM_BITS),
            "k": In(DIM_BITS),
            "band": In(BAND_BITS),
            "op_band": Out(range(band + 1)),
            "band_last": Out(range(-1, band)),
            "last_band": Out(1),
            "rest": Out(signed(DIM_BITS + 3)),
            "last_row_tile": Out(DIM_BITS),
            "last_col": Out(DIM_BITS + 1),
            "tail_lanes": Out(range(l + 1)),
        })

    def elaborate(self, platform):
        m = Module()
        log_l = self._l.bit_length() - 1
        log_d = self._d.bit_length() - 1
        n = self.n
        n_signed = Signal(signed(DIM_BITS + 3))
        m.d.comb += n_signed.eq(n)
        own_band = (self.band != 0) & (self.band <= self._band)

        def per_band(f):
            return Mux(own_band, f(self.band), f(C(self._band, len(self.band))))

        m.d.comb += [
            self.op_band.eq(per_band(lambda b: b)),
            self.band_last.eq(per_band(lambda b: Mux(n > ((b - 1) << log_l), b - 1,
                                                     (n - 1) >> log_l))),
            self.last_band.eq(per_band(lambda b: n <= (b << log_l))),
            self.rest.eq(per_band(lambda b: (n_signed - ((b << log_l) - (self._l - 1)))
                                  >> log_l)),
            self.last_row_tile.eq((self.k - 1) >> log_d),
            self.last_col.eq((n - 1) >> log_l),
            self.tail_lanes.eq(((n - 1) & (self._l - 1)) + 1),
        ]
        return m
