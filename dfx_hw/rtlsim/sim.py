"""A ring of simulated DFX cores (the Verilated model of :mod:`.build`), driven through ctypes:
memories and link models, the register map (an AXI4-Lite master), time."""

import ctypes

import numpy as np

from .build import build

__all__ = ["CoreSim", "CORE_PERIOD_PS", "LINK_PERIOD_PS"]

#: Clock periods of the simulation (``core_ps`` and ``link_ps`` of ``cpp/core_sim.cpp``): the
#: core at 200 MHz, the Aurora user clock at 390.625 MHz (100 Gb/s over a 256-bit link).
CORE_PERIOD_PS = 5000
LINK_PERIOD_PS = 2560


class CoreSim:
    """A ring of ``cores`` simulated cores (RTL).

    Parameters
    ----------
    config : CoreConfig
    cores : int
    hbm_bytes, ddr_bytes : int
        Memory behind each HBM port and behind the DDR port of each core.
    """

    def __init__(self, config, *, cores, hbm_bytes, ddr_bytes, progress=None):
        self.config = config
        self.cores = cores
        self._sim = None
        self._lib = ctypes.CDLL(str(build(config, progress=progress)))
        lib = self._lib
        lib.dfx_create.restype = ctypes.c_void_p
        lib.dfx_create.argtypes = [ctypes.c_int, ctypes.c_uint64, ctypes.c_uint64]
        for name, args in (
                ("dfx_destroy", []), ("dfx_reset", []),
                ("dfx_set_memory_timing", [ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                           ctypes.c_int, ctypes.c_double, ctypes.c_double,
                                           ctypes.c_uint32]),
                ("dfx_set_fault", [ctypes.c_int, ctypes.c_int, ctypes.c_uint64,
                                   ctypes.c_uint64, ctypes.c_int]),
                ("dfx_set_link_timing", [ctypes.c_int, ctypes.c_double, ctypes.c_double,
                                         ctypes.c_uint64]),
                ("dfx_drop_link", [ctypes.c_int]),
                ("dfx_mem_write", [ctypes.c_int, ctypes.c_int, ctypes.c_uint64,
                                   ctypes.c_char_p, ctypes.c_uint64]),
                ("dfx_mem_read", [ctypes.c_int, ctypes.c_int, ctypes.c_uint64,
                                  ctypes.c_char_p, ctypes.c_uint64]),
                ("dfx_reg_write", [ctypes.c_int, ctypes.c_uint32, ctypes.c_uint32]),
                ("dfx_reg_read", [ctypes.c_int, ctypes.c_uint32,
                                  ctypes.POINTER(ctypes.c_uint32)]),
                ("dfx_run", [ctypes.c_uint64, ctypes.c_uint64]),
                ("dfx_clocks", []),
                ("dfx_trace", [ctypes.c_int, ctypes.c_int]),
                ("dfx_trace_take", [ctypes.c_int, ctypes.POINTER(ctypes.c_uint64),
                                    ctypes.c_uint64]),
                ("dfx_memory_stats", [ctypes.c_int, ctypes.c_int,
                                      ctypes.POINTER(ctypes.c_uint64)])):
            function = getattr(lib, name)
            function.argtypes = [ctypes.c_void_p] + args
        lib.dfx_run.restype = ctypes.c_uint64
        lib.dfx_clocks.restype = ctypes.c_uint64
        lib.dfx_trace_take.restype = ctypes.c_uint64
        for name in ("dfx_mem_write", "dfx_mem_read", "dfx_reg_write", "dfx_reg_read"):
            getattr(lib, name).restype = ctypes.c_int
        self._sim = lib.dfx_create(cores, hbm_bytes, ddr_bytes)
        self.hbm_ports = config.hbm_channels
        self.ddr_port = config.hbm_channels

    def close(self):
        if self._sim:
            self._lib.dfx_destroy(self._sim)
            self._sim = None

    def __del__(self):
        self.close()

    # ---- models ------------------------------------------------------------------------------
    def set_memory_timing(self, *, port, read_latency, write_latency=40, beats_per_clock=1.0,
                          stall=0.0, seed=1, core=-1):
        self._lib.dfx_set_memory_timing(self._sim, core, port, read_latency, write_latency,
                                        beats_per_clock, stall, seed)

    def set_hbm_timing(self, **timing):
        for port in range(self.hbm_ports):
            self.set_memory_timing(port=port, **timing)

    def set_fault(self, *, core, port, lo, hi, resp=2):
        self._lib.dfx_set_fault(self._sim, core, port, lo, hi, resp)

    def set_link_timing(self, *, latency=40, beats_per_clock=1.0, idle=0.0, up_delay=100):
        """Every ring link: ``latency`` and ``up_delay`` in link clocks (``LINK_PERIOD_PS``)."""
        self._lib.dfx_set_link_timing(self._sim, latency, beats_per_clock, idle, up_delay)

    def set_ring_hop_latency(self, core_clocks=None):
        """Every ring link's latency set to ``core_clocks`` core clocks (rounded to link
        clocks; default :data:`dfx_hw.spec.costs.RING_HOP_LATENCY`, the hop the ISA simulator's
        timing model assumes), so the RTL and the model time the same ring."""
        from ..spec.costs import RING_HOP_LATENCY
        clocks = RING_HOP_LATENCY if core_clocks is None else core_clocks
        self.set_link_timing(latency=round(clocks * CORE_PERIOD_PS / LINK_PERIOD_PS))

    def drop_link(self, core):
        self._lib.dfx_drop_link(self._sim, core)

    # ---- memories (backdoor, as the host's DMA engine would write them) -----------------------
    def write_memory(self, core, port, offset, data):
        data = bytes(data)
        if self._lib.dfx_mem_write(self._sim, core, port, offset, data, len(data)):
            raise ValueError(f"write of {len(data)} bytes at {offset:#x} is outside port {port} "
                             f"of core {core}")

    def read_memory(self, core, port, offset, length):
        out = ctypes.create_string_buffer(length)
        if self._lib.dfx_mem_read(self._sim, core, port, offset, out, length):
            raise ValueError(f"read of {length} bytes at {offset:#x} is outside port {port} "
                             f"of core {core}")
        return out.raw

    def memory_stats(self, core, port):
        out = (ctypes.c_uint64 * 4)()
        self._lib.dfx_memory_stats(self._sim, core, port, out)
        return {"read_beats": out[0], "write_beats": out[1], "protocol_errors": out[2],
                "error_responses": out[3]}

    # ---- register map ------------------------------------------------------------------------
    def write_reg(self, core, offset, value):
        """AXI4-Lite write; returns BRESP (0 OKAY, 2 SLVERR)."""
        resp = self._lib.dfx_reg_write(self._sim, core, offset, value & 0xFFFFFFFF)
        if resp < 0:
            raise TimeoutError(f"core {core}: no write response at register {offset:#x}")
        return resp

    def read_reg(self, core, offset):
        """AXI4-Lite read; returns the value (raises on SLVERR)."""
        value = ctypes.c_uint32()
        resp = self._lib.dfx_reg_read(self._sim, core, offset, ctypes.byref(value))
        if resp < 0:
            raise TimeoutError(f"core {core}: no read response at register {offset:#x}")
        if resp:
            raise OSError(f"core {core}: register {offset:#x} answered RRESP={resp}")
        return value.value

    # ---- time --------------------------------------------------------------------------------
    def run(self, clocks, *, min_clocks=0):
        """Run up to ``clocks`` clocks, fewer once no core is running; return clocks run."""
        return self._lib.dfx_run(self._sim, clocks, min_clocks)

    @property
    def clocks(self):
        return self._lib.dfx_clocks(self._sim)

    # ---- trace port --------------------------------------------------------------------------
    def trace(self, core, on=True):
        """Start (dropping what was recorded) or stop recording ``core``'s trace port."""
        self._lib.dfx_trace(self._sim, core, int(on))

    def take_trace(self, core):
        """The events recorded on ``core``'s trace port since the last call, oldest first: a
        NumPy structured array with ``clock`` (core clocks since reset; the port is one clock
        late, so this is the clock after the event), ``pc``, ``issue`` and ``done`` (bit ``u`` =
        unit :data:`~dfx_hw.core.core.TRACE_UNITS` ``[u]`` wrote back)."""
        chunks = []
        buffer = (ctypes.c_uint64 * 65536)()
        while True:
            n = self._lib.dfx_trace_take(self._sim, core, buffer, len(buffer))
            if not n:
                break
            chunks.append(np.frombuffer(buffer, np.uint64, n).copy())
        raw = np.concatenate(chunks) if chunks else np.zeros(0, np.uint64)
        events = np.zeros(raw.size, [("clock", np.int64), ("pc", np.int32), ("issue", np.bool_),
                                     ("done", np.uint8)])
        events["clock"] = raw >> np.uint64(24)
        events["pc"] = raw & np.uint64(0xFFFF)
        events["issue"] = (raw >> np.uint64(16)) & np.uint64(1)
        events["done"] = (raw >> np.uint64(20)) & np.uint64(0xF)
        return events


