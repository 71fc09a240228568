"""Instructions as Python objects, their binary words, and their text form.

:class:`Instruction` holds an opcode, its operand fields and its flags. :func:`encode` packs it
with the opcode's layout (:data:`~dfx_hw.isa.layouts.LAYOUTS`) and :func:`decode` unpacks a word,
checking it; :func:`disassemble` and :func:`assemble` convert to and from the text form

``mnemonic field=value ... +flag ...``

(fields in layout order, numbers in decimal, flags last), so that
``assemble(disassemble(i)) == i`` and ``decode(encode(i)) == i`` for every legal instruction.
"""

from dataclasses import dataclass, field

from amaranth.lib import data

from .layouts import FIELD_BITS, LAYOUTS, OPCODE_BITS, OPS, WORD_BITS, Opcode, Register

__all__ = [
    "IllegalInstruction", "Instruction", "encode", "decode", "disassemble", "assemble",
    "encode_program", "decode_program", "MNEMONICS",
]

MNEMONICS = {info.mnemonic: opcode for opcode, info in OPS.items()}
_NONZERO_FIELDS = ("len",)  # a zero length is never legal


class IllegalInstruction(ValueError):
    """A word or an instruction that is not a legal DFX instruction. The message names the
    word (or text) and the offending field."""


@dataclass(frozen=True)
class Instruction:
    """One DFX instruction.

    Parameters
    ----------
    op : Opcode
    fields : dict
        Every operand field of the opcode (see :data:`~dfx_hw.isa.layouts.OPS`), as ints (the
        ``reg`` field as a :class:`~dfx_hw.isa.layouts.Register`).
    flags : frozenset of str
        The flags that are set.
    """

    op: Opcode
    fields: dict = field(hash=False)
    flags: frozenset = frozenset()

    def __post_init__(self):
        if not isinstance(self.op, Opcode) or self.op not in OPS:
            raise IllegalInstruction(f"unknown opcode {self.op!r}")
        info = OPS[self.op]
        object.__setattr__(self, "_info", info)
        object.__setattr__(self, "flags", frozenset(self.flags))
        missing = set(info.fields) - set(self.fields)
        extra = set(self.fields) - set(info.fields)
        if missing or extra:
            raise IllegalInstruction(
                f"{info.mnemonic}: fields must be exactly {list(info.fields)}; "
                f"missing {sorted(missing)}, unknown {sorted(extra)}")
        bad_flags = self.flags - set(info.flags)
        if bad_flags:
            raise IllegalInstruction(
                f"{info.mnemonic}: flag(s) {sorted(bad_flags)} not allowed (allowed: "
                f"{list(info.flags)})")
        for name in info.fields:
            _check_field(info.mnemonic, name, self.fields[name], text=None)

    @property
    def info(self):
        """The :class:`~dfx_hw.isa.layouts.OpInfo` of the opcode."""
        return self._info

    def __getitem__(self, name):
        return self.fields[name]

    def __str__(self):
        return disassemble(self)


