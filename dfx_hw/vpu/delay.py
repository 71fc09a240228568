"""Delay lines that keep side signals aligned with pipelined FP16 units."""

from amaranth import *

__all__ = ["delay"]


def delay(m, value, clocks, *, name="delay"):
    """Return ``value`` delayed by ``clocks`` registers in the ``sync`` domain of ``m``.

    ``clocks = 0`` returns ``value`` itself. The registers are named ``{name}_d1`` ...
    ``{name}_d{clocks}`` and hold the same shape as ``value``.
    """
    if not isinstance(clocks, int) or clocks < 0:
        raise ValueError(f"clocks must be a non-negative integer, not {clocks!r}")
    shape = value.shape() if hasattr(value, "shape") else Value.cast(value).shape()
    current = value
    for stage in range(1, clocks + 1):
        reg = Signal(shape, name=f"{name}_d{stage}")
        m.d.sync += reg.eq(current)
        current = reg
    return current
