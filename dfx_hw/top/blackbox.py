"""A black-box stand-in for the DFX core, with exactly the port contract of
:mod:`dfx_hw.spec.core_ports`: the top level elaborates and lints without the real core.

It is a ``wiring.Component`` with :func:`~dfx_hw.spec.core_ports.core_signature` whose
``elaborate`` is one ``Instance("dfx_core", ...)`` connecting every flattened port by name
(``hbm__3__awaddr``), plus ``clk``/``rst`` of ``sync`` and of the two link domains. The lint
check gives Verilator a ``dfx_core`` stub generated from the same contract
(:func:`core_stub_verilog`). Not a model of the core: it has no behaviour.
"""

from amaranth.hdl import ClockSignal, Instance, Module, ResetSignal
from amaranth.lib import wiring

from ..spec.core_ports import LINK_DOMAINS, U280_PORTS, CorePorts, core_signature, flat_ports
from .ip_ports import Port, verilog_stub

__all__ = ["BlackBoxCore", "core_stub_verilog", "CORE_MODULE"]

#: The Verilog module name of the black-box core.
CORE_MODULE = "dfx_core"


class BlackBoxCore(wiring.Component):
    """The core's ports around an ``Instance("dfx_core")``.

    Parameters
    ----------
    ports : CorePorts
        Port sizes (keyword-only).
    """

    def __init__(self, *, ports=U280_PORTS):
        if not isinstance(ports, CorePorts):
            raise TypeError(f"ports must be a CorePorts, not {ports!r}")
        self._ports = ports
        super().__init__(core_signature(ports))

    @property
    def ports(self):
        return self._ports

    def elaborate(self, platform):
        m = Module()
        kwargs = {"i_clk": ClockSignal("sync"), "i_rst": ResetSignal("sync")}
        for domain in LINK_DOMAINS:
            kwargs[f"i_{domain}_clk"] = ClockSignal(domain)
            kwargs[f"i_{domain}_rst"] = ResetSignal(domain)
        for path, member, value in self.signature.flatten(self):
            name = "__".join(str(p) for p in path)
            kwargs[f"{'o' if member.flow == wiring.Out else 'i'}_{name}"] = value
        m.submodules.core = Instance(CORE_MODULE, **kwargs)
        return m


def core_stub_verilog(ports=U280_PORTS):
    """Verilog stub of ``dfx_core`` with the contract's ports (for lint)."""
    return verilog_stub(CORE_MODULE, [Port(n, d, w) for n, d, w in flat_ports(ports)])
