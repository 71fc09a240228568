"""cocotb test modules, one per unit or family of units, run through :mod:`sim.harness`."""
