"""Simulation support: the cocotb harness (:mod:`sim.harness`) and the benches (:mod:`sim.benches`)."""
