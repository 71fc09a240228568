"""Longest combinational path, in logic levels, of a Yosys ``synth_xilinx`` netlist.

What is counted (one *level* = one cell on the path):

- ``LUT1``..``LUT6``, ``INV`` (Vivado implements it as a LUT1), ``MUXF7``/``MUXF8``/``MUXF9``:
  one level each.
- Carry chains: Yosys maps adders to ``CARRY4`` even for UltraScale+; two ``CARRY4`` chained
  through ``CI`` are counted as the one ``CARRY8`` they pack into (a ``CARRY4`` entered through
  ``CI`` at an odd chain position costs nothing). A ``CARRY8`` counts one level.
- ``DSP48E2``: one level when it is combinational. If its ``AREG``/``BREG`` are used its A/B
  inputs end paths; if its ``MREG``/``PREG`` are used its outputs start paths (a DSP with
  registered outputs but unregistered inputs still adds one level to the paths into it).
- Distributed (LUT) RAMs (``RAM32M``, ``RAM64X1D``, ...): the read is asynchronous, so a path
  runs from the address pins through the RAM (one level) to its data outputs; the write pins
  (``DI*``, ``D``, ``WE``, ``WCLK``) end paths.
- Paths start at primary inputs, constants and the outputs of sequential cells (flip-flops,
  shift-register LUTs, block/ultra RAMs) and end at primary outputs and the inputs of sequential
  cells (data, clock enable and reset pins alike).

Any other cell type counts one level (it is reported in the resource table's ``other``).
"""

from dataclasses import dataclass

__all__ = ["SEQUENTIAL_PREFIXES", "LUTRAM_PREFIXES", "LogicDepth", "logic_levels"]

SEQUENTIAL_PREFIXES = ("FD", "SRL", "RAMB", "URAM")
LUTRAM_PREFIXES = ("RAM32M", "RAM64M", "RAM32X", "RAM64X", "RAM128X", "RAM256X", "RAM512X")
_FREE = ("GND", "VCC", "BUFG", "IBUF", "OBUF", "$scopeinfo")


def _is_lutram_write_pin(port):
    return port.startswith("DI") or port in ("D", "WE", "WCLK")


@dataclass(frozen=True)
class LogicDepth:
    """Result of :func:`logic_levels`.

    Attributes
    ----------
    levels : int
        Largest number of counted cells on a path between two registers (or ports).
    path : tuple of str
        The cells of one such path, ``"TYPE name"``, from start to end.
    by_clock : dict
        Per clock: ``name -> (levels, path)`` of the longest path of that clock. The clock is
        the module input port driving the clock pin of the cell that captures the path (or,
        for a path that ends at an output port or a module boundary, of the cell that launches
        it); ``"(internal)"`` when that clock net is not an input port, :data:`UNCLOCKED` for
        paths with no clocked cell at either end (port or module boundary to port or module
        boundary).
    """

    levels: int
    path: tuple
    by_clock: dict = None

#: The clock pins of the sequential cells (the first one found names the cell's clock).
CLOCK_PINS = ("C", "CLK", "CLKARDCLK", "CLKBWRCLK", "WCLK")
#: :attr:`LogicDepth.by_clock` key of paths with no clocked cell at either end.
UNCLOCKED = "(no register)"


def _param(cell, name):
    value = cell.get("parameters", {}).get(name, "0")
    try:
        return int(value, 2) if set(value) <= set("01") else int(value)
    except ValueError:
        return 0


