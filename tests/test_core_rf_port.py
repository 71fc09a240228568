"""The core's register-file port: requesters sharing a real VPU (Icarus, cocotb), every stored
word bit for bit against the VPU micro-op model, and one ``retired`` pulse per notified
micro-op."""

import numpy as np
from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect, flipped

from dfx_hw.core.rf_port import RegisterFilePort
from dfx_hw.vpu.layouts import VPUConfig
from dfx_hw.vpu.programs import MicroOp, VPUState, execute
from dfx_hw.vpu.vpu import VPU
from sim.harness import run_cocotb

REQUESTERS = ["vector", "dma", "matrix"]


class PortWithVPU(wiring.Component):
    """A RegisterFilePort in front of a VPU (the core's arrangement, for the bench)."""

    def __init__(self, *, vpu, requesters):
        self._cfg = VPUConfig(**vpu)
        self.port = RegisterFilePort(config=self._cfg, requesters=requesters)
        self.vpu = VPU(config=self._cfg)
        members = {name: In(self.port.signature.members[name].signature.flip())
                   for name in requesters}
        members.update({"vpu_busy": Out(1), "vpu_error": Out(1)})
        self._names = requesters
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.port = self.port
        m.submodules.vpu = self.vpu
        for name in self._names:
            connect(m, flipped(getattr(self, name)), getattr(self.port, name))
        connect(m, self.port.vpu_instr, self.vpu.instr)
        connect(m, self.port.vpu_load, self.vpu.load)
        connect(m, self.vpu.store, self.port.vpu_store)
        m.d.comb += [self.port.vpu_retire.eq(self.vpu.retire),
                     self.vpu_busy.eq(self.vpu.busy), self.vpu_error.eq(self.vpu.error)]
        return m


def _program(r, cfg, rng):
    """Requester ``r``'s micro-ops (its own 64-element region and scalars 4r..4r+3), its load
    words, and what the model says it stores."""
    lanes = cfg.lanes
    base = 64 * r
    n = int(rng.integers(5, 30))
    ops, loads = [], []
    for _ in range(3):
        x = (rng.standard_normal(n) * 3).astype(np.float16)
        y = (rng.standard_normal(n) * 3).astype(np.float16)
        for vec in (x, y):
            padded = np.zeros(-(-n // lanes) * lanes, np.float16)
            padded[:n] = vec
            loads += list(padded.reshape(-1, lanes))
        ops += [("LOAD", base, 0, 0, n, 0), ("LOAD", base + 32, 0, 0, n, 1),
                ("VMUL", base, base, base + 32, n, 1), ("ACCUM", 4 * r, base, 0, n, 1),
                ("VADDS", base + 32, base, 4 * r, n, 0), ("STORE", 0, base + 32, 0, n, 1),
                ("SSTORE", 0, 4 * r, 0, 1, 1)]
    micro = [MicroOp(op, dst, s1, s2, length) for op, dst, s1, s2, length, _ in ops]
    state = execute(micro, VPUState(cfg), loads)
    stored = [int(e) for values in state.stored for e in np.asarray(values).view(np.uint16)]
    lengths = [len(values) for values in state.stored]
    load_words = [int.from_bytes(w.view(np.uint16).astype("<u2").tobytes(), "little")
                  for w in loads]
    return ops, load_words, stored, lengths


def test_rf_port_shares_the_vpu_bit_exact():
    vpu = {"lanes": 4, "vrf_words": 64, "srf_words": 32}
    cfg = VPUConfig(**vpu)
    rng = np.random.default_rng(7)
    programs, loads, expected, lengths = zip(*(_program(r, cfg, rng)
                                               for r in range(len(REQUESTERS))))
    run_cocotb(PortWithVPU, {"vpu": vpu, "requesters": REQUESTERS},
               test_module="sim.benches.core_rf_port",
               bench={"programs": programs, "loads": [[str(w) for w in l] for l in loads],
                      "expected": expected, "store_lengths": lengths, "seed": 3,
                      "idle": 0.3, "backpressure": 0.3})
