"""The Alveo U280 top level: the DFX core among the vendor IP.

The core is a parameter: ``U280Top(core_factory=...)`` calls ``core_factory(ports)`` with the
:class:`~dfx_hw.spec.core_ports.CorePorts` of the build and checks the result against the port
contract (:func:`~dfx_hw.spec.core_ports.check_core`). The default factory is the black-box
core (:class:`~dfx_hw.top.blackbox.BlackBoxCore`), which elaborates and lints without the real
core; plug ``DFXCore`` in with e.g. ``U280Top(core_factory=lambda ports: DFXCore(...))``.

Around the core (every vendor block is an ``Instance`` built from :mod:`.ip_ports`):

* clocks: SYSCLK3 (100 MHz) -> BUFG = ``init`` (Aurora init_clk, HBM ref/APB clocks); an
  ``MMCME4_BASE`` (VCO 900 MHz) -> ``sync`` 200 MHz (core) and ``hbm`` 450 MHz (HBM AXI);
  XDMA ``axi_aclk`` = ``pcie`` 250 MHz; MIG ``c0_ddr4_ui_clk`` = ``ddr``; each Aurora
  ``user_clk_out`` = ``ring_next`` / ``ring_prev``;
* resets: the SW1 button resets everything; each domain's reset goes through an Amaranth
  ``ResetSynchronizer`` (asynchronous assert, synchronous release). The core (``sync``) stays in
  reset until the MMCM locks, both HBM stacks report ``apb_complete`` and the MIG has
  calibrated, so it never issues to a memory that is not ready;
* HBM: 32 ports, each ``core.hbm[i]`` + host -> ``xbar_merge`` -> ``mem_cc`` (200 -> 450 MHz)
  -> ``hbm_dw`` (512 -> 256 bits) -> ``hbm_pc`` (AXI4 -> AXI3) -> ``AXI_ii``; HBM_CATTRIP =
  ``DRAM_0_STAT_CATTRIP | DRAM_1_STAT_CATTRIP``;
* XDMA Gen3 x16: ``m_axil`` -> ``axil_cc`` -> ``core.ctrl``; ``m_axi`` -> ``host_cc`` ->
  ``xbar_host_top`` -> ``xbar_hbm_lo``/``_hi`` (one port per pseudo-channel) and DDR, so the
  host loads the HBM and DDR images (address map in ``vivado/ip/axi_infrastructure.tcl``);
* DDR4 channel 0 (MIG): ``core.ddr`` + host -> ``xbar_merge`` -> ``mem_cc`` -> ``c0_ddr4_s_axi``;
* two Aurora 64B/66B cores: QSFP0 = ``core.ring_next``, QSFP1 = ``core.ring_prev``; the QSFP
  reference oscillators enabled (OE_B = 0) at 161.1328125 MHz (FS = 1); reset sequencing by
  :class:`~dfx_hw.top.reset.AuroraResetSequencer`.
"""

from amaranth.hdl import Cat, ClockDomain, ClockSignal, Const, Elaboratable, Module, ResetSignal
from amaranth.hdl import Signal
from amaranth.lib import io
from amaranth.lib.cdc import ResetSynchronizer

from ..spec.core_ports import U280_PORTS, CorePorts, check_core
from . import ip_ports as ip
from .blackbox import BlackBoxCore
from .reset import AuroraResetSequencer

__all__ = ["U280Top", "MEM_ID_BITS", "MEM_ADDR_BITS", "HOST_ADDR_BITS", "HBM_AXI_MHZ",
           "ip_settings", "ip_modules"]

#: ID / address width of the merged memory paths (core IDs in slot 0, host IDs in slot 1).
MEM_ID_BITS = 7
MEM_ADDR_BITS = 34
#: Address bits of the host (XDMA) memory map (HBM at 0, DDR at 0x4_0000_0000).
HOST_ADDR_BITS = 35
HOST_ID_BITS = 4
HBM_AXI_MHZ = 450
HBM_PC_BYTES = 256 << 20


