"""AMD Alveo U280 (``xcu280-fsvh2892-2L-e``) for Amaranth, in amaranth-boards' style.

Sources of the facts below (cited per resource as ``[XDC]``, ``[UG1314]``, ``[u280.md]``):

* ``[XDC]`` -- AMD's "AU280 HBM - Master XDC", revision 2.04 (file ``alveo-u280-xdc.xdc`` of the
  ``alveo-u280-xdc.zip`` download, 09 DEC 2020; read from a public copy at
  github.com/JensLiu/ewic-fpga). Pin, bank, I/O standard, net name and clock-tree comments.
* ``[UG1314]`` -- Alveo U280 Data Center Accelerator Card User Guide: the same clock tree
  (SI570 156.25 MHz, two SI546 QSFP clocks, 100 MHz system clocks) and pin tables.
* ``[u280.md]`` -- ``/work/shared/reference/u280.md`` (facts collected from open U280 designs),
  where AMD's file is silent (PERST# pull-up) or contradicts itself (QSFP FS polarity, below).

QSFP reference-clock select: the master XDC says both "FS = 1 -> 161.1328125 MHz (default when
the FPGA pin is Hi-Z or driven high), FS = 0 -> 156.25 MHz" (clock-tree header) and the opposite
("QSFP0_FS=0 161.132812 MHz and QSFP0_FS=1 156.250MHz", pin section). The header describes the
SI546 part itself and agrees with two open U280 designs (u280.md) that drive FS = 1, OE_B = 0 and
constrain 161.1328125 MHz: this file follows it. Verify on a card (the Aurora channel does not
come up at the other frequency).

PCIe lane pins: the master XDC's lines for ``pci_exp_txp[8]``/``[9]`` name MGTYTXP2_225 and
MGTYTXP3_225, while their ``txn`` and both ``rx`` pairs put lane 8 on channel 3 and lane 9 on
channel 2 of quad 225. A P/N pair must be one channel, so lane 8 is AU7/AU6 and lane 9 AV9/AV8
here (the XDMA IP places the GT lanes itself; these LOCs only have to agree with it).
"""

import os
import shutil
import subprocess

from amaranth.build import Attrs, Clock, DiffPairs, Pins, PinsN, Resource, Subsignal
from amaranth.vendor import XilinxPlatform

__all__ = ["AlveoU280Platform", "VIVADO_DIR"]

#: The project's Vivado sources (IP Tcl, constraints), sourced by the toolchain hooks.
VIVADO_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, "vivado"))

#: IP Tcl files sourced after the design is read, in this order (``vivado/ip/``).
IP_TCL = ("hbm.tcl", "axi_infrastructure.tcl", "xdma.tcl", "aurora_qsfp0.tcl",
          "aurora_qsfp1.tcl", "ddr4.tcl", "generate.tcl")
#: Constraint files read with the design (``vivado/constraints/``).
CONSTRAINTS = ("timing.xdc", "bitstream.xdc")

