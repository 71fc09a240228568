"""The VPU's ISA front end (Amaranth simulation): every vector instruction of the ISA, encoded by
:func:`dfx_hw.isa.encode`, becomes the micro-op with the same operands."""

import pytest
from amaranth.sim import Simulator

from dfx_hw.isa import Instruction, Opcode as IsaOpcode, OPS, encode
from dfx_hw.model.bittrue.vector_ops import VECTOR_PRIMITIVES
from dfx_hw.vpu.isa_decoder import DECODED_OPCODES, IsaDecoder
from dfx_hw.vpu.layouts import Opcode, VPUConfig

CFG = VPUConfig(lanes=4, vrf_words=1024, srf_words=32)


def _fields(op):
    values = {"vdst": 96, "vsrc": 8, "vsrc2": 40, "sdst": 7, "ssrc": 3, "ssrc2": 5, "len": 33,
              "imm16": 0x3C00}
    return {name: values[name] for name in OPS[op].fields}


def _run(words, token=0):
    dut = IsaDecoder(config=CFG)
    out = []

    async def tb(ctx):
        ctx.set(dut.token, token)
        ctx.set(dut.ops.ready, 1)
        for word in words:
            ctx.set(dut.words.valid, 1)
            ctx.set(dut.words.payload, word)
            await ctx.delay(1e-9)
            valid = ctx.get(dut.ops.valid)
            out.append((valid, ctx.get(dut.ops.payload) if valid else None,
                        ctx.get(dut.words.ready)))
            await ctx.tick()
        ctx.set(dut.words.valid, 0)
        await ctx.tick()
        out.append(ctx.get(dut.error))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return out


def test_every_vpu_primitive_is_decoded():
    assert {op.name for op in DECODED_OPCODES} == set(VECTOR_PRIMITIVES) | {"SETS"}


@pytest.mark.parametrize("isa_op", DECODED_OPCODES, ids=lambda op: op.name)
def test_instruction_word_becomes_micro_op(isa_op):
    info = OPS[isa_op]
    fields = _fields(isa_op)
    flags = {"token"} if "token" in info.flags else set()
    (valid, op, ready), error = _run([encode(Instruction(isa_op, fields, flags))], token=10)
    assert valid and ready and not error
    assert op.opcode == Opcode[isa_op.name]
    assert op.dst == fields.get("vdst", fields.get("sdst"))
    sources = [fields[name] for name in info.fields if name in ("vsrc", "vsrc2", "ssrc", "ssrc2")]
    assert [op.src1, op.src2][:len(sources)] == sources
    assert op.length == (33 + 10 if flags else 33) if "len" in fields else op.length == 1
    if "imm16" in fields:
        assert op.imm == 0x3C00
    if "vdst" in fields and "sdst" in fields:      # a vector and its reduction
        assert op.imm == fields["sdst"]


def test_non_vector_instruction_and_far_address_are_errors():
    conv = encode(Instruction(IsaOpcode.END, {}))
    (valid, _, ready), error = _run([conv])
    assert not valid and ready and error
    far = encode(Instruction(IsaOpcode.VADD, {"vdst": 1 << 16, "vsrc": 0, "vsrc2": 0, "len": 4}))
    (valid, _, ready), error = _run([far])
    assert not valid and ready and error
