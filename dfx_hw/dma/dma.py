"""The DMA: ``n`` HBM AXI4 masters and one DDR AXI4 master (DESIGN.md, section 4)."""

from amaranth.hdl import Cat, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out, connect, flipped

from ..bus.axi4 import AXI4Signature
from ..spec.tiles import tile_layout, vector_layout
from ..spec.params import check_positive, check_power_of_two
from ..spec.errors import ErrorSignature
from ..spec.issue import IssueSignature
from .ddr_read import DDRReader
from .dma_front import DMAFront, StoreSink
from .matrix_front import WINDOW_BITS, MatrixFront
from .progress import TileProgress
from .read_align import ReadAligner
from .scatter import TransposeScatter
from .weights import WeightReader
from .write_align import WriteAligner
from .writer import WriteIssuer

__all__ = ["DMA", "make_dma"]

_COUNT_BITS = 24
_STAT_BITS = 32


class DMA(wiring.Component):
    """The DMA unit: weight streaming for the matrix unit, and the DMA instructions between
    DDR / HBM and the register files.

    *Matrix side* (``matrix`` port, CONV1D / MASKEDMM / MM words): the tiles of each
    instruction leave on ``weights`` in HBM storage order (= the MPU's walk), one per clock when
    every channel delivers; the bias of a CONV1D leaves on ``bias``, one ``l``-element beat per
    column tile (``+0`` past ``n``). Consecutive instructions stream back to back.
    *DMA side* (``dma`` port, LDD / STD / LDTOK / STTOK / STH / STHT): loads leave on ``load``
    (``ceil(len / lanes)`` words, element ``i`` of a word in bits ``16 i ..``, ``+0`` past
    ``len``; LDTOK: one word, element 0 = the token); stores take ``ceil(len / lanes)`` words from
    ``store`` (STTOK: element 0 of one word); an indexed LDD first takes one ``store`` word whose
    element 0 is ``s[ssrc]``.

    Memory: HBM is mapped onto the ``n`` ports by :mod:`dfx_hw.spec.hbm_map` (flat byte
    ``hbm_base + 2 * element``); DDR byte = ``ddr_base + 2 * element``. Every access is checked
    against the window before it starts; AXI error responses are reported.

    Parameters
    ----------
    d, l : int
        Tile shape.
    lanes : int
        Elements per register-file word (the VPU's lanes).
    hbm_channels : int
        HBM ports ``n`` (power of two; a tile must be a whole number of ``n``-beat rows).
    hbm_data_bits, ddr_data_bits : int
        AXI data widths (``ddr_data_bits / 16`` must be >= ``l`` and ``lanes``;
        ``hbm_data_bits / 16`` >= ``lanes``).
    hbm_addr_bits, ddr_addr_bits, id_bits : int
        AXI address and ID widths.
    max_burst : int
        Longest read burst, beats.
    hbm_depth : int
        Read buffer per HBM port, beats: bounds the reads in flight (>= latency + ``max_burst``
        for one row per clock).
    ddr_depth : int
        Read buffer per DDR client (loads, bias), beats.
    read_bursts : int
        Read bursts in flight per port.
    write_outstanding : int
        Writes in flight per port.

    Members
    -------
    matrix : Out(IssueSignature)
    dma : Out(IssueSignature)
    weights : Out(stream.Signature(tile_layout(d=d, l=l)))
    bias : Out(stream.Signature(vector_layout(l)))
    load : Out(stream.Signature(16 * lanes))
    store : In(stream.Signature(16 * lanes))
    hbm : Out(AXI4Signature(...)).array(hbm_channels)
    ddr : Out(AXI4Signature(...))
    hbm_base, hbm_size, ddr_base, ddr_size : In(40)
        Windows in bytes (bases multiples of the HBM row and the DDR beat; low bits ignored).
    error : Out(ErrorSignature)
    error_port : Out(range(hbm_channels + 1))
        AXI port of an AXI error (HBM channel, or ``hbm_channels`` for DDR).
    hbm_read_beats, hbm_write_beats : Out(32).array(hbm_channels)
    ddr_read_beats, ddr_write_beats : Out(32)
    tiles : Out(32)
        Tiles handed to the matrix unit.
    weight_wait : Out(32)
        Clocks an instruction's tiles were owed and none was offered (waiting on memory).
    """

    def __init__(self, *, d, l, lanes, hbm_channels, hbm_data_bits=512, ddr_data_bits=512,
                 hbm_addr_bits=33, ddr_addr_bits=34, id_bits=2, max_burst=16, hbm_depth=512,
                 ddr_depth=64, read_bursts=32, write_outstanding=8):
        for name, value in (("d", d), ("l", l), ("lanes", lanes),
                            ("hbm_channels", hbm_channels), ("hbm_data_bits", hbm_data_bits),
                            ("ddr_data_bits", ddr_data_bits), ("max_burst", max_burst)):
            check_power_of_two(name, value)
        for name, value in (("hbm_depth", hbm_depth), ("ddr_depth", ddr_depth),
                            ("read_bursts", read_bursts),
                            ("write_outstanding", write_outstanding)):
            check_positive(name, value)
        if hbm_data_bits < 16 * lanes:
            raise ValueError(f"hbm_data_bits ({hbm_data_bits}) must hold a register-file word "
                             f"({lanes} lanes)")
        if ddr_data_bits < 16 * max(l, lanes):
            raise ValueError(f"ddr_data_bits ({ddr_data_bits}) must hold a bias beat ({l}) and "
                             f"a register-file word ({lanes} lanes)")
        tile_bits = 16 * d * l
        if tile_bits % (hbm_channels * hbm_data_bits):
            raise ValueError(f"a tile ({tile_bits} bits) must be a whole number of rows of "
                             f"{hbm_channels} x {hbm_data_bits} bits")
        self._d, self._l, self._lanes, self._n = d, l, lanes, hbm_channels
        self._hbm_bits, self._ddr_bits = hbm_data_bits, ddr_data_bits
        self._hbm_addr_bits, self._ddr_addr_bits = hbm_addr_bits, ddr_addr_bits
        self._rows = tile_bits // (hbm_channels * hbm_data_bits)
        hb, db = hbm_data_bits // 8, ddr_data_bits // 8
        e_hbm, e_ddr = hbm_data_bits // 16, ddr_data_bits // 16
        elem_bits = WINDOW_BITS + 1
        self.matrix_front = MatrixFront(d=d, l=l, channels=hbm_channels, hbm_beat_bytes=hb,
                                        ddr_beat_bytes=db, hbm_addr_bits=hbm_addr_bits,
                                        ddr_addr_bits=ddr_addr_bits, count_bits=_COUNT_BITS)
        self.weight_reader = WeightReader(
            channels=hbm_channels, rows_per_tile=self._rows, addr_bits=hbm_addr_bits,
            data_bits=hbm_data_bits, id_bits=id_bits, count_bits=_COUNT_BITS,
            max_burst=max_burst, depth=hbm_depth, outstanding=read_bursts)
        self.ddr_reader = DDRReader(clients=2, addr_bits=ddr_addr_bits, data_bits=ddr_data_bits,
                                    id_bits=id_bits, count_bits=_COUNT_BITS,
                                    max_burst=max_burst, depth=ddr_depth,
                                    outstanding=read_bursts)
        self.load_aligner = ReadAligner(beat_elements=e_ddr, word_elements=lanes,
                                        count_bits=_COUNT_BITS)
        self.bias_aligner = ReadAligner(beat_elements=e_ddr, word_elements=l,
                                        count_bits=_COUNT_BITS)
        self.ddr_aligner = WriteAligner(beat_elements=e_ddr, word_elements=lanes,
                                        count_bits=_COUNT_BITS, beat_bits=elem_bits)
        self.hbm_aligner = WriteAligner(beat_elements=e_hbm, word_elements=lanes,
                                        count_bits=_COUNT_BITS, beat_bits=elem_bits)
        self.scatter = TransposeScatter(d=d, l=l, beat_elements=e_hbm, word_elements=lanes,
                                        count_bits=_COUNT_BITS, elem_bits=elem_bits + 1)
        self.dma_front = DMAFront(
            d=d, l=l, hbm_beat_bytes=hb, ddr_beat_bytes=db, ddr_addr_bits=ddr_addr_bits,
            count_bits=_COUNT_BITS,
            write_jobs=(self.ddr_aligner.job.signature.members["payload"].shape,
                        self.hbm_aligner.job.signature.members["payload"].shape,
                        self.scatter.job.signature.members["payload"].shape))
        self.ddr_writer = WriteIssuer(ports=1, addr_bits=ddr_addr_bits, data_bits=ddr_data_bits,
                                      id_bits=id_bits, outstanding=write_outstanding)
        self.hbm_writer = WriteIssuer(ports=hbm_channels, addr_bits=hbm_addr_bits,
                                      data_bits=hbm_data_bits, id_bits=id_bits,
                                      outstanding=write_outstanding)
        self.progress = TileProgress(count_bits=_COUNT_BITS)
        hbm_axi = AXI4Signature(addr_bits=hbm_addr_bits, data_bits=hbm_data_bits,
                                id_bits=id_bits)
        ddr_axi = AXI4Signature(addr_bits=ddr_addr_bits, data_bits=ddr_data_bits,
                                id_bits=id_bits)
        super().__init__({
            "matrix": Out(IssueSignature),
            "dma": Out(IssueSignature),
            "weights": Out(stream.Signature(tile_layout(d=d, l=l))),
            "bias": Out(stream.Signature(vector_layout(l))),
            "load": Out(stream.Signature(16 * lanes)),
            "store": In(stream.Signature(16 * lanes)),
            "hbm": Out(hbm_axi).array(hbm_channels),
            "ddr": Out(ddr_axi),
            "hbm_base": In(WINDOW_BITS), "hbm_size": In(WINDOW_BITS),
            "ddr_base": In(WINDOW_BITS), "ddr_size": In(WINDOW_BITS),
            "error": Out(ErrorSignature),
            "error_port": Out(range(hbm_channels + 1)),
            "hbm_read_beats": Out(_STAT_BITS).array(hbm_channels),
            "hbm_write_beats": Out(_STAT_BITS).array(hbm_channels),
            "ddr_read_beats": Out(_STAT_BITS),
            "ddr_write_beats": Out(_STAT_BITS),
            "tiles": Out(_STAT_BITS),
            "weight_wait": Out(_STAT_BITS),
        })

    def elaborate(self, platform):
        m = Module()
        n = self._n
        log_n = n.bit_length() - 1
        hb, db = self._hbm_bits // 8, self._ddr_bits // 8
        log_hb, log_db = hb.bit_length() - 1, db.bit_length() - 1
        for name in ("matrix_front", "weight_reader", "ddr_reader", "load_aligner",
                     "bias_aligner", "ddr_aligner", "hbm_aligner", "scatter", "dma_front",
                     "ddr_writer", "hbm_writer", "progress"):
            m.submodules[name] = getattr(self, name)
        mf, wr, dr = self.matrix_front, self.weight_reader, self.ddr_reader
        df = self.dma_front

        def queue(name, source, sink, depth=4):
            """A job queue between a front end (which runs ahead) and an engine."""
            width = len(Value.cast(source.payload))
            fifo = SyncFIFOBuffered(width=width, depth=depth)
            m.submodules[name] = fifo
            m.d.comb += [fifo.w_data.eq(source.payload), fifo.w_en.eq(source.valid),
                         source.ready.eq(fifo.w_rdy), sink.payload.eq(fifo.r_data),
                         sink.valid.eq(fifo.r_rdy), fifo.r_en.eq(sink.ready)]

        # Windows and instruction ports.
        for front in (mf, df):
            m.d.comb += [front.hbm_base.eq(self.hbm_base), front.hbm_size.eq(self.hbm_size),
                         front.ddr_base.eq(self.ddr_base), front.ddr_size.eq(self.ddr_size)]
        connect(m, flipped(self.matrix.issue), mf.port.issue)
        connect(m, flipped(self.dma.issue), df.port.issue)

        # Matrix side: weight tiles, bias beats, write-back pulses.
        queue("weight_jobs", mf.weight_job, wr.job)
        queue("tile_counts", mf.tile_count, self.progress.counts, depth=8)
        queue("bias_reads", mf.bias_read, dr.job[1])
        queue("bias_aligns", mf.bias_align, self.bias_aligner.job)
        m.d.comb += [
            self.weights.valid.eq(wr.tiles.valid), self.weights.payload.eq(wr.tiles.payload),
            wr.tiles.ready.eq(self.weights.ready),
            self.progress.tile.eq(self.weights.valid & self.weights.ready),
        ]
        connect(m, dr.data[1], self.bias_aligner.beats)
        connect(m, self.bias_aligner.words, flipped(self.bias))

        # DMA side: loads.
        connect(m, df.read_job, dr.job[0])
        connect(m, df.read_align, self.load_aligner.job)
        connect(m, dr.data[0], self.load_aligner.beats)
        connect(m, self.load_aligner.words, flipped(self.load))
        m.d.comb += df.read_idle.eq(self.load_aligner.idle & ~self.load.valid)

        # DMA side: stores.
        connect(m, df.ddr_write, self.ddr_aligner.job)
        connect(m, df.hbm_write, self.hbm_aligner.job)
        connect(m, df.scatter, self.scatter.job)
        sink = df.store_sink
        consumers = {StoreSink.INDEX: None, StoreSink.DDR: self.ddr_aligner.words,
                     StoreSink.HBM: self.hbm_aligner.words,
                     StoreSink.SCATTER: self.scatter.words}
        m.d.comb += [df.index.payload.eq(self.store.payload[:16]),
                     df.index.valid.eq(self.store.valid & (sink == StoreSink.INDEX))]
        with m.If(sink == StoreSink.INDEX):
            m.d.comb += self.store.ready.eq(df.index.ready)
        for value, words in consumers.items():
            if words is None:
                continue
            m.d.comb += [words.payload.eq(self.store.payload),
                         words.valid.eq(self.store.valid & (sink == value))]
            with m.If(sink == value):
                m.d.comb += self.store.ready.eq(words.ready)

        def strobe_bytes(element_strobe):
            return Cat(*(bit.replicate(2) for bit in element_strobe))

        # DDR writes: beat index -> byte address.
        da = self.ddr_aligner.beats
        req = self.ddr_writer.req
        m.d.comb += [
            req.valid.eq(da.valid), da.ready.eq(req.ready),
            req.payload.port.eq(0), req.payload.addr.eq(da.payload.beat << log_db),
            req.payload.data.eq(da.payload.data),
            req.payload.strobe.eq(strobe_bytes(da.payload.strobe)),
        ]
        # HBM writes: flat beat -> channel and channel address (dfx_hw.spec.hbm_map).
        ha, sc = self.hbm_aligner.beats, self.scatter.beats
        hreq = self.hbm_writer.req
        from_scatter = sink == StoreSink.SCATTER
        beat = Mux(from_scatter, sc.payload.beat, ha.payload.beat)
        m.d.comb += [
            hreq.valid.eq(Mux(from_scatter, sc.valid, ha.valid)),
            ha.ready.eq(hreq.ready & ~from_scatter), sc.ready.eq(hreq.ready & from_scatter),
            hreq.payload.port.eq(beat[:log_n] if log_n else 0),
            hreq.payload.addr.eq(beat[log_n:] << log_hb),
            hreq.payload.data.eq(Mux(from_scatter, sc.payload.data, ha.payload.data)),
            hreq.payload.strobe.eq(strobe_bytes(Mux(from_scatter, sc.payload.strobe,
                                                    ha.payload.strobe))),
        ]
        m.d.comb += df.write_idle.eq(
            self.ddr_aligner.idle & ~da.valid & self.ddr_writer.idle
            & self.hbm_aligner.idle & ~ha.valid & self.scatter.idle & ~sc.valid
            & self.hbm_writer.idle)

        # AXI ports: reads from the readers, writes from the writers.
        def join(port, reader, writer):
            for name in port.signature.members:
                read_side = name[:2] in ("ar",) or name[0] == "r"
                source = reader if read_side else writer
                if port.signature.members[name].flow == Out:
                    m.d.comb += getattr(port, name).eq(getattr(source, name))
                else:
                    m.d.comb += getattr(source, name).eq(getattr(port, name))
        for c in range(n):
            join(self.hbm[c], wr.bus[c], self.hbm_writer.bus[c])
        join(self.ddr, dr.bus, self.ddr_writer.bus[0])

        # Errors: the first report, front ends first.
        error = self.error
        reports = [
            (mf.error, None), (df.error, None), (wr.report, "hbm"), (self.hbm_writer.report,
                                                                     "hbm"),
            (dr.report, "ddr"), (self.ddr_writer.report, "ddr"),
        ]
        with m.If(~error.valid):
            for report, kind in reversed(reports):
                with m.If(report.valid):
                    m.d.sync += [error.valid.eq(1), error.code.eq(report.code),
                                 error.info.eq(report.info)]
                    if kind == "hbm":
                        m.d.sync += self.error_port.eq(report.port)
                    elif kind == "ddr":
                        m.d.sync += self.error_port.eq(n)
                    else:
                        m.d.sync += self.error_port.eq(0)

        # After any error: no write-back pulse, no new instruction.
        halt = Signal()
        m.d.comb += [
            halt.eq(error.valid | Cat(*(report.valid for report, _ in reports)).any()),
            mf.halt.eq(halt), df.halt.eq(halt),
            self.matrix.done.eq(self.progress.done & ~halt),
            self.dma.done.eq(df.port.done & ~halt),
        ]

        # Statistics.
        for c in range(n):
            m.d.comb += [self.hbm_read_beats[c].eq(wr.beats[c]),
                         self.hbm_write_beats[c].eq(self.hbm_writer.beats[c])]
        m.d.comb += [self.ddr_read_beats.eq(dr.beats),
                     self.ddr_write_beats.eq(self.ddr_writer.beats[0])]
        with m.If(self.weights.valid & self.weights.ready):
            m.d.sync += self.tiles.eq(self.tiles + 1)
        with m.If(self.progress.pending & ~self.weights.valid):
            m.d.sync += self.weight_wait.eq(self.weight_wait + 1)
        return m


def make_dma(**params):
    """``DMA(**params)`` (for the synthesis registry and the benches)."""
    return DMA(**params)
