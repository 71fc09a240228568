"""The registry of synthesis / Verilog targets used by ``dfx resources`` and ``dfx verilog``.

To add a unit, append one :class:`Target` to :data:`TARGETS`. ``factory`` is a
``"module:attribute"`` string, imported only when the target is built, so a registry entry costs
nothing to import and a broken unit cannot break the others. ``u280=True`` marks the parameter
set of the U280 build: ``dfx verilog`` writes those. ``dfx resources`` synthesises every entry
except those marked ``slow`` (hours of Yosys on this kind of machine), which run when named or
with ``--all``.
"""

import importlib
from dataclasses import dataclass, field

__all__ = ["Target", "TARGETS", "select_targets"]


@dataclass(frozen=True)
class Target:
    """One design to elaborate: ``factory(**params)`` must return an Amaranth component.

    Attributes
    ----------
    name : str
        Unique name (file names and table rows), e.g. ``"fp16_add_l6"``.
    factory : str
        ``"package.module:Attribute"``.
    params : dict
        Keyword parameters of the factory.
    u280 : bool
        This is the parameter set of the U280 build.
    slow : bool
        Synthesis takes hours here: left out of a default ``dfx resources`` run.
    """

    name: str
    factory: str
    params: dict = field(default_factory=dict)
    u280: bool = True
    slow: bool = False

    def build(self):
        """Import the factory and return the component."""
        module_name, _, attribute = self.factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as error:
            raise ValueError(f"target {self.name!r}: cannot load factory {self.factory!r}: "
                             f"{error}") from None
        return factory(**self.params)


