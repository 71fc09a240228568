# AXI infrastructure IP between the DFX core, the host (XDMA) and the memories.
# Per HBM port (x32) the top level chains:
#   core AXI4 512b @ core clock  --+
#                                  +-> xbar_merge (2:1) -> mem_cc (core clk -> 450 MHz)
#   host AXI4 512b @ core clock  --+    -> hbm_dw (512 -> 256 bit) -> hbm_pc (AXI4 -> AXI3) -> HBM
# and for DDR: core + host -> xbar_merge -> mem_cc (core clk -> MIG ui_clk) -> DDR4 MIG.
# The host path: XDMA m_axi @ 250 MHz -> host_cc (-> core clock) -> xbar_host_top (HBM 0-15 |
# HBM 16-31 | DDR) -> xbar_hbm_lo / xbar_hbm_hi (one master port per HBM pseudo-channel).
# Registers: XDMA m_axil @ 250 MHz -> axil_cc -> core register port.
# Sources: PG164 (AXI Interconnect: axi_clock_converter, axi_dwidth_converter,
# axi_protocol_converter), PG059 (AXI Crossbar). Widths follow dfx_hw.spec.core_ports; the top
# level passes them in as Tcl variables (defaults = the U280 build).
if {![info exists dfx_core_mhz]} { set dfx_core_mhz 200 }
if {![info exists dfx_mem_addr_bits]} { set dfx_mem_addr_bits 34 }
if {![info exists dfx_mem_id_bits]} { set dfx_mem_id_bits 7 }
if {![info exists dfx_host_addr_bits]} { set dfx_host_addr_bits 35 }
if {![info exists dfx_reg_addr_bits]} { set dfx_reg_addr_bits 16 }

# Clock converter for every memory path (HBM: core -> 450 MHz; DDR: core -> ui_clk).
create_ip -name axi_clock_converter -vendor xilinx.com -library ip -module_name mem_cc
set_property -dict [list \
    CONFIG.PROTOCOL {AXI4} CONFIG.ACLK_ASYNC {1} CONFIG.SYNCHRONIZATION_STAGES {3} \
    CONFIG.DATA_WIDTH {512} CONFIG.ADDR_WIDTH $dfx_mem_addr_bits \
    CONFIG.ID_WIDTH $dfx_mem_id_bits] [get_ips mem_cc]

# 512 -> 256-bit downsizer at the HBM AXI clock (256 bits x 450 MHz >= 512 bits x 200 MHz).
create_ip -name axi_dwidth_converter -vendor xilinx.com -library ip -module_name hbm_dw
set_property -dict [list \
    CONFIG.PROTOCOL {AXI4} CONFIG.SI_DATA_WIDTH {512} CONFIG.MI_DATA_WIDTH {256} \
    CONFIG.ADDR_WIDTH $dfx_mem_addr_bits CONFIG.SI_ID_WIDTH $dfx_mem_id_bits \
    CONFIG.ACLK_ASYNC {0}] [get_ips hbm_dw]

# AXI4 -> AXI3 (the HBM ports are AXI3: bursts of at most 16 beats).
create_ip -name axi_protocol_converter -vendor xilinx.com -library ip -module_name hbm_pc
set_property -dict [list \
    CONFIG.SI_PROTOCOL {AXI4} CONFIG.MI_PROTOCOL {AXI3} CONFIG.DATA_WIDTH {256} \
    CONFIG.ADDR_WIDTH $dfx_mem_addr_bits CONFIG.ID_WIDTH {0}] [get_ips hbm_pc]

