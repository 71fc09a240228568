"""Resource-estimation flow: Yosys on a real unit, logic-level rules on small netlists, registry."""

import os
import stat

import pytest

from dfx_hw.cli import main
from dfx_hw.synth.flow import estimate
from dfx_hw.synth.levels import logic_levels
from dfx_hw.synth.targets import TARGETS, Target, select_targets
from dfx_hw.synth.yosys import count_resources, design_modules, module_instances


def _cell(kind, inputs, outputs, **params):
    connections = {**inputs, **outputs}
    directions = {**{p: "input" for p in inputs}, **{p: "output" for p in outputs}}
    return {"type": kind, "connections": connections, "port_directions": directions,
            "parameters": {k: format(v, "032b") for k, v in params.items()}}


def _netlist(cells, inputs=(), outputs=()):
    ports = {f"i{n}": {"direction": "input", "bits": [b]} for n, b in enumerate(inputs)}
    ports.update({f"o{n}": {"direction": "output", "bits": [b]} for n, b in enumerate(outputs)})
    return {"modules": {"top": {"ports": ports, "cells": cells}}}


def test_levels_count_luts_between_registers():
    # FF -> LUT -> LUT -> FF, and an input -> LUT -> output path of one level.
    cells = {
        "ff1": _cell("FDRE", {"D": [2]}, {"Q": [10]}),
        "l1": _cell("LUT2", {"I0": [10], "I1": [3]}, {"O": [11]}),
        "l2": _cell("LUT1", {"I0": [11]}, {"O": [12]}),
        "ff2": _cell("FDRE", {"D": [12]}, {"Q": [13]}),
        "l3": _cell("LUT1", {"I0": [4]}, {"O": [14]}),
    }
    depth = logic_levels(_netlist(cells, inputs=[2, 3, 4], outputs=[13, 14]), "top")
    assert depth.levels == 2
    assert depth.path == ("LUT2 l1", "LUT1 l2")


def test_levels_count_two_chained_carry4_as_one_carry8():
    chain = {f"c{i}": _cell("CARRY4", {"S": [2], "CI": [20 + i - 1] if i else []},
                            {"CO": [20 + i]}) for i in range(4)}
    cells = {**chain, "ff": _cell("FDRE", {"D": [23]}, {"Q": [30]})}
    assert logic_levels(_netlist(cells, inputs=[2]), "top").levels == 2


def test_levels_treat_dsp_with_output_register_as_path_start():
    cells = {
        "dsp": _cell("DSP48E2", {"A": [2]}, {"P": [10]}, MREG=1),
        "l1": _cell("LUT1", {"I0": [10]}, {"O": [11]}),
    }
    # input -> DSP (1 level, ends at MREG); MREG -> LUT -> output (1 level)
    assert logic_levels(_netlist(cells, inputs=[2], outputs=[11]), "top").levels == 1
    comb = {
        "dsp": _cell("DSP48E2", {"A": [2]}, {"P": [10]}),
        "l1": _cell("LUT1", {"I0": [10]}, {"O": [11]}),
    }
    assert logic_levels(_netlist(comb, inputs=[2], outputs=[11]), "top").levels == 2


def test_levels_read_through_lutram_and_end_at_its_write_pins():
    cells = {
        "ff": _cell("FDRE", {"D": [2]}, {"Q": [10]}),
        "addr": _cell("LUT1", {"I0": [10]}, {"O": [11]}),
        "data": _cell("LUT1", {"I0": [10]}, {"O": [12]}),
        "ram": _cell("RAM32M16", {"ADDRA": [11], "DIA": [12], "WE": [3]}, {"DOA": [13]}),
        "out": _cell("LUT1", {"I0": [13]}, {"O": [14]}),
    }
    # FF -> LUT -> RAM (async read) -> LUT -> output: 3 levels; FF -> LUT -> DIA: 1 level.
    depth = logic_levels(_netlist(cells, inputs=[2, 3], outputs=[14]), "top")
    assert depth.levels == 3
    assert depth.path == ("LUT1 addr", "RAM32M16 ram", "LUT1 out")


