"""Hierarchical Verilog: each distinct *leaf* unit emitted once as a module and instantiated.

Amaranth writes one Verilog module per component *instance*: the full-size MFU's 1,024 FP16
multipliers and 1,008 adders became 2,000 modules (21 MB). A class derived from
:class:`LeafComponent` is a leaf: inside :func:`convert_hierarchical` every instance of it is
replaced by an :class:`~amaranth.hdl.Instance` of one module per distinct parameter set, whose
Verilog is written once beside the top module. Leaves may contain leaves (an MFU lane module
instantiates the multiplier and adder-tree modules).

Outside :func:`convert_hierarchical` (Amaranth's simulator, plain ``verilog.convert``) a leaf
elaborates as an ordinary component, inline: the two forms have the same ports and the same
logic, only the Verilog hierarchy differs.

Identity and names
------------------
Two leaf instances share a module when they are of the same class and have equal parameters
(:meth:`LeafComponent.leaf_parameters`: by default the constructor's arguments bound to its
signature with its defaults; compared by ``repr``). The
module is named after the class and the arguments, e.g. ``FP16Adder_latency6`` or
``MFULane_d64_mul_latency4_add_latency6``; an argument without a short identifier form (a tuple,
a configuration object) is replaced by a hash of all arguments. A leaf's constructor arguments
must therefore determine its hardware, and their ``repr`` must show their value (not an object
address); :func:`convert_hierarchical` raises ``ValueError`` otherwise.

Leaves use the ``sync`` domain only (or none): the module's ``clk`` and ``rst`` ports, when it
has them, are connected to the parent's ``sync`` clock and reset. Do not wrap a leaf in
``EnableInserter``/``ResetInserter``: an instance cannot be transformed.
"""

import contextvars
import hashlib
import inspect
import re

from amaranth.back import rtlil
from amaranth.hdl import ClockSignal, Instance, ResetSignal, Value, ValueCastable
from amaranth.lib import wiring

from .meminit import fast_memory_init

__all__ = ["LeafComponent", "convert_hierarchical", "leaf_key", "leaf_name"]

_SESSION = contextvars.ContextVar("dfx_hw_hdl_leaf_session", default=None)
_PORT = re.compile(r"^\s*wire\b[^\n]*\b(input|output|inout)\s+\d+\s+\\(\S+)\s*$", re.M)
_SIMPLE = re.compile(r"^[A-Za-z0-9]+$")
_DOMAIN_PORTS = {"clk", "rst"}


class LeafComponent(wiring.Component):
    """A component that :func:`convert_hierarchical` emits once per parameter set.

    Derive from it instead of :class:`~amaranth.lib.wiring.Component`; nothing else changes.
    The constructor's arguments are recorded (see the module documentation for what they must
    satisfy).
    """

    def __new__(cls, *args, src_loc_at=0, **kwargs):
        self = super().__new__(cls, *args, src_loc_at=src_loc_at + 1, **kwargs)
        self._leaf_arguments = (args, kwargs)
        return self

    def leaf_parameters(self):
        """The parameters that determine this leaf's hardware, by name: by default the
        constructor's arguments bound to its signature, defaults filled in. Override when the
        constructor's defaults are not the values (e.g. a sentinel resolved in ``__init__``)."""
        args, kwargs = self._leaf_arguments
        bound = inspect.signature(type(self).__init__).bind(self, *args, **kwargs)
        bound.apply_defaults()
        parameters = dict(bound.arguments)
        parameters.pop(next(iter(parameters)))          # self
        parameters.pop("src_loc_at", None)              # where, not what
        if type(self).__init__ is wiring.Component.__init__ and parameters == {"signature": None}:
            return {}                                    # ports from annotations only
        return parameters

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "elaborate" in cls.__dict__:
            cls.elaborate = _leaf_elaborate(cls.__dict__["elaborate"])


def _leaf_elaborate(elaborate):
    def wrapper(self, platform):
        session = _SESSION.get()
        if session is None or session.is_top(self):
            return elaborate(self, platform)
        return session.instance(self, platform)
    wrapper.__name__ = elaborate.__name__
    wrapper.__qualname__ = elaborate.__qualname__
    wrapper.__doc__ = elaborate.__doc__
    wrapper.__wrapped__ = elaborate
    return wrapper


def leaf_key(leaf):
    """What makes two leaves the same module: class and :meth:`~LeafComponent.leaf_parameters`."""
    arguments = leaf.leaf_parameters()
    text = repr(sorted(arguments.items()))
    if " at 0x" in text:
        raise ValueError(f"{type(leaf).__qualname__}: a constructor argument has no value repr "
                         f"({text}); a leaf's arguments must show their value")
    return f"{type(leaf).__module__}.{type(leaf).__qualname__}({text})"


