# Aurora 64B/66B (PG074) on QSFP0 = the link to the next core (ring_next).
# Module `aurora_qsfp0`: duplex, streaming user interface (no framing: simpler to close at
# 390.625 MHz), 25.78125 Gb/s per lane, GT refclk = the QSFP0 SI546 at 161.1328125 MHz
# (MGTREFCLK1 of the quad; FS driven high, OE_B low by the top level), init clock 100 MHz,
# LPM equalisation (a short direct-attach cable), shared logic in the core, native DRP,
# single-ended init clock. GTY quad X0Y10, lanes X0Y40.. (AMD master XDC: QSFP0 on bank
# 134; quad and lane names from u280.md's open designs). Flow control: none; the router
# bounds what it sends with credits (issue 11), because the RX interface has no ready.
if {![info exists dfx_aurora_lanes]} { set dfx_aurora_lanes 1 }

create_ip -name aurora_64b66b -vendor xilinx.com -library ip -module_name aurora_qsfp0
set dfx_channels {}
for {set i 0} {$i < $dfx_aurora_lanes} {incr i} {
    lappend dfx_channels X0Y[expr {40 + $i}]
}
set dfx_props [list \
    CONFIG.C_AURORA_LANES $dfx_aurora_lanes \
    CONFIG.C_LINE_RATE {25.78125} \
    CONFIG.C_REFCLK_FREQUENCY {161.1328125} \
    CONFIG.C_INIT_CLK {100} \
    CONFIG.interface_mode {Streaming} \
    CONFIG.flow_mode {None} \
    CONFIG.dataflow_config {Duplex} \
    CONFIG.C_UCOLUMN_USED {left} \
    CONFIG.C_START_QUAD {Quad_X0Y10} \
    CONFIG.C_START_LANE {X0Y40} \
    CONFIG.C_REFCLK_SOURCE {MGTREFCLK1_of_Quad_X0Y10} \
    CONFIG.CHANNEL_ENABLE $dfx_channels \
    CONFIG.RX_EQ_MODE {LPM} \
    CONFIG.SupportLevel {1} \
    CONFIG.SINGLEEND_INITCLK {true} \
    CONFIG.drp_mode {Native} \
]
set_property -dict $dfx_props [get_ips aurora_qsfp0]
