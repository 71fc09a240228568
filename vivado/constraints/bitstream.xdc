# Configuration and bitstream properties of the Alveo U280 (AMD "AU280 HBM - Master XDC"
# rev 2.04, "Bitstream generation"; the same set in u280.md from the open U280 designs).
set_property CONFIG_VOLTAGE 1.8 [current_design]
set_property CFGBVS GND [current_design]
set_property BITSTREAM.CONFIG.CONFIGFALLBACK Enable [current_design]
set_property BITSTREAM.GENERAL.COMPRESS TRUE [current_design]
set_property CONFIG_MODE SPIx4 [current_design]
set_property BITSTREAM.CONFIG.SPI_BUSWIDTH 4 [current_design]
# AMD's file uses 63.8 and comments out 85.0 ("customer can try but may not be reliable over
# all conditions"); u280.md's open designs use 85.0. The safe value:
set_property BITSTREAM.CONFIG.CONFIGRATE 63.8 [current_design]
set_property BITSTREAM.CONFIG.EXTMASTERCCLK_EN disable [current_design]
set_property BITSTREAM.CONFIG.SPI_FALL_EDGE YES [current_design]
set_property BITSTREAM.CONFIG.UNUSEDPIN Pullup [current_design]
set_property BITSTREAM.CONFIG.SPI_32BIT_ADDR Yes [current_design]
# Power budget warning of AMD's file (assumes the 2x4 PCIe AUX power cable is connected).
set_operating_conditions -design_power_budget 160