# 2:1 merge of the core's port (slot 0, IDs 0x00-0x3f) and the host's (slot 1, 0x40-0x7f).
create_ip -name axi_crossbar -vendor xilinx.com -library ip -module_name xbar_merge
set_property -dict [list \
    CONFIG.NUM_SI {2} CONFIG.NUM_MI {1} CONFIG.PROTOCOL {AXI4} \
    CONFIG.DATA_WIDTH {512} CONFIG.ADDR_WIDTH $dfx_mem_addr_bits \
    CONFIG.ID_WIDTH $dfx_mem_id_bits \
    CONFIG.S00_THREAD_ID_WIDTH [expr {$dfx_mem_id_bits - 1}] CONFIG.S00_BASE_ID {0x00000000} \
    CONFIG.S01_THREAD_ID_WIDTH [expr {$dfx_mem_id_bits - 1}] \
    CONFIG.S01_BASE_ID [format 0x%08x [expr {1 << ($dfx_mem_id_bits - 1)}]] \
    CONFIG.M00_A00_BASE_ADDR {0x0000000000000000} \
    CONFIG.M00_A00_ADDR_WIDTH $dfx_mem_addr_bits] [get_ips xbar_merge]

# Host memory path: XDMA (250 MHz, 4-bit IDs) -> core clock.
create_ip -name axi_clock_converter -vendor xilinx.com -library ip -module_name host_cc
set_property -dict [list \
    CONFIG.PROTOCOL {AXI4} CONFIG.ACLK_ASYNC {1} CONFIG.SYNCHRONIZATION_STAGES {3} \
    CONFIG.DATA_WIDTH {512} CONFIG.ADDR_WIDTH $dfx_host_addr_bits CONFIG.ID_WIDTH {4}] \
    [get_ips host_cc]

# Host address map (byte addresses the host's DMA uses):
#   0x0_0000_0000 - 0x0_FFFF_FFFF  HBM pseudo-channels 0-15 (256 MB each)
#   0x1_0000_0000 - 0x1_FFFF_FFFF  HBM pseudo-channels 16-31
#   0x4_0000_0000 - 0x7_FFFF_FFFF  DDR4 channel 0 (16 GB)
create_ip -name axi_crossbar -vendor xilinx.com -library ip -module_name xbar_host_top
set_property -dict [list \
    CONFIG.NUM_SI {1} CONFIG.NUM_MI {3} CONFIG.PROTOCOL {AXI4} CONFIG.DATA_WIDTH {512} \
    CONFIG.ADDR_WIDTH $dfx_host_addr_bits CONFIG.ID_WIDTH {4} \
    CONFIG.M00_A00_BASE_ADDR {0x0000000000000000} CONFIG.M00_A00_ADDR_WIDTH {32} \
    CONFIG.M01_A00_BASE_ADDR {0x0000000100000000} CONFIG.M01_A00_ADDR_WIDTH {32} \
    CONFIG.M02_A00_BASE_ADDR {0x0000000400000000} CONFIG.M02_A00_ADDR_WIDTH {34}] \
    [get_ips xbar_host_top]

foreach {dfx_xbar dfx_base} {xbar_hbm_lo 0x000000000 xbar_hbm_hi 0x100000000} {
    create_ip -name axi_crossbar -vendor xilinx.com -library ip -module_name $dfx_xbar
    set dfx_props [list CONFIG.NUM_SI {1} CONFIG.NUM_MI {16} CONFIG.PROTOCOL {AXI4} \
        CONFIG.DATA_WIDTH {512} CONFIG.ADDR_WIDTH $dfx_host_addr_bits CONFIG.ID_WIDTH {4}]
    for {set i 0} {$i < 16} {incr i} {
        set mi [format %02d $i]
        lappend dfx_props CONFIG.M${mi}_A00_BASE_ADDR \
            [format 0x%016llx [expr {$dfx_base + $i * 0x10000000}]] \
            CONFIG.M${mi}_A00_ADDR_WIDTH {28}
    }
    set_property -dict $dfx_props [get_ips $dfx_xbar]
}

# Register path: XDMA AXI-Lite BAR (250 MHz) -> core clock.
create_ip -name axi_clock_converter -vendor xilinx.com -library ip -module_name axil_cc
set_property -dict [list \
    CONFIG.PROTOCOL {AXI4LITE} CONFIG.ACLK_ASYNC {1} CONFIG.SYNCHRONIZATION_STAGES {3} \
    CONFIG.DATA_WIDTH {32} CONFIG.ADDR_WIDTH $dfx_reg_addr_bits] [get_ips axil_cc]
