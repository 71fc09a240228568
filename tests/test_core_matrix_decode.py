"""The core's matrix-instruction decoder: RTL (Icarus, cocotb) bit for bit against its Python
model on every matrix word the ISA simulator executes in real compiled programs (with the TOKEN
register each was issued with), and the model against the ISA simulator's own arithmetic."""

import numpy as np
import pytest

from dfx_hw.compiler import compile_model
from dfx_hw.core.matrix_decode import (DECODED_OPCODES, MatrixCommandError, MatrixDecoder,
                                       matrix_command)
from dfx_hw.isa.encoding import Instruction, encode
from dfx_hw.isa.layouts import Opcode
from dfx_hw.isasim.run import Session
from dfx_hw.model.checkpoint import random_weights
from dfx_hw.model.config import GPT2Config
from dfx_hw.spec.errors import ErrorCode
from sim.harness import run_cocotb

GEOMETRY = {"d": 64, "l": 16, "band": 8, "max_rows": 6400}


def _executed_matrix_words(heads=3, cores=2, prompt=(3, 9, 27), n_new=3):
    """(word, TOKEN) of every matrix-unit instruction core 0..N-1 executes in a generation."""
    config = GPT2Config(vocab_size=300, n_positions=40, n_embd=64 * heads, n_layer=2,
                        n_head=heads)
    model = compile_model(config, random_weights(config, seed=3, scale=0.2), cores=cores)
    session = Session(model, list(prompt), n_new)
    seen = []
    from dfx_hw.isa.layouts import Register

    def trace(core_id, pc, instr):
        if instr.op in DECODED_OPCODES:
            core = session.ring.cores[core_id]
            seen.append((encode(instr), core.regs[Register.TOKEN], instr))
    for core in session.ring.cores:
        core.trace = trace
    for _ in session.tokens():
        pass
    return seen


@pytest.fixture(scope="module")
def executed():
    return _executed_matrix_words()


def test_model_agrees_with_the_isa_simulator_arithmetic(executed):
    """The command's lengths are the ones the ISA simulator computes for the same word."""
    assert {instr.op for _, _, instr in executed} == set(DECODED_OPCODES)
    for word, token, instr in executed:
        cmd = matrix_command(word, token=token, **GEOMETRY)
        tok = token if "token" in instr.flags else 0
        if instr.op is Opcode.CONV1D:
            assert (cmd["x_len"], cmd["out_len"]) == (instr["k"], instr["n"])
            assert cmd["desc"]["bias"] == ("nobias" not in instr.flags)
        elif instr.op is Opcode.MASKEDMM:
            n = instr["n"] + tok
            assert cmd["out_len"] == -(-n // 16) * 16 and cmd["desc"]["token"] == n - 1
            assert cmd["x_len"] == instr["k"] and cmd["desc"]["reduce_max"] == 1
        else:
            assert (cmd["x_len"], cmd["out_len"]) == (instr["k"] + tok, instr["n"])


def test_matrix_decoder_rtl_matches_model_on_compiled_programs(executed):
    words = [[str(word), token] for word, token, _ in executed]
    run_cocotb(MatrixDecoder, GEOMETRY, test_module="sim.benches.core_matrix_decode",
               bench={"words": words, "geometry": GEOMETRY, "seed": 5, "idle": 0.3,
                      "backpressure": 0.3, "expect_error": None})


def _word(op, **fields):
    base = {"vdst": 0, "vsrc": 0, "hbm": 0, "k": 64, "n": 16}
    if op is Opcode.CONV1D:
        base["ddr"] = 0
    if op is Opcode.MASKEDMM:
        base.update(sdst=0, imm16=0x3000)
    base.update(fields)
    return encode(Instruction(op, base, set()))


@pytest.mark.parametrize("bad, code, info", [
    (_word(Opcode.MASKEDMM, k=65), ErrorCode.FIELD_RANGE, 65),        # q longer than a tile
    (_word(Opcode.MM, k=32, n=200), ErrorCode.FIELD_RANGE, 200),      # 13 column tiles > band 8
    (_word(Opcode.CONV1D, k=7000, n=4), ErrorCode.FIELD_RANGE, 7000),  # input > max_rows
    (encode(Instruction(Opcode.END, {}, set())), ErrorCode.ILLEGAL_OPCODE, 0),
], ids=["maskedmm-k", "mm-band", "conv1d-rows", "not-matrix"])
def test_matrix_decoder_refuses_what_the_matrix_unit_cannot_run(bad, code, info):
    """The model raises with the code, and the RTL reports it (sticky) after the good words
    before it, emits nothing after it and stops accepting words."""
    good = _word(Opcode.CONV1D, k=128, n=48)
    with pytest.raises(MatrixCommandError) as caught:
        matrix_command(bad, token=0, **GEOMETRY)
    assert (caught.value.code, caught.value.info) == (code, info)
    words = [[str(good), 0], [str(good), 0], [str(bad), 0], [str(good), 0]]
    run_cocotb(MatrixDecoder, GEOMETRY, test_module="sim.benches.core_matrix_decode",
               bench={"words": words, "geometry": GEOMETRY, "seed": 1, "idle": 0.2,
                      "backpressure": 0.2, "expect_error": [code.value, info, 2]})