def test_count_resources_categories():
    kinds = ["LUT1", "LUT6", "INV", "FDRE", "FDCE", "SRL16E", "CARRY4", "CARRY8", "MUXF7",
             "DSP48E2", "RAMB36E2", "RAMB18E2", "URAM288", "GND", "XORCY", "RAM32M16",
             "$scopeinfo"]
    cells = {f"c{i}": {"type": k, "connections": {}} for i, k in enumerate(kinds)}
    counts = count_resources({"modules": {"top": {"cells": cells}}}, "top")
    assert (counts["luts"], counts["ffs"], counts["srls"], counts["lutrams"], counts["carry4"],
            counts["carry8"], counts["muxf"], counts["dsp48e2"], counts["ramb36"],
            counts["ramb18"], counts["uram288"]) == (3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1)
    assert counts["other"] == {"XORCY": 1}


def test_hierarchical_netlist_counts_each_module_times_its_instances():
    """An unflattened netlist: top has two `lane`s, a lane has three `unit`s and a LUT. Counts
    multiply through the hierarchy; library black boxes (listed as modules by write_json) are
    not submodules; a module instance is a path boundary for the per-module levels."""
    unit = {"ports": {}, "cells": {"l": _cell("LUT2", {"I0": [2]}, {"O": [3]}),
                                   "f": _cell("FDRE", {"D": [3]}, {"Q": [4]})}}
    lane = {"ports": {"y": {"direction": "output", "bits": [21]}},
            "cells": {**{f"u{i}": _cell("unit", {"a": [2]}, {"y": [10 + i]})
                         for i in range(3)},
                      "g": _cell("LUT3", {"I0": [10], "I1": [11], "I2": [12]}, {"O": [20]}),
                      "h": _cell("LUT1", {"I0": [20]}, {"O": [21]})}}
    top = {"ports": {"o": {"direction": "output", "bits": [5, 6]}},
           "cells": {"a": _cell("lane", {"x": [2]}, {"y": [5]}),
                     "b": _cell("lane", {"x": [2]}, {"y": [6]}),
                     "d": _cell("DSP48E2", {"A": [2]}, {"P": [7]})}}
    blackbox = {"attributes": {"blackbox": "1"}, "ports": {}, "cells": {}}
    netlist = {"modules": {"top": top, "lane": lane, "unit": unit, "DSP48E2": blackbox,
                           "LUT2": blackbox}}
    assert module_instances(netlist, "top") == {"top": 1, "lane": 2, "unit": 6}
    counts = count_resources(netlist, "top", hierarchy=True)
    assert (counts["luts"], counts["ffs"], counts["dsp48e2"], counts["other"]) == (10, 6, 1, {})
    # unit outputs start paths inside `lane`: LUT3 -> LUT1 = 2 levels (not 3 through the unit).
    depth = logic_levels(netlist, "lane", boundaries=design_modules(netlist))
    assert depth.levels == 2 and depth.path == ("LUT3 g", "LUT1 h")


@pytest.mark.slow
def test_yosys_multiplier_uses_one_dsp48e2(tmp_path):
    """Synthesise FP16Multiplier (default latency) and check the parsed figures are sane."""
    target, = select_targets(["fp16_mul"])
    record = estimate(target, tmp_path)
    assert record["dsp48e2"] == 1
    assert record["latency"] == 4
    assert 50 < record["luts"] < 1000
    assert 50 < record["ffs"] + record["srls"] < 400
    assert record["ramb36"] == record["ramb18"] == record["uram288"] == 0
    assert 1 <= record["logic_levels"] == len(record["critical_path"])
    assert record["other"] == {}


def test_unknown_target_is_a_clear_error(capsys):
    assert main(["resources", "no_such_unit", "--out", "build/unused"]) == 2
    assert "unknown target(s) no_such_unit" in capsys.readouterr().err


def test_registry_names_are_unique_and_loadable():
    assert len({t.name for t in TARGETS}) == len(TARGETS)
    bad = Target("bad", "dfx_hw.arith:NoSuchUnit")
    with pytest.raises(ValueError, match="target 'bad': cannot load factory"):
        bad.build()


def test_verilog_command_writes_u280_targets(tmp_path):
    assert main(["verilog", "fp16_max", "--out", str(tmp_path)]) == 0
    path = tmp_path / "fp16_max.v"
    assert "module top" in path.read_text()
    # An ordinary build output: 0666 less the umask (0644 with the usual 022), not mkstemp's 0600.
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fp16_max.v"]     # no temporary left


def test_slow_targets_left_out_by_default_unless_named():
    slow = [t.name for t in TARGETS if t.slow]
    assert slow, "the full-size MFU is registered as a slow target"
    default = {t.name for t in select_targets(include_slow=False)}
    assert not default & set(slow)
    assert [t.name for t in select_targets(slow[:1], include_slow=False)] == slow[:1]
    assert {t.name for t in select_targets()} >= set(slow)
