"""The register map table, its generated document, the host-side loader helpers, and the
instruction-buffer size against the compiler's largest program."""

from pathlib import Path

import pytest

from dfx_hw.compiler.memmap import build_memory_map
from dfx_hw.compiler.partition import core_slices
from dfx_hw.compiler.program import build_program
from dfx_hw.control import loader
from dfx_hw.control.params import DEFAULT_IBUF_DEPTH, LARGEST_PROGRAM, ControlConfig
from dfx_hw.geometry import U280
from dfx_hw.isa import assemble, encode
from dfx_hw.model.config import GPT2Config
from dfx_hw.spec.errors import ErrorCode
from dfx_hw.spec.regmap import (COUNTER_NAMES, ID_VALUE, REGISTERS, REGMAP, VERSION_MAJOR,
                                VERSION_MINOR, VERSION_VALUE, registers_markdown)

ROOT = Path(__file__).resolve().parent.parent


def test_register_document_is_current():
    """docs/registers.md is generated from dfx_hw/spec/regmap.py."""
    current = (ROOT / "docs" / "registers.md").read_text(encoding="utf-8")
    assert current == registers_markdown(), \
        "docs/registers.md is stale: run `python -m dfx_hw.spec.regmap > docs/registers.md`"


def test_register_table_is_consistent():
    offsets = [r.offset for r in REGISTERS]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert {0x2000, 0x3000} <= set(offsets)          # the XDMA driver's probes answer
    assert REGMAP["ID"].reset == ID_VALUE
    for name in COUNTER_NAMES:
        assert REGMAP[f"PERF_{name}_HI"].offset == REGMAP[f"PERF_{name}_LO"].offset + 4
    assert REGMAP["IBUF_DATA3"].locked and REGMAP["CORE_ID"].locked


def test_largest_compiled_program_fits_the_buffer_with_room():
    """GPT-2 1.5B on one core, compiled (the program does not depend on the weights or on the
    prompt and token counts: they are loop bounds), with and without logit capture."""
    config = GPT2Config.preset("1.5B")
    mm = build_memory_map(config, U280, core_slices(config, 1)[0], cores=1,
                          capture_logits=True)
    sizes = [len(build_program(mm, n_prompt=p, n_new=n, cores=1, capture_logits=c))
             for p, n, c in ((1, 1, False), (5, 100, False), (5, 100, True))]
    assert max(sizes) == LARGEST_PROGRAM
    assert DEFAULT_IBUF_DEPTH >= 3 * LARGEST_PROGRAM
    assert ControlConfig().ibuf_depth == DEFAULT_IBUF_DEPTH


def test_loader_refuses_a_program_that_does_not_fit():
    words = [encode(assemble("end"))] * 17
    with pytest.raises(loader.ProgramTooLarge,
                       match=r"the program has 17 instructions but the instruction buffer holds "
                             r"16 \(IBUF_DEPTH\): 1 too many"):
        loader.program_writes(words, depth=16)
    with pytest.raises(ValueError, match="the program is empty"):
        loader.program_writes([], depth=16)
    with pytest.raises(ValueError, match="program word 1 is not a 128-bit integer"):
        loader.program_writes([1, 1 << 128], depth=16)


def test_loader_writes_words_in_four_parts_then_the_length():
    word = encode(assemble("vadd vdst=1 vsrc=2 vsrc2=3 len=4"))
    writes = loader.program_writes([word], depth=16)
    assert writes[0] == (REGMAP["IBUF_ADDR"].offset, 0)
    assert sum(v << 32 * i for i, (_, v) in enumerate(writes[1:5])) == word
    assert [o for o, _ in writes[1:5]] == [REGMAP[f"IBUF_DATA{i}"].offset for i in range(4)]
    assert writes[-1] == (REGMAP["PROGRAM_LEN"].offset, 1)


def test_config_writes_and_errors():
    writes = dict(loader.config_writes(core_id=2, hbm_base=0x1_0000_0004))
    assert writes[REGMAP["CORE_ID"].offset] == 2
    assert writes[REGMAP["HBM_BASE_LO"].offset] == 4 and writes[REGMAP["HBM_BASE_HI"].offset] == 1
    with pytest.raises(ValueError, match="unknown configuration 'cores'"):
        loader.config_writes(cores=2)
    with pytest.raises(ValueError, match="core_id = 4294967296 does not fit 32 bits"):
        loader.config_writes(core_id=1 << 32)


def test_identity_check_refuses_other_bitstreams():
    loader.check_identity(ID_VALUE, VERSION_VALUE)
    with pytest.raises(loader.BitstreamMismatch, match="no DFX core at the register port"):
        loader.check_identity(0xFFFFFFFF, VERSION_VALUE)
    with pytest.raises(loader.BitstreamMismatch,
                       match=rf"version {VERSION_MAJOR + 1}\.0; this host needs "
                             rf"{VERSION_MAJOR}\.{VERSION_MINOR}"):
        loader.check_identity(ID_VALUE, (VERSION_MAJOR + 1) << 16)


def test_error_decode_names_code_pc_and_instruction():
    word = encode(assemble("vadd vdst=131070 vsrc=0 vsrc2=8 len=4"))
    error = loader.error_of(ErrorCode.VRF_RANGE.value, 131070, 7,
                            [word >> 32 * i & 0xFFFFFFFF for i in range(4)])
    assert str(error) == ("core stopped at pc 7 (vadd vdst=131070 vsrc=0 vsrc2=8 len=4): "
                          "VRF_RANGE: vector register-file range outside the file "
                          "(element 0x1fffe)")
    assert loader.error_of(0, 0, 0, [0] * 4) is None
    assert "unknown error code 0x99" in str(loader.error_of(0x99, 1, 2, [0x3F, 0, 0, 0]))
