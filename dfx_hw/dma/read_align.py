"""Read realignment: memory beats -> words of ``V`` elements starting at any element."""

from amaranth.hdl import Array, Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.params import check_power_of_two

__all__ = ["ReadAligner", "align_job_layout"]


def align_job_layout(*, beat_elements, count_bits):
    """What the aligners need to know about one transfer: ``offset`` (element position of the
    first element inside its aligned beat), ``count`` (elements, >= 1) and ``beats`` (aligned
    beats the transfer touches)."""
    return data.StructLayout({
        "offset": range(beat_elements),
        "count": count_bits,
        "beats": count_bits,
    })


class ReadAligner(wiring.Component):
    """Turns the beats of one read (``E`` FP16 elements each, beat aligned) into
    ``ceil(count / V)`` words of ``V`` elements holding elements ``offset .. offset + count - 1``
    of the beat stream, element ``i`` of a word in bits ``16 i .. 16 i + 15``. Lanes past the
    transfer's last element are ``+0``. Every beat of the transfer is consumed.

    One word per clock: a beat is cut into ``E / V`` units, and each word is two consecutive
    units rotated by the job's constant ``offset % V``.

    Parameters
    ----------
    beat_elements : int
        ``E``, elements per memory beat (power of two).
    word_elements : int
        ``V``, elements per output word (power of two, <= ``E``).
    count_bits : int
        Width of the job's element and beat counts.

    Members
    -------
    job : In(stream.Signature(align_job_layout(...)))
    beats : In(stream.Signature(16 * E))
    words : Out(stream.Signature(16 * V))
    idle : Out(1)
    """

    def __init__(self, *, beat_elements, word_elements, count_bits):
        check_power_of_two("beat_elements", beat_elements)
        check_power_of_two("word_elements", word_elements)
        if word_elements > beat_elements:
            raise ValueError(f"word_elements ({word_elements}) must be <= beat_elements "
                             f"({beat_elements})")
        self._e, self._v, self._count_bits = beat_elements, word_elements, count_bits
        super().__init__({
            "job": In(stream.Signature(align_job_layout(beat_elements=beat_elements,
                                                        count_bits=count_bits))),
            "beats": In(stream.Signature(16 * beat_elements)),
            "words": Out(stream.Signature(16 * word_elements)),
            "idle": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        e, v = self._e, self._v
        q = e // v
        log_v = v.bit_length() - 1
        cb = self._count_bits

        active = Signal()
        rot = Signal(range(v))                 # offset % V
        pos = Signal(range(q))                 # unit position in the current beat
        step = Signal(cb + 1)                  # units taken so far (t)
        last_step = Signal(cb + 1)             # K = words
        beats_left = Signal(cb)
        left = Signal(cb + 1)                  # elements not yet emitted
        prev = Signal(16 * v)

        real = beats_left != 0
        units = Array(self.beats.payload[16 * v * i:16 * v * (i + 1)] for i in range(q))
        cur = Signal(16 * v)
        m.d.comb += cur.eq(Mux(real, units[pos], 0))
        space = ~self.words.valid | self.words.ready
        take = active & (~real | self.beats.valid) & ((step == 0) | space)
        final = step == last_step
        pop = take & real & ((pos == q - 1) | final)
        m.d.comb += [self.beats.ready.eq(pop), self.idle.eq(~active)]

        # The word: elements rot .. rot + V - 1 of (prev, cur), lanes past the end zeroed.
        both = Cat(prev, cur)
        elems = Array(both[16 * i:16 * (i + 1)] for i in range(2 * v))
        word = Signal(16 * v)
        for i in range(v):
            keep = (left >= v) | (left[:log_v + 1] > i) if log_v else left != 0
            m.d.comb += word[16 * i:16 * (i + 1)].eq(Mux(keep, elems[rot + i], 0))

        with m.If(self.words.ready):
            m.d.sync += self.words.valid.eq(0)
        with m.If(take):
            m.d.sync += [prev.eq(cur), step.eq(step + 1),
                         pos.eq(Mux(pos == q - 1, 0, pos + 1)) if q > 1 else pos.eq(0)]
            with m.If(pop):
                m.d.sync += beats_left.eq(beats_left - 1)
            with m.If(step != 0):
                m.d.sync += [self.words.valid.eq(1), self.words.payload.eq(word),
                             left.eq(Mux(left > v, left - v, 0))]
            with m.If(final):
                m.d.sync += active.eq(0)

        m.d.comb += self.job.ready.eq(~active)
        with m.If(self.job.valid & ~active):
            job = self.job.payload
            m.d.sync += [
                active.eq(job.count != 0),
                rot.eq(job.offset[:log_v] if log_v else 0),
                pos.eq(job.offset[log_v:] if q > 1 else 0),
                step.eq(0),
                last_step.eq((job.count + v - 1) >> log_v),
                beats_left.eq(job.beats),
                left.eq(job.count),
            ]
        return m