def _short(value):
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value) if value >= 0 else f"m{-value}"
    if value is None:
        return "none"
    if isinstance(value, str) and _SIMPLE.match(value):
        return value
    return None


def leaf_name(leaf):
    """The Verilog module name of ``leaf``: class name and arguments (or their hash)."""
    parts = [type(leaf).__name__]
    readable = True
    for name, value in leaf.leaf_parameters().items():
        short = _short(value)
        if short is None:
            readable = False
            break
        parts.append(f"{name}{short}")
    if not readable:
        digest = hashlib.sha256(leaf_key(leaf).encode()).hexdigest()[:10]
        parts = [type(leaf).__name__, digest]
    return "_".join(parts)


class _Module:
    """One emitted leaf module: its name, port names and RTLIL."""

    def __init__(self, name, ports, rtlil_text):
        self.name = name
        self.ports = ports
        self.rtlil = rtlil_text


class _Session:
    """The leaf modules of one :func:`convert_hierarchical` call."""

    def __init__(self):
        self.modules = {}            # leaf key -> _Module, in the order they were emitted
        self.names = {}              # module name -> leaf key
        self.tops = []               # the components being converted as tops, innermost last

    def is_top(self, component):
        return bool(self.tops) and self.tops[-1] is component

    def rtlil(self, component, name, platform=None):
        self.tops.append(component)
        try:
            return rtlil.convert(component, name=name, platform=platform)
        finally:
            self.tops.pop()

    def instance(self, leaf, platform):
        key = leaf_key(leaf)
        module = self.modules.get(key)
        if module is None:
            name = leaf_name(leaf)
            if self.names.get(name, key) != key:
                raise ValueError(f"two different leaves are both named {name!r}: "
                                 f"{self.names[name]} and {key}")
            self.names[name] = key
            text = _strip_top_attribute(self.rtlil(leaf, name, platform), name)
            ports = _module_ports(text, name)
            module = self.modules[key] = _Module(name, ports, text)
        # The leaf is used: it is emitted as its module (above, once per parameter set) and
        # stands here as an instance of it. Amaranth only sees that an object it elaborated is
        # used, so tell it (otherwise every repeated leaf warns `UnusedElaboratable`).
        leaf._MustUse__used = True
        return Instance(module.name, **_connections(leaf, module))


def _strip_top_attribute(text, name):
    """A leaf module is not a top: drop its ``top`` attribute (tools pick the real top)."""
    return re.sub(r"^attribute \\top 1\n(?=(?:attribute [^\n]*\n)*module \\" + re.escape(name)
                  + r"\n)", "", text, flags=re.M)


def _module_ports(text, name):
    """Port names of module ``name`` in RTLIL ``text``."""
    match = re.search(r"^module \\" + re.escape(name) + r"\n(.*?)^end\n", text, re.M | re.S)
    if match is None:
        raise RuntimeError(f"leaf module {name!r} not found in its own RTLIL")
    return {port for _, port in _PORT.findall(match.group(1))}


def _connections(leaf, module):
    """Instance keyword arguments connecting ``leaf``'s ports (and clock and reset)."""
    connections = {}
    seen = set()
    for path, member, value in leaf.signature.flatten(leaf):
        if isinstance(value, ValueCastable):
            value = value.as_value()
        if not isinstance(value, Value):
            continue
        port = "__".join(map(str, path))
        seen.add(port)
        prefix = "i_" if member.flow == wiring.In else "o_"
        connections[prefix + port] = value
    extra = module.ports - seen
    if not extra <= _DOMAIN_PORTS:
        raise ValueError(f"leaf module {module.name!r} has ports other than its signature and "
                         f"clk/rst: {sorted(extra - _DOMAIN_PORTS)} (a leaf may use only the "
                         f"sync domain)")
    if "clk" in extra:
        connections["i_clk"] = ClockSignal("sync")
    if "rst" in extra:
        connections["i_rst"] = ResetSignal("sync")
    return connections


def convert_hierarchical(component, name="top", *, platform=None):
    """Verilog of ``component`` with every distinct leaf module written once and instantiated.

    Parameters
    ----------
    component : Component
        The design; its ports are the top module's ports (as for ``verilog.convert``).
    name : str
        Name of the top module.
    platform : optional
        Passed to ``elaborate``.

    Returns
    -------
    str
        The Verilog text: the leaf modules (each with its own non-leaf submodules), then the top.
    """
    from amaranth.back import verilog

    session = _Session()
    token = _SESSION.set(session)
    try:
        with fast_memory_init():
            top = session.rtlil(component, name, platform)
    finally:
        _SESSION.reset(token)
    texts = [module.rtlil for module in session.modules.values()] + [top]
    # One Yosys run over every module (Amaranth's own RTLIL -> Verilog step of verilog.convert).
    return verilog._convert_rtlil_text("\n".join(texts))
