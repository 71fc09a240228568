"""Reads of a synchronous memory read port as a stream with back-pressure."""

from amaranth import *
from amaranth.hdl import unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

__all__ = ["ReadPipe"]

#: Items in flight: one read outstanding plus two waiting lets the pipe stream one per clock.
_DEPTH = 3


class ReadPipe(wiring.Component):
    """Turns a stream of read requests into a stream of read data for a memory read port with
    one clock of latency (``mem_addr``/``mem_en`` out, ``mem_data`` in), one item per clock, with
    back-pressure on ``response`` (a registered stream).

    A request with ``bypass`` set reads nothing: its ``value`` is passed on as the data (a
    header between data words keeps its place). ``side`` travels with each item unchanged.

    Parameters
    ----------
    width : int
        Data bits.
    addr_bits : int
        Address bits of the memory.
    side : dict of str to shape
        Extra fields carried with each item (may be empty).
    """

    def __init__(self, *, width, addr_bits, side=None):
        side = dict(side or {})
        for name in ("addr", "bypass", "value", "data"):
            if name in side:
                raise ValueError(f"side field name {name!r} is reserved")
        self._width = width
        self._side = side
        request = data.StructLayout({"addr": unsigned(addr_bits), "bypass": 1,
                                     "value": unsigned(width), **side})
        response = data.StructLayout({"data": unsigned(width), **side})
        super().__init__({
            "request": In(stream.Signature(request)),
            "response": Out(stream.Signature(response)),
            "mem_addr": Out(addr_bits),
            "mem_en": Out(1),
            "mem_data": In(width),
        })

    def elaborate(self, platform):
        m = Module()
        side_layout = data.StructLayout(self._side) if self._side else None
        side_bits = side_layout.size if side_layout else 0
        item_bits = self._width + side_bits
        m.submodules.fifo = fifo = SyncFIFO(width=item_bits, depth=_DEPTH)
        req = self.request.payload

        in_flight = Signal()
        flight_bypass = Signal()
        flight_value = Signal(self._width)
        flight_side = Signal(max(side_bits, 1))
        take = Signal()
        m.d.comb += [
            take.eq(self.request.valid & (fifo.level + in_flight < _DEPTH)),
            self.request.ready.eq(fifo.level + in_flight < _DEPTH),
            self.mem_addr.eq(req.addr),
            self.mem_en.eq(take & ~req.bypass),
        ]
        m.d.sync += in_flight.eq(take)
        with m.If(take):
            m.d.sync += [flight_bypass.eq(req.bypass), flight_value.eq(req.value)]
            if side_bits:
                m.d.sync += flight_side.eq(Cat(*(req[name] for name in self._side)))
        word = Mux(flight_bypass, flight_value, self.mem_data)
        m.d.comb += [
            fifo.w_en.eq(in_flight),
            fifo.w_data.eq(Cat(word, flight_side[:side_bits]) if side_bits else word),
        ]
        # Registered output (the FIFO's read is asynchronous LUT RAM): take a new item when the
        # register is empty or being emptied.
        out_take = Signal()
        m.d.comb += [out_take.eq(~self.response.valid | self.response.ready),
                     fifo.r_en.eq(out_take)]
        with m.If(out_take):
            m.d.sync += [self.response.valid.eq(fifo.r_rdy),
                         self.response.payload.as_value().eq(fifo.r_data)]
        return m
