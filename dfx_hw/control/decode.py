"""Decode of an instruction word into the scheduler's normalized form (combinational).

Every field is read through the opcode's layout in :data:`dfx_hw.isa.layouts.LAYOUTS`; nothing
here states a bit position. The normalized form (:func:`decoded_layout`) says which unit the
instruction goes to, which control instruction it is, and what it reads and writes *before*
the control registers are applied: up to two vector ranges read (``r1``, ``r2``) and one
written (``w``) as ``(base, n, tok)`` -- the range is ``[base, base + n + (TOKEN if tok))``,
with ``w.pad`` meaning "round the length up to a multiple of ``l``" (MaskedMM's padded scores,
``n`` then already holds ``l - 1`` extra) -- up to two scalar registers read and one written
(``pair``: the register and the next), and one memory region read and one written
(``(hbm, base, layer, tok, stride)``). The rules are those of :mod:`dfx_hw.control.rules`.
"""

from amaranth import *
from amaranth.hdl import unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..isa.layouts import (FIELD_BITS, LAYOUTS, OPS, SRF_ADDR_BITS, VRF_ADDR_BITS, WORD_BITS,
                           InstrClass, Opcode, Register, Signature)
from ..spec.errors import ErrorCode
from .rules import UNITS

__all__ = ["Ctrl", "N_BITS", "decoded_layout", "Decoder"]

#: Bits of a normalized range length before TOKEN is added (SYNC's ``total`` is the widest).
N_BITS = FIELD_BITS["total"]


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


class Decoder(wiring.Component):
    """Instruction word in, normalized instruction out (combinational).

    Errors found here (in this priority): an opcode the ISA does not define
    (``ILLEGAL_OPCODE``, info = the opcode), non-zero reserved bits (``RESERVED_BITS``, info =
    the opcode), a zero ``len`` or a ``reg`` field naming no control register (``FIELD_RANGE``,
    info = the field's value; MaskedMM ``k > d``, info = ``k``). ``token`` is the instruction's
    ``token`` flag (the scheduler refuses it with TOKEN >= 2**16).

    Parameters
    ----------
    l, d : int
        Tile geometry (MaskedMM pads its scores to a multiple of ``l``; its ``k`` is at most
        ``d``).

    Members
    -------
    word : In(WORD_BITS)
    cores : In(16)
        Ring size (SYNCS writes two words per core).
    out : Out(decoded_layout())
    """

    def __init__(self, *, l, d):
        for name, value in (("l", l), ("d", d)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1 \
                    or value & (value - 1):
                raise ValueError(f"{name} must be a positive power of two, not {value!r}")
        self._l, self._d = l, d
        super().__init__({"word": In(WORD_BITS), "cores": In(16), "out": Out(decoded_layout())})

    def elaborate(self, platform):
        m = Module()
        o = self.out
        word = self.word
        opcode = LAYOUTS[Opcode.END](word).op
        m.d.comb += [o.error.eq(ErrorCode.ILLEGAL_OPCODE), o.info.eq(opcode)]
        with m.Switch(opcode):
            for op, info in OPS.items():
                view = LAYOUTS[op](word)
                with m.Case(op):
                    self._fields(m, op, info, view)
        return m

    def _fields(self, m, op, info, view):
        o = self.out
        flags = info.flags
        has = set(info.fields)

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

        # errors, in priority order (the last assignment wins)
        m.d.comb += [o.error.eq(ErrorCode.NONE), o.info.eq(0)]
        if "len" in has:
            with m.If(view.len == 0):
                m.d.comb += [o.error.eq(ErrorCode.FIELD_RANGE), o.info.eq(0)]
        if "reg" in has:
            raw = view.as_value()[LAYOUTS[op]["reg"].offset:][:LAYOUTS[op]["reg"].width]
            with m.If(raw >= len(Register)):
                m.d.comb += [o.error.eq(ErrorCode.FIELD_RANGE), o.info.eq(raw)]
        if op is Opcode.MASKEDMM:
            with m.If(view.k > self._d):
                m.d.comb += [o.error.eq(ErrorCode.FIELD_RANGE), o.info.eq(view.k)]
        if "reserved" in LAYOUTS[op].members:
            with m.If(view.reserved != 0):
                m.d.comb += [o.error.eq(ErrorCode.RESERVED_BITS), o.info.eq(op.value)]

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
            rng(o.w, view.vdst, view.n + (self._l - 1), flag("token"))
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
                if sig is Signature.VV:
                    rng(o.r2, view.vsrc2, view.len, tok)
                elif sig is Signature.VS:
                    sreg(o.sr1, view.ssrc)
                if sig is Signature.VR:
                    sreg(o.sw, view.sdst)
                else:
                    rng(o.w, view.vdst, view.len, tok)
