"""The ring protocol: how routers frame all-gather slices and return flow-control credits on
Aurora-shaped links (:mod:`dfx_hw.bus.aurora`).

Topology. Core ``i``'s ``link_next`` and core ``(i + 1) % N``'s ``link_prev`` are the two ends
of one full-duplex cable; a ring of ``N`` routers uses ``N`` cables. A sync's slices travel in
**both directions**: *clockwise* (``cw``: out on ``link_next``, in on ``link_prev``) each slice
reaches the ``N // 2`` cores after its origin, *counter-clockwise* (``ccw``: out on
``link_prev``, in on ``link_next``) the ``(N - 1) // 2`` cores before it, so no slice travels
more than ``N // 2`` hops (:func:`direction_slices`). Core ``i`` sends its own slice both ways
and forwards, cut through, the first ``k - 1`` slices it receives in a direction that carries
``k`` slices into each core. Every direction of every cable therefore carries the ``DATA`` frames
of one ring direction and the ``CREDIT`` beats of the other.

Beats. Every link beat is one ``data_bits`` word (the register-file word, ``16 * lanes`` bits).
A beat is either a *header* (its low :data:`HEADER_BITS` bits are a :data:`HEADER_LAYOUT`,
the rest zero) or a *data* beat of the frame a header announced:

* ``DATA`` header: one slice of a sync follows as ``ceil(count / lanes)`` data beats (element
  ``j`` of the slice in bits ``16 (j % lanes)`` of beat ``j // lanes``; the extra lanes of the
  last beat are unspecified). ``origin`` is the core whose slice it is, ``tag`` the SYNC/SYNCS
  tag, ``seq`` the sender's count of completed syncs (mod 256): the receiver checks all three.
* ``CREDIT`` header: ``count`` more beats may be sent in the other ring direction.
* ``CONTINUE`` header: the next segment of the frame in progress follows (below).

Segments. A frame's data beats are sent in *segments* of at most :data:`SEGMENT_BEATS`: the
header and the first segment, then ``CONTINUE`` and the next segment, and so on. A segment goes
out on the link in one piece once all its beats are at hand; ``CREDIT`` beats may appear only
between segments (and between frames). The receiving link port
(:class:`~dfx_hw.router.rx_splitter.RxSplitter`) removes ``CONTINUE`` beats and steers ``CREDIT``
beats to the credit counter, so the router sees each frame as a header and its data beats. A
``CREDIT`` therefore never waits behind a frame whose data is still travelling (with credits on
the same wire as data, that wait could close a cycle around the ring and deadlock it); it waits
at most one segment. Anything else at a segment boundary is a protocol error.

Flow control. The receiver's data RX FIFO holds ``rx_depth`` beats. A sender starts with
``rx_depth`` credits (every router of a ring is built with the same ``rx_depth``), spends one
per ``DATA`` header and data beat it sends (``CONTINUE`` and ``CREDIT`` beats need none) and
sends nothing without a credit; the receiver returns the credits of the beats it took out of its
FIFO in ``CREDIT`` beats of at most ``rx_depth`` each, at the latest when its FIFO runs empty,
else in batches of :data:`CREDIT_BATCH`. So at most ``rx_depth`` data beats are ever in flight
or in the FIFO, and at most ``rx_depth`` credit beats (each returns at least one credit): the
data and credit FIFOs of a link port, ``rx_depth`` deep, never overflow.
"""

from amaranth.hdl import unsigned
from amaranth.lib import data, enum

__all__ = ["BeatKind", "HEADER_LAYOUT", "HEADER_BITS", "MAGIC", "COUNT_BITS", "CREDIT_BATCH",
           "SEGMENT_BEATS", "DEFAULT_RX_DEPTH", "header_value", "parse_header",
           "direction_slices"]

#: Marker in every header (a stray data beat is unlikely to carry it).
MAGIC = 0xD5
#: Width of ``count`` (elements of a slice, up to the ISA's ``total`` field width, or credits).
COUNT_BITS = 18
#: Credits are returned once this many are pending (or at once when the RX FIFO runs empty).
CREDIT_BATCH = 8
#: Data beats per segment of a frame (``CREDIT`` beats can be sent between segments).
SEGMENT_BEATS = 8
#: RX FIFO depth in beats of the U280 build (and so the credits a sender starts with): covers
#: the credit round trip at the link rate.
DEFAULT_RX_DEPTH = 256


class BeatKind(enum.Enum, shape=2):
    """What a header announces."""
    DATA = 1       #: a slice follows
    CREDIT = 2     #: flow-control credits returned (for the other ring direction)
    CONTINUE = 3   #: the next segment of the frame in progress follows


#: A header beat's low bits.
HEADER_LAYOUT = data.StructLayout({
    "magic": unsigned(8),
    "kind": BeatKind,
    "origin": unsigned(8),
    "tag": unsigned(8),
    "seq": unsigned(8),
    "count": unsigned(COUNT_BITS),
    "reserved": unsigned(12),
})
#: Bits of a header (the low bits of a beat); beats are at least this wide.
HEADER_BITS = HEADER_LAYOUT.size


def header_value(kind, *, origin=0, tag=0, seq=0, count=0):
    """The integer of a header beat (for benches and link models)."""
    return HEADER_LAYOUT.const({"magic": MAGIC, "kind": BeatKind(kind), "origin": origin,
                                "tag": tag, "seq": seq, "count": count}).as_value().value


def parse_header(beat):
    """Fields of a header beat (an integer) as a dict; ``kind`` is a :class:`BeatKind` or the
    raw integer if it is not one."""
    fields = {}
    for name, field in HEADER_LAYOUT:
        value = (beat >> field.offset) & ((1 << field.width) - 1)
        if name == "kind":
            try:
                value = BeatKind(value)
            except ValueError:
                pass
        fields[name] = value
    return fields


def direction_slices(cores):
    """``(cw, ccw)``: how many slices of a sync reach each core clockwise (from cores
    ``i - 1, ..., i - cw``, on ``link_prev``) and counter-clockwise (from ``i + 1, ...,
    i + ccw``, on ``link_next``) in a ring of ``cores``; ``cw + ccw == cores - 1``."""
    if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
        raise ValueError(f"cores must be a positive integer, not {cores!r}")
    return cores // 2, (cores - 1) // 2
