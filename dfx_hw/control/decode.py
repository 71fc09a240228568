"""Decode of an instruction word into the scheduler's normalized form, over two registers.

Every field is read through the opcode's layout in :data:`dfx_hw.isa.layouts.LAYOUTS`; nothing
here states a bit position. The normalized form (:func:`decoded_layout`) says which unit the
instruction goes to, which control instruction it is, and what it reads and writes *before*
the control registers are applied: up to two vector ranges read (``r1``, ``r2``) and one
written (``w``) as ``(base, n, tok)`` -- the range is ``[base, base + n + (TOKEN if tok))``,
with ``w.pad`` meaning "round the length up to a multiple of ``l``" (MaskedMM's padded scores,
``n`` then already holds ``l - 1`` extra) -- up to two scalar registers read and one written
(``pair``: the register and the next), and one memory region read and one written
(``(hbm, base, layer, tok, stride)``). The rules are those of :mod:`dfx_hw.control.rules`.

The decode is split in two so that neither half is deep (the scheduler registers the word and
the :class:`Predecoder`'s result between them):

- :class:`Predecoder` (word straight from the instruction buffer's block RAM): the opcode
  one-hot, whether the opcode is illegal, per opcode whether the word's reserved bits are
  non-zero and whether its one range-checked field is out of range (all computed for every
  opcode in parallel, without the opcode: no per-opcode multiplexer on this side), and
  MaskedMM's ``n + l - 1``.
- :class:`Decoder` (registered word and predecode): the fields, as an AND-OR of each opcode's
  selection with its one-hot bit, and the error code and info.
"""

from functools import reduce

from amaranth import *
from amaranth.hdl import unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..isa.layouts import (FIELD_BITS, LAYOUTS, OPS, SRF_ADDR_BITS, VRF_ADDR_BITS, WORD_BITS,
                           InstrClass, Opcode, Register, Signature)
from ..spec.errors import ErrorCode
from .rules import UNITS

__all__ = ["Ctrl", "N_BITS", "OPCODES", "decoded_layout", "predecoded_layout", "Predecoder",
           "Decoder"]

#: Bits of a normalized range length before TOKEN is added (SYNC's ``total`` is the widest).
N_BITS = FIELD_BITS["total"]
#: The ISA's opcodes, in one-hot bit order.
OPCODES = tuple(OPS)


class Ctrl:
    """Values of the ``ctrl`` field."""
    NONE, SETR, LOOP, END = 0, 1, 2, 3


def _range(pad=False):
    members = {"valid": 1, "base": unsigned(VRF_ADDR_BITS), "n": unsigned(N_BITS), "tok": 1}
    if pad:
        members["pad"] = 1
    return data.StructLayout(members)


_SREG = data.StructLayout({"valid": 1, "idx": unsigned(SRF_ADDR_BITS), "pair": 1})
_KEY = data.StructLayout({"valid": 1, "hbm": 1, "base": unsigned(FIELD_BITS["ddr"]), "layer": 1,
                          "tok": 1, "stride": unsigned(FIELD_BITS["stride"])})


def decoded_layout():
    """The normalized instruction (see the module docstring)."""
    return data.StructLayout({
        "unit": range(len(UNITS)), "issue": 1, "ctrl": 2,
        "r1": _range(), "r2": _range(), "w": _range(pad=True),
        "sr1": _SREG, "sr2": _SREG, "sw": _SREG,
        "rkey": _KEY, "wkey": _KEY,
        "reg": 2, "imm32": 32, "limit": FIELD_BITS["limit"], "target": FIELD_BITS["target"],
        "token": 1,
        "error": ErrorCode, "info": 32,
    })


def predecoded_layout():
    """What :class:`Predecoder` finds (one bit per opcode of :data:`OPCODES` in ``onehot``,
    ``reserved`` and ``field``)."""
    n = len(OPCODES)
    return data.StructLayout({"onehot": n, "illegal": 1, "reserved": n, "field": n,
                              "n_pad": N_BITS})


