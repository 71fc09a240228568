"""One ring direction of the router: the staging memory of the slices that travel that way, the
receiver of the slices arriving from one neighbour and the transmitter towards the other."""

from amaranth import *
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..isa.layouts import FIELD_BITS
from ..spec.ring import COUNT_BITS, HEADER_BITS, HEADER_LAYOUT, MAGIC, BeatKind
from .credits import CreditCounter, CreditReturn
from .mux_tree import select
from .read_pipe import ReadPipe
from .tx_framer import frame_beat_layout

__all__ = ["RingDirection", "CW", "CCW"]

#: Clockwise: slices arrive from core ``id - 1`` (``link_prev``) and leave towards ``id + 1``
#: (``link_next``); position ``p`` is the slice of core ``id - p``.
CW = "cw"
#: Counter-clockwise: from ``id + 1`` (``link_next``) towards ``id - 1`` (``link_prev``);
#: position ``p`` is the slice of core ``id + p``.
CCW = "ccw"


def _next_word(addr, count, last, words):
    """Statements that step a slice's word walk: the next address and count, and whether the
    word after this one is the last of ``words``."""
    return [addr.eq(addr + 1), count.eq(count + 1), last.eq(count + 2 == words)]


class RingDirection(wiring.Component):
    """The slices of a sync that travel one way round the ring, at one core
    (:mod:`dfx_hw.spec.ring`): with ``k`` = ``cfg_slices`` slices reaching this core this way,
    it receives the slices at positions ``1..k`` (the cores 1..k hops upstream, in that order)
    on ``rx`` into its staging memory, and sends this core's own slice (position 0, written on
    ``local_*`` as the register file delivers it) and then positions ``1..k-1`` on ``frames``,
    each word as soon as it is there (cut through); nothing is sent when ``k`` is 0.

    Staging memory: this core's slice at words ``0..cfg_own_words-1``, then each received slice
    in arrival order; ``hdr_*`` reports where (one clock with ``hdr_valid`` per accepted
    header). A header is accepted when it is a ``DATA`` header with the sync's ``tag`` and
    ``seq``, the expected origin, and the slice fits the memory; anything else pulses
    ``error`` (as does a peer returning more credits than exist).

    Flow control: credits for ``frames`` arrive on ``credits_in``; the beats taken from ``rx``
    are returned on ``credit_return`` (for the link port that carries the other direction's
    frames).

    Parameters
    ----------
    direction : CW or CCW
    lanes : int
        FP16 elements per word.
    depth : int
        Staging memory words.
    max_positions : int
        Largest ``k``.
    rx_depth : int
        The RX FIFO depth (largest credit count returned).
    credits : int
        Credits the transmitter starts with (the peer's ``rx_depth``).
    """

    def __init__(self, *, direction, lanes, depth, max_positions, rx_depth, credits,
                 core_bits=8):
        if direction not in (CW, CCW):
            raise ValueError(f"direction must be {CW!r} or {CCW!r}, not {direction!r}")
        self._direction = direction
        self._lanes = lanes
        self._depth = depth
        self._positions = max(1, max_positions)
        self._rx_depth = rx_depth
        self._credits = credits
        self._core_bits = core_bits
        width = 16 * lanes
        abits = max(1, (depth - 1).bit_length())
        wbits = abits + 1
        self._abits = abits
        self._wbits = wbits
        super().__init__({
            "start": In(1),
            "cfg_me": In(core_bits),
            "cfg_n": In(core_bits),
            "cfg_slices": In(core_bits),
            "cfg_own_words": In(wbits),
            "cfg_own_len": In(COUNT_BITS),
            "tag": In(8),
            "seq": In(8),
            "active": In(1),
            "own_count": In(wbits),
            "local_en": In(1),
            "local_addr": In(abits),
            "local_data": In(width),
            "rx_write": Out(1),
            "rx": In(stream.Signature(width)),
            "credits_in": In(stream.Signature(COUNT_BITS, always_ready=True)),
            "frames": Out(stream.Signature(frame_beat_layout(width))),
            "credit_return": Out(stream.Signature(range(rx_depth + 1))),
            "ro_addr": In(abits),
            "ro_en": In(1),
            "ro_data": Out(width),
            "hdr_valid": Out(1),
            "hdr_pos": Out(core_bits),
            "hdr_count": Out(COUNT_BITS),
            "hdr_base": Out(wbits),
            "rx_pos": Out(core_bits),
            "rx_done": Out(1),
            "tx_done": Out(1),
            "sum_len": Out(FIELD_BITS["total"] + core_bits),
            "error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        lanes = self._lanes
        shift = (lanes - 1).bit_length()
        width = 16 * lanes
        depth = self._depth
        abits, wbits = self._abits, self._wbits
        cbits = self._core_bits
        npos = self._positions
        down = self._direction == CW      # origins count down from this core

        def words_of(length):
            return (length + lanes - 1) >> shift

        m.submodules.staging = mem = Memory(shape=width, depth=depth, init=[])
        wr = mem.write_port()
        tx_rd = mem.read_port()
        ro_rd = mem.read_port()
        m.d.comb += [ro_rd.addr.eq(self.ro_addr), ro_rd.en.eq(self.ro_en),
                     self.ro_data.eq(ro_rd.data)]
        m.submodules.tx_pipe = tx_pipe = ReadPipe(width=width, addr_bits=abits,
                                                  side={"end": 1})
        m.d.comb += [tx_rd.addr.eq(tx_pipe.mem_addr), tx_rd.en.eq(tx_pipe.mem_en),
                     tx_pipe.mem_data.eq(tx_rd.data)]
        m.submodules.credit_counter = credit = CreditCounter(credits=self._credits,
                                                             amount_bits=COUNT_BITS)
        m.submodules.credit_return = creturn = CreditReturn(max_credits=self._rx_depth)
        wiring.connect(m, wiring.flipped(self.credit_return), creturn.credits)
        m.d.comb += [credit.give.eq(self.credits_in.valid),
                     credit.amount.eq(self.credits_in.payload)]
        m.d.sync += self.error.eq(credit.excess)

        # -- per-sync state ----------------------------------------------------------------------
        me = Signal(cbits)
        n = Signal(cbits)
        k = Signal(cbits)
        lens = [Signal(COUNT_BITS, name=f"len{p}") for p in range(npos + 1)]
        bases = [Signal(wbits, name=f"base{p}") for p in range(npos + 1)]
        with m.If(self.start):
            m.d.sync += [me.eq(self.cfg_me), n.eq(self.cfg_n), k.eq(self.cfg_slices),
                         lens[0].eq(self.cfg_own_len), bases[0].eq(0)]
        active = self.active

        def step(origin):
            if down:
                return Mux(origin == 0, n - 1, origin - 1)
            return Mux(origin + 1 == n, 0, origin + 1)

        def first_step(origin, count):
            if down:
                return Mux(origin == 0, count - 1, origin - 1)
            return Mux(origin + 1 == count, 0, origin + 1)

        # -- receiver ----------------------------------------------------------------------------
        # Stage A registers each beat out of the RX FIFO (with the word count of its header
        # interpretation precomputed); stage B checks and places it, from registers only.
        rx = self.rx
        a_valid = Signal()
        a_data = Signal(width)
        a_words = Signal(COUNT_BITS - shift + 1)
        a_header = HEADER_LAYOUT(a_data[:HEADER_BITS])
        rx_pos = self.rx_pos                  # position being received
        rx_origin = Signal(cbits)
        rx_words = Signal(wbits)
        rx_count = Signal(wbits)
        rx_base = Signal(wbits)               # next free staging word
        rx_room = Signal(wbits)               # depth - rx_base
        rx_addr = Signal(abits)
        rx_in_data = Signal()
        rx_done = self.rx_done
        rx_last = Signal()                    # the next data beat ends the slice
        rx_final = Signal()                   # rx_pos is the last position (k)
        sum_len = self.sum_len
        header_ok = Signal()
        b_take = Signal()
        m.d.comb += [
            header_ok.eq((a_header.magic == MAGIC) & (a_header.kind == BeatKind.DATA)
                         & (a_header.tag == self.tag) & (a_header.seq == self.seq)
                         & (a_header.origin == rx_origin) & (a_words <= rx_room)),
            b_take.eq(a_valid & active & ~rx_done),
            rx.ready.eq(active & (~a_valid | b_take)),   # nothing taken between syncs
        ]
        with m.If(rx.valid & rx.ready):
            m.d.sync += [a_valid.eq(1), a_data.eq(rx.payload),
                         a_words.eq(words_of(HEADER_LAYOUT(rx.payload[:HEADER_BITS]).count))]
        with m.Elif(b_take):
            m.d.sync += a_valid.eq(0)
        m.d.comb += [creturn.popped.eq(rx.valid & rx.ready), creturn.drained.eq(~rx.valid)]

        rx_write = self.rx_write
        m.d.comb += [
            rx_write.eq(b_take & rx_in_data),
            wr.en.eq(rx_write | self.local_en),
            wr.addr.eq(Mux(rx_write, rx_addr, self.local_addr)),
            wr.data.eq(Mux(rx_write, a_data, self.local_data)),
        ]

        def next_position():
            return [rx_pos.eq(rx_pos + 1), rx_origin.eq(step(rx_origin)),
                    rx_done.eq(rx_final), rx_final.eq(rx_pos + 1 == k)]

        m.d.comb += [self.hdr_pos.eq(rx_pos), self.hdr_count.eq(a_header.count),
                     self.hdr_base.eq(rx_base)]
        with m.If(self.start):
            first = self.cfg_own_words
            m.d.sync += [rx_pos.eq(1), rx_origin.eq(first_step(self.cfg_me, self.cfg_n)),
                         rx_base.eq(first), rx_room.eq(depth - first),
                         rx_in_data.eq(0), rx_done.eq(self.cfg_slices == 0),
                         rx_final.eq(self.cfg_slices == 1), sum_len.eq(0)]
        with m.Elif(b_take):
            with m.If(~rx_in_data):
                with m.If(~header_ok):
                    m.d.sync += self.error.eq(1)
                with m.Else():
                    m.d.comb += self.hdr_valid.eq(1)
                    for pos in range(1, npos + 1):
                        with m.If(rx_pos == pos):
                            m.d.sync += [lens[pos].eq(a_header.count), bases[pos].eq(rx_base)]
                    m.d.sync += [rx_base.eq(rx_base + a_words), rx_room.eq(rx_room - a_words),
                                 rx_words.eq(a_words), rx_addr.eq(rx_base), rx_count.eq(0),
                                 rx_last.eq(a_words == 1), sum_len.eq(sum_len + a_header.count)]
                    with m.If(a_words == 0):
                        m.d.sync += next_position()
                    with m.Else():
                        m.d.sync += rx_in_data.eq(1)
            with m.Else():
                m.d.sync += _next_word(rx_addr, rx_count, rx_last, rx_words)
                with m.If(rx_last):
                    m.d.sync += [rx_in_data.eq(0)] + next_position()

        # -- transmitter: own slice (position 0), then forward positions 1 .. k-1 ----------------
        tx_pos = Signal(cbits)
        tx_origin = Signal(cbits)
        tx_words = Signal(wbits)
        tx_count = Signal(wbits)
        tx_addr = Signal(abits)
        tx_in_data = Signal()
        tx_done = self.tx_done
        tx_last = Signal()                    # the next data beat ends the frame
        tx_final = Signal()                   # the frame being sent is the last one
        pos_len = select(lens, tx_pos)
        hdr_known = (tx_pos == 0) | (tx_pos < rx_pos) | rx_done \
            | ((tx_pos == rx_pos) & rx_in_data)
        avail = Mux(tx_pos == 0, tx_count < self.own_count,
                    (tx_pos < rx_pos) | rx_done | ((tx_pos == rx_pos) & (tx_count < rx_count)))
        treq = tx_pipe.request
        tx_header = Signal(HEADER_BITS)
        m.d.comb += tx_header.eq(HEADER_LAYOUT.const({"magic": MAGIC, "kind": BeatKind.DATA})
                                 .as_value()
                                 | (tx_origin << HEADER_LAYOUT["origin"].offset)
                                 | (self.tag << HEADER_LAYOUT["tag"].offset)
                                 | (self.seq << HEADER_LAYOUT["seq"].offset)
                                 | (pos_len << HEADER_LAYOUT["count"].offset))
        m.d.comb += [
            treq.valid.eq(active & ~tx_done & credit.available
                          & Mux(tx_in_data, avail, hdr_known)),
            treq.payload.bypass.eq(~tx_in_data),
            treq.payload.value.eq(tx_header),
            treq.payload.addr.eq(tx_addr),
            treq.payload.end.eq(Mux(tx_in_data, tx_last, words_of(pos_len) == 0)),
            credit.spend.eq(treq.valid & treq.ready),
        ]
        m.d.comb += [self.frames.valid.eq(tx_pipe.response.valid),
                     self.frames.payload.data.eq(tx_pipe.response.payload.data),
                     self.frames.payload.end.eq(tx_pipe.response.payload.end),
                     tx_pipe.response.ready.eq(self.frames.ready)]

        def next_frame():
            return [tx_pos.eq(tx_pos + 1), tx_origin.eq(step(tx_origin)),
                    tx_done.eq(tx_final), tx_final.eq(tx_pos + 2 >= k), tx_in_data.eq(0)]

        with m.If(self.start):
            m.d.sync += [tx_pos.eq(0), tx_origin.eq(self.cfg_me), tx_in_data.eq(0),
                         tx_done.eq(self.cfg_slices == 0), tx_final.eq(self.cfg_slices <= 1)]
        with m.Elif(treq.valid & treq.ready):
            with m.If(~tx_in_data):
                m.d.sync += [tx_words.eq(words_of(pos_len)), tx_count.eq(0),
                             tx_addr.eq(select(bases, tx_pos)),
                             tx_last.eq(words_of(pos_len) == 1)]
                with m.If(words_of(pos_len) == 0):
                    m.d.sync += next_frame()
                with m.Else():
                    m.d.sync += tx_in_data.eq(1)
            with m.Else():
                m.d.sync += _next_word(tx_addr, tx_count, tx_last, tx_words)
                with m.If(tx_last):
                    m.d.sync += next_frame()
        return m
