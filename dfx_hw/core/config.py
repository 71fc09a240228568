"""Build parameters of a DFX core, validated once (every unit's own parameters derive from it)."""

from dataclasses import asdict, dataclass

from ..geometry import U280
from ..vpu.layouts import DEFAULT_SRF_WORDS, DEFAULT_VRF_WORDS, VPUConfig

__all__ = ["CoreConfig", "SMALL", "DEMO", "BUILDS", "core_build"]


def _power_of_two(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < low \
            or value & (value - 1):
        raise ValueError(f"{name} must be a power of two of at least {low}, not {value!r}")


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")


@dataclass(frozen=True)
class CoreConfig:
    """One core.

    Parameters
    ----------
    d, l : int
        Tile shape; ``l`` is also the VPU's lanes (one matrix output beat = one register-file
        word). U280: 64 x 16.
    hbm_channels : int
        HBM AXI ports (U280: 32; a tile must be a whole number of rows of ports).
    hbm_data_bits, ddr_data_bits : int
        AXI data widths.
    vrf_words, srf_words : int
        Register files (words of ``l`` elements; FP16 scalars).
    max_rows : int
        Longest matrix input (the MPU's input buffer).
    ibuf_depth, inflight : int
        Instruction buffer words; instructions in flight per unit.
    max_cores, max_total, rx_depth : int
        Router: largest ring, longest gathered vector, RX FIFO beats (256 at the U280 build:
        the credit round trip of a 100-clock hop, docs/router.md; with 64 the 64-word slices of
        a 345M FC1 sync waited for credits, 400 clocks per layer on four cores).
    sync_timeout : int
        Clocks a sync may take before it is an error (0: none).
    hbm_depth, read_bursts : int
        DMA: read buffer beats and bursts in flight per HBM port.
    """
    d: int = U280.d
    l: int = U280.l
    hbm_channels: int = U280.hbm_channels
    hbm_data_bits: int = U280.hbm_port_bits
    ddr_data_bits: int = 512
    vrf_words: int = DEFAULT_VRF_WORDS
    srf_words: int = DEFAULT_SRF_WORDS
    max_rows: int = 6400
    ibuf_depth: int = 2048
    inflight: int = 8
    max_cores: int = 8
    max_total: int = 8192
    rx_depth: int = 256
    sync_timeout: int = 1 << 24
    hbm_depth: int = 512
    read_bursts: int = 32

    def __post_init__(self):
        for name in ("d", "l", "hbm_channels", "hbm_data_bits", "ddr_data_bits", "vrf_words",
                     "ibuf_depth", "inflight", "rx_depth"):
            _power_of_two(name, getattr(self, name))
        for name in ("srf_words", "max_rows", "max_cores", "max_total", "hbm_depth",
                     "read_bursts"):
            _positive(name, getattr(self, name))
        if self.l < 4:
            raise ValueError(f"l must be at least 4 (the router's beat is l elements), not "
                             f"{self.l}")
        if self.l > self.d:
            raise ValueError(f"l ({self.l}) must not exceed d ({self.d})")
        if isinstance(self.sync_timeout, bool) or not isinstance(self.sync_timeout, int) \
                or self.sync_timeout < 0:
            raise ValueError(f"sync_timeout must be a non-negative integer, not "
                             f"{self.sync_timeout!r}")

    @property
    def vpu(self):
        return VPUConfig(lanes=self.l, vrf_words=self.vrf_words, srf_words=self.srf_words)

    def as_dict(self):
        return asdict(self)


#: A d = 64 core smaller than the U280 build: a GPT-2 head fits one tile (MaskedMM's k <= d), and
#: l = 8 keeps a head's 64 output columns of ``p @ V`` within the matrix unit's 8 accumulator
#: entries (l = 4 would need 16: the core refuses that MM with FIELD_RANGE). 4 HBM ports of 128
#: bits; ``max_rows`` 2048 takes an fc2 input of 5 heads x 64 x 4 = 1,280 rows. Same RTL, smaller parameters; the ISA simulator with the same geometry is the check.
DEMO = CoreConfig(d=64, l=8, hbm_channels=4, hbm_data_bits=128, ddr_data_bits=128,
                  vrf_words=8192, max_rows=2048, ibuf_depth=1024, hbm_depth=128,
                  read_bursts=8, max_total=4096, rx_depth=64)

#: A small core for quick simulations: d = 8, l = 4, 4 HBM ports of 64 bits, a sync timeout of
#: 50,000 clocks (a sync of a small model takes a few hundred).
SMALL = CoreConfig(d=8, l=4, hbm_channels=4, hbm_data_bits=64, ddr_data_bits=64,
                   vrf_words=2048, max_rows=1024, ibuf_depth=1024, hbm_depth=64,
                   read_bursts=8, max_total=2048, sync_timeout=50_000, rx_depth=64)


#: The named builds (``dfx generate --core NAME``, ``dfx info --core-config NAME``).
BUILDS = {"u280": CoreConfig(), "demo": DEMO, "small": SMALL}


def core_build(name):
    """The :class:`CoreConfig` named ``name`` in :data:`BUILDS`.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if name not in BUILDS:
        raise ValueError(f"unknown core build {name!r}; known: {', '.join(BUILDS)}")
    return BUILDS[name]
