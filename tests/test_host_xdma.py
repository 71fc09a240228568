"""The ``xdma`` device's byte-level protocol exercised for real: the XDMA driver's nodes
(``xdma0_user``, ``xdma0_h2c_0``, ``xdma0_c2h_0``) are served in a temporary directory by a test
thread with the whole-core RTL simulation (SMALL, Verilator) behind them. Every register access
is a 4-byte record at the register's offset and every memory access a record at its card
address (:mod:`dfx_hw.spec.card_map`); the tokens (and logits) generated through it are compared
with the ``rtl`` device's and the ISA simulator's, bit for bit."""

import errno
import os
import selectors
import socket
import threading

import numpy as np
import pytest

from dfx_hw.backends.rtl import RtlBackend
from dfx_hw.backends.xdma import XdmaBackend
from dfx_hw.control.loader import BitstreamMismatch
from dfx_hw.core.config import SMALL
from dfx_hw.host import Generation, XdmaDevice, rtl_ring
from dfx_hw.host.xdma import REPLY, REQUEST, node_paths
from dfx_hw.isa.encoding import encode_program
from dfx_hw.isasim import generate
from dfx_hw.model.bittrue.fp16 import to_bits
from dfx_hw.model.checkpoint import random_weights
from dfx_hw.model.config import GPT2Config
from dfx_hw.model.sampling import Sampler
from dfx_hw.rtlsim.sim import CoreSim
from dfx_hw.spec import card_map, hbm_map
from dfx_hw.spec.regmap import REGMAP
from tests.test_core_rtl import DDR_BYTES, HBM_BYTES, _model

REG = {name: reg.offset for name, reg in REGMAP.items()}


class FakeCards(threading.Thread):
    """Serves each core of ``sim`` as the XDMA nodes of ``directory/xdma<i>`` (Unix sockets,
    the record protocol of :mod:`dfx_hw.host.xdma`); simulates clocks whenever no request is
    waiting. ``log`` records ``(core, node, op, offset_or_address, length_or_value)``;
    ``version`` replaces what the VERSION register answers (an old bitstream)."""

    def __init__(self, directory, sim, *, version=None):
        super().__init__(daemon=True)
        self.sim, self.version = sim, version
        self.log = []
        self.prefixes = [str(directory / f"xdma{core}") for core in range(sim.cores)]
        self._selector = selectors.DefaultSelector()
        self._halt = threading.Event()
        for core, prefix in enumerate(self.prefixes):
            for node, path in node_paths(prefix).items():
                listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                listener.bind(path)
                listener.listen()
                self._selector.register(listener, selectors.EVENT_READ, ("listen", core, node))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self._halt.set()
        self.join(10)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()

    def run(self):
        while not self._halt.is_set():
            events = self._selector.select(timeout=0)
            if not events:
                if self.sim.run(200) == 0:                       # nothing runs: wait for work
                    self._selector.select(timeout=0.002)
                continue
            for key, _ in events:
                kind, core, node = key.data
                if kind == "listen":
                    conn, _ = key.fileobj.accept()
                    self._selector.register(conn, selectors.EVENT_READ, ("conn", core, node))
                elif not self._serve(key.fileobj, core, node):
                    self._selector.unregister(key.fileobj)
                    key.fileobj.close()

    @staticmethod
    def _receive(conn, length):
        data = b""
        while len(data) < length:
            part = conn.recv(length - len(data))
            if not part:
                return None
            data += part
        return data

    def _serve(self, conn, core, node):
        header = self._receive(conn, REQUEST.size)
        if header is None:
            return False
        op, offset, length = REQUEST.unpack(header)
        data = self._receive(conn, length) if op == b"W" else b""
        sim = self.sim
        try:
            if node == "user":
                if length != 4 or offset % 4:
                    raise OSError(errno.EINVAL, "")
                if op == b"R":
                    value = sim.read_reg(core, offset)
                    if offset == REG["VERSION"] and self.version is not None:
                        value = self.version
                    self.log.append((core, node, "R", offset, 4))
                    reply = value.to_bytes(4, "little")
                else:
                    value = int.from_bytes(data, "little")
                    sim.write_reg(core, offset, value)   # posted: the response is not seen
                    self.log.append((core, node, "W", offset, value))
                    reply = b""
            else:
                if (node, op) not in (("h2c", b"W"), ("c2h", b"R")):
                    raise OSError(errno.EINVAL, "")
                try:
                    kind, port, at = card_map.region_of(offset, length, ports=sim.hbm_ports)
                except ValueError:
                    raise OSError(errno.EFAULT, "") from None
                port = sim.ddr_port if kind == "ddr" else port
                self.log.append((core, node, op.decode(), offset, length))
                if op == b"W":
                    sim.write_memory(core, port, at, data)
                    reply = b""
                else:
                    reply = sim.read_memory(core, port, at, length)
        except OSError as error:
            conn.sendall(REPLY.pack(error.errno or errno.EIO))
            return True
        conn.sendall(REPLY.pack(0) + reply)
        return True


