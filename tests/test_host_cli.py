"""``dfx info`` prints the identity and status registers decoded by the register map: on the
RTL simulation (SMALL core, Verilator) and on the ISA simulator; a missing XDMA node is one line
and exit status 2."""

from dfx_hw.cli import main
from dfx_hw.spec.regmap import VERSION_MAJOR, VERSION_MINOR


def _info(capsys, *argv):
    status = main(["info", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_info_rtl_prints_version_and_status(capsys):
    status, out, _ = _info(capsys, "--backend", "rtl", "--core-config", "small")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "device: rtl core 0 (RtlDevice)"
    assert 'ID           0x44465843 "DFXC"' in lines
    assert f"VERSION      {VERSION_MAJOR << 16 | VERSION_MINOR:#010x}  MINOR={VERSION_MINOR} " \
           f"MAJOR={VERSION_MAJOR}" in lines
    assert "STATUS       0x00000001  IDLE=1 RUNNING=0 DONE=0 ERROR=0" in lines
    assert "IBUF_DEPTH   0x00000400  (1024)" in lines           # SMALL.ibuf_depth
    assert f"identity: a DFX core, register map {VERSION_MAJOR}.{VERSION_MINOR} " \
           f"(this host: {VERSION_MAJOR}.{VERSION_MINOR})" in lines
    assert "status: IDLE" in lines and "error: none" in lines
    assert any(line.startswith("counters: CYCLES=0 ISSUED=0") for line in lines)


def test_info_isasim_prints_version_and_status(capsys):
    status, out, _ = _info(capsys, "--backend", "isasim", "--core-config", "small")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "device: isasim core 0 (IsaSimDevice)"
    assert 'ID           0x44465843 "DFXC"' in lines
    assert f"VERSION      {VERSION_MAJOR << 16 | VERSION_MINOR:#010x}  MINOR={VERSION_MINOR} " \
           f"MAJOR={VERSION_MAJOR}" in lines
    assert "STATUS       0x00000001  IDLE=1 RUNNING=0 DONE=0 ERROR=0" in lines
    assert "status: IDLE" in lines and "error: none" in lines


def test_info_xdma_missing_node_is_one_line(capsys, tmp_path):
    status, out, err = _info(capsys, "--backend", "xdma", "--device", str(tmp_path / "xdma3"))
    assert status == 2 and out == ""
    assert err == (f"dfx: error: XDMA device nodes {tmp_path}/xdma3_user, "
                   f"{tmp_path}/xdma3_h2c_0, {tmp_path}/xdma3_c2h_0 not found: is the card "
                   f"programmed with the DFX bitstream and the XDMA driver loaded "
                   f"(lsmod | grep xdma)? Nodes present: none\n")


def test_generate_on_a_missing_card_is_one_line(capsys, tmp_path, tiny_gpt2_checkpoint):
    status = main(["generate", "--backend", "xdma", "--device", str(tmp_path / "xdma0"),
                   "--model", str(tiny_gpt2_checkpoint), "--prompt", "ab",
                   "--max-new-tokens", "2"])
    out, err = capsys.readouterr()
    assert status == 2
    assert err.strip().splitlines()[-1].startswith(
        f"dfx: error: XDMA device nodes {tmp_path}/xdma0_user, ")
