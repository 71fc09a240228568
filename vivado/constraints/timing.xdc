# Clocks and clock-domain crossings of the DFX U280 top level (dfx_hw/top/u280_top.py).
#
# Primary clocks: Amaranth writes create_clock into top.xdc for every requested resource with
# a Clock() in boards/alveo_u280.py (SYSCLK0/3 100 MHz, PCIe refclk 100 MHz, QSFP refclk0
# 156.25 MHz and refclk1 161.1328125 MHz; periods as in AMD's master XDC). Not repeated here.
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