# DDR4 channel 0 (72-bit x4 RDIMM), [XDC] "DDR4 RDIMM Controller 0", ports c0_ddr4_*; bits in
# index order 0..N-1 (MIG order; the XDC's DQS note: strobes follow the MIG, not JEDEC, order).
_DDR4_C0 = {
    "adr": "BF46 BG43 BK45 BF42 BL45 BF43 BG42 BL43 BK43 BM42 BG45 BD41 BL42 BE44 BE43 BL46 "
           "BH44",
    "ba": "BH45 BM47", "bg": "BF41 BE41", "act_n": "BH41", "cke": "BH42", "cs_n": "BK46",
    "odt": "BG44", "parity": "BF45", "reset_n": "BG33",
    "dq": "BN32 BP32 BL30 BM30 BP29 BP28 BP31 BN31 BJ31 BH31 BF32 BF33 BH29 BH30 BF31 BG32 "
          "BK31 BL31 BK33 BL33 BL32 BM33 BN34 BP34 BH34 BH35 BF35 BF36 BJ33 BJ34 BG34 BG35 "
          "BM52 BL53 BL52 BL51 BN50 BN51 BN49 BM48 BE50 BE49 BE51 BD51 BF52 BF51 BG50 BF50 "
          "BH50 BJ51 BH51 BH49 BK50 BK51 BJ49 BJ48 BN44 BN45 BM44 BM45 BP43 BP44 BN47 BP47 "
          "BG54 BG53 BE53 BE54 BH52 BG52 BK54 BK53",
    "dqs_t": "BN29 BM28 BJ29 BG29 BL35 BM34 BK34 BH32 BM49 BP48 BF47 BG48 BH47 BK48 BN46 "
             "BN42 BH54 BJ52",
    "dqs_c": "BN30 BM29 BK30 BG30 BM35 BN35 BK35 BJ32 BM50 BP49 BF48 BG49 BJ47 BK49 BP46 "
             "BP42 BJ54 BJ53",
    "ck_t": "BH46", "ck_c": "BJ46",
}


def _ddr4_c0():
    sstl = Attrs(IOSTANDARD="SSTL12_DCI")
    pin = {name: Subsignal(name, Pins(_DDR4_C0[name], dir="o"), sstl)
           for name in ("adr", "ba", "bg", "act_n", "cke", "cs_n", "odt", "parity")}
    return Resource(
        "ddr4", 0,
        *pin.values(),
        Subsignal("reset_n", Pins(_DDR4_C0["reset_n"], dir="o"), Attrs(IOSTANDARD="LVCMOS12")),
        Subsignal("dq", Pins(_DDR4_C0["dq"], dir="io"), Attrs(IOSTANDARD="POD12_DCI")),
        Subsignal("dqs", DiffPairs(_DDR4_C0["dqs_t"], _DDR4_C0["dqs_c"], dir="io"),
                  Attrs(IOSTANDARD="DIFF_POD12_DCI")),
        Subsignal("ck", DiffPairs(_DDR4_C0["ck_t"], _DDR4_C0["ck_c"], dir="o"),
                  Attrs(IOSTANDARD="DIFF_SSTL12_DCI")),
    )


def _qsfp(number, *, rx_p, rx_n, tx_p, tx_n, refclk0, refclk1, oe_b, fs):
    """A QSFP28 cage: ``qsfp`` (the SI546 refclk1, 161.1328125 MHz with FS = 1, with its
    active-low output enable and frequency select), ``qsfp<n>_lane`` 0-3 (one GTY channel each:
    a design requests only the lanes it uses, so no unused GT pin becomes an undriven port) and
    ``qsfp_refclk0`` (the fixed 156.25 MHz SI570)."""
    lanes = [Resource(f"qsfp{number}_lane", k,
                      Subsignal("rx", DiffPairs(p, n, dir="i")),
                      Subsignal("tx", DiffPairs(tp, tn, dir="o")))
             for k, (p, n, tp, tn) in enumerate(zip(rx_p.split(), rx_n.split(), tx_p.split(),
                                                    tx_n.split()))]
    return [
        Resource("qsfp", number,
                 Subsignal("refclk1", DiffPairs(*refclk1, dir="i"), Clock(161.1328125e6)),
                 Subsignal("refclk1_oe", PinsN(oe_b, dir="o"), Attrs(IOSTANDARD="LVCMOS18")),
                 Subsignal("refclk1_fs", Pins(fs, dir="o"), Attrs(IOSTANDARD="LVCMOS18"))),
        *lanes,
        Resource("qsfp_refclk0", number, DiffPairs(*refclk0, dir="i"), Clock(156.25e6)),
    ]


