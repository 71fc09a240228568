# Clocks and clock-domain crossings of the DFX U280 top level (dfx_hw/top/u280_top.py).
#
# Primary clocks. Amaranth writes create_clock for the resources with a Clock() in
# boards/alveo_u280.py that the design buffers itself (SYSCLK3, 100 MHz). The GT reference
# clocks go straight into the IP (raw pins), so they are created here on the top-level ports
# (names: Amaranth's <resource>_<number>__<subsignal>__p). Periods: AMD master XDC.
create_clock -period 10.000 -name pcie_refclk [get_ports pcie_x16_0__refclk__p]
create_clock -period 6.206 -name qsfp0_refclk1 [get_ports qsfp_0__refclk1__p]
create_clock -period 6.206 -name qsfp1_refclk1 [get_ports qsfp_1__refclk1__p]
create_clock -period 10.000 -name ddr4_sysclk0 [get_ports sysclk_0__p]
#
# Generated clocks (MMCM: core 200 MHz and HBM AXI 450 MHz from SYSCLK3; XDMA axi_aclk 250 MHz;
# Aurora user_clk 390.625 MHz; MIG ui_clk 300 MHz) are derived by Vivado from these.
#
# Clock-domain crossings, all of them:
# * AXI paths core <-> HBM / DDR / XDMA: axi_clock_converter IPs (ACLK_ASYNC = 1), which carry
#   their own scoped constraints (set_max_delay -datapath_only). Do NOT put set_clock_groups
#   between these clocks: it would override the IPs' constraints.
# * Resets: Amaranth ResetSynchronizer / FFSynchronizer cells, constrained by the
#   amaranth.vivado.false_path / max_delay loops of Amaranth's Vivado script.
# * Ring links: the core crosses each Aurora user_clk to its own clock (router AsyncFIFO).
# * Aurora reset_pb / pma_init (init_clk domain) are asynchronous inputs of the Aurora IP.
#
# Asynchronous board inputs (push button, PERST#) feed reset synchronisers only.
set_false_path -from [get_ports rst_0__io]
set_false_path -from [get_ports pcie_x16_0__perst__io]
# HBM_CATTRIP goes to the satellite controller, no timing relationship.
set_false_path -to [get_ports hbm_cattrip_0__io]