def ip_settings(ports=U280_PORTS):
    """Tcl variables the IP Tcl reads, from the top level's parameters (one source of truth)."""
    return {"dfx_hbm_axi_mhz": HBM_AXI_MHZ, "dfx_hbm_ports": 32, "dfx_core_mhz": 200,
            "dfx_mem_addr_bits": MEM_ADDR_BITS, "dfx_mem_id_bits": MEM_ID_BITS,
            "dfx_host_addr_bits": HOST_ADDR_BITS, "dfx_reg_addr_bits": ports.reg_addr_bits,
            "dfx_aurora_lanes": ports.link_lanes}


def ip_modules(ports=U280_PORTS):
    """``{module name: port list}`` of every IP the top instantiates (for the lint stubs)."""
    return {
        "hbm_u280": ip.hbm_ports(),
        "mem_cc": ip.clock_converter_ports(addr=MEM_ADDR_BITS, data=512, id=MEM_ID_BITS),
        "hbm_dw": ip.dwidth_converter_ports(addr=MEM_ADDR_BITS, si_data=512, mi_data=256,
                                            si_id=MEM_ID_BITS),
        "hbm_pc": ip.protocol_converter_ports(addr=MEM_ADDR_BITS, data=256),
        "xbar_merge": ip.crossbar_ports(n_si=2, n_mi=1, addr=MEM_ADDR_BITS, data=512,
                                        id=MEM_ID_BITS),
        "host_cc": ip.clock_converter_ports(addr=HOST_ADDR_BITS, data=512, id=HOST_ID_BITS),
        "xbar_host_top": ip.crossbar_ports(n_si=1, n_mi=3, addr=HOST_ADDR_BITS, data=512,
                                           id=HOST_ID_BITS),
        "xbar_hbm_lo": ip.crossbar_ports(n_si=1, n_mi=16, addr=HOST_ADDR_BITS, data=512,
                                         id=HOST_ID_BITS),
        "xbar_hbm_hi": ip.crossbar_ports(n_si=1, n_mi=16, addr=HOST_ADDR_BITS, data=512,
                                         id=HOST_ID_BITS),
        "axil_cc": ip.axil_clock_converter_ports(addr=ports.reg_addr_bits),
        "xdma_u280": ip.xdma_ports(),
        "aurora_qsfp0": ip.aurora_ports(lanes=ports.link_lanes),
        "aurora_qsfp1": ip.aurora_ports(lanes=ports.link_lanes),
        "ddr4_c0": ip.ddr4_ports(addr=MEM_ADDR_BITS, id=MEM_ID_BITS),
    }


class _Bus:
    """Signals for the ports of one IP instance, by port name."""

    def __init__(self, name, ports):
        self.ports = {p.name: p for p in ports}
        self.sig = {p.name: Signal(p.width, name=f"{name}__{p.name}") for p in ports}

    def __getitem__(self, name):
        return self.sig[name]

    def connections(self, *, skip=()):
        return {n: s for n, s in self.sig.items() if n not in skip}


def _axi_fields(bus, prefix):
    """``{field: (signal, dir)}`` of the AXI ports ``{prefix}field`` of a bus."""
    return {n[len(prefix):]: (bus.sig[n], bus.ports[n].dir) for n in bus.sig
            if n.startswith(prefix)}


def _slot(fields, index, count):
    """View slot ``index`` of crossbar fields concatenated over ``count`` slots."""
    out = {}
    for f, (s, d) in fields.items():
        w = len(s) // count
        out[f] = (s[index * w:(index + 1) * w], d)
    return out


def _link(m, master, slave, *, id_base=0):
    """Connect AXI ``master`` fields (the master's outputs are ``"o"``) to ``slave`` fields.

    Addresses and IDs are zero-extended or truncated to the slave's width (``id_base`` is ORed
    into the slave's IDs); fields one side lacks are tied off (an absent ID reads 0)."""
    for f, (ms, md) in master.items():
        if f not in slave:
            if md == "i":
                m.d.comb += ms.eq(0)
            continue
        ss, _ = slave[f]
        if md == "o":
            value = ms
            if f in ("awid", "arid", "wid") and id_base:
                value = ms | Const(id_base, len(ss))
            m.d.comb += ss.eq(value)
        else:
            m.d.comb += ms.eq(ss)
    for f, (ss, sd) in slave.items():
        if f not in master and sd == "i":
            defaults = {"awburst": 1, "arburst": 1, "awsize": 0, "arsize": 0}
            m.d.comb += ss.eq(defaults.get(f, 0))