class AlveoU280Platform(XilinxPlatform):
    """The Alveo U280 card.

    Resources: ``sysclk`` 0/1/3 (the 100 MHz LVDS system clocks, numbered as the schematic's
    SYSCLK0/1/3), ``rst`` (SW1, active low), ``pcie_x16`` (refclk, PERST#, 16 lanes),
    ``qsfp`` 0/1 (SI546 refclk1 and its OE_B/FS), ``qsfp0_lane``/``qsfp1_lane`` 0-3 (GTY
    channels), ``qsfp_refclk0`` 0/1 (SI570), ``hbm_cattrip``, ``ddr4`` 0. GT pins, GT
    reference clocks, DDR4 pins and SYSCLK0 (the DDR4 IP's own clock input) are requested raw
    (``dir="-"``) by the top level: the vendor IP has the buffers.

    The Vivado flow: :meth:`toolchain_prepare` adds the project's IP Tcl and constraints
    (``vivado/``) to the build and sources them after the design is read (``script_after_read``),
    so ``platform.build(top)`` writes a self-contained build directory that ``vivado -mode
    batch`` runs; reports land next to the bitstream (Amaranth's template).
    """

    device = "xcu280"
    package = "fsvh2892"
    speed = "2L-e"
    default_clk = "sysclk"      # SYSCLK0; the top level picks its own (SYSCLK3)
    default_rst = "rst"

    resources = [
        # [XDC] "LVDS Input SYSTEM CLOCKS": SYSCLK0 bank 65 (DDR4 C0 and HBM), SYSCLK1 bank 69
        # (DDR4 C1), both 1.2 V banks with DQS_BIAS for the AC-coupled LVDS; SYSCLK3 bank 75
        # (1.8 V, "General Purpose and HBM Clock Sources"). All 100 MHz ([XDC] create_clock
        # -period 10.000). u280.md notes some sources say DIFF_SSTL12: [XDC] says LVDS.
        Resource("sysclk", 0, DiffPairs("BJ43", "BJ44", dir="i"), Clock(100e6),
                 Attrs(IOSTANDARD="LVDS", DQS_BIAS="TRUE")),
        Resource("sysclk", 1, DiffPairs("BH6", "BJ6", dir="i"), Clock(100e6),
                 Attrs(IOSTANDARD="LVDS", DQS_BIAS="TRUE")),
        Resource("sysclk", 3, DiffPairs("G31", "F31", dir="i"), Clock(100e6),
                 Attrs(IOSTANDARD="LVDS")),

        # [XDC] CPU_RESET_FPGA L30, bank 75: SW1, "designed to be an active low reset input".
        Resource("rst", 0, PinsN("L30", dir="i"), Attrs(IOSTANDARD="LVCMOS18")),

        # [XDC] HBM_CATTRIP D32, bank 75, LVCMOS18, PULLDOWN TRUE: active high to the satellite
        # controller, which cuts the FPGA's power when it rises; derive it from the HBM IP's
        # DRAM_x_STAT_CATTRIP (PG276).
        Resource("hbm_cattrip", 0, Pins("D32", dir="o"),
                 Attrs(IOSTANDARD="LVCMOS18", PULLDOWN="TRUE")),

        # PCIe x16: [XDC] PCIE_CLK1 = MGTREFCLK0 of quad 225 (AR15/AR14), "PCIe REFCLK0 for x16";
        # PCIE_PERST BH26 (bank 67, LVCMOS18, active low; the pull-up is from u280.md, the XDC
        # does not set one); lanes 0-3 quad 227 ... 12-15 quad 224 ([XDC] pci_exp_*[n]).
        Resource("pcie_x16", 0,
                 Subsignal("refclk", DiffPairs("AR15", "AR14", dir="i"), Clock(100e6)),
                 Subsignal("perst", PinsN("BH26", dir="i"),
                           Attrs(IOSTANDARD="LVCMOS18", PULLUP="TRUE")),
                 Subsignal("rx", DiffPairs(
                     p="AL2 AM4 AN6 AN2 AP4 AR2 AT4 AU2 AV4 AW6 AW2 AY4 BA6 BA2 BB4 BC2",
                     n="AL1 AM3 AN5 AN1 AP3 AR1 AT3 AU1 AV3 AW5 AW1 AY3 BA5 BA1 BB3 BC1",
                     dir="i")),
                 Subsignal("tx", DiffPairs(
                     p="AL11 AM9 AN11 AP9 AR11 AR7 AT9 AU11 AU7 AV9 AW11 AY9 BA11 BB9 BC11 BC7",
                     n="AL10 AM8 AN10 AP8 AR10 AR6 AT8 AU10 AU6 AV8 AW10 AY8 BA10 BB8 BC10 BC6",
                     dir="o"))),

        # QSFP28 cages: [XDC] "QSFP28 MGTY Interface" and "Input Clocks and Controls for QSFP28
        # Port 0/1". QSFP0 = GTY bank 134 (Aurora Quad_X0Y10, lanes X0Y40-43 [u280.md]),
        # QSFP1 = bank 135 (Quad_X0Y11, X0Y44-47). refclk0 = MGT_SI570_CLOCK0/1 (156.25 MHz),
        # refclk1 = QSFP0/1_CLOCK from the SI546 enabled by OE_B (low) and set by FS.
        *_qsfp(0, rx_p="L53 K51 J53 H51", rx_n="L54 K52 J54 H52",
              tx_p="L48 L44 K46 J48", tx_n="L49 L45 K47 J49",
              refclk0=("T42", "T43"), refclk1=("R40", "R41"), oe_b="H32", fs="G32"),
        *_qsfp(1, rx_p="G53 F51 E53 D51", rx_n="G54 F52 E54 D52",
              tx_p="G48 E48 C48 A49", tx_n="G49 E49 C49 A50",
              refclk0=("P42", "P43"), refclk1=("M42", "M43"), oe_b="H30", fs="G33"),

        _ddr4_c0(),
    ]
    connectors = []

    # -- toolchain hooks -------------------------------------------------------------------

    def __init__(self, *, toolchain="Vivado", ip_settings=None):
        """``ip_settings``: Tcl variables (name -> value) set before the IP Tcl is sourced,
        so the IP configuration follows the top level's parameters (e.g. ``dfx_aurora_lanes``).
        """
        super().__init__(toolchain=toolchain)
        self.ip_settings = dict(ip_settings or {})

    def toolchain_prepare(self, fragment, name, **kwargs):
        """Add ``vivado/ip/*.tcl`` and ``vivado/constraints/*.xdc`` to the build and source the
        IP Tcl after the design is read (before any ``script_after_read`` the caller passes)."""
        for filename in IP_TCL:
            with open(os.path.join(VIVADO_DIR, "ip", filename)) as f:
                self.add_file(f"ip_{filename}", f.read())
        for filename in CONSTRAINTS:
            with open(os.path.join(VIVADO_DIR, "constraints", filename)) as f:
                self.add_file(filename, f.read())
        settings = "\n".join(f"set {key} {{{value}}}"
                             for key, value in sorted(self.ip_settings.items()))
        sources = "\n".join(f"source ip_{filename}" for filename in IP_TCL)
        overrides = dict(kwargs)
        user = overrides.get("script_after_read", "")
        overrides["script_after_read"] = f"{settings}\n{sources}\n{user}".rstrip()
        return super().toolchain_prepare(fragment, name, **overrides)

    def toolchain_program(self, products, name):
        """Program the card over JTAG with Vivado's hardware manager (a USB cable on the card's
        maintenance connector)."""
        vivado = os.environ.get("VIVADO", shutil.which("vivado") or "vivado")
        with products.extract(f"{name}.bit") as bitstream:
            script = ("open_hw_manager; connect_hw_server; open_hw_target; "
                      "current_hw_device [lindex [get_hw_devices xcu280*] 0]; "
                      f"set_property PROGRAM.FILE {{{bitstream}}} [current_hw_device]; "
                      "program_hw_devices [current_hw_device]; exit")
            subprocess.check_call([vivado, "-mode", "tcl", "-nojournal", "-nolog"],
                                  input=script.encode())
