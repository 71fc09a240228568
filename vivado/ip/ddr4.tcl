# DDR4 MIG (PG150) on the U280's DDR4 channel 0: a 16 GB 72-bit x4 registered DIMM at 2400 MT/s
# (Micron MTA18ASF2G72PZ-2G3 on the card, UG1314), system clock SYSCLK0 100 MHz (bank 65, AMD
# master XDC "System Clock for first DDR4 MIG interface"). AXI4 slave, 512-bit data (4:1 with a
# 64-bit DIMM), ui_clk 300 MHz. Pins: the DDR4 C0 resource of boards/alveo_u280.py.
# CONFIG names: PG150 and public ddr4 Tcl; tCK 833 ps = DDR4-2400, CL17 (the -2G3 part), input
# clock 9996 ps = 12 tCK (the 100 MHz SYSCLK0 as the MIG's MMCM sees it). x4 devices have no
# data mask: DataMask NONE, ECC on over the 72-bit bus.
if {![info exists dfx_mem_addr_bits]} { set dfx_mem_addr_bits 34 }
if {![info exists dfx_mem_id_bits]} { set dfx_mem_id_bits 7 }

create_ip -name ddr4 -vendor xilinx.com -library ip -module_name ddr4_c0
set_property -dict [list \
    CONFIG.C0.DDR4_TimePeriod {833} \
    CONFIG.C0.DDR4_InputClockPeriod {9996} \
    CONFIG.C0.DDR4_MemoryType {RDIMMs} \
    CONFIG.C0.DDR4_MemoryPart {MTA18ASF2G72PZ-2G3} \
    CONFIG.C0.DDR4_DataWidth {72} \
    CONFIG.C0.DDR4_DataMask {NONE} \
    CONFIG.C0.DDR4_Ecc {true} \
    CONFIG.C0.DDR4_AxiSelection {true} \
    CONFIG.C0.DDR4_AxiDataWidth {512} \
    CONFIG.C0.DDR4_AxiAddressWidth $dfx_mem_addr_bits \
    CONFIG.C0.DDR4_AxiIDWidth $dfx_mem_id_bits \
    CONFIG.C0.DDR4_CasLatency {17} \
    CONFIG.C0.DDR4_CasWriteLatency {12} \
    CONFIG.System_Clock {Differential} \
    CONFIG.Debug_Signal {Disable} \
] [get_ips ddr4_c0]
