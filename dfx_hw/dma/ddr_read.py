"""Reads on the DDR port for several clients, each with its own ID and read buffer."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ..bus.axi4 import AXI4Signature, BURST_INCR, CACHE_NORMAL, Resp, size_code
from ..spec.params import check_positive
from ..spec.errors import ErrorCode
from .bursts import BurstGenerator, read_job_layout
from .report import ReportSignature, report_first

__all__ = ["DDRReader"]


class DDRReader(wiring.Component):
    """Client ``i`` reads with ``ARID = i``: its jobs are cut into bursts
    (:class:`~dfx_hw.dma.bursts.BurstGenerator`) that are issued only when its ``depth``-beat
    buffer has room, so R is always accepted and one client never blocks another. The AR
    channel alternates between clients with a burst waiting; R beats go to the buffer of the
    client their ``RID`` names.

    A read answered SLVERR/DECERR is reported (info = the burst's byte address); its data is
    delivered all the same.

    Parameters
    ----------
    clients : int
    addr_bits, data_bits, id_bits, count_bits, max_burst, depth, outstanding : int

    Members
    -------
    job : In(stream.Signature(read_job_layout(...))).array(clients)
    data : Out(stream.Signature(data_bits)).array(clients)
        Each client's beats, in order.
    bus : Out(AXI4Signature(...))
        AR and R only.
    report : Out(ReportSignature(1))
    beats : Out(32)
        Read beats received (statistics).
    """

    def __init__(self, *, clients, addr_bits, data_bits, id_bits, count_bits, max_burst, depth,
                 outstanding):
        check_positive("clients", clients)
        if clients > 2 ** id_bits:
            raise ValueError(f"{clients} clients need more than id_bits={id_bits}")
        self._clients, self._addr_bits, self._data_bits = clients, addr_bits, data_bits
        self._depth, self._outstanding = depth, outstanding
        self.generators = [BurstGenerator(addr_bits=addr_bits, count_bits=count_bits,
                                          beat_bytes=data_bits // 8, max_burst=max_burst,
                                          depth=depth) for _ in range(clients)]
        axi = AXI4Signature(addr_bits=addr_bits, data_bits=data_bits, id_bits=id_bits)
        super().__init__({
            "job": In(stream.Signature(read_job_layout(addr_bits, count_bits))).array(clients),
            "data": Out(stream.Signature(data_bits)).array(clients),
            "bus": Out(axi),
            "report": Out(ReportSignature(1)),
            "beats": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        k, bus = self._clients, self.bus
        ar_valid = Signal()
        ar_id = Signal(range(max(k, 2)))
        ar_addr = Signal(self._addr_bits)
        ar_len = Signal(8)
        turn = Signal(range(max(k, 2)))
        m.d.comb += [
            bus.arid.eq(ar_id), bus.araddr.eq(ar_addr), bus.arlen.eq(ar_len),
            bus.arsize.eq(size_code(self._data_bits)), bus.arburst.eq(BURST_INCR),
            bus.arcache.eq(CACHE_NORMAL), bus.arvalid.eq(ar_valid),
        ]
        with m.If(bus.arready):
            m.d.sync += ar_valid.eq(0)
        free = ~ar_valid | bus.arready

        err_valid = Signal()
        err_code = Signal(ErrorCode)
        err_addr = Signal(self._addr_bits)
        ready_terms = []
        gens = self.generators
        want = [Signal(name=f"want{i}") for i in range(k)]
        grant = [Signal(name=f"grant{i}") for i in range(k)]
        with m.Switch(turn):
            for t in range(k):
                with m.Case(t):
                    taken = Const(0, 1)
                    for j in [(t + x) % k for x in range(k)]:
                        m.d.comb += grant[j].eq(want[j] & free & ~taken)
                        taken = taken | want[j]
        for i, gen in enumerate(self.generators):
            m.submodules[f"bursts{i}"] = gen
            wiring.connect(m, wiring.flipped(self.job[i]), gen.job)
            af = SyncFIFO(width=self._addr_bits, depth=self._outstanding)
            df = SyncFIFOBuffered(width=self._data_bits, depth=self._depth)
            m.submodules[f"addr{i}"] = af
            m.submodules[f"data{i}"] = df
            # Arbitration: client `turn` first, then the others in order.
            m.d.comb += want[i].eq(gen.cmd.valid & af.w_rdy)
            mine = grant[i]
            m.d.comb += gen.cmd.ready.eq(mine)
            with m.If(mine):
                m.d.sync += [ar_valid.eq(1), ar_id.eq(i), ar_addr.eq(gen.cmd.payload.addr),
                             ar_len.eq(gen.cmd.payload.len),
                             turn.eq(i + 1 if i + 1 < k else 0)]
            ours = bus.rid == i
            m.d.comb += [
                af.w_en.eq(mine), af.w_data.eq(gen.cmd.payload.addr),
                df.w_en.eq(bus.rvalid & bus.rready & ours), df.w_data.eq(bus.rdata),
                af.r_en.eq(bus.rvalid & bus.rready & ours & bus.rlast),
                self.data[i].valid.eq(df.r_rdy), self.data[i].payload.eq(df.r_data),
                df.r_en.eq(self.data[i].ready), gen.release.eq(df.r_rdy & self.data[i].ready),
            ]
            ready_terms.append(df.w_rdy)
            with m.If(ours):
                with m.If(bus.rvalid & bus.rready & (bus.rresp != Resp.OKAY)):
                    m.d.sync += [err_valid.eq(1), err_addr.eq(af.r_data),
                                 err_code.eq(Mux(bus.rresp == Resp.DECERR, ErrorCode.AXI_DECERR,
                                                 ErrorCode.AXI_SLVERR))]
        # Every buffer has room (the credits make sure of it): R never waits, and RREADY does
        # not depend on RID.
        m.d.comb += bus.rready.eq(Cat(*ready_terms).all())
        with m.If(bus.rvalid & bus.rready):
            m.d.sync += self.beats.eq(self.beats + 1)
        report_first(m, self.report, [(err_valid, err_code, err_addr, 0)])
        return m