def _sim(cores):
    sim = CoreSim(SMALL, cores=cores, hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES)
    sim.set_hbm_timing(read_latency=60)
    return sim


def _xdma(prefix, **options):
    return XdmaDevice(prefix, hbm_ports=SMALL.hbm_channels, hbm_port_bytes=HBM_BYTES,
                      ddr_bytes=DDR_BYTES, poll_seconds=1e-3, **options)


def test_xdma_protocol_and_tokens_equal_the_rtl_device_bit_for_bit(tmp_path):
    model = _model(3, 1)
    prompt, n_new = [5, 17, 99], 3
    rtl = Generation(rtl_ring(_sim(1), hbm_bytes=HBM_BYTES, ddr_bytes=DDR_BYTES), model,
                     prompt, n_new)
    rtl_tokens = [token for token, _ in rtl.tokens(max_clocks=5_000_000)]
    sim = _sim(1)
    with FakeCards(tmp_path, sim) as cards:
        device = _xdma(cards.prefixes[0])
        run = Generation(device, model, prompt, n_new)
        tokens = [token for token, _ in run.tokens(timeout=300)]
        logits = run.logits()
        device.close()
    expected = generate(model, prompt, n_new)
    assert tokens == rtl_tokens == expected.tokens
    assert (to_bits(logits) == to_bits(rtl.logits())).all()
    assert (to_bits(logits) == to_bits(expected.logits)).all()

    log = cards.log
    # identity first: ID then VERSION, 4-byte reads at their offsets
    assert log[:2] == [(0, "user", "R", REG["ID"], 4), (0, "user", "R", REG["VERSION"], 4)]
    writes = [(offset, value) for _, node, op, offset, value in log
              if node == "user" and op == "W"]
    start = writes.index((REG["CONTROL"], 1))
    config = dict(writes[:start])
    assert config[REG["CORE_ID"]] == 0 and config[REG["CORE_COUNT"]] == 1
    assert config[REG["PROMPT_LEN"]] == 3 and config[REG["NEW_TOKENS"]] == 3
    program = encode_program(model.programs(n_prompt=3, n_new=3)[0])
    stores = [value for offset, value in writes[:start] if offset == REG["IBUF_DATA3"]]
    assert stores == [word >> 96 for word in program]
    assert config[REG["PROGRAM_LEN"]] == len(program)
    # images: one DMA write per HBM port at its card address, the DDR image at DDR_BASE
    images = hbm_map.split_image(model.geometry, model.cores[0].hbm)
    h2c = [(address, length) for _, node, op, address, length in log if node == "h2c"]
    assert h2c == [(card_map.hbm_address(port), len(image.tobytes()))
                   for port, image in enumerate(images)] + \
        [(card_map.DDR_BASE, 2 * model.cores[0].ddr.size)]
    # after START: STATUS polls and token reads from DDR (C2H) at the token slots
    after = log[log.index((0, "user", "W", REG["CONTROL"], 1)):]
    assert sum(1 for e in after if e[1:4] == ("user", "R", REG["STATUS"])) >= 2
    tokens_at = 2 * (model.cores[0].memmap.ddr["tokens"].addr + len(prompt))
    assert (0, "c2h", "R", card_map.DDR_BASE + tokens_at, 2 * n_new) in after


