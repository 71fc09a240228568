# XDMA (DMA/Bridge Subsystem for PCI Express, PG195) for the U280's Gen3 x16 edge connector.
# Module `xdma_u280`: AXI memory-mapped DMA (512-bit m_axi at 250 MHz) to HBM/DDR for loading
# images, and an AXI-Lite master BAR (m_axil) to the core's registers.
# Placement: the x16 hard block PCIE4C_X1Y0 with lanes in GTY quads 224-227 and the refclk on
# quad 225's MGTREFCLK0 (AR15/AR14, AMD master XDC "PCIe REFCLK0 for x16"; u280.md).
# The BAR is 2^dfx_reg_addr_bits bytes: it must cover the register map and the 0x2000/0x3000
# offsets the Linux xdma driver probes (u280.md).
if {![info exists dfx_reg_addr_bits]} { set dfx_reg_addr_bits 16 }

create_ip -name xdma -vendor xilinx.com -library ip -module_name xdma_u280
set dfx_bar_kb [expr {(1 << $dfx_reg_addr_bits) / 1024}]
set_property -dict [list \
    CONFIG.mode_selection {Advanced} \
    CONFIG.pcie_blk_locn {PCIE4C_X1Y0} \
    CONFIG.select_quad {GTY_Quad_227} \
    CONFIG.pl_link_cap_max_link_width {X16} \
    CONFIG.pl_link_cap_max_link_speed {8.0_GT/s} \
    CONFIG.axi_data_width {512_bit} \
    CONFIG.axisten_freq {250} \
    CONFIG.ref_clk_freq {100_MHz} \
    CONFIG.xdma_axi_intf_mm {AXI_Memory_Mapped} \
    CONFIG.axi_addr_width {64} \
    CONFIG.axi_id_width {4} \
    CONFIG.xdma_rnum_chnl {4} \
    CONFIG.xdma_wnum_chnl {4} \
    CONFIG.axilite_master_en {true} \
    CONFIG.axilite_master_size $dfx_bar_kb \
    CONFIG.axilite_master_scale {Kilobytes} \
    CONFIG.xdma_num_usr_irq {1} \
    CONFIG.pf0_device_id {9038} \
    CONFIG.PF0_DEVICE_ID_mqdma {9038} \
    CONFIG.pf0_msix_enabled {false} \
    CONFIG.cfg_mgmt_if {false} \
] [get_ips xdma_u280]
