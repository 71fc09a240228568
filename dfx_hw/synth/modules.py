"""The modules of a hierarchical Verilog text: their bodies, their child instances, how many
times each occurs under a top, and a stand-alone source for each (its children as black boxes).

The text is the project's Verilog (:func:`dfx_hw.synth.flow.verilog_text`): Yosys's
``write_verilog`` output, one ``module ... endmodule`` per distinct module, instances written as
``  TYPE NAME (`` with named port connections. :func:`standalone_source` lets each module be
synthesised on its own (:mod:`dfx_hw.synth.per_module`): the module's text plus a
``(* blackbox *)`` stub, ports only, of every module it instantiates.
"""

import re
from collections import Counter
from dataclasses import dataclass

__all__ = ["VerilogModule", "split_modules", "instance_counts", "blackbox_stub",
           "standalone_source", "clock_domains"]

_IDENT = r"(?:\\\S+|[A-Za-z_][\w$]*)"
_MODULE = re.compile(r"((?:^\(\*[^\n]*\*\)\n)*)^module\s+(" + _IDENT + r")\s*\(([^)]*)\);\n"
                     r"(.*?)^endmodule\n", re.M | re.S)
_INSTANCE = re.compile(r"^\s+(" + _IDENT + r")\s+(" + _IDENT + r")\s*\(", re.M)
_PORT_DECL = re.compile(r"^\s*(input|output|inout)\b([^;]*);", re.M)
_CONNECTION = re.compile(r"\.(" + _IDENT + r")\s*\(\s*(" + _IDENT + r")\s*\)")
_ALIAS = re.compile(r"^\s*assign\s+(" + _IDENT + r")\s*=\s*(" + _IDENT + r")\s*;", re.M)


def _plain(name):
    """An identifier without Verilog's escape (``\\top.vpu`` -> ``top.vpu``)."""
    return name[1:] if name.startswith("\\") else name


@dataclass(frozen=True)
class VerilogModule:
    """One module of the text.

    Attributes
    ----------
    name : str
        The module name without the Verilog escape (``top.vpu.vrf``, ``FP16Adder_latency6``).
    text : str
        The module as written (attribute lines, ``module`` ... ``endmodule``).
    ports : tuple of str
        Port declarations, e.g. ``"input [15:0] a"``, in order.
    header : str
        The port list of the ``module`` line.
    children : dict of str to int
        Modules of the text instantiated directly in this one: name -> instances.
    """

    name: str
    text: str
    ports: tuple
    header: str
    children: dict


def split_modules(text):
    """The modules of a Verilog ``text``, by name (in text order).

    Raises
    ------
    ValueError
        Two modules share a name, or the text has no module.
    """
    found = {}
    matches = list(_MODULE.finditer(text))
    if not matches:
        raise ValueError("no 'module ... endmodule' in the Verilog text")
    names = {_plain(m.group(2)) for m in matches}
    for match in matches:
        _, raw_name, header, body = match.groups()
        name = _plain(raw_name)
        if name in found:
            raise ValueError(f"module {name!r} is defined twice")
        children = Counter()
        for kind, _ in _INSTANCE.findall(body):
            if _plain(kind) in names:
                children[_plain(kind)] += 1
        ports = tuple(" ".join(f"{direction} {rest}".split())
                      for direction, rest in _PORT_DECL.findall(body))
        found[name] = VerilogModule(name=name, text=match.group(0), ports=ports,
                                    header=" ".join(header.split()), children=dict(children))
    return found


def instance_counts(modules, top):
    """How many times each module occurs in the design under ``top`` (``top`` once): the
    product of the instance counts along every path from ``top``, summed over the paths.

    Raises
    ------
    ValueError
        ``top`` is not among ``modules``, or the hierarchy has a cycle.
    """
    if top not in modules:
        raise ValueError(f"top module {top!r} is not in the design; modules: "
                         f"{', '.join(sorted(modules))}")
    # Visit in topological order (parents before children) so each module's total is complete
    # before it is handed down.
    order, state = [], {}

    def visit(name, trail):
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            raise ValueError(f"the module hierarchy has a cycle: {' -> '.join(trail + [name])}")
        state[name] = "open"
        for child in modules[name].children:
            visit(child, trail + [name])
        state[name] = "done"
        order.append(name)

    visit(top, [])
    total = {name: 0 for name in order}
    total[top] = 1
    for name in reversed(order):
        for child, times in modules[name].children.items():
            total[child] += total[name] * times
    return {name: total[name] for name in reversed(order)}


def _escaped(name):
    return name if re.fullmatch(r"[A-Za-z_][\w$]*", name) else f"\\{name} "


def blackbox_stub(module):
    """A ``(* blackbox *)`` module with ``module``'s name and ports and no contents."""
    # An escaped identifier ends at white space: `\\a$1 ;` (`\\a$1;` would swallow the `;`).
    def ending(text):
        return " " if text.split() and text.split()[-1].startswith("\\") else ""

    header = module.header + ending(module.header)
    lines = ["(* blackbox *)", f"module {_escaped(module.name)}({header});"]
    lines += [f"  {port}{ending(port)};" for port in module.ports]
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def standalone_source(modules, name):
    """Verilog to synthesise module ``name`` alone: black-box stubs of the modules it
    instantiates, then its own text."""
    module = modules[name]
    stubs = [blackbox_stub(modules[child]) for child in sorted(module.children)]
    return "".join(stubs) + module.text


def _port_names(module):
    return {_plain(port.split()[-1]) for port in module.ports}


def clock_domains(modules, top):
    """Which of ``top``'s clocks reaches each module port: ``{module: {port: domains}}``.

    ``top``'s clocks are its input ports named ``clk`` (Amaranth's ``sync`` domain, named
    ``"sync"``) or ``<domain>_clk`` (named ``<domain>``). They are followed down the hierarchy
    through instance connections that are a plain net (``.async_ff_clk(link_next_clk)``),
    also through one ``assign a = b;`` alias. ``domains`` is a sorted tuple: a module shared by
    instances in different domains (merged as identical) lists all of them. Ports no clock
    reaches are left out.
    """
    counts = instance_counts(modules, top)          # also validates top and the hierarchy
    found = {name: {} for name in counts}
    for port in _port_names(modules[top]):
        if port == "clk":
            found[top][port] = {"sync"}
        elif port.endswith("_clk") and f"input {port}" in modules[top].ports:
            found[top][port] = {port[:-len("_clk")]}
    for name in counts:                              # parents before children
        nets = {net: set(domains) for net, domains in found[name].items()}
        body = modules[name].text
        for target, source in _ALIAS.findall(body):
            if _plain(source) in nets:
                nets.setdefault(_plain(target), set()).update(nets[_plain(source)])
        for match in _INSTANCE.finditer(body):
            child = _plain(match.group(1))
            if child not in modules:
                continue
            connections = body[match.end():body.find(");", match.end())]
            for port, net in _CONNECTION.findall(connections):
                if _plain(net) in nets:
                    found[child].setdefault(_plain(port), set()).update(nets[_plain(net)])
    return {name: {port: tuple(sorted(domains)) for port, domains in sorted(ports.items())}
            for name, ports in found.items()}