def _check_field(mnemonic, name, value, *, text):
    where = f"{mnemonic}" if text is None else f"{text!r}"
    width = FIELD_BITS[name]
    if width is Register:
        if not isinstance(value, Register):
            raise IllegalInstruction(f"{where}: field 'reg' must be a Register, not {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise IllegalInstruction(f"{where}: field {name!r} must be an int, not {value!r}")
    if not 0 <= value < (1 << width):
        raise IllegalInstruction(
            f"{where}: field {name!r} = {value} is out of range (it has {width} bits)")
    if name in _NONZERO_FIELDS and value == 0:
        raise IllegalInstruction(f"{where}: field {name!r} = 0 is out of range (must be >= 1)")


def encode(instr: Instruction) -> int:
    """The :data:`~dfx_hw.isa.layouts.WORD_BITS`-bit word of ``instr``."""
    value = {"op": instr.op, **instr.fields}
    if instr.info.flags:
        value["flags"] = {name: int(name in instr.flags) for name in instr.info.flags}
    return LAYOUTS[instr.op].const(value).as_bits()


def decode(word: int) -> Instruction:
    """The instruction of ``word``.

    Raises
    ------
    IllegalInstruction
        If the opcode is unknown, reserved bits are set, or a field is out of range; the message
        gives the word in hex and names the field.
    """
    if isinstance(word, bool) or not isinstance(word, int) or not 0 <= word < (1 << WORD_BITS):
        raise IllegalInstruction(f"instruction word {word!r} is not a {WORD_BITS}-bit integer")
    code = word & ((1 << OPCODE_BITS) - 1)
    hexword = f"0x{word:0{WORD_BITS // 4}x}"
    try:
        opcode = Opcode(code)
    except ValueError:
        opcode = None
    if opcode not in OPS:
        raise IllegalInstruction(f"illegal instruction word {hexword}: unknown opcode 0x{code:02x}")
    layout = LAYOUTS[opcode]
    view = data.Const(layout, word)
    info = OPS[opcode]
    if "reserved" in layout.members and view.reserved != 0:
        offset = layout["reserved"].offset
        raise IllegalInstruction(
            f"illegal instruction word {hexword} ({info.mnemonic}): reserved bits "
            f"[{offset}:{WORD_BITS}] are set")
    fields = {}
    for name in info.fields:
        if FIELD_BITS[name] is Register:
            raw = view.as_bits() >> layout[name].offset & ((1 << layout[name].width) - 1)
            try:
                fields[name] = Register(raw)
            except ValueError:
                raise IllegalInstruction(
                    f"illegal instruction word {hexword} ({info.mnemonic}): field 'reg' = {raw} "
                    f"is out of range (no such control register)") from None
        else:
            fields[name] = int(getattr(view, name))
            if name in _NONZERO_FIELDS and fields[name] == 0:
                raise IllegalInstruction(
                    f"illegal instruction word {hexword} ({info.mnemonic}): field {name!r} = 0 "
                    f"is out of range (must be >= 1)")
    flags = frozenset(name for name in info.flags if getattr(view.flags, name))
    return Instruction(opcode, fields, flags)


def disassemble(instr: Instruction) -> str:
    """The text form of ``instr`` (see the module docstring)."""
    parts = [instr.info.mnemonic]
    for name in instr.info.fields:
        value = instr.fields[name]
        parts.append(f"{name}={value.name if isinstance(value, Register) else value}")
    parts += [f"+{flag}" for flag in instr.info.flags if flag in instr.flags]
    return " ".join(parts)


def assemble(text: str) -> Instruction:
    """Parse one line of the text form (a ``#`` starts a comment).

    Raises
    ------
    IllegalInstruction
        For an unknown mnemonic, a missing/unknown/repeated field or flag, or a bad value; the
        message quotes the text and names the field.
    """
    line = text.split("#", 1)[0].strip()
    tokens = line.split()
    if not tokens:
        raise IllegalInstruction(f"{text!r}: no instruction")
    if tokens[0].lower() not in MNEMONICS:
        raise IllegalInstruction(f"{text!r}: unknown mnemonic {tokens[0]!r}")
    opcode = MNEMONICS[tokens[0].lower()]
    info = OPS[opcode]
    fields, flags = {}, set()
    for token in tokens[1:]:
        if token.startswith("+"):
            if token[1:] in flags:
                raise IllegalInstruction(f"{text!r}: flag {token!r} repeated")
            flags.add(token[1:])
            continue
        name, sep, value = token.partition("=")
        if not sep or name not in info.fields:
            raise IllegalInstruction(
                f"{text!r}: unknown field {name!r} for {info.mnemonic} (fields: "
                f"{list(info.fields)})")
        if name in fields:
            raise IllegalInstruction(f"{text!r}: field {name!r} repeated")
        if FIELD_BITS[name] is Register:
            if value.upper() not in Register.__members__:
                raise IllegalInstruction(f"{text!r}: field 'reg' = {value!r} is not a register")
            fields[name] = Register[value.upper()]
        else:
            try:
                fields[name] = int(value, 0)
            except ValueError:
                raise IllegalInstruction(
                    f"{text!r}: field {name!r} = {value!r} is not an integer") from None
            _check_field(info.mnemonic, name, fields[name], text=text)
    return Instruction(opcode, fields, frozenset(flags))


def encode_program(program) -> list:
    """The words of a sequence of instructions."""
    return [encode(instr) for instr in program]


def decode_program(words) -> list:
    """The instructions of a sequence of words (raises on the first illegal one, naming its
    index)."""
    out = []
    for index, word in enumerate(words):
        try:
            out.append(decode(word))
        except IllegalInstruction as error:
            raise IllegalInstruction(f"word {index}: {error}") from None
    return out
