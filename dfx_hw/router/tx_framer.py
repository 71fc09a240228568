"""The send side of the ring protocol's segments (:mod:`dfx_hw.spec.ring`): one link's frames cut
into segments that leave in one piece, with the returned credits sent between them."""

from amaranth import *
from amaranth.hdl import unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from ..spec.ring import HEADER_LAYOUT, MAGIC, SEGMENT_BEATS, BeatKind

__all__ = ["TxFramer", "frame_beat_layout"]


def frame_beat_layout(width):
    """One beat of a frame as the router hands it over: a ``DATA`` header first, then its data
    beats; ``end`` marks the frame's last beat (the header itself for an empty slice)."""
    return data.StructLayout({"data": unsigned(width), "end": 1})


class TxFramer(wiring.Component):
    """Merges one link direction's outgoing ``DATA`` frames (``frames``) and ``CREDIT`` counts
    (``credits``) into the link's beats (``tx``), so that a credit never waits behind a frame
    whose data is still on its way.

    Frames are buffered and sent in segments (:data:`~dfx_hw.spec.ring.SEGMENT_BEATS` data
    beats: the header and the first segment, then a ``CONTINUE`` beat and the next, ...). A
    segment starts only once all its beats are buffered, and then goes out without a gap of its
    own making; between segments and frames a pending credit count goes first. So a credit waits
    at most one segment, and a frame stalled upstream (cut-through forwarding of a slice that is
    still arriving) holds back nothing. ``tx.valid`` never depends on ``tx.ready``.

    The sender must spend its flow-control credits on the beats it hands over *before* the
    framer (one per header and data beat): a buffered segment is then always sendable. A
    segment of ``SEGMENT_BEATS + 1`` beats must fit the peer's RX FIFO (``rx_depth`` at least
    ``2 * SEGMENT_BEATS``).

    Parameters
    ----------
    width : int
        Beat width in bits.
    max_credits : int
        Largest credit count offered on ``credits``.
    """

    def __init__(self, *, width, max_credits):
        self._width = width
        super().__init__({
            "frames": In(stream.Signature(frame_beat_layout(width))),
            "credits": In(stream.Signature(range(max_credits + 1))),
            "tx": Out(stream.Signature(width)),
        })

    def elaborate(self, platform):
        m = Module()
        width = self._width
        depth = 2 * (SEGMENT_BEATS + 1)
        item = data.StructLayout({"data": unsigned(width), "seg_end": 1, "cont": 1})
        m.submodules.fifo = fifo = SyncFIFO(width=item.size, depth=depth)

        # -- write side: mark each beat's place in its segment ----------------------------------
        at_header = Signal(init=1)        # the next beat is a frame's header
        seg_open = Signal()               # a segment of the current frame has begun
        seg_data = Signal(range(SEGMENT_BEATS + 1))   # its data beats so far
        beat = self.frames.payload
        w_item = item(fifo.w_data)
        seg_end = Signal()
        m.d.comb += [
            seg_end.eq(beat.end | (~at_header & (seg_data == SEGMENT_BEATS - 1))),
            w_item.data.eq(beat.data),
            w_item.seg_end.eq(seg_end),
            w_item.cont.eq(~at_header & ~seg_open),
            fifo.w_en.eq(self.frames.valid),
            self.frames.ready.eq(fifo.w_rdy),
        ]
        written = self.frames.valid & self.frames.ready
        with m.If(written):
            with m.If(seg_end):
                m.d.sync += [seg_open.eq(0), seg_data.eq(0)]
            with m.Else():
                m.d.sync += seg_open.eq(1)
                with m.If(~at_header):
                    m.d.sync += seg_data.eq(seg_data + 1)
            m.d.sync += at_header.eq(beat.end)

        # -- read side: whole segments, credits between them -------------------------------------
        complete = Signal(range(depth + 1))   # segments wholly buffered, not yet finished
        emitting = Signal()                   # inside a segment on the link
        cont_sent = Signal()                  # its CONTINUE beat has gone
        head = item(fifo.r_data)
        credit_turn = ~emitting & self.credits.valid
        segment_turn = ~credit_turn & (emitting | (complete != 0))
        send_cont = segment_turn & head.cont & ~cont_sent
        pop = Signal()
        credit_beat = HEADER_LAYOUT.const({"magic": MAGIC, "kind": BeatKind.CREDIT}).as_value() \
            | (self.credits.payload << HEADER_LAYOUT["count"].offset)
        continue_beat = HEADER_LAYOUT.const({"magic": MAGIC,
                                             "kind": BeatKind.CONTINUE}).as_value()
        m.d.comb += [
            self.tx.valid.eq(credit_turn | segment_turn),
            self.tx.payload.eq(Mux(credit_turn, credit_beat,
                                   Mux(send_cont, continue_beat, head.data))),
            self.credits.ready.eq(credit_turn & self.tx.ready),
            pop.eq(segment_turn & ~send_cont & self.tx.ready),
            fifo.r_en.eq(pop),
        ]
        finished = pop & head.seg_end
        m.d.sync += complete.eq(complete + (written & seg_end) - finished)
        with m.If(send_cont & self.tx.ready):
            m.d.sync += [cont_sent.eq(1), emitting.eq(1)]
        with m.If(pop):
            m.d.sync += emitting.eq(~head.seg_end)
            with m.If(head.seg_end):
                m.d.sync += cont_sent.eq(0)
        return m