def logic_levels(netlist, top, *, boundaries=()):
    """Longest combinational path of module ``top`` in a Yosys JSON ``netlist`` (a dict).

    ``boundaries``: cell types that are instances of other modules of an unflattened netlist.
    They are treated like registers (their outputs start paths, their inputs end them), so the
    figure is the longest path *inside* ``top``; a path that crosses a module boundary is
    counted in pieces (see :func:`dfx_hw.synth.flow.estimate`, ``per_module``).
    """
    module = netlist["modules"][top]
    cells = module["cells"]
    boundaries = frozenset(boundaries)

    def _is_sequential(kind):
        return kind.startswith(SEQUENTIAL_PREFIXES) or kind in boundaries

    driver = {}                           # net bit -> driving cell name
    for name, cell in cells.items():
        for port, bits in cell["connections"].items():
            if cell.get("port_directions", {}).get(port) == "output":
                for bit in bits:
                    if isinstance(bit, int):
                        driver[bit] = name

    def dsp_regs(cell):
        return (_param(cell, "AREG") > 0 or _param(cell, "BREG") > 0,
                _param(cell, "MREG") > 0 or _param(cell, "PREG") > 0)

    def is_source(name):
        if name is None:                  # primary input
            return True
        cell = cells[name]
        if _is_sequential(cell["type"]):
            return True
        return cell["type"] == "DSP48E2" and dsp_regs(cell)[1]

    port_of_bit = {}
    for port_name, port in module.get("ports", {}).items():
        if port["direction"] == "input":
            for bit in port["bits"]:
                if isinstance(bit, int):
                    port_of_bit.setdefault(bit, port_name)

    def clock_of(name):
        """The clock of cell ``name`` (a port name or "(internal)"), None if it has none."""
        if name is None:
            return None
        cell = cells[name]
        if cell["type"] in boundaries:
            return None
        for pin in CLOCK_PINS:
            bits = cell["connections"].get(pin)
            if bits:
                bit = bits[0]
                return port_of_bit.get(bit, "(internal)") if isinstance(bit, int) \
                    else "(internal)"
        return None

    chain_pos = {}
    level = {}                            # comb cell -> (levels at its output, predecessor,
    #                                       the path's start: a source cell or None)

    def input_cost(name, port):
        cell = cells[name]
        kind = cell["type"]
        if kind in _FREE:
            return 0
        if kind == "CARRY4" and port == "CI":
            return 0 if chain_pos.get(name, 0) % 2 == 1 else 1
        if kind == "DSP48E2" and dsp_regs(cell)[0]:
            return None                   # registered input: not part of this cell's level
        if kind.startswith(LUTRAM_PREFIXES) and _is_lutram_write_pin(port):
            return None                   # write side: ends a path (see endpoints)
        return 1

    def inputs(name):
        cell = cells[name]
        for port, bits in cell["connections"].items():
            if cell.get("port_directions", {}).get(port) != "output":
                for bit in bits:
                    if isinstance(bit, int):      # (constants are strings)
                        yield port, driver.get(bit)   # None: a primary input

    def evaluate(root):
        # Iterative depth-first evaluation of the comb cells feeding `root`.
        stack = [(root, False)]
        while stack:
            name, ready = stack.pop()
            if name in level:
                continue
            if not ready:
                stack.append((name, True))
                for _, src in inputs(name):
                    if not is_source(src) and src not in level:
                        stack.append((src, False))
                continue
            cell = cells[name]
            if cell["type"] == "CARRY4":
                ci = [src for port, src in inputs(name) if port == "CI"]
                chain_pos[name] = (chain_pos.get(ci[0], 0) + 1
                                   if ci and cells[ci[0]]["type"] == "CARRY4" else 0)
            best, prev = (1 if cell["type"] == "DSP48E2" and dsp_regs(cell)[0] else 0), None
            start = name if best else None
            for port, src in inputs(name):
                cost = input_cost(name, port)
                if cost is None:
                    continue
                arrival = 0 if is_source(src) else level[src][0]
                if arrival + cost > best:
                    best, prev = arrival + cost, src
                    start = src if is_source(src) else level[src][2]
            level[name] = (best, prev, start)

    def arrival_of(src):
        if is_source(src):
            return 0, src
        evaluate(src)
        return level[src][0], level[src][2]

    worst, worst_end = 0, None
    endpoints = []                        # (driver cell, extra levels, capturing cell)
    for name, cell in cells.items():
        kind = cell["type"]
        if _is_sequential(kind):
            endpoints.extend((src, 0, name) for _, src in inputs(name))
        elif kind.startswith(LUTRAM_PREFIXES):
            endpoints.extend((src, 0, name) for port, src in inputs(name)
                             if _is_lutram_write_pin(port))
        elif kind == "DSP48E2":
            registered_in, registered_out = dsp_regs(cell)
            if registered_in:
                endpoints.extend((src, 0, name) for _, src in inputs(name))
            elif registered_out:
                endpoints.extend((src, 1, name) for _, src in inputs(name))
    for port in module.get("ports", {}).values():
        if port["direction"] != "input":
            endpoints.extend((driver.get(bit), 0, None) for bit in port["bits"]
                             if isinstance(bit, int))
    per_clock = {}                        # clock -> (levels, end driver)
    for src, extra, sink in endpoints:
        arrival, start = arrival_of(src)
        depth = arrival + extra
        if depth > worst:
            worst, worst_end = depth, src
        clock = clock_of(sink) or clock_of(start) or UNCLOCKED
        if depth > per_clock.get(clock, (-1, None))[0]:
            per_clock[clock] = (depth, src)

    def path_to(end):
        path = []
        node = end
        while node is not None and not is_source(node):
            path.append(f"{cells[node]['type']} {node}")
            node = level[node][1]
        return tuple(reversed(path))

    return LogicDepth(levels=worst, path=path_to(worst_end),
                      by_clock={clock: (depth, path_to(end))
                                for clock, (depth, end) in sorted(per_clock.items())})
