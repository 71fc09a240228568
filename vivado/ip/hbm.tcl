# HBM IP for the Alveo U280 (xcu280: two HBM2 stacks, 8 GB, 32 pseudo-channels).
# Creates IP module `hbm_u280`: 32 AXI3 slave ports AXI_00..AXI_31 (256-bit data, 33-bit
# address, 6-bit ID) at $dfx_hbm_axi_mhz, HBM_REF_CLK_0/1 and APB clocks from the 100 MHz
# SYSCLK3, APB register interface off, global crossbar off (port i keeps to pseudo-channel i).
# Sources: PG276 (AXI High Bandwidth Memory Controller) for the parameters' meaning; the
# values follow u280.md and the open AU280 flows (TaPaSCo's AU280 HBM plugin: USER_APB_EN false,
# USER_SWITCH_ENABLE_00/01 false, 450 MHz AXI, HBM_MMCM_FBOUT_MULT0 51, XSDB off).
if {![info exists dfx_hbm_axi_mhz]} { set dfx_hbm_axi_mhz 450 }
if {![info exists dfx_hbm_ports]} { set dfx_hbm_ports 32 }

create_ip -name hbm -vendor xilinx.com -library ip -module_name hbm_u280
set dfx_axi_ns [format %.3f [expr {1000.0 / $dfx_hbm_axi_mhz}]]
set dfx_hbm_props [list \
    CONFIG.USER_HBM_DENSITY {8GB} \
    CONFIG.USER_HBM_STACK {2} \
    CONFIG.USER_APB_EN {false} \
    CONFIG.USER_SWITCH_ENABLE_00 {false} \
    CONFIG.USER_SWITCH_ENABLE_01 {false} \
    CONFIG.USER_XSDB_INTF_EN {FALSE} \
    CONFIG.USER_HBM_REF_CLK_0 {100} \
    CONFIG.USER_HBM_REF_CLK_1 {100} \
    CONFIG.USER_APB_PCLK_0 {100} \
    CONFIG.USER_APB_PCLK_1 {100} \
    CONFIG.USER_AXI_INPUT_CLK_FREQ $dfx_hbm_axi_mhz \
    CONFIG.USER_AXI_INPUT_CLK1_FREQ $dfx_hbm_axi_mhz \
    CONFIG.USER_AXI_INPUT_CLK_NS $dfx_axi_ns \
    CONFIG.USER_AXI_INPUT_CLK_XDC $dfx_axi_ns \
    CONFIG.HBM_MMCM_FBOUT_MULT0 {51} \
    CONFIG.USER_CLK_SEL_LIST0 {AXI_00_ACLK} \
    CONFIG.USER_CLK_SEL_LIST1 {AXI_16_ACLK} \
]
# Every AXI port the core uses is enabled; the rest are switched off (two ports per MC).
for {set i 0} {$i < 32} {incr i} {
    set port [format %02d $i]
    if {$i < $dfx_hbm_ports} {
        lappend dfx_hbm_props CONFIG.USER_SAXI_$port {true}
    } else {
        lappend dfx_hbm_props CONFIG.USER_SAXI_$port {false}
    }
}
# Memory controllers: linear traffic (the DMA streams pre-tiled weights sequentially), data
# mask on (partial writes use WSTRB), user parity off (the top ties AXI_xx_WDATA_PARITY to 0).
for {set mc 0} {$mc < 16} {incr mc} {
    lappend dfx_hbm_props CONFIG.USER_MC${mc}_TRAFFIC_OPTION {Linear} \
        CONFIG.USER_MC${mc}_EN_DATA_MASK {true} \
        CONFIG.USER_MC${mc}_BG_INTERLEAVE_EN {true} \
        CONFIG.USER_MC${mc}_USER_PARITY_EN {false}
}
set_property -dict $dfx_hbm_props [get_ips hbm_u280]
