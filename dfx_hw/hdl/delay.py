"""Delay lines: bookkeeping that travels beside a pipelined datapath."""

from amaranth.hdl import Signal, Value

__all__ = ["delay"]


def delay(m, value, clocks, *, en=None, name="delay"):
    """``value`` delayed by ``clocks`` registers in the ``sync`` domain of ``m``.

    Parameters
    ----------
    m : Module
        Module receiving the registers.
    value : ValueLike
        What to delay (any shape; a view keeps its layout).
    clocks : int
        Number of registers (0 returns ``value`` itself).
    en : Value or None
        Advance enable shared with the datapath the value travels beside: the registers load
        only while it is high. ``None``: they load on every clock.
    name : str
        Prefix of the register names, ``{name}_d1`` ... ``{name}_d{clocks}``.

    Raises
    ------
    ValueError
        ``clocks`` is not a non-negative integer.
    """
    if isinstance(clocks, bool) or not isinstance(clocks, int) or clocks < 0:
        raise ValueError(f"clocks must be a non-negative integer, not {clocks!r}")
    shape = value.shape() if hasattr(value, "shape") else Value.cast(value).shape()
    for stage in range(1, clocks + 1):
        reg = Signal(shape, name=f"{name}_d{stage}")
        if en is None:
            m.d.sync += reg.eq(value)
        else:
            with m.If(en):
                m.d.sync += reg.eq(value)
        value = reg
    return value
