"""The U280's programmable resources and DFX's published use of them: what the whole-core estimate
is measured against (``../shared/reference/u280.md``: AMD DS963 / UG1314 for the device, the
DFX paper for its own figures)."""

__all__ = ["U280_RESOURCES", "DFX_PAPER_PERCENT", "percent_of_u280"]

#: xcu280-fsvh2892-2L-e: CLB LUTs, CLB flip-flops, DSP48E2 slices, 36 Kb block RAMs, UltraRAMs.
U280_RESOURCES = {"lut": 1_303_680, "ff": 2_607_360, "dsp": 9_024, "bram": 2_016, "uram": 960}

#: DFX (MICRO 2022) at 200 MHz: percent of the U280's LUTs and DSPs.
DFX_PAPER_PERCENT = {"lut": 39.93, "dsp": 39.15}


def percent_of_u280(totals):
    """``totals`` (keys of :data:`U280_RESOURCES`) as percentages of the device, 2 decimals."""
    return {key: round(100.0 * totals[key] / U280_RESOURCES[key], 2) for key in U280_RESOURCES}
