"""Latency checking and pipeline-register placement shared by the FP16 units.

A unit describes its datapath as a chain of combinational steps separated by named *cut points*
and lists those cut points in the order in which they should receive a register (the cuts that
shorten the longest path most come first). A latency of ``L`` puts one register on each of the
first ``L`` cuts of that list; a latency larger than the number of cuts puts the extra registers
on the unit's last cut (the output), where a retiming synthesis tool can move them.
"""

from types import SimpleNamespace

from amaranth.hdl import Signal, Value
from amaranth.lib.wiring import In, Out

from ..hdl.leaf import LeafComponent
from .format import WIDTH

__all__ = ["check_latency", "register_counts", "Pipeline", "PipelinedUnit"]

_DEFAULT = object()         # "latency not given": the unit's DEFAULT_LATENCY


def check_latency(latency):
    """Return ``latency`` if it is a non-negative integer, else raise :class:`ValueError`."""
    if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
        raise ValueError(f"latency must be a non-negative integer, not {latency!r}")
    return latency


def register_counts(priority, *, output, latency):
    """How many registers each cut point gets for ``latency``.

    Parameters
    ----------
    priority : sequence of str
        Every cut point of the unit, in the order in which they receive registers.
    output : str
        The cut point that takes the registers beyond ``len(priority)``.
    latency : int
        Total number of registers on every path from input to output.

    Returns
    -------
    dict of str to int
    """
    if output not in priority:
        raise ValueError(f"output cut {output!r} is not one of the cut points {priority!r}")
    counts = {cut: 0 for cut in priority}
    for cut in priority[:latency]:
        counts[cut] += 1
    counts[output] += max(0, latency - len(priority))
    return counts


class Pipeline:
    """Places pipeline registers, all enabled by one ``en`` signal, at named cut points.

    Parameters
    ----------
    m : Module
        The module the registers are added to (``sync`` domain).
    counts : dict of str to int
        Registers per cut point (see :func:`register_counts`).
    en : Value
        Clock enable of every register: when low, the whole pipeline holds its state.
    """

    def __init__(self, m, *, counts, en):
        self._m = m
        self._counts = dict(counts)
        self._en = en

    def cut(self, name, **values):
        """Pass ``values`` through the registers of cut point ``name``.

        Returns
        -------
        SimpleNamespace
            By keyword, the values after the cut's registers (a plain named net when the cut has
            no register).
        """
        count = self._counts[name]
        out = {}
        for key, value in values.items():
            value = Value.cast(value)
            # A named signal even without a register: later stages then refer to a net, not to
            # a copy of the whole expression tree.
            net = Signal(value.shape(), name=f"{name}_{key}_d")
            self._m.d.comb += net.eq(value)
            value = net
            for index in range(count):
                reg = Signal(value.shape(), name=f"{name}_{key}" + (f"_{index}" if index else ""),
                             reset_less=True)
                with self._m.If(self._en):
                    self._m.d.sync += reg.eq(value)
                value = reg
            out[key] = value
        return SimpleNamespace(**out)


class PipelinedUnit(LeafComponent):
    """Base of the FP16 units: the ports every unit has, a ``latency`` parameter and a
    :class:`Pipeline` over the unit's cut points.

    A subclass declares its other ports, ``CUTS`` (its cut points in the order they receive
    registers, the last-resort ``"output"`` among them) and ``DEFAULT_LATENCY``, and builds its
    datapath in ``elaborate`` on :meth:`pipeline`. Every unit is a leaf
    (:class:`~dfx_hw.hdl.leaf.LeafComponent`): hierarchical Verilog has one module per unit and
    latency, instantiated.

    Parameters
    ----------
    latency : int
        Clock cycles from operands to result (non-negative; default ``DEFAULT_LATENCY``): the
        operands applied on a clock where ``en`` is high give their result exactly ``latency``
        enabled clocks later. ``0`` makes the unit combinational.

    Members
    -------
    a : In(16)
        First (or only) operand.
    en : In(1, init=1)
        Clock enable: when low the whole pipeline holds its state.
    result : Out(16)
        The result for the operands applied ``latency`` enabled clocks earlier.
    """

    CUTS = ("output",)
    DEFAULT_LATENCY = 1

    a: In(WIDTH)
    en: In(1, init=1)
    result: Out(WIDTH)

    def __init__(self, *, latency=_DEFAULT):
        self._latency = check_latency(self.DEFAULT_LATENCY if latency is _DEFAULT else latency)
        super().__init__()

    @property
    def latency(self):
        """Clock cycles from operands to result."""
        return self._latency

    def leaf_parameters(self):
        """The latency (resolved) is the unit's only parameter."""
        return {"latency": self._latency}

    def pipeline(self, m):
        """A :class:`Pipeline` in ``m`` placing :attr:`latency` registers on ``CUTS``, enabled by
        ``en``."""
        return Pipeline(m, counts=register_counts(self.CUTS, output="output",
                                                  latency=self._latency), en=self.en)
