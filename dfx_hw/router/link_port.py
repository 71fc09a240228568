"""One ring link port of the router: the clock crossing between the core clock (``sync``) and
the link's ``user_clk`` domain, the segment framing of :mod:`dfx_hw.spec.ring` (frames and
credits out, data beats and credits in), the RX FIFOs and the link status."""

from amaranth import *
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.fifo import AsyncFIFO
from amaranth.lib.wiring import In, Out

from ..bus.aurora import AuroraLinkSignature
from ..spec.ring import COUNT_BITS
from .rx_splitter import RxSplitter
from .tx_framer import TxFramer, frame_beat_layout

__all__ = ["LinkPort"]


def _check_power_of_two(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum \
            or value & (value - 1):
        raise ValueError(f"{name} must be a power of two of at least {minimum}, not {value!r}")


class LinkPort(wiring.Component):
    """Crosses one Aurora-shaped link (:class:`~dfx_hw.bus.aurora.AuroraLinkSignature`, in
    ``domain``) to the core clock, carrying one ring direction's ``DATA`` frames out and the
    other direction's credits in, or the reverse (:mod:`dfx_hw.spec.ring`).

    * TX: ``tx_frames`` (the frames this core sends on the link) and ``tx_credits`` (the credit
      counts it returns to the peer) are merged by a
      :class:`~dfx_hw.router.tx_framer.TxFramer` into segments with credits between them,
      then go through an ``AsyncFIFO`` of ``tx_depth`` beats and an output register to the
      link's ``tx`` stream (``valid`` never depends on ``ready``).
    * RX: every beat the link shows on ``rx.valid`` goes through a
      :class:`~dfx_hw.router.rx_splitter.RxSplitter` (link domain): frame beats into an
      ``AsyncFIFO`` of ``rx_depth`` beats read on ``rx`` (core clock), credit counts into
      another read on ``rx_credits`` (always taken). The link has no ready: a beat that finds
      its FIFO full (as the write side sees it) is lost and sets the sticky ``overflow``; the
      flow control (:mod:`dfx_hw.spec.ring`) must make that impossible. ``full_seen``
      (sticky) says the data FIFO's write side once saw it full, i.e. the worst case the flow
      control allows was reached. ``framing`` (sticky): a segment boundary held a beat that is
      neither ``CONTINUE`` nor ``CREDIT``.
    * Status, synchronised to the core clock: ``up`` = ``channel_up`` and every ``lane_up``;
      ``hard_err``/``soft_err`` are sticky (set in the link domain by any high clock of the
      input, so a one-``user_clk`` pulse is not lost in the slower core clock).

    The link domain's reset must be asserted with (or before) the core's: the RX FIFOs are
    reset from their write (link) side, the TX FIFO from its write (core) side.

    Parameters
    ----------
    data_bits : int
        Beat width (a multiple of 64; ``16 * lanes`` FP16 elements).
    domain : str
        The link's ``user_clk`` clock domain.
    rx_depth, tx_depth : int
        FIFO depths in beats (powers of two, at least 4); ``rx_depth`` is also the largest
        credit count returned.
    """

    def __init__(self, *, data_bits, domain, rx_depth, tx_depth=16):
        signature = AuroraLinkSignature(data_bits=data_bits)  # validates data_bits
        if not isinstance(domain, str) or not domain or domain == "sync":
            raise ValueError(f"domain must be the name of the link clock domain (not 'sync'), "
                             f"not {domain!r}")
        _check_power_of_two("rx_depth", rx_depth, 4)
        _check_power_of_two("tx_depth", tx_depth, 4)
        self._data_bits = data_bits
        self._domain = domain
        self._rx_depth = rx_depth
        self._tx_depth = tx_depth
        super().__init__({
            "link": Out(signature),
            "tx_frames": In(stream.Signature(frame_beat_layout(data_bits))),
            "tx_credits": In(stream.Signature(range(rx_depth + 1))),
            "rx": Out(stream.Signature(data_bits)),
            "rx_credits": Out(stream.Signature(COUNT_BITS, always_ready=True)),
            "up": Out(1),
            "hard_err": Out(1),
            "soft_err": Out(1),
            "overflow": Out(1),
            "full_seen": Out(1),
            "framing": Out(1),
        })

    @property
    def rx_depth(self):
        return self._rx_depth

    def elaborate(self, platform):
        m = Module()
        dom = self._domain
        link = self.link

        m.submodules.framer = framer = TxFramer(width=self._data_bits,
                                                max_credits=self._rx_depth)
        wiring.connect(m, wiring.flipped(self.tx_frames), framer.frames)
        wiring.connect(m, wiring.flipped(self.tx_credits), framer.credits)
        m.submodules.tx_fifo = tx_fifo = AsyncFIFO(
            width=self._data_bits, depth=self._tx_depth, w_domain="sync", r_domain=dom,
            exact_depth=True)
        m.d.comb += [
            tx_fifo.w_data.eq(framer.tx.payload),
            tx_fifo.w_en.eq(framer.tx.valid),
            framer.tx.ready.eq(tx_fifo.w_rdy),
        ]
        # Output register in the link domain (plain continuous logic: no enable-style comb
        # blocks whose inputs may never change, which Icarus would leave at x).
        take = Signal()
        m.d.comb += [take.eq(~link.tx.valid | link.tx.ready), tx_fifo.r_en.eq(take)]
        with m.If(take):
            m.d[dom] += [link.tx.valid.eq(tx_fifo.r_rdy), link.tx.payload.eq(tx_fifo.r_data)]

        # RX: the splitter registers the link's outputs first (timing), then steers them.
        m.submodules.splitter = splitter = DomainRenamer(dom)(
            RxSplitter(lanes=self._data_bits // 16))
        m.d.comb += [splitter.i.valid.eq(link.rx.valid), splitter.i.payload.eq(link.rx.payload)]
        def crossing(name, width, source, sink):
            """An AsyncFIFO of rx_depth from the splitter's `source` (link clock) to `sink`."""
            m.submodules[name] = fifo = AsyncFIFO(width=width, depth=self._rx_depth,
                                                  w_domain=dom, r_domain="sync",
                                                  exact_depth=True)
            m.d.comb += [
                fifo.w_data.eq(source.payload), fifo.w_en.eq(source.valid),
                sink.payload.eq(fifo.r_data), sink.valid.eq(fifo.r_rdy),
                fifo.r_en.eq(sink.ready),
            ]
            return fifo

        rx_fifo = crossing("rx_fifo", self._data_bits, splitter.data, self.rx)
        credit_fifo = crossing("credit_fifo", COUNT_BITS, splitter.credit, self.rx_credits)

        overflow = Signal()
        full_seen = Signal()
        up = Signal()
        hard = Signal()
        soft = Signal()
        with m.If((splitter.data.valid & ~rx_fifo.w_rdy)
                  | (splitter.credit.valid & ~credit_fifo.w_rdy)):
            m.d[dom] += overflow.eq(1)
        with m.If(~rx_fifo.w_rdy):
            m.d[dom] += full_seen.eq(1)
        with m.If(link.hard_err):
            m.d[dom] += hard.eq(1)
        with m.If(link.soft_err):
            m.d[dom] += soft.eq(1)
        m.d[dom] += up.eq(link.channel_up & link.lane_up.all())
        for name, source, target in (("overflow", overflow, self.overflow),
                                     ("full_seen", full_seen, self.full_seen),
                                     ("framing", splitter.error, self.framing),
                                     ("up", up, self.up), ("hard", hard, self.hard_err),
                                     ("soft", soft, self.soft_err)):
            m.submodules[f"sync_{name}"] = FFSynchronizer(source, target, o_domain="sync")
        return m