def test_xdma_appliance_ring_order_is_explicit(tmp_path):
    """Two cards given in reverse order: card xdma1 is ring position 0 (CORE_ID 0, tokens read
    from it), xdma0 position 1; each gets its id and the count before any START; the tokens are
    the ISA simulator's."""
    model = _model(5, 2)
    prompt, n_new = [7], 3
    sim = _sim(2)
    with FakeCards(tmp_path, sim) as cards:
        ring = [_xdma(cards.prefixes[1]), _xdma(cards.prefixes[0])]
        from dfx_hw.host import Appliance
        run = Generation(Appliance(ring), model, prompt, n_new)
        tokens = [token for token, _ in run.tokens(timeout=300)]
        for device in ring:
            device.close()
    assert tokens == generate(model, prompt, n_new).tokens
    first_start = next(i for i, e in enumerate(cards.log)
                       if e[1:5] == ("user", "W", REG["CONTROL"], 1))
    before = cards.log[:first_start]
    for core, position in ((1, 0), (0, 1)):
        assert (core, "user", "W", REG["CORE_ID"], position) in before
        assert (core, "user", "W", REG["CORE_COUNT"], 2) in before


def test_xdma_backend_equals_rtl_backend_token_for_token(tmp_path):
    """``dfx generate``'s backends: ``xdma`` (through the served nodes) and ``rtl`` give the same
    tokens; the xdma summary has latency in clocks and microseconds."""
    config = GPT2Config(vocab_size=101, n_positions=24, n_embd=24, n_layer=2, n_head=3)
    weights = random_weights(config, seed=4, scale=0.3)
    rtl = RtlBackend(config, weights, core_config=SMALL, hbm_latency=60)
    expected = list(rtl.generate([4, 9], 4, Sampler()))
    sim = _sim(1)
    with FakeCards(tmp_path, sim) as cards:
        xdma = XdmaBackend(config, weights, device=cards.prefixes[0], core_config=SMALL)
        tokens = list(xdma.generate([4, 9], 4, Sampler()))
    assert tokens == expected
    stats = xdma.stats()
    for key in ("latency_mean_clk", "latency_p50_clk", "latency_p99_clk", "latency_mean_us",
                "latency_p99_us"):
        assert key in stats
    assert stats["checked"] == "isasim" and "latency_p50_clk" in rtl.stats()


def test_old_bitstream_is_refused_with_both_versions(tmp_path):
    model = _model(3, 1)
    with FakeCards(tmp_path, _sim(1), version=0 << 16 | 7) as cards:
        device = _xdma(cards.prefixes[0])
        with pytest.raises(BitstreamMismatch) as caught:
            Generation(device, model, [1], 1)
        device.close()
    message = str(caught.value)
    assert cards.prefixes[0] in message and "version 0.7" in message
    assert "needs 1.0" in message and "rebuild the bitstream" in message
    assert not any(e[2] == "W" for e in cards.log)           # nothing written to the card


def test_missing_device_node_names_it(tmp_path):
    from dfx_hw.host import DeviceNotFound
    (tmp_path / "xdma0_user").write_bytes(b"")               # one node of three
    with pytest.raises(DeviceNotFound) as caught:
        XdmaDevice(str(tmp_path / "xdma0"))
    message = str(caught.value)
    assert f"{tmp_path}/xdma0_h2c_0, {tmp_path}/xdma0_c2h_0 not found" in message
    assert "XDMA driver loaded" in message and "xdma0_user" in message
