"""Amaranth's RTLIL for memory contents, written in one string instead of one net per bit.

Amaranth 0.5 (:mod:`amaranth.back.rtlil`) writes a memory's initial contents as a sigspec built
from one constant net per bit: for the core's register file and buffers (millions of bits, all
zero) that took about 40 % of the core's elaboration. :func:`fast_memory_init` replaces that one
method, for the duration of a ``with`` block, with one that formats the same constant directly:
the RTLIL text is byte for byte the same (``tests/test_hdl_meminit.py``). It applies only to the
Amaranth version it was checked against; on any other, the library's own method is kept.
"""

from contextlib import contextmanager

import amaranth
from amaranth.back import rtlil

__all__ = ["fast_memory_init"]

#: The Amaranth version whose ``ModuleEmitter.emit_memory`` this reproduces.
CHECKED_VERSION = "0.5.10"


def _emit_memory(self, cell_idx, cell):
    """``ModuleEmitter.emit_memory`` of Amaranth 0.5.10 with the ``DATA`` constant formatted at
    once: the rows last to first, each as ``width`` binary digits, most significant first."""
    from amaranth.hdl import _nir
    memory_info = self.memories[cell_idx]
    mask = (1 << cell.width) - 1
    bits = cell.width * cell.depth
    data = "".join(format(int(row) & mask, f"0{cell.width}b") for row in reversed(list(cell.init)))
    assert len(data) == bits
    self.builder.cell("$meminit_v2", ports={
        "ADDR": self.sigspec(),
        "DATA": f"{bits}'{data}" if bits else self.sigspec(),
        "EN": self.sigspec(_nir.Value.ones(cell.width)),
    }, parameters={
        "MEMID": memory_info.memid,
        "ABITS": 0,
        "WIDTH": cell.width,
        "WORDS": cell.depth,
        "PRIORITY": 0,
    }, src_loc=cell.src_loc)


@contextmanager
def fast_memory_init():
    """Within the block, Amaranth writes memory contents with :func:`_emit_memory` (only on
    :data:`CHECKED_VERSION`; otherwise nothing changes)."""
    emitter = rtlil.ModuleEmitter
    if amaranth.__version__ != CHECKED_VERSION or not hasattr(emitter, "emit_memory"):
        yield
        return
    original = emitter.emit_memory
    emitter.emit_memory = _emit_memory
    try:
        yield
    finally:
        emitter.emit_memory = original
