"""The error report a DMA block hands the DMA's top level: a sticky first error with the AXI
port it came from (the top level turns the first report into the unit's
:data:`~dfx_hw.spec.errors.ErrorSignature`)."""

from amaranth.hdl import Mux, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from ..spec.errors import INFO_BITS, ErrorCode

__all__ = ["ReportSignature", "report_first"]


def ReportSignature(ports):
    """``valid``/``code``/``info`` as :data:`ErrorSignature` plus ``port`` (which AXI port)."""
    return wiring.Signature({
        "valid": Out(1), "code": Out(ErrorCode), "info": Out(INFO_BITS),
        "port": Out(range(max(ports, 2))),
    })


def report_first(m, report, candidates):
    """Drive the sticky ``report`` from ``candidates``, a list of ``(valid, code, info, port)``
    value tuples in priority order: the first one valid on the first clock any is valid wins
    and is held until reset. The choice is a balanced tree of 2:1 selections (``log2`` of the
    candidates deep), not a chain."""
    level = [(Value.cast(valid), (Value.cast(code), Value.cast(info), Value.cast(port)))
             for valid, code, info, port in candidates]
    while len(level) > 1:
        paired = []
        for i in range(0, len(level) - 1, 2):
            (va, pa), (vb, pb) = level[i], level[i + 1]
            paired.append((va | vb, tuple(Mux(va, a, b) for a, b in zip(pa, pb))))
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    valid, (code, info, port) = level[0]
    with m.If(~report.valid & valid):
        m.d.sync += [report.valid.eq(1), report.code.eq(code), report.info.eq(info),
                     report.port.eq(port)]
