"""The ring protocol: how routers frame all-gather slices and return flow-control credits on
Aurora-shaped links (:mod:`dfx_hw.bus.aurora`).

Topology. Core ``i`` sends on its ``link_next`` TX to core ``(i + 1) % N``'s ``link_prev`` RX
(data), and that link's reverse direction (core ``i + 1``'s ``link_prev`` TX to core ``i``'s
``link_next`` RX) carries credits. A ring of ``N`` routers uses ``N`` full-duplex links.

Beats. Every link beat is one ``data_bits`` word (the register-file word, ``16 * lanes`` bits).
A beat is either a *header* (its low :data:`HEADER_BITS` bits are a :data:`HEADER_LAYOUT`,
the rest zero) or a *data* beat of the frame a header announced:

* ``DATA`` header: one slice of a sync follows as ``ceil(count / lanes)`` data beats (element
  ``j`` of the slice in bits ``16 (j % lanes)`` of beat ``j // lanes``; the extra lanes of the
  last beat are unspecified). ``origin`` is the core whose slice it is, ``tag`` the SYNC/SYNCS
  tag, ``seq`` the sender's count of completed syncs (mod 256): the receiver checks all three.
* ``CREDIT`` header (reverse direction only): ``count`` more beats may be sent.

Flow control. The receiver's RX FIFO holds ``rx_depth`` beats. A sender starts with
``rx_depth`` credits (every router of a ring is built with the same ``rx_depth``), spends one
per beat it sends (headers too) and sends nothing without a credit; the receiver returns the
credits of the beats it took out of its FIFO in ``CREDIT`` beats of at most
``rx_depth`` each, at the latest when its FIFO runs empty, else in batches of
:data:`CREDIT_BATCH`. So at most ``rx_depth`` data beats are ever in flight or in the FIFO, and
at most ``rx_depth`` credit beats (each returns at least one credit): both RX FIFOs of a link
port, ``rx_depth`` deep, never overflow.

Every slice travels ``N - 1`` hops in the one direction (core ``i`` sends its own slice and
forwards the slices of ``i - 1, ..., i - N + 2``), cut through at beat granularity.
"""

from amaranth.hdl import unsigned
from amaranth.lib import data, enum

__all__ = ["BeatKind", "HEADER_LAYOUT", "HEADER_BITS", "MAGIC", "COUNT_BITS", "CREDIT_BATCH",
           "DEFAULT_RX_DEPTH", "header_value", "parse_header"]

#: Marker in every header (a stray data beat is unlikely to carry it).
MAGIC = 0xD5
#: Width of ``count`` (elements of a slice, up to the ISA's ``total`` field width, or credits).
COUNT_BITS = 18
#: Credits are returned once this many are pending (or at once when the RX FIFO runs empty).
CREDIT_BATCH = 8
#: RX FIFO depth in beats of the U280 build (and so the credits a sender starts with): covers
#: the credit round trip at the link rate.
DEFAULT_RX_DEPTH = 256


class BeatKind(enum.Enum, shape=2):
    """What a header announces."""
    DATA = 1     #: a slice follows
    CREDIT = 2   #: flow-control credits returned


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
