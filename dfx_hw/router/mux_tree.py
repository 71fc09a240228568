"""Selection of one of several signals by an index, as plain multiplexers."""

from amaranth import Mux

__all__ = ["select"]


def select(items, index):
    """``items[index]`` as a tree of 2:1 multiplexers on the bits of ``index`` (an index past
    the end gives some item). Plain multiplexers elaborate to continuous assignments, which
    every simulator evaluates from time zero (a ``case`` block whose inputs never change would
    stay ``x`` in Icarus)."""
    level = list(items)
    bit = 0
    while len(level) > 1:
        level = [Mux(index[bit], level[i + 1], level[i]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
        bit += 1
    return level[0]
