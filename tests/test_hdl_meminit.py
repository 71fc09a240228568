"""dfx_hw.hdl.meminit writes memory contents into RTLIL exactly as Amaranth does, only faster."""

import random

import pytest
from amaranth.back import rtlil
from amaranth.hdl import Module, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from dfx_hw.hdl.meminit import fast_memory_init


class _Rom(wiring.Component):
    def __init__(self, shape, init):
        self._shape, self._init = shape, init
        super().__init__({"addr": In(range(len(init))), "data": Out(shape)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = Memory(shape=self._shape, depth=len(self._init), init=self._init)
        read = mem.read_port()
        m.d.comb += [read.addr.eq(self.addr), self.data.eq(read.data)]
        return m


@pytest.mark.parametrize("shape, low, high", [(13, 0, 1 << 13), (signed(9), -256, 256), (1, 0, 2)],
                         ids=["unsigned13", "signed9", "one-bit"])
def test_fast_memory_init_writes_the_same_rtlil_as_amaranth(shape, low, high):
    rng = random.Random(7)
    init = [rng.randrange(low, high) for _ in range(37)]
    expected = rtlil.convert(_Rom(shape, init), name="rom")
    with fast_memory_init():
        fast = rtlil.convert(_Rom(shape, init), name="rom")
    assert "$meminit_v2" in expected
    assert fast == expected


def test_fast_memory_init_is_undone_after_the_block():
    original = rtlil.ModuleEmitter.emit_memory
    with fast_memory_init():
        pass
    assert rtlil.ModuleEmitter.emit_memory is original
