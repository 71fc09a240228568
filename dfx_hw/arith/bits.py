"""Small combinational bit-manipulation blocks shared by the FP16 units."""

from amaranth.hdl import Cat, Const, Mux, Signal, Value

__all__ = ["leading_zeros"]


def leading_zeros(m, value, *, name):
    """Count the zeros above the most significant one of ``value`` (combinational).

    The count is a balanced tree over halves of the operand, so its depth grows with
    ``log2(width)``. The operand is padded below its LSB with ones up to a power of two (at
    least one pad bit), which makes an all-zero operand count exactly ``width``.

    Parameters
    ----------
    m : Module
        Receives the (combinational) nets of the counter.
    value : Value
        The operand.
    name : str
        Prefix of the nets.

    Returns
    -------
    Signal
        Unsigned count in ``0 .. width``.
    """
    value = Value.cast(value)
    width = len(value)
    size = 2
    while size < width + 1:
        size *= 2
    pad = size - width
    padded = Signal(size, name=f"{name}_operand")
    m.d.comb += padded.eq(Cat(Const((1 << pad) - 1, pad), value))

    def tree(bits):
        # Leading zeros of `bits` (valid when `bits` is not all zero). Each sub-expression is
        # used once, so the expression stays linear in size.
        if len(bits) == 1:
            return Const(0, 0)
        half = len(bits) // 2
        return Mux(bits[half:] == 0, Cat(tree(bits[:half]), Const(1, 1)),
                   Cat(tree(bits[half:]), Const(0, 1)))

    count = Signal(range(width + 1), name=f"{name}_count")
    m.d.comb += count.eq(tree(padded))
    return count
