"""Write realignment: words of ``V`` elements -> memory beats with element strobes, starting at
any element."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.params import check_power_of_two
from .read_align import align_job_layout

__all__ = ["WriteAligner", "write_beat_layout"]


def write_beat_layout(*, beat_elements, beat_bits):
    """One beat to write: ``beat`` (index of the aligned beat in the memory's beat space),
    ``data`` (``E`` elements), ``strobe`` (one bit per element) and ``last`` (last beat of the
    transfer)."""
    return data.StructLayout({
        "beat": beat_bits,
        "data": 16 * beat_elements,
        "strobe": beat_elements,
        "last": 1,
    })


class WriteAligner(wiring.Component):
    """Takes the ``ceil(count / V)`` words of one store (element ``i`` of a word in bits
    ``16 i ..``) and emits the aligned beats that put vector element ``x`` at element
    ``offset + x`` of the transfer's beat space, with a strobe bit set for exactly the
    ``count`` written elements. Beat ``k`` of the transfer has index ``first + k``.

    One ``V``-element unit per clock; a beat leaves when its last unit is filled or the transfer
    ends.

    Parameters
    ----------
    beat_elements, word_elements, count_bits
        As for :class:`~dfx_hw.dma.read_align.ReadAligner`.
    beat_bits : int
        Width of the beat index.

    Members
    -------
    job : In(stream.Signature(StructLayout({"align": align_job_layout(...), "first": beat_bits})))
    words : In(stream.Signature(16 * V))
    beats : Out(stream.Signature(write_beat_layout(...)))
    idle : Out(1)
    """

    def __init__(self, *, beat_elements, word_elements, count_bits, beat_bits):
        check_power_of_two("beat_elements", beat_elements)
        check_power_of_two("word_elements", word_elements)
        if word_elements > beat_elements:
            raise ValueError(f"word_elements ({word_elements}) must be <= beat_elements "
                             f"({beat_elements})")
        self._e, self._v, self._cb, self._bb = beat_elements, word_elements, count_bits, beat_bits
        job = data.StructLayout({
            "align": align_job_layout(beat_elements=beat_elements, count_bits=count_bits),
            "first": beat_bits,
        })
        super().__init__({
            "job": In(stream.Signature(job)),
            "words": In(stream.Signature(16 * word_elements)),
            "beats": Out(stream.Signature(write_beat_layout(beat_elements=beat_elements,
                                                            beat_bits=beat_bits))),
            "idle": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        e, v, cb = self._e, self._v, self._cb
        q = e // v
        log_v = v.bit_length() - 1

        active = Signal()
        rot = Signal(range(v))               # offset % V
        shift = Signal(range(v + 1))         # V - rot
        pos = Signal(range(q))
        words_left = Signal(cb + 1)          # words not yet taken
        room = Signal(cb + 2)                # count + rot - j*V: elements of unit j onward
        room_ge_v = Signal()                 # room >= V
        room_gt_v = Signal()                 # room > V: unit j is not the last
        first = Signal()                     # unit 0 (elements before rot are not written)
        prev = Signal(16 * v)
        beat = Signal(self._bb)
        acc_data = Signal(16 * e)
        acc_strobe = Signal(e)

        need_word = Signal()                 # words_left != 0, registered
        cur = Signal(16 * v)
        m.d.comb += cur.eq(Mux(need_word, self.words.payload, 0))
        final = ~room_gt_v
        emit = (pos == q - 1) | final
        space = ~self.beats.valid | self.beats.ready
        take = active & (~need_word | self.words.valid) & (~emit | space)
        m.d.comb += [self.words.ready.eq(take & need_word), self.idle.eq(~active)]

        # Unit j = elements V - rot .. 2V - rot - 1 of (W[j-1], W[j]): a barrel shift by the
        # job's constant (registered) amount.
        both = Cat(prev, cur)
        unit = Signal(16 * v)
        strobe = Signal(v)
        m.d.comb += unit.eq((both >> Cat(Const(0, 4), shift))[:16 * v])
        # Strobes from registered flags: only narrow compares on the beat path.
        for i in range(v):
            low_ok = ~first | (rot <= i)
            high_ok = room_ge_v | ((room[:log_v] > i) if log_v else 0)
            m.d.comb += strobe[i].eq(low_ok & high_ok)

        merged_data = Signal(16 * e)
        merged_strobe = Signal(e)
        m.d.comb += [merged_data.eq(acc_data), merged_strobe.eq(acc_strobe)]
        with m.Switch(pos):
            for p in range(q):
                with m.Case(p):
                    m.d.comb += [merged_data[16 * v * p:16 * v * (p + 1)].eq(unit),
                                 merged_strobe[v * p:v * (p + 1)].eq(strobe)]

        with m.If(self.beats.ready):
            m.d.sync += self.beats.valid.eq(0)
        with m.If(take):
            room_next = Mux(room > v, room - v, 0)
            m.d.sync += [prev.eq(cur), first.eq(0),
                         pos.eq(Mux(pos == q - 1, 0, pos + 1)) if q > 1 else pos.eq(0),
                         room.eq(room_next), room_ge_v.eq(room >= 2 * v),
                         room_gt_v.eq(room > 2 * v)]
            with m.If(need_word):
                m.d.sync += [words_left.eq(words_left - 1), need_word.eq(words_left != 1)]
            with m.If(emit):
                m.d.sync += [
                    self.beats.valid.eq(1),
                    self.beats.payload.beat.eq(beat),
                    self.beats.payload.data.eq(merged_data),
                    self.beats.payload.strobe.eq(merged_strobe),
                    self.beats.payload.last.eq(final),
                    beat.eq(beat + 1),
                    acc_strobe.eq(0),
                ]
            with m.Else():
                m.d.sync += [acc_data.eq(merged_data), acc_strobe.eq(merged_strobe)]
            with m.If(final):
                m.d.sync += active.eq(0)

        m.d.comb += self.job.ready.eq(~active)
        with m.If(self.job.valid & ~active):
            job = self.job.payload
            a = job.align
            r = a.offset[:log_v] if log_v else 0
            m.d.sync += [
                active.eq(a.count != 0),
                rot.eq(r),
                shift.eq(v - r),
                pos.eq(a.offset[log_v:] if q > 1 else 0),
                words_left.eq((a.count + v - 1) >> log_v),
                need_word.eq(a.count != 0),
                room.eq(a.count + r),
                room_ge_v.eq(a.count >= v - r),
                room_gt_v.eq(a.count > v - r),
                first.eq(1),
                beat.eq(job.first),
                acc_strobe.eq(0),
            ]
        return m