def _check_geometry(l, d):
    for name, value in (("l", l), ("d", d)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1 \
                or value & (value - 1):
            raise ValueError(f"{name} must be a positive power of two, not {value!r}")


def _raw_reg(op, word):
    """The ``reg`` field of ``op`` as raw bits (the layout's view is an enum)."""
    field = LAYOUTS[op]["reg"]
    return word[field.offset:][:field.width]


class Predecoder(wiring.Component):
    """First half of the decode (combinational, meant to sit right after the buffer's RAM).

    For every opcode of :data:`OPCODES`, independently of the word's actual opcode:
    ``onehot`` (the opcode is this one), ``reserved`` (its layout's reserved bits are not
    zero) and ``field`` (its range-checked field is out of range: a zero ``len``, a ``reg``
    naming no control register, MaskedMM ``k > d``; no opcode has two); ``illegal``: the
    opcode is none of them; ``n_pad``: MaskedMM's ``n + l - 1``.

    Members
    -------
    word : In(WORD_BITS)
    out : Out(predecoded_layout())
    """

    def __init__(self, *, l, d):
        _check_geometry(l, d)
        self._l, self._d = l, d
        super().__init__({"word": In(WORD_BITS), "out": Out(predecoded_layout())})

    def elaborate(self, platform):
        m = Module()
        o, word = self.out, self.word
        opcode = LAYOUTS[Opcode.END](word).op.as_value()
        for i, op in enumerate(OPCODES):
            view = LAYOUTS[op](word)
            has = set(OPS[op].fields)
            checks = []
            if "len" in has:
                checks.append(view.len == 0)
            if "reg" in has:
                checks.append(_raw_reg(op, word) >= len(Register))
            if op is Opcode.MASKEDMM:
                checks.append(view.k > self._d)
            assert len(checks) <= 1, op       # Decoder's info takes one field per opcode
            m.d.comb += [o.onehot[i].eq(opcode == op.value),
                         o.field[i].eq(checks[0] if checks else 0)]
            if "reserved" in LAYOUTS[op].members:
                m.d.comb += o.reserved[i].eq(view.reserved.any())
        m.d.comb += [o.illegal.eq(~Cat(*(opcode == op.value for op in OPCODES)).any()),
                     o.n_pad.eq(LAYOUTS[Opcode.MASKEDMM](word).n + (self._l - 1))]
        return m


class Decoder(wiring.Component):
    """Second half of the decode: registered word and predecode in, normalized instruction out
    (combinational).

    Errors (in this priority): an opcode the ISA does not define (``ILLEGAL_OPCODE``, info =
    the opcode), non-zero reserved bits (``RESERVED_BITS``, info = the opcode), a zero ``len``
    or a ``reg`` field naming no control register (``FIELD_RANGE``, info = the field's value;
    MaskedMM ``k > d``, info = ``k``). ``token`` is the instruction's ``token`` flag (the
    scheduler refuses it with TOKEN >= 2**16).

    Parameters
    ----------
    l, d : int
        Tile geometry (MaskedMM pads its scores to a multiple of ``l``; its ``k`` is at most
        ``d``).

    Members
    -------
    word : In(WORD_BITS)
    pre : In(predecoded_layout())
        :class:`Predecoder`'s result for ``word``.
    cores : In(16)
        Ring size (SYNCS writes two words per core).
    out : Out(decoded_layout())
    """

    def __init__(self, *, l, d):
        _check_geometry(l, d)
        self._l, self._d = l, d
        super().__init__({"word": In(WORD_BITS), "pre": In(predecoded_layout()),
                          "cores": In(16), "out": Out(decoded_layout())})

    def elaborate(self, platform):
        m = Module()
        o, pre, word = self.out, self.pre, self.word
        layout = decoded_layout()
        picked, infos = [], []
        for i, op in enumerate(OPCODES):
            mine = Signal(layout, name=f"dec_{op.name.lower()}")
            view = LAYOUTS[op](word)
            self._fields(m, op, OPS[op], view, mine)
            picked.append(Mux(pre.onehot[i], mine.as_value(), 0))
            has = set(OPS[op].fields)
            if "reg" in has:
                infos.append(Mux(pre.onehot[i], _raw_reg(op, word), 0))
            elif op is Opcode.MASKEDMM:
                infos.append(Mux(pre.onehot[i], view.k, 0))
            # (a zero len's info is 0)
        fields = Signal(layout)
        m.d.comb += fields.eq(reduce(lambda a, b: a | b, picked))
        reserved = (pre.onehot & pre.reserved).any()
        field = (pre.onehot & pre.field).any()
        opcode = LAYOUTS[Opcode.END](word).op.as_value()
        m.d.comb += [o.eq(fields),
                     o.error.eq(Mux(pre.illegal, ErrorCode.ILLEGAL_OPCODE,
                                    Mux(reserved, ErrorCode.RESERVED_BITS,
                                        Mux(field, ErrorCode.FIELD_RANGE, ErrorCode.NONE)))),
                     o.info.eq(Mux(pre.illegal | reserved, opcode,
                                   Mux(field, reduce(lambda a, b: a | b, infos), 0)))]
        return m

    def _fields(self, m, op, info, view, o):
        """``o`` := the normalized instruction if the word is an ``op`` (fields only)."""
        flags = info.flags

        def flag(name):
            return view.flags[name] if name in flags else C(0, 1)

        def rng(target, base, n, tok=C(0, 1)):
            m.d.comb += [target.valid.eq(1), target.base.eq(base), target.n.eq(n),
                         target.tok.eq(tok)]

        def sreg(target, idx, pair=0, valid=C(1, 1)):
            m.d.comb += [target.valid.eq(valid), target.idx.eq(idx), target.pair.eq(pair)]

        def key(target, hbm, tok_stride=None):
            m.d.comb += [target.valid.eq(1), target.hbm.eq(hbm),
                         target.base.eq(view.hbm if hbm else view.ddr),
                         target.layer.eq(flag("layer"))]
            if tok_stride is not None:
                m.d.comb += [target.tok.eq(flag("token")), target.stride.eq(tok_stride)]

        m.d.comb += o.token.eq(flag("token"))
        unit = None if info.cls is InstrClass.CONTROL and op is not Opcode.SETS else \
            (InstrClass.VECTOR if op is Opcode.SETS else info.cls)
        if unit is not None:
            m.d.comb += [o.unit.eq(UNITS.index(unit)), o.issue.eq(1)]
        if op is Opcode.END:
            m.d.comb += o.ctrl.eq(Ctrl.END)
        elif op is Opcode.SETR:
            m.d.comb += [o.ctrl.eq(Ctrl.SETR), o.reg.eq(view.reg.as_value()),
                         o.imm32.eq(view.imm32)]
        elif op is Opcode.LOOP:
            m.d.comb += [o.ctrl.eq(Ctrl.LOOP), o.reg.eq(view.reg.as_value()),
                         o.limit.eq(view.limit), o.target.eq(view.target)]
        elif op is Opcode.SETS:
            sreg(o.sw, view.sdst)
        elif op is Opcode.CONV1D:
            rng(o.r1, view.vsrc, view.k)
            rng(o.w, view.vdst, view.n)
        elif op is Opcode.MASKEDMM:
            rng(o.r1, view.vsrc, view.k)
            rng(o.w, view.vdst, self.pre.n_pad, flag("token"))     # n + l - 1
            m.d.comb += o.w.pad.eq(1)
            key(o.rkey, hbm=1)
            sreg(o.sw, view.sdst)
        elif op is Opcode.MM:
            rng(o.r1, view.vsrc, view.k, flag("token"))
            rng(o.w, view.vdst, view.n)
            key(o.rkey, hbm=1)
        elif op is Opcode.ARGMAX:
            rng(o.r1, view.vsrc, view.len)
            sreg(o.sw, view.sdst, pair=1)
        elif op is Opcode.ARGMAXP:
            rng(o.r1, view.vsrc, view.len << 1)
            sreg(o.sw, view.sdst, pair=1)
        elif op is Opcode.LDD:
            key(o.rkey, hbm=0, tok_stride=view.stride)
            sreg(o.sr1, view.ssrc, valid=flag("index"))
            rng(o.w, view.vdst, view.len)
        elif op is Opcode.STD:
            rng(o.r1, view.vsrc, view.len)
            key(o.wkey, hbm=0, tok_stride=view.stride)
        elif op is Opcode.LDTOK:
            key(o.rkey, hbm=0, tok_stride=C(1, 16))
            sreg(o.sw, view.sdst)
        elif op is Opcode.STTOK:
            sreg(o.sr1, view.ssrc)
            key(o.wkey, hbm=0, tok_stride=C(1, 16))
        elif op in (Opcode.STH, Opcode.STHT):
            rng(o.r1, view.vsrc, view.len)
            key(o.wkey, hbm=1)
        elif op is Opcode.SYNC:
            rng(o.r1, view.vsrc, view.len)
            rng(o.w, view.vdst, view.total)
        elif op is Opcode.SYNCS:
            sreg(o.sr1, view.ssrc, pair=1)
            rng(o.w, view.vdst, self.cores << 1)
        else:
            sig = info.signature
            if sig in (Signature.SS, Signature.S):
                sreg(o.sr1, view.ssrc)
                if sig is Signature.SS:
                    sreg(o.sr2, view.ssrc2)
                sreg(o.sw, view.sdst)
            else:
                tok = flag("token")
                rng(o.r1, view.vsrc, view.len, tok)
                if sig.second_vector:
                    rng(o.r2, view.vsrc2, view.len, tok)
                elif sig.scalar_source:
                    sreg(o.sr1, view.ssrc)
                if sig.writes_scalar:
                    sreg(o.sw, view.sdst)
                if sig.writes_vector:
                    rng(o.w, view.vdst, view.len, tok)
