"""The weight stream: the same bursts read from every HBM channel, beats joined into tiles."""

from amaranth.hdl import Array, Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ..bus.axi4 import AXI4Signature, BURST_INCR, CACHE_NORMAL, Resp, size_code
from ..spec.params import check_positive, check_power_of_two
from ..spec.errors import ErrorCode
from .bursts import BurstGenerator, read_job_layout
from .report import ReportSignature, report_first

__all__ = ["WeightReader"]


class WeightReader(wiring.Component):
    """Streams tiles from ``n`` HBM channels (:mod:`dfx_hw.spec.hbm_map`): a job names a channel
    address range, which every channel reads (INCR bursts of up to ``max_burst`` beats, never
    across 4 KB, the same burst on every port); each channel's beats land in its own
    ``depth``-beat buffer, and one *row* (a beat from every channel, channel 0 in the low bits)
    is taken from all buffers at once. ``rows_per_tile`` consecutive rows, the first in the low
    bits, form one tile on ``tiles``.

    A burst is issued only when every buffer has room for it (a credit of ``depth`` beats), so
    R never stalls and ``depth`` beats may be in flight per port: one row per clock is kept
    flowing while the read latency is below ``depth - max_burst`` clocks or so. Jobs follow
    each other without a gap.

    A read answered SLVERR/DECERR is reported (info = the burst's channel byte address, port =
    the channel); its data is delivered all the same.

    Parameters
    ----------
    channels, rows_per_tile : int
    addr_bits, data_bits, id_bits : int
        HBM port shape.
    count_bits : int
        Width of a job's beat count.
    max_burst, depth, outstanding : int
        Longest burst (beats); per-channel buffer (beats); bursts in flight per channel.

    Members
    -------
    job : In(stream.Signature(read_job_layout(addr_bits, count_bits)))
        ``addr`` = channel byte address of the first row, ``beats`` = rows.
    tiles : Out(stream.Signature(data_bits * channels * rows_per_tile))
    bus : Out(AXI4Signature(...)).array(channels)
        AR and R only (AW/W outputs 0, ``bready`` 0).
    report : Out(ReportSignature(channels))
    beats : Out(32).array(channels)
        Read beats received per channel (statistics).
    """

    def __init__(self, *, channels, rows_per_tile, addr_bits, data_bits, id_bits, count_bits,
                 max_burst, depth, outstanding):
        check_power_of_two("channels", channels)
        check_positive("rows_per_tile", rows_per_tile)
        check_positive("outstanding", outstanding)
        if outstanding < 2:
            raise ValueError(f"outstanding must be at least 2, not {outstanding}")
        self._n, self._m = channels, rows_per_tile
        self._addr_bits, self._data_bits = addr_bits, data_bits
        self._outstanding = outstanding
        self._depth = depth
        self.bursts = BurstGenerator(addr_bits=addr_bits, count_bits=count_bits,
                                     beat_bytes=data_bits // 8, max_burst=max_burst, depth=depth)
        axi = AXI4Signature(addr_bits=addr_bits, data_bits=data_bits, id_bits=id_bits)
        super().__init__({
            "job": In(stream.Signature(read_job_layout(addr_bits, count_bits))),
            "tiles": Out(stream.Signature(data_bits * channels * rows_per_tile)),
            "bus": Out(axi).array(channels),
            "report": Out(ReportSignature(channels)),
            "beats": Out(32).array(channels),
        })

    def elaborate(self, platform):
        m = Module()
        n, rows, db = self._n, self._m, self._data_bits
        m.submodules.bursts = bursts = self.bursts
        wiring.connect(m, wiring.flipped(self.job), bursts.job)

        # One burst register broadcast to every port; a port's flag drops when it took it.
        ar_addr = Signal(self._addr_bits)
        ar_len = Signal(8)
        pending = Signal(n)
        addr_fifos, data_fifos = [], []
        for c in range(n):
            af = SyncFIFO(width=self._addr_bits, depth=self._outstanding)
            df = SyncFIFOBuffered(width=db, depth=self._depth)
            m.submodules[f"bursts{c}"] = af
            m.submodules[f"data{c}"] = df
            addr_fifos.append(af)
            data_fifos.append(df)
        # Room for one more burst in every port's address FIFO, registered (two free entries,
        # as the flag is a clock old).
        room = Signal()
        m.d.sync += room.eq(Cat(*(af.level < self._outstanding - 1 for af in addr_fifos)).all())
        m.d.comb += bursts.cmd.ready.eq(~pending.any() & room)
        with m.If(bursts.cmd.valid & bursts.cmd.ready):
            m.d.sync += [ar_addr.eq(bursts.cmd.payload.addr), ar_len.eq(bursts.cmd.payload.len),
                         pending.eq(-1)]

        err_valid = Signal(n)
        err_code = [Signal(ErrorCode, name=f"err_code{c}") for c in range(n)]
        err_addr = [Signal(self._addr_bits, name=f"err_addr{c}") for c in range(n)]
        for c, (bus, af, df) in enumerate(zip(self.bus, addr_fifos, data_fifos)):
            m.d.comb += [
                bus.arid.eq(0), bus.araddr.eq(ar_addr), bus.arlen.eq(ar_len),
                bus.arsize.eq(size_code(db)), bus.arburst.eq(BURST_INCR),
                bus.arcache.eq(CACHE_NORMAL), bus.arvalid.eq(pending[c]),
                af.w_en.eq(bus.arvalid & bus.arready), af.w_data.eq(ar_addr),
                bus.rready.eq(df.w_rdy),
                df.w_en.eq(bus.rvalid & bus.rready), df.w_data.eq(bus.rdata),
                af.r_en.eq(bus.rvalid & bus.rready & bus.rlast),
            ]
            with m.If(bus.arvalid & bus.arready):
                m.d.sync += pending[c].eq(0)
            with m.If(bus.rvalid & bus.rready):
                m.d.sync += self.beats[c].eq(self.beats[c] + 1)
            m.d.sync += [
                err_valid[c].eq(bus.rvalid & bus.rready & (bus.rresp != Resp.OKAY)),
                err_code[c].eq(ErrorCode.AXI_SLVERR),
                err_addr[c].eq(af.r_data),
            ]
            with m.If(bus.rresp == Resp.DECERR):
                m.d.sync += err_code[c].eq(ErrorCode.AXI_DECERR)
        report_first(m, self.report, [(err_valid[c], err_code[c], err_addr[c], c)
                                      for c in range(n)])

        # Rows -> tiles.
        all_valid = Cat(*(df.r_rdy for df in data_fifos)).all()
        row = Cat(*(df.r_data for df in data_fifos))
        space = ~self.tiles.valid | self.tiles.ready
        index = Signal(range(rows))
        partial = Signal(len(row) * max(rows - 1, 1))
        last_row = index == rows - 1
        pop = all_valid & (~last_row | space)
        for df in data_fifos:
            m.d.comb += df.r_en.eq(pop)
        m.d.comb += bursts.release.eq(pop)
        with m.If(self.tiles.ready):
            m.d.sync += self.tiles.valid.eq(0)
        with m.If(pop):
            if rows == 1:
                m.d.sync += [self.tiles.valid.eq(1), self.tiles.payload.eq(row)]
            else:
                with m.If(last_row):
                    m.d.sync += [self.tiles.valid.eq(1),
                                 self.tiles.payload.eq(Cat(partial, row)), index.eq(0)]
                with m.Else():
                    parts = Array(partial[len(row) * i:len(row) * (i + 1)]
                                  for i in range(rows - 1))
                    m.d.sync += [parts[index].eq(row), index.eq(index + 1)]
        return m
