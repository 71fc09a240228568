"""Issuing single-beat AXI4 writes over one or several ports, with response tracking."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ..bus.axi4 import AXI4Signature, BURST_INCR, CACHE_NORMAL, Resp, size_code
from ..spec.params import check_positive
from ..spec.errors import ErrorCode
from .report import ReportSignature, report_first

__all__ = ["WriteIssuer", "write_request_layout"]


def write_request_layout(*, ports, addr_bits, data_bits):
    """One write beat: ``port``, ``addr`` (byte address, beat aligned), ``data``, ``strobe``
    (one bit per byte)."""
    return data.StructLayout({"port": range(max(ports, 2)), "addr": addr_bits,
                              "data": data_bits, "strobe": data_bits // 8})


class WriteIssuer(wiring.Component):
    """Writes each accepted beat as one AXI4 write (``AWLEN = 0``, full-width ``AWSIZE``,
    ``WSTRB`` = the beat's strobe) on its port, AW and W presented together, at most
    ``outstanding`` writes per port waiting for their response. A response other than OKAY is
    reported (``AXI_SLVERR`` / ``AXI_DECERR``, info = the write's byte address, port).

    Single-beat writes because the DMA's writes are register-file rows: on HBM consecutive
    beats go to different channels (:mod:`dfx_hw.spec.hbm_map`), and STHT writes one element
    per beat. Each port has its own beat register, so a port that waits for its turn (reads
    flowing on it) holds only its own beats: up to one beat per clock over several ports, one
    every two clocks on a port; a beat's address waits while its port has ``outstanding``
    writes in flight. Writes to different ports may complete in any order (the DMA's
    instruction waits for every response).

    Parameters
    ----------
    ports : int
    addr_bits, data_bits, id_bits : int
        The AXI4 port shape.
    outstanding : int
        Writes in flight per port.

    Members
    -------
    req : In(stream.Signature(write_request_layout(...)))
    bus : Out(AXI4Signature(...)).array(ports)
        Only the AW, W and B channels are driven (AR/R outputs are 0).
    idle : Out(1)
        No beat waiting and every response received.
    report : Out(ReportSignature(ports))
    beats : Out(32).array(ports)
        Write beats issued per port (statistics).
    """

    def __init__(self, *, ports, addr_bits, data_bits, id_bits, outstanding):
        check_positive("ports", ports)
        check_positive("outstanding", outstanding)
        self._ports, self._outstanding = ports, outstanding
        self._addr_bits, self._data_bits = addr_bits, data_bits
        axi = AXI4Signature(addr_bits=addr_bits, data_bits=data_bits, id_bits=id_bits)
        super().__init__({
            "req": In(stream.Signature(write_request_layout(ports=ports, addr_bits=addr_bits,
                                                            data_bits=data_bits))),
            "bus": Out(axi).array(ports),
            "idle": Out(1),
            "report": Out(ReportSignature(ports)),
            "beats": Out(32).array(ports),
        })

    def elaborate(self, platform):
        m = Module()
        ports = self._ports
        beat_shape = data.StructLayout({name: self.req.payload.shape().members[name]
                                        for name in ("addr", "data", "strobe")})

        # A queue in front of the beat registers keeps the ports' state out of the upstream
        # ready path (depth 3: a buffered FIFO of depth 2 takes a beat every other clock).
        inbox = SyncFIFOBuffered(width=len(self.req.payload.as_value()), depth=3)
        m.submodules.inbox = inbox
        head = data.View(self.req.payload.shape(), inbox.r_data)
        m.d.comb += [inbox.w_data.eq(self.req.payload), inbox.w_en.eq(self.req.valid),
                     self.req.ready.eq(inbox.w_rdy)]

        # One beat register per port: the queue's head moves into its port's register when
        # that is free, so a port waiting for its turn (reads flowing on it) holds only its
        # own beats while the next beat goes to another port.
        holds = [Signal(beat_shape, name=f"hold{c}") for c in range(ports)]
        aw_pend = Signal(ports)
        w_pend = Signal(ports)
        free = Signal(ports)
        m.d.comb += [free.eq(~aw_pend & ~w_pend),
                     inbox.r_en.eq(free.bit_select(head.port, 1))]
        with m.If(inbox.r_rdy & inbox.r_en):
            with m.Switch(head.port):
                for c in range(ports):
                    with m.Case(c):
                        m.d.sync += [holds[c].addr.eq(head.addr), holds[c].data.eq(head.data),
                                     holds[c].strobe.eq(head.strobe),
                                     aw_pend[c].eq(1), w_pend[c].eq(1)]

        err_valid = Signal(ports)
        err_code = [Signal(ErrorCode, name=f"err_code{c}") for c in range(ports)]
        err_addr = [Signal(self._addr_bits, name=f"err_addr{c}") for c in range(ports)]
        busy = []
        for c, bus in enumerate(self.bus):
            fifo = SyncFIFO(width=self._addr_bits, depth=self._outstanding)
            m.submodules[f"pending{c}"] = fifo
            hold = holds[c]
            m.d.comb += [
                bus.awid.eq(0), bus.awaddr.eq(hold.addr), bus.awlen.eq(0),
                bus.awsize.eq(size_code(self._data_bits)), bus.awburst.eq(BURST_INCR),
                # A write's address leaves only when its port can track one more response
                # (the pending FIFO's room only grows while the address waits).
                bus.awcache.eq(CACHE_NORMAL), bus.awvalid.eq(aw_pend[c] & fifo.w_rdy),
                bus.wdata.eq(hold.data), bus.wstrb.eq(hold.strobe), bus.wlast.eq(1),
                bus.wvalid.eq(w_pend[c]),
                bus.bready.eq(1),
                fifo.w_en.eq(bus.awvalid & bus.awready),
                fifo.w_data.eq(hold.addr),
                fifo.r_en.eq(bus.bvalid),
            ]
            with m.If(bus.awvalid & bus.awready):
                m.d.sync += [aw_pend[c].eq(0), self.beats[c].eq(self.beats[c] + 1)]
            with m.If(bus.wvalid & bus.wready):
                m.d.sync += w_pend[c].eq(0)
            m.d.sync += err_valid[c].eq(bus.bvalid & (bus.bresp != Resp.OKAY))
            m.d.sync += [
                err_code[c].eq(ErrorCode.AXI_SLVERR),
                err_addr[c].eq(fifo.r_data),
            ]
            with m.If(bus.bresp == Resp.DECERR):
                m.d.sync += err_code[c].eq(ErrorCode.AXI_DECERR)
            busy.append(fifo.r_rdy)
        m.d.comb += self.idle.eq((inbox.level == 0) & ~aw_pend.any() & ~w_pend.any()
                                 & ~Cat(*busy).any())
        report_first(m, self.report, [(err_valid[c], err_code[c], err_addr[c], c)
                                      for c in range(ports)])
        return m
