"""The receive side of the ring protocol's segments (:mod:`dfx_hw.spec.ring`): one link's beats
split, in the link's clock domain, into the router's data beats and the credits returned to it."""

from amaranth import *
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.ring import COUNT_BITS, HEADER_BITS, HEADER_LAYOUT, MAGIC, SEGMENT_BEATS, BeatKind

__all__ = ["RxSplitter"]


class RxSplitter(wiring.Component):
    """Follows the frames on one link direction and steers every beat (``i``, one beat per
    clock when ``valid``, no ready -- the Aurora RX interface) to one of:

    * ``data``: ``DATA`` headers and their data beats, in order, without the ``CONTINUE``
      beats between segments -- exactly the frames the router's receiver parses -- and any
      other beat that arrives between frames (the router reports it as a bad header);
    * ``credit``: the ``count`` of each ``CREDIT`` beat that arrives between segments or frames.

    A beat at a segment boundary inside a frame that is neither ``CONTINUE`` nor ``CREDIT``
    sets the sticky ``error`` (the frame is broken; the beat is dropped). Both outputs are
    registered (``valid`` for one clock, no ready: the caller writes them into FIFOs).

    Parameters
    ----------
    lanes : int
        FP16 elements per beat (a power of two): a ``DATA`` header's ``count`` elements take
        ``ceil(count / lanes)`` data beats.
    """

    def __init__(self, *, lanes):
        if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1 \
                or lanes & (lanes - 1):
            raise ValueError(f"lanes must be a power of two, not {lanes!r}")
        self._lanes = lanes
        width = 16 * lanes
        super().__init__({
            "i": In(stream.Signature(width, always_ready=True)),
            "data": Out(stream.Signature(width, always_ready=True)),
            "credit": Out(stream.Signature(COUNT_BITS, always_ready=True)),
            "error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        lanes = self._lanes
        shift = (lanes - 1).bit_length()
        word_bits = COUNT_BITS - shift + 1

        # Stage 1: register the beat with its header interpretation precomputed.
        s_valid = Signal()
        s_data = Signal(16 * lanes)
        s_data_header = Signal()
        s_credit = Signal()
        s_continue = Signal()
        s_count = Signal(COUNT_BITS)
        s_words = Signal(word_bits)
        header = HEADER_LAYOUT(self.i.payload[:HEADER_BITS])
        magic = header.magic == MAGIC
        m.d.sync += [
            s_valid.eq(self.i.valid), s_data.eq(self.i.payload),
            s_data_header.eq(magic & (header.kind == BeatKind.DATA)),
            s_credit.eq(magic & (header.kind == BeatKind.CREDIT)),
            s_continue.eq(magic & (header.kind == BeatKind.CONTINUE)),
            s_count.eq(header.count),
            s_words.eq((header.count + lanes - 1) >> shift),
        ]

        # Stage 2: the frame state. `frame_left` data beats of the frame are still due,
        # `seg_left` of them in the current segment.
        frame_left = Signal(word_bits)
        seg_left = Signal(range(SEGMENT_BEATS + 1))
        in_segment = seg_left != 0
        at_boundary = ~in_segment & (frame_left != 0)

        def segment(words):
            return Mux(words > SEGMENT_BEATS, SEGMENT_BEATS, words)

        m.d.sync += [self.data.valid.eq(0), self.credit.valid.eq(0)]
        with m.If(s_valid):
            with m.If(in_segment):
                m.d.sync += [self.data.valid.eq(1), self.data.payload.eq(s_data),
                             seg_left.eq(seg_left - 1), frame_left.eq(frame_left - 1)]
            with m.Elif(s_credit):
                m.d.sync += [self.credit.valid.eq(1), self.credit.payload.eq(s_count)]
            with m.Elif(at_boundary):
                with m.If(s_continue):
                    m.d.sync += seg_left.eq(segment(frame_left))
                with m.Else():
                    m.d.sync += self.error.eq(1)
            with m.Else():
                m.d.sync += [self.data.valid.eq(1), self.data.payload.eq(s_data)]
                with m.If(s_data_header):
                    m.d.sync += [frame_left.eq(s_words), seg_left.eq(segment(s_words))]
        return m