def _core_fields(interface, *, master):
    """AXI fields of a core port (``master``: the core drives AW/W/AR)."""
    out = {}
    for name in dir(interface):
        if name.startswith("_"):
            continue
        value = getattr(interface, name)
        if isinstance(value, Signal):
            out[name] = (value, None)
    master_out = {"awid", "awaddr", "awlen", "awsize", "awburst", "awlock", "awcache",
                  "awprot", "awqos", "awvalid", "wdata", "wstrb", "wlast", "wvalid", "bready",
                  "arid", "araddr", "arlen", "arsize", "arburst", "arlock", "arcache", "arprot",
                  "arqos", "arvalid", "rready"}
    return {f: (s, ("o" if (f in master_out) == master else "i")) for f, (s, _) in out.items()}


class U280Top(Elaboratable):
    """The U280 top level (see the module docstring).

    Parameters
    ----------
    core_factory : callable
        ``core_factory(ports) -> Component`` fitting :func:`~dfx_hw.spec.core_ports.core_signature`
        (keyword-only; default: :class:`~dfx_hw.top.blackbox.BlackBoxCore`).
    ports : CorePorts
        The core's port sizes (default: the U280 build).
    aurora_reset_cycles : int
        ``init`` clocks the Aurora cores are held in ``pma_init`` after reset (default about
        1.3 s at 100 MHz, PG074 / u280.md).
    """

    def __init__(self, *, core_factory=None, ports=U280_PORTS, aurora_reset_cycles=1 << 27):
        if not isinstance(ports, CorePorts):
            raise TypeError(f"ports must be a CorePorts, not {ports!r}")
        if core_factory is None:
            def core_factory(ports):
                return BlackBoxCore(ports=ports)
        if not callable(core_factory):
            raise TypeError(f"core_factory must be callable (ports -> core), not "
                            f"{core_factory!r}")
        if ports.hbm_addr_bits > MEM_ADDR_BITS - 1 or ports.ddr_addr_bits > MEM_ADDR_BITS:
            raise ValueError(f"the core's memory addresses must fit the {MEM_ADDR_BITS}-bit "
                             f"memory paths")
        if ports.hbm_id_bits > MEM_ID_BITS - 1 or ports.ddr_id_bits > MEM_ID_BITS - 1:
            raise ValueError(f"the core's AXI IDs must be at most {MEM_ID_BITS - 1} bits (the "
                             f"top bit of the merged ID names the host)")
        if ports.hbm_data_bits != 512 or ports.ddr_data_bits != 512:
            raise ValueError("the U280 memory paths are built for 512-bit core ports")
        self._core_factory = core_factory
        self._ports = ports
        self._aurora_reset_cycles = aurora_reset_cycles

    @property
    def ports(self):
        return self._ports

    def ip_settings(self):
        return ip_settings(self._ports)

    def elaborate(self, platform):
        P = self._ports
        core = check_core(self._core_factory(P), P)
        m = Module()
        m.submodules.core = core
        modules = ip_modules(P)

        # -- clocks ------------------------------------------------------------------------
        for name in ("init", "sync", "hbm", "pcie", "ddr", "ring_next", "ring_prev"):
            m.domains += ClockDomain(name)
        m.submodules.sysclk3 = sysclk3 = io.Buffer("i", platform.request("sysclk", 3, dir="-"))
        m.submodules.button = button = io.Buffer("i", platform.request("rst", 0, dir="-"))
        clk100 = Signal()
        m.submodules.bufg_init = ip.ip_instance("BUFG", ip.PRIMITIVES["BUFG"],
                                                I=sysclk3.i, O=clk100)
        m.d.comb += ClockSignal("init").eq(clk100)
        m.submodules.rs_init = ResetSynchronizer(button.i, domain="init")

        mmcm_fb, mmcm_core, mmcm_hbm, locked = Signal(), Signal(), Signal(), Signal()
        m.submodules.mmcm = ip.ip_instance(
            "MMCME4_BASE", ip.PRIMITIVES["MMCME4_BASE"],
            params={"CLKIN1_PERIOD": 10.0, "DIVCLK_DIVIDE": 1, "CLKFBOUT_MULT_F": 9.0,
                    "CLKOUT0_DIVIDE_F": 4.5, "CLKOUT1_DIVIDE": 2},   # VCO 900: 200 / 450 MHz
            CLKIN1=clk100, CLKFBIN=mmcm_fb, RST=ResetSignal("init"), PWRDWN=Const(0, 1),
            CLKFBOUT=mmcm_fb, CLKOUT0=mmcm_core, CLKOUT1=mmcm_hbm, LOCKED=locked)
        for domain, source in (("sync", mmcm_core), ("hbm", mmcm_hbm)):
            m.submodules[f"bufg_{domain}"] = ip.ip_instance(
                "BUFG", ip.PRIMITIVES["BUFG"], I=source, O=ClockSignal(domain))

        # -- HBM ---------------------------------------------------------------------------
        hbm = _Bus("hbm", modules["hbm_u280"])
        hbm_ready = Signal()
        m.d.comb += [hbm["HBM_REF_CLK_0"].eq(clk100), hbm["HBM_REF_CLK_1"].eq(clk100),
                     hbm_ready.eq(hbm["apb_complete_0"] & hbm["apb_complete_1"])]
        for s in (0, 1):
            m.d.comb += [hbm[f"APB_{s}_PCLK"].eq(clk100),
                         hbm[f"APB_{s}_PRESET_N"].eq(~ResetSignal("init"))]
        m.submodules.cattrip = cattrip = io.Buffer("o", platform.request("hbm_cattrip", 0,
                                                                         dir="-"))
        m.d.comb += cattrip.o.eq(hbm["DRAM_0_STAT_CATTRIP"] | hbm["DRAM_1_STAT_CATTRIP"])

        # -- DDR4 (MIG) --------------------------------------------------------------------
        ddr = _Bus("ddr4", modules["ddr4_c0"])
        ddr_pins = platform.request("ddr4", 0, dir="-")
        ddr_clk = platform.request("sysclk", 0, dir="-")
        ddr_ready = Signal()
        m.d.comb += [ddr["sys_rst"].eq(ResetSignal("init")),
                     ClockSignal("ddr").eq(ddr["c0_ddr4_ui_clk"]),
                     ddr["c0_ddr4_aresetn"].eq(~ResetSignal("ddr")),
                     ddr_ready.eq(ddr["c0_init_calib_complete"])]
        m.submodules.rs_ddr = ResetSynchronizer(ddr["c0_ddr4_ui_clk_sync_rst"], domain="ddr")
        ddr_pin_map = {"c0_ddr4_act_n": ddr_pins.act_n, "c0_ddr4_adr": ddr_pins.adr,
                       "c0_ddr4_ba": ddr_pins.ba, "c0_ddr4_bg": ddr_pins.bg,
                       "c0_ddr4_cke": ddr_pins.cke, "c0_ddr4_odt": ddr_pins.odt,
                       "c0_ddr4_cs_n": ddr_pins.cs_n, "c0_ddr4_ck_t": ddr_pins.ck.p,
                       "c0_ddr4_ck_c": ddr_pins.ck.n, "c0_ddr4_reset_n": ddr_pins.reset_n,
                       "c0_ddr4_parity": ddr_pins.parity}

        # -- resets of the PLL domains --------------------------------------------------------
        not_ready = Signal()
        m.d.comb += not_ready.eq(~locked | button.i | ~hbm_ready | ~ddr_ready)
        m.submodules.rs_sync = ResetSynchronizer(not_ready, domain="sync")
        m.submodules.rs_hbm = ResetSynchronizer(~locked | button.i, domain="hbm")

        # -- XDMA --------------------------------------------------------------------------
        pcie = platform.request("pcie_x16", 0, dir="-")
        m.submodules.perst = perst = io.Buffer("i", pcie.perst)
        pcie_gt, pcie_div2, pcie_sys = Signal(), Signal(), Signal()
        m.submodules.pcie_refclk = ip.ip_instance(
            "IBUFDS_GTE4", ip.PRIMITIVES["IBUFDS_GTE4"], I=pcie.refclk.p, IB=pcie.refclk.n,
            CEB=Const(0, 1), O=pcie_gt, ODIV2=pcie_div2)
        m.submodules.pcie_bufg = ip.ip_instance(
            "BUFG_GT", ip.PRIMITIVES["BUFG_GT"], I=pcie_div2, CE=Const(1, 1),
            CEMASK=Const(0, 1), CLR=Const(0, 1), CLRMASK=Const(0, 1), DIV=Const(0, 3),
            O=pcie_sys)
        xdma = _Bus("xdma", modules["xdma_u280"])
        m.d.comb += [xdma["sys_clk"].eq(pcie_sys), xdma["sys_clk_gt"].eq(pcie_gt),
                     xdma["sys_rst_n"].eq(~perst.i), xdma["usr_irq_req"].eq(0),
                     ClockSignal("pcie").eq(xdma["axi_aclk"])]
        m.submodules.rs_pcie = ResetSynchronizer(~xdma["axi_aresetn"], domain="pcie")

        # registers: m_axil -> axil_cc -> core.ctrl
        axil_cc = _Bus("axil_cc", modules["axil_cc"])
        m.d.comb += [axil_cc["s_axi_aclk"].eq(ClockSignal("pcie")),
                     axil_cc["s_axi_aresetn"].eq(~ResetSignal("pcie")),
                     axil_cc["m_axi_aclk"].eq(ClockSignal("sync")),
                     axil_cc["m_axi_aresetn"].eq(~ResetSignal("sync"))]
        _link(m, _axi_fields(xdma, "m_axil_"), _axi_fields(axil_cc, "s_axi_"))
        _link(m, _axi_fields(axil_cc, "m_axi_"), _core_fields(core.ctrl, master=False))

        # host memory path: m_axi -> host_cc -> xbar_host_top -> xbar_hbm_lo/hi, DDR
        host_cc = _Bus("host_cc", modules["host_cc"])
        m.d.comb += [host_cc["s_axi_aclk"].eq(ClockSignal("pcie")),
                     host_cc["s_axi_aresetn"].eq(~ResetSignal("pcie")),
                     host_cc["m_axi_aclk"].eq(ClockSignal("sync")),
                     host_cc["m_axi_aresetn"].eq(~ResetSignal("sync"))]
        _link(m, _axi_fields(xdma, "m_axi_"), _axi_fields(host_cc, "s_axi_"))
        xbars = {}
        for name in ("xbar_host_top", "xbar_hbm_lo", "xbar_hbm_hi"):
            xbars[name] = bus = _Bus(name, modules[name])
            m.d.comb += [bus["aclk"].eq(ClockSignal("sync")),
                         bus["aresetn"].eq(~ResetSignal("sync"))]
        _link(m, _axi_fields(host_cc, "m_axi_"), _axi_fields(xbars["xbar_host_top"], "s_axi_"))
        top_mi = _axi_fields(xbars["xbar_host_top"], "m_axi_")
        _link(m, _slot(top_mi, 0, 3), _axi_fields(xbars["xbar_hbm_lo"], "s_axi_"))
        _link(m, _slot(top_mi, 1, 3), _axi_fields(xbars["xbar_hbm_hi"], "s_axi_"))
        host_hbm = ([_slot(_axi_fields(xbars["xbar_hbm_lo"], "m_axi_"), k, 16)
                     for k in range(16)]
                    + [_slot(_axi_fields(xbars["xbar_hbm_hi"], "m_axi_"), k, 16)
                       for k in range(16)])
        host_ddr = _slot(top_mi, 2, 3)

        # -- memory paths --------------------------------------------------------------------
        def merge(name, core_port, host_port, mem_domain):
            """core + host -> xbar_merge -> mem_cc; returns mem_cc's master fields."""
            xbar = _Bus(f"{name}_merge", modules["xbar_merge"])
            cc = _Bus(f"{name}_cc", modules["mem_cc"])
            m.d.comb += [xbar["aclk"].eq(ClockSignal("sync")),
                         xbar["aresetn"].eq(~ResetSignal("sync")),
                         cc["s_axi_aclk"].eq(ClockSignal("sync")),
                         cc["s_axi_aresetn"].eq(~ResetSignal("sync")),
                         cc["m_axi_aclk"].eq(ClockSignal(mem_domain)),
                         cc["m_axi_aresetn"].eq(~ResetSignal(mem_domain))]
            si = _axi_fields(xbar, "s_axi_")
            _link(m, core_port, _slot(si, 0, 2))
            _link(m, host_port, _slot(si, 1, 2), id_base=1 << (MEM_ID_BITS - 1))
            _link(m, _axi_fields(xbar, "m_axi_"), _axi_fields(cc, "s_axi_"))
            m.submodules[f"{name}_merge"] = ip.ip_instance("xbar_merge",
                                                           modules["xbar_merge"],
                                                           **xbar.connections())
            m.submodules[f"{name}_cc"] = ip.ip_instance("mem_cc", modules["mem_cc"],
                                                        **cc.connections())
            return _axi_fields(cc, "m_axi_")

        for i in range(32):
            port = f"AXI_{i:02d}_"
            m.d.comb += [hbm[port + "ACLK"].eq(ClockSignal("hbm")),
                         hbm[port + "ARESET_N"].eq(~ResetSignal("hbm"))]
            hbm_fields = {n[len(port):].lower(): (s, hbm.ports[n].dir)
                          for n, s in hbm.sig.items() if n.startswith(port)
                          and n not in (port + "ACLK", port + "ARESET_N")}
            if i >= P.hbm_ports:        # a port the core does not use: idle
                _link(m, {}, hbm_fields)
                continue
            name = f"hbm{i:02d}"
            cc_mi = merge(name, _core_fields(core.hbm[i], master=True), host_hbm[i], "hbm")
            dw = _Bus(f"{name}_dw", modules["hbm_dw"])
            pc = _Bus(f"{name}_pc", modules["hbm_pc"])
            m.d.comb += [dw["s_axi_aclk"].eq(ClockSignal("hbm")),
                         dw["s_axi_aresetn"].eq(~ResetSignal("hbm")),
                         pc["aclk"].eq(ClockSignal("hbm")),
                         pc["aresetn"].eq(~ResetSignal("hbm"))]
            _link(m, cc_mi, _axi_fields(dw, "s_axi_"))
            _link(m, _axi_fields(dw, "m_axi_"), _axi_fields(pc, "s_axi_"))
            _link(m, _axi_fields(pc, "m_axi_"), hbm_fields)
            m.submodules[f"{name}_dw"] = ip.ip_instance("hbm_dw", modules["hbm_dw"],
                                                        **dw.connections())
            m.submodules[f"{name}_pc"] = ip.ip_instance("hbm_pc", modules["hbm_pc"],
                                                        **pc.connections())
        for k in range(P.hbm_ports, 32):   # host slots without a core port: never ready
            _link(m, host_hbm[k], {})

        ddr_mi = merge("ddr", _core_fields(core.ddr, master=True), host_ddr, "ddr")
        _link(m, ddr_mi, _axi_fields(ddr, "c0_ddr4_s_axi_"))

        # -- Aurora ring links -------------------------------------------------------------
        m.submodules.aurora_reset = seq = AuroraResetSequencer(
            pma_cycles=self._aurora_reset_cycles)
        for q, (domain, link) in enumerate((("ring_next", core.ring_next),
                                            ("ring_prev", core.ring_prev))):
            pins = platform.request("qsfp", q, dir="-")
            oe = m.submodules[f"qsfp{q}_oe"] = io.Buffer("o", pins.refclk1_oe)
            fs = m.submodules[f"qsfp{q}_fs"] = io.Buffer("o", pins.refclk1_fs)
            lane_pins = [platform.request(f"qsfp{q}_lane", k, dir="-")
                         for k in range(P.link_lanes)]
            m.d.comb += [oe.o.eq(1), fs.o.eq(1)]      # OE_B = 0, FS = 1: 161.1328125 MHz
            module = f"aurora_qsfp{q}"
            au = _Bus(module, modules[module])
            lanes = P.link_lanes
            m.d.comb += [
                au["init_clk"].eq(clk100), au["reset_pb"].eq(seq.reset_pb),
                au["pma_init"].eq(seq.pma_init), au["power_down"].eq(0),
                au["loopback"].eq(0), au["gt_rxcdrovrden_in"].eq(0),
                ClockSignal(domain).eq(au["user_clk_out"]),
                au["s_axi_tx_tdata"].eq(link.tx_data), au["s_axi_tx_tvalid"].eq(link.tx_valid),
                link.tx_ready.eq(au["s_axi_tx_tready"]),
                link.rx_data.eq(au["m_axi_rx_tdata"]), link.rx_valid.eq(au["m_axi_rx_tvalid"]),
                link.channel_up.eq(au["channel_up"]), link.lane_up.eq(au["lane_up"]),
                link.hard_err.eq(au["hard_err"]), link.soft_err.eq(au["soft_err"]),
            ]
            for k in range(lanes):
                for f in ("drpaddr", "drpdi", "drpen", "drpwe"):
                    m.d.comb += au[f"gt{k}_{f}"].eq(0)
            m.submodules[f"rs_{domain}"] = ResetSynchronizer(au["sys_reset_out"], domain=domain)
            raw = {"gt_refclk1_p": pins.refclk1.p, "gt_refclk1_n": pins.refclk1.n,
                   "rxp": Cat(*(lane.rx.p for lane in lane_pins)),
                   "rxn": Cat(*(lane.rx.n for lane in lane_pins)),
                   "txp": Cat(*(lane.tx.p for lane in lane_pins)),
                   "txn": Cat(*(lane.tx.n for lane in lane_pins))}
            m.submodules[module] = ip.ip_instance(
                module, modules[module], **au.connections(skip=raw), **raw)

        # -- instances ---------------------------------------------------------------------
        m.submodules.hbm = ip.ip_instance("hbm_u280", modules["hbm_u280"], **hbm.connections())
        m.submodules.xdma = ip.ip_instance(
            "xdma_u280", modules["xdma_u280"],
            **xdma.connections(skip=("pci_exp_txp", "pci_exp_txn", "pci_exp_rxp",
                                     "pci_exp_rxn")),
            pci_exp_txp=pcie.tx.p, pci_exp_txn=pcie.tx.n, pci_exp_rxp=pcie.rx.p,
            pci_exp_rxn=pcie.rx.n)
        for name in ("axil_cc", "host_cc"):
            bus = axil_cc if name == "axil_cc" else host_cc
            m.submodules[name] = ip.ip_instance(name, modules[name], **bus.connections())
        for name, bus in xbars.items():
            m.submodules[name] = ip.ip_instance(name, modules[name], **bus.connections())
        m.submodules.ddr4 = ip.ip_instance(
            "ddr4_c0", modules["ddr4_c0"],
            **ddr.connections(skip=set(ddr_pin_map) | {"c0_sys_clk_p", "c0_sys_clk_n"}),
            **ddr_pin_map, c0_sys_clk_p=ddr_clk.p, c0_sys_clk_n=ddr_clk.n,
            inouts={"c0_ddr4_dq": ddr_pins.dq, "c0_ddr4_dqs_t": ddr_pins.dqs.p,
                    "c0_ddr4_dqs_c": ddr_pins.dqs.n})
        return m