TARGETS = [
    # FP16 arithmetic (issue 4): combinational and at the default latency.
    Target("fp16_add_l0", "dfx_hw.arith:FP16Adder", {"latency": 0}, u280=False),
    Target("fp16_add", "dfx_hw.arith:FP16Adder"),
    Target("fp16_mul_l0", "dfx_hw.arith:FP16Multiplier", {"latency": 0}, u280=False),
    Target("fp16_mul", "dfx_hw.arith:FP16Multiplier"),
    Target("fp16_max_l0", "dfx_hw.arith:FP16Max", {"latency": 0}, u280=False),
    Target("fp16_max", "dfx_hw.arith:FP16Max"),
    # Vector processing unit (issue 6): register files, one SFU_V lane, the whole VPU.
    Target("vpu_vrf_l16", "dfx_hw.vpu.regfile:RegisterFile",
           {"lanes": 16, "depth": 4096, "read_ports": 2}),
    Target("vpu_srf", "dfx_hw.vpu.regfile:RegisterFile",
           {"lanes": 1, "depth": 32, "read_ports": 2, "write_ports": 2}),
    Target("vpu_sfu_lane0", "dfx_hw.vpu.unary_rom:make_unary_unit", u280=False),
    Target("vpu_l4", "dfx_hw.vpu.vpu:make_vpu", {"lanes": 4, "vrf_words": 256}, u280=False),
    Target("vpu_l16", "dfx_hw.vpu.vpu:make_vpu", {"lanes": 16}),
    # Matrix processing unit (issue 5): the MFU at the U280 size and small, one lane, the
    # accumulator, one GELU lane, and the whole matrix unit at a small size.
    # The full MFU: one lane took ~7 min of Yosys, so about 2 hours (docs/mpu.md scales the lane).
    Target("mpu_mfu_d64_l16", "dfx_hw.mpu.mfu:MFU", {"d": 64, "l": 16, "band": 8}, slow=True),
    Target("mpu_mfu_lane_d64", "dfx_hw.mpu.mfu:MFU", {"d": 64, "l": 1, "band": 8}, u280=False),
    Target("mpu_mfu_d8_l4", "dfx_hw.mpu.mfu:MFU", {"d": 8, "l": 4, "band": 8}, u280=False),
    Target("mpu_accumulator_l16", "dfx_hw.mpu.accumulator:Accumulator", {"l": 16, "band": 8}),
    Target("mpu_gelu_lane", "dfx_hw.mpu.gelu_rom:GeluUnit"),
    Target("mpu_matrix_unit_d8_l4", "dfx_hw.mpu.matrix_unit:MatrixUnit",
           {"d": 8, "l": 4, "band": 8, "max_rows": 256}, u280=False),
    # Control unit (issue 9): the whole unit at the U280 build, and with 4 in flight per unit.
    Target("control_unit", "dfx_hw.control.unit:make_control_unit"),
    Target("control_unit_if4", "dfx_hw.control.unit:make_control_unit", {"inflight": 4},
           u280=False),
    # DMA (issue 10): the whole DMA small (4 channels), the U280 weight stream (32 channels x
    # 512 bits into 64 x 16 tiles), and the whole DMA at the U280 size.
    Target("dma_n4_d16_l8", "dfx_hw.dma:make_dma",
           {"d": 16, "l": 8, "lanes": 4, "hbm_channels": 4, "ddr_data_bits": 128,
            "hbm_depth": 64, "ddr_depth": 32, "read_bursts": 8}, u280=False),
    Target("dma_weights_n32", "dfx_hw.dma.weights:WeightReader",
           {"channels": 32, "rows_per_tile": 1, "addr_bits": 33, "data_bits": 512, "id_bits": 2,
            "count_bits": 24, "max_burst": 16, "depth": 512, "outstanding": 32}),
    Target("dma_u280", "dfx_hw.dma:make_dma",
           {"d": 64, "l": 16, "lanes": 16, "hbm_channels": 32}, slow=True),
    Target("dma_matrix_front", "dfx_hw.dma.matrix_front:MatrixFront",
           {"d": 64, "l": 16, "channels": 32, "hbm_beat_bytes": 64, "ddr_beat_bytes": 64,
            "hbm_addr_bits": 33, "ddr_addr_bits": 34, "count_bits": 24}),
    Target("dma_read_align", "dfx_hw.dma.read_align:ReadAligner",
           {"beat_elements": 32, "word_elements": 16, "count_bits": 24}),
    Target("dma_write_align", "dfx_hw.dma.write_align:WriteAligner",
           {"beat_elements": 32, "word_elements": 16, "count_bits": 24, "beat_bits": 41}),
    Target("dma_scatter", "dfx_hw.dma.scatter:TransposeScatter",
           {"d": 64, "l": 16, "beat_elements": 32, "word_elements": 16, "count_bits": 24,
            "elem_bits": 42}),
    Target("dma_writer_n32", "dfx_hw.dma.writer:WriteIssuer",
           {"ports": 32, "addr_bits": 33, "data_bits": 512, "id_bits": 2, "outstanding": 8}),
    Target("dma_ddr_reader", "dfx_hw.dma.ddr_read:DDRReader",
           {"clients": 2, "addr_bits": 34, "data_bits": 512, "id_bits": 2, "count_bits": 24,
            "max_burst": 16, "depth": 64, "outstanding": 32}),
    # Router (issue 11): a small one and the U280 one (16 lanes = 256-bit beats, 8 cores,
    # 8192-element gathers, RX FIFO 256 beats).
    Target("router_l4", "dfx_hw.router.router:Router",
           {"lanes": 4, "max_cores": 4, "max_total": 512, "rx_depth": 16}, u280=False),
    Target("router_l16", "dfx_hw.router.router:Router"),
    # The whole DFX core (issue 12) at the U280 build; its resources come from `dfx resources
    # core` (per-module synthesis: the flattened core would take many hours).
    Target("dfx_core", "dfx_hw.core.core:make_core", slow=True),
]


def select_targets(names=None, *, u280_only=False, include_slow=True):
    """The registered targets, optionally only those named in ``names`` (in registry order).

    Targets marked ``slow`` are left out when ``include_slow`` is false, unless named.

    Raises
    ------
    ValueError
        A name in ``names`` is not registered, or two targets share a name.
    """
    seen = set()
    for target in TARGETS:
        if target.name in seen:
            raise ValueError(f"two synthesis targets are named {target.name!r}")
        seen.add(target.name)
    if names:
        unknown = sorted(set(names) - seen)
        if unknown:
            raise ValueError(f"unknown target(s) {', '.join(unknown)}; registered: "
                             f"{', '.join(t.name for t in TARGETS)}")
    return [t for t in TARGETS
            if (not names or t.name in names) and (t.u280 or not u280_only)
            and (include_slow or not t.slow or (names and t.name in names))]
