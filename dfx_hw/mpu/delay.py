"""Enable-gated delay lines: bookkeeping that travels beside a pipelined datapath."""

from amaranth.hdl import Signal, Value

__all__ = ["delay"]


def delay(m, value, cycles, *, en, name):
    """``value`` delayed by ``cycles`` registers that advance only while ``en`` is high.

    Parameters
    ----------
    m : Module
        Module receiving the registers (``sync`` domain).
    value : ValueLike
        What to delay (any shape; a view keeps its layout).
    cycles : int
        Number of registers (0 returns ``value`` itself).
    en : Value
        Advance enable shared with the datapath the value travels beside.
    name : str
        Prefix of the register names.
    """
    shape = value.shape() if hasattr(value, "shape") else Value.cast(value).shape()
    for index in range(cycles):
        reg = Signal(shape, name=f"{name}_d{index + 1}")
        with m.If(en):
            m.d.sync += reg.eq(value)
        value = reg
    return value
