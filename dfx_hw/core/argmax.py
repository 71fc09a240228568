"""The core's arg-max unit: ``ARGMAX`` and ``ARGMAXP`` over a vector streamed out of the register
file, bit for bit :func:`dfx_hw.model.bittrue.reduce.argmax` and the ISA simulator.

``ARGMAX`` (``len`` elements): the largest element by the comparator order
(:func:`~dfx_hw.model.bittrue.fp16.order_key`: ``-inf < ... < -0 < +0 < ... < +inf < NaN``) and
``base`` + the lowest index where it occurs; a NaN maximum is returned as the canonical NaN
``0x7E00``. ``ARGMAXP`` (``len`` pairs of two elements, ``(value, index)``): the pair with the
largest value, the earliest on ties, returned exactly as stored. Because the order is total and
ties go to the lower position, any comparison tree gives the model's result; this one compares
the elements of each word in a pipelined pairwise tree (one level per clock) and then keeps a
running best across words (one comparison per clock).
"""

from amaranth import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.params import check_power_of_two

__all__ = ["ArgmaxUnit", "argmax_command_layout", "argmax_result_layout", "CANONICAL_NAN"]

#: The FP16 NaN every arithmetic result is canonicalised to.
CANONICAL_NAN = 0x7E00

_LEN_BITS = 16


def argmax_command_layout():
    """One operation: ``pairs`` (0: ``ARGMAX`` over ``len`` elements, 1: ``ARGMAXP`` over
    ``len`` pairs) and ``base`` (added to the index of ``ARGMAX``)."""
    return data.StructLayout({"pairs": 1, "len": _LEN_BITS, "base": 16})


def argmax_result_layout():
    """The result: the winning value (FP16 bits) and its index (``ARGMAX``: ``base`` + the
    element index; ``ARGMAXP``: the pair's stored index)."""
    return data.StructLayout({"value": 16, "index": 16})


def _key(m, bits, name):
    """The comparator key of FP16 ``bits`` (:func:`~dfx_hw.model.bittrue.fp16.order_key`)."""
    key = Signal(16, name=name)
    nan = bits[:15] > 0x7C00
    m.d.comb += key.eq(Mux(nan, 0xFFFF, Mux(bits[15], ~bits & 0x7FFF, bits | 0x8000)))
    return key


class ArgmaxUnit(wiring.Component):
    """Arg-max over words of ``lanes`` FP16 elements.

    For each command, ``ceil(len / lanes)`` words (``ARGMAX``) or ``ceil(2 len / lanes)`` words
    (``ARGMAXP``) are taken from ``data`` (element ``i`` of a word in bits ``16 i ..``; lanes past
    the end of the vector are ignored) and one result is offered on ``result``. Commands and
    words are taken in order; ``result.valid`` comes from a register.

    Parameters
    ----------
    lanes : int
        Elements per word (a power of two, at least 2).

    Members
    -------
    command : In(stream.Signature(argmax_command_layout()))
    data : In(stream.Signature(16 * lanes))
    result : Out(stream.Signature(argmax_result_layout()))
    """

    def __init__(self, *, lanes):
        self._lanes = check_power_of_two("lanes", lanes)
        if lanes < 2:
            raise ValueError(f"lanes must be at least 2, not {lanes!r}")
        super().__init__({
            "command": In(stream.Signature(argmax_command_layout())),
            "data": In(stream.Signature(16 * lanes)),
            "result": Out(stream.Signature(argmax_result_layout())),
        })

    @property
    def tree_depth(self):
        """Pipeline registers between a word and the running comparison."""
        return (self._lanes - 1).bit_length()

    def elaborate(self, platform):
        m = Module()
        lanes = self._lanes
        entry = data.StructLayout({"valid": 1, "key": 16, "value": 16, "index": 16})
        depth = self.tree_depth

        # ---- the command in progress ---------------------------------------------------------
        active = Signal()        # taking the words of a command
        hold = Signal()          # its last word is taken; waiting until its result is taken
        pairs = Signal()
        base = Signal(16)
        elements = Signal(_LEN_BITS + 2)       # elements still to take (ARGMAXP: 2 per pair)
        position = Signal(_LEN_BITS + 2)       # element index of the next word's lane 0
        m.d.comb += self.command.ready.eq(~active & ~hold)
        with m.If(self.command.valid & self.command.ready):
            cmd = self.command.payload
            m.d.sync += [active.eq(1), pairs.eq(cmd.pairs), base.eq(cmd.base), position.eq(0),
                         elements.eq(Mux(cmd.pairs, cmd.len << 1, cmd.len))]

        take = Signal()
        last_word = elements <= lanes
        m.d.comb += [take.eq(active & self.data.valid), self.data.ready.eq(take)]
        with m.If(take):
            m.d.sync += [elements.eq(Mux(last_word, 0, elements - lanes)),
                         position.eq(position + lanes)]
            with m.If(last_word):
                m.d.sync += [active.eq(0), hold.eq(1)]

        # ---- level 0: one candidate per element (ARGMAXP: per pair, in the even lanes) --------
        level = []
        for i in range(lanes):
            value = self.data.payload[16 * i:16 * i + 16]
            cand = Signal(entry, name=f"c0_{i}")
            in_vector = C(i, _LEN_BITS + 2) < elements
            if i % 2 == 0:
                stored_index = self.data.payload[16 * (i + 1):16 * (i + 2)]
                m.d.comb += [cand.valid.eq(take & in_vector),
                             cand.index.eq(Mux(pairs, stored_index, base + position + i))]
            else:
                m.d.comb += [cand.valid.eq(take & in_vector & ~pairs),
                             cand.index.eq(base + position + i)]
            m.d.comb += [cand.key.eq(_key(m, value, f"key_{i}")), cand.value.eq(value)]
            level.append(cand)

        def better(a, b):
            """``b`` (later) wins over ``a`` (earlier) only with a strictly larger key."""
            return b.valid & (~a.valid | (b.key > a.key))

        # ---- pairwise tree, one register level per stage --------------------------------------
        flag = take & last_word
        for stage in range(depth):
            nxt = []
            for j in range(len(level) // 2):
                a, b = level[2 * j], level[2 * j + 1]
                win = Signal(entry, name=f"c{stage + 1}_{j}")
                m.d.sync += [win.eq(Mux(better(a, b), b, a)), win.valid.eq(a.valid | b.valid)]
                nxt.append(win)
            delayed = Signal(name=f"last{stage + 1}")
            m.d.sync += delayed.eq(flag)
            flag = delayed
            level = nxt
        word_best, word_last = level[0], flag

        # ---- running best across the words of one command -------------------------------------
        best = Signal(entry)
        winner = Signal(entry)
        m.d.comb += [winner.eq(Mux(better(best, word_best), word_best, best)),
                     winner.valid.eq(best.valid | word_best.valid)]
        with m.If(word_best.valid):
            m.d.sync += best.eq(winner)
        with m.If(word_last):
            m.d.sync += [
                best.valid.eq(0),
                self.result.valid.eq(1),
                self.result.payload.value.eq(
                    Mux(~pairs & (winner.key == 0xFFFF), CANONICAL_NAN, winner.value)),
                self.result.payload.index.eq(winner.index),
            ]
        with m.If(self.result.valid & self.result.ready):
            m.d.sync += [self.result.valid.eq(0), hold.eq(0)]
        return m
