"""The AXI4-Lite register block: the register map of :mod:`dfx_hw.spec.regmap` on the bus.

Address decode, read multiplexer and write strobes are generated from the table; no offset is
written here.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi4_lite import Resp, axi4_lite_signature
from ..spec.regmap import ADDRESS_BITS, DATA_BITS, REGISTERS

__all__ = ["RegisterBlock"]


def port_name(register, suffix=""):
    return register.name.lower() + suffix


class RegisterBlock(wiring.Component):
    """AXI4-Lite slave holding the register map.

    One write and one read are handled at a time: ``awready``/``wready`` are high while the
    address/data of the pending write is not yet held, ``arready`` while no read is pending;
    a write is performed the clock both its address and data are held and answered on B the next
    clock; a read is answered on R the clock after its address was taken. All outputs are
    registers or functions of registers only (``valid`` never depends on ``ready``).

    Parameters
    ----------
    external : tuple of str
        ``rw`` registers whose value lives outside the block (the hardware updates it): they get
        a write strobe and a read input instead of storage.
    refusable : tuple of str
        Writable registers with a ``<name>_refuse`` input: a write while it is high answers
        SLVERR and does nothing.

    Members
    -------
    bus : In(axi4_lite_signature(addr_width=ADDRESS_BITS))
    wdata : Out(32)
        Data of the write being performed (valid with a ``<name>_wr`` strobe).
    <name>_rd : In(32)
        Value of each ``ro`` register and each ``external`` register.
    <name>_wr : Out(1)
        One-clock write strobe of each ``wo`` and ``external`` register.
    <name> : Out(32)
        Value of each other ``rw`` register (stored here, reset from the table).
    lock : In(1)
        The core runs: writes to registers marked *locked* answer SLVERR.
    <name>_refuse : In(1)
        See ``refusable``.
    """

    def __init__(self, *, external=(), refusable=()):
        names = {r.name for r in REGISTERS}
        for name in tuple(external) + tuple(refusable):
            if name not in names:
                raise ValueError(f"{name!r} is not a register of the register map")
        self._external = frozenset(external)
        self._refusable = frozenset(refusable)
        members = {"bus": In(axi4_lite_signature(addr_width=ADDRESS_BITS)),
                   "wdata": Out(DATA_BITS), "lock": In(1)}
        for r in REGISTERS:
            if r.access == "ro" or r.name in self._external:
                members[port_name(r, "_rd")] = In(DATA_BITS)
            if r.access == "wo" or r.name in self._external:
                members[port_name(r, "_wr")] = Out(1)
            if r.access == "rw" and r.name not in self._external:
                members[port_name(r)] = Out(DATA_BITS, init=r.reset)
            if r.name in self._refusable:
                members[port_name(r, "_refuse")] = In(1)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        word = slice(2, ADDRESS_BITS)

        # write channel
        aw_held, w_held = Signal(), Signal()
        aw_addr = Signal(ADDRESS_BITS - 2)
        w_data = Signal(DATA_BITS)
        w_full = Signal()
        bvalid, bresp = Signal(), Signal(Resp)
        m.d.comb += [bus.awready.eq(~aw_held), bus.wready.eq(~w_held), bus.bvalid.eq(bvalid),
                     bus.bresp.eq(bresp), self.wdata.eq(w_data)]
        with m.If(bus.awvalid & ~aw_held):
            m.d.sync += [aw_held.eq(1), aw_addr.eq(bus.awaddr[word])]
        with m.If(bus.wvalid & ~w_held):
            m.d.sync += [w_held.eq(1), w_data.eq(bus.wdata), w_full.eq(bus.wstrb.all())]
        with m.If(bvalid & bus.bready):
            m.d.sync += bvalid.eq(0)
        perform = Signal()
        m.d.comb += perform.eq(aw_held & w_held & ~bvalid)
        ok = Signal()
        with m.If(perform):
            m.d.sync += [aw_held.eq(0), w_held.eq(0), bvalid.eq(1),
                         bresp.eq(Mux(ok, Resp.OKAY, Resp.SLVERR))]
        with m.Switch(aw_addr):
            for r in REGISTERS:
                if not r.writable:
                    continue
                with m.Case(r.offset >> 2):
                    refuse = Const(0)
                    if r.locked:
                        refuse = refuse | self.lock
                    if r.name in self._refusable:
                        refuse = refuse | getattr(self, port_name(r, "_refuse"))
                    m.d.comb += ok.eq(w_full & ~refuse)
                    act = perform & ok
                    if r.access == "wo" or r.name in self._external:
                        m.d.comb += getattr(self, port_name(r, "_wr")).eq(act)
                    else:
                        with m.If(act):
                            m.d.sync += getattr(self, port_name(r)).eq(w_data)

        # read channel
        ar_held = Signal()
        ar_addr = Signal(ADDRESS_BITS - 2)
        rvalid, rdata, rresp = Signal(), Signal(DATA_BITS), Signal(Resp)
        m.d.comb += [bus.arready.eq(~ar_held & ~rvalid), bus.rvalid.eq(rvalid),
                     bus.rdata.eq(rdata), bus.rresp.eq(rresp)]
        with m.If(bus.arvalid & ~ar_held & ~rvalid):
            m.d.sync += [ar_held.eq(1), ar_addr.eq(bus.araddr[word])]
        with m.If(rvalid & bus.rready):
            m.d.sync += rvalid.eq(0)
        with m.If(ar_held & ~rvalid):
            m.d.sync += [ar_held.eq(0), rvalid.eq(1), rresp.eq(Resp.OKAY), rdata.eq(0)]
            with m.Switch(ar_addr):
                for r in REGISTERS:
                    if not r.readable:
                        continue
                    with m.Case(r.offset >> 2):
                        if r.access == "ro" or r.name in self._external:
                            value = getattr(self, port_name(r, "_rd"))
                        else:
                            value = getattr(self, port_name(r))
                        m.d.sync += rdata.eq(value)
        return m
