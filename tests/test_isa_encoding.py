"""The DFX ISA: layouts, encoder/decoder, text form, illegal words, generated document."""

import random
from pathlib import Path

import pytest

from dfx_hw.cli import main
from dfx_hw.isa import (FIELD_BITS, LAYOUTS, OPS, WORD_BITS, IllegalInstruction, Instruction,
                        InstrClass, Opcode, Register, assemble, decode, decode_program,
                        disassemble, encode)
from dfx_hw.isa.doc import isa_markdown
from dfx_hw.model.bittrue.vector_ops import VECTOR_PRIMITIVES

ROOT = Path(__file__).resolve().parent.parent


def _random_instruction(rng, opcode):
    info = OPS[opcode]
    fields = {}
    for name in info.fields:
        width = FIELD_BITS[name]
        if width is Register:
            fields[name] = rng.choice(list(Register))
        else:
            fields[name] = rng.choice([1, (1 << width) - 1, rng.randrange(1, 1 << width)])
    flags = frozenset(f for f in info.flags if rng.random() < 0.5)
    return Instruction(opcode, fields, flags)


@pytest.mark.parametrize("opcode", list(OPS), ids=lambda op: op.name)
def test_every_opcode_round_trips_words_and_text(opcode):
    rng = random.Random(opcode.value)
    for _ in range(20):
        instr = _random_instruction(rng, opcode)
        word = encode(instr)
        assert 0 <= word < 1 << WORD_BITS
        assert decode(word) == instr
        assert assemble(disassemble(instr)) == instr


def test_layouts_fill_the_word_and_put_the_opcode_first():
    for opcode, layout in LAYOUTS.items():
        assert layout.size == WORD_BITS
        assert layout["op"].offset == 0 and layout["op"].width == 6


def test_vector_instructions_are_exactly_the_bittrue_primitives():
    vector = {info.mnemonic.upper(): info for info in OPS.values()
              if info.cls is InstrClass.VECTOR}
    assert set(vector) == set(VECTOR_PRIMITIVES)
    for name, info in vector.items():
        assert info.primitive is VECTOR_PRIMITIVES[name]


def test_illegal_word_unknown_opcode():
    with pytest.raises(IllegalInstruction,
                       match=r"illegal instruction word 0x0{30}3f: unknown opcode 0x3f"):
        decode(0x3F)
    with pytest.raises(IllegalInstruction, match=r"unknown opcode 0x00"):
        decode(0)


def test_illegal_word_reserved_bits():
    word = encode(Instruction(Opcode.END, {})) | (1 << 100)
    with pytest.raises(IllegalInstruction, match=r"\(end\): reserved bits \[6:128\] are set"):
        decode(word)


def test_illegal_word_field_out_of_range():
    good = encode(Instruction(Opcode.VADD, {"vdst": 1, "vsrc": 2, "vsrc2": 3, "len": 4}))
    layout = LAYOUTS[Opcode.VADD]
    zero_len = good & ~(((1 << 16) - 1) << layout["len"].offset)
    with pytest.raises(IllegalInstruction, match=r"\(vadd\): field 'len' = 0 is out of range"):
        decode(zero_len)
    setr = encode(Instruction(Opcode.SETR, {"reg": Register.TOKEN, "imm32": 5}))
    bad_reg = setr | (7 << LAYOUTS[Opcode.SETR]["reg"].offset)
    with pytest.raises(IllegalInstruction, match=r"\(setr\): field 'reg' = 7 is out of range"):
        decode(bad_reg)


def test_decode_program_names_the_word_index():
    words = [encode(Instruction(Opcode.END, {})), 0x3F]
    with pytest.raises(IllegalInstruction, match=r"^word 1: illegal instruction word"):
        decode_program(words)


@pytest.mark.parametrize("text, message", [
    ("frob x=1", r"unknown mnemonic 'frob'"),
    ("vadd vdst=1 vsrc=2 vsrc2=3", r"missing \['len'\]"),
    ("vadd vdst=1 vsrc=2 vsrc2=3 len=4 bogus=1", r"unknown field 'bogus' for vadd"),
    ("vadd vdst=131072 vsrc=2 vsrc2=3 len=4", r"field 'vdst' = 131072 is out of range "
                                              r"\(it has 17 bits\)"),
    ("vadd vdst=1 vsrc=2 vsrc2=3 len=0", r"field 'len' = 0 is out of range"),
    ("vadd vdst=1 vsrc=2 vsrc2=3 len=x", r"field 'len' = 'x' is not an integer"),
    ("vadd vdst=1 vsrc=2 vsrc2=3 len=4 +gelu", r"flag\(s\) \['gelu'\] not allowed"),
    ("setr reg=PC imm32=1", r"field 'reg' = 'PC' is not a register"),
    ("", r"no instruction"),
])
def test_assembler_errors_name_the_text_and_field(text, message):
    with pytest.raises(IllegalInstruction, match=message):
        assemble(text)


def test_assembler_accepts_comments_and_hex():
    instr = assemble("sets sdst=3 imm16=0x3c00   # one")
    assert instr == Instruction(Opcode.SETS, {"sdst": 3, "imm16": 0x3C00})


def test_isa_document_is_current():
    """docs/isa.md is generated from the layouts (regenerate with `dfx asm doc`)."""
    current = (ROOT / "docs" / "isa.md").read_text(encoding="utf-8")
    assert current == isa_markdown(), "docs/isa.md is stale: run `dfx asm doc --out docs/isa.md`"


def test_cli_assembles_and_disassembles(tmp_path, capsys):
    source = tmp_path / "p.s"
    source.write_text("conv1d vdst=5 vsrc=3 hbm=100 ddr=7 k=768 n=2304 +layer +gelu\nend\n")
    assert main(["asm", "as", str(source)]) == 0
    words = capsys.readouterr().out
    hexfile = tmp_path / "p.hex"
    hexfile.write_text(words)
    assert main(["asm", "dis", str(hexfile)]) == 0
    assert capsys.readouterr().out == source.read_text()
    hexfile.write_text("3f\n")
    assert main(["asm", "dis", str(hexfile)]) == 2
    assert "p.hex:1: illegal instruction word" in capsys.readouterr().err
