"""The router: executes SYNC and SYNCS, the ring all-gather of DESIGN.md sections 3 and 4."""

from amaranth import *
from amaranth.hdl import unsigned
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out

from ..bus.aurora import AuroraLinkSignature
from ..isa.layouts import FIELD_BITS, VRF_ADDR_BITS, Opcode
from ..spec.errors import ErrorCode, ErrorSignature
from ..spec.issue import IssueSignature
from ..spec.ring import COUNT_BITS, DEFAULT_RX_DEPTH, SEGMENT_BEATS
from .decode import SyncDecoder
from .direction import CCW, CW, RingDirection
from .link_port import LinkPort
from .monitor import TIMEOUT_BITS, ErrorMonitor
from .mux_tree import select
from .packer import Packer
from .read_pipe import ReadPipe

__all__ = ["Router", "RfOp", "RF_REQUEST_LAYOUT", "PAIR_LAYOUT", "CORE_BITS"]

#: Width of the ``core_id`` / ``cores`` configuration inputs.
CORE_BITS = 8


class RfOp(enum.Enum, shape=2):
    """What the router asks of the register file (the VPU) on ``rf_request``."""
    READ_VECTOR = 0   #: VPU ``STORE`` v[addr:+length] -> the router's ``local`` stream
    READ_PAIR = 1     #: (s[addr], s[addr + 1]) -> the router's ``pair`` stream (one item)
    WRITE_VECTOR = 2  #: VPU ``LOAD`` v[addr:+length] <- the router's ``gathered`` stream


#: One register-file request. ``final`` marks a sync's last ``WRITE_VECTOR`` (a sync writes its
#: gathered vector with one, or with one per slice: the register file reports the sync written
#: back when the final one is done).
RF_REQUEST_LAYOUT = data.StructLayout({
    "op": RfOp,
    "addr": unsigned(VRF_ADDR_BITS),
    "length": unsigned(FIELD_BITS["total"]),
    "final": 1,
})

#: The SYNCS operands: ``value`` = s[ssrc] (FP16 bits), ``index`` = s[ssrc + 1] (< 2**16).
PAIR_LAYOUT = data.StructLayout({"value": unsigned(16), "index": unsigned(16)})


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, not {value!r}")


class Router(wiring.Component):
    """Executes the ring all-gathers of one core: ``SYNC`` (v[vdst:+total] = every core's
    v[vsrc:+len] in core-id order, uneven ``len`` allowed) and ``SYNCS`` ((s[ssrc], s[ssrc+1])
    of every core into v[vdst:+2*cores], core-id order), exactly as the ISA simulator's
    :class:`~dfx_hw.isasim.ring.Ring`.

    One sync at a time, in issue order. For each:

    1. ``rf_request`` asks for this core's slice (``READ_VECTOR`` vsrc, len; ``READ_PAIR``
       ssrc); its words (``local``) or pair (``pair``) are written into the staging memories
       of both ring directions.
    2. With more than one core the slices travel both ways round the ring
       (:mod:`dfx_hw.spec.ring`, one :class:`~dfx_hw.router.direction.RingDirection` per
       way): clockwise this core's slice goes out on ``link_next`` and the slices of cores
       ``id-1, ..., id-a`` (``a = N // 2``) come in on ``link_prev``; counter-clockwise it goes
       out on ``link_prev`` and ``id+1, ..., id+b`` (``b = (N - 1) // 2``) come in on
       ``link_next``. Each way forwards all but the last slice it receives, cut through (a
       word is passed on as soon as it has arrived; the link port sends whole segments).
       Headers are checked (tag, sequence, origin, size).
    3. *Slice by slice* when the split is even and word-aligned (this core's ``len`` is a
       multiple of ``lanes``, ``cores * len == total`` and every slice that arrives has ``len``
       elements): each slice is written as soon as it is complete -- this core's first, then
       the others in their expected arrival order (clockwise 1, counter-clockwise 1, clockwise
       2, ...) -- with its own ``WRITE_VECTOR`` vdst + origin * len, len,
       so only the last slice to arrive is written after the ring has delivered it. Otherwise
       (an uneven or unaligned split, found out at the latest from a header), when every
       slice is in and their lengths add up to ``total``, ``rf_request`` asks for one
       ``WRITE_VECTOR`` vdst, total and the staging memory is read in core-id order, realigned
       (:class:`~dfx_hw.router.packer.Packer`) into ``ceil(total / lanes)`` words on
       ``gathered``; slices already written slice by slice lie inside that range and are
       written again. The sync's last request carries ``final``.
    4. ``done`` pulses ``write_latency`` clocks after the last gathered word was taken (and
       this core's frames are all handed to the link ports).

    Errors (``error``, sticky; ``info`` = the sync tag unless said): ``ILLEGAL_OPCODE`` (info:
    the opcode), ``RESERVED_BITS``, ``FIELD_RANGE`` (total or len above ``max_total``, or
    core id/count out of range), ``LINK_DOWN``, ``LINK_HARD_ERROR``, ``LINK_SOFT_ERROR``,
    ``SYNC_TIMEOUT`` (the sync has not completed ``timeout`` clocks after it started),
    ``RING_PROTOCOL`` (a header that is not the one expected, sizes that do not add up,
    excess credits, an RX FIFO overflow, a broken segment boundary). After an error the router stops (``issue.ready``
    low): nothing hangs without a report.

    Parameters
    ----------
    lanes : int
        FP16 elements per register-file word and per link beat (a power of two, >= 4; the
        beat is ``16 * lanes`` bits = ``lanes / 4`` Aurora lanes; 16 for the U280's 4-lane
        100 Gb/s link).
    max_cores : int
        Largest ring (1..255).
    max_total : int
        Largest gathered vector in elements (each direction's staging memory holds
        ``ceil(max_total / lanes) + max_cores`` words).
    rx_depth : int
        RX FIFO depth in beats, a power of two of at least ``2 * SEGMENT_BEATS`` (a whole
        segment must fit; the same on every router of a ring).
    credits : int or None
        Credits a sender starts with; ``None`` = ``rx_depth``, the only correct value (another
        value exists only to prove the overflow detector in a test).
    write_latency : int
        Clocks from the last gathered word to ``done`` (the register file's write latency).
    next_domain, prev_domain : str
        Clock domains of the two links' ``user_clk``.

    Members
    -------
    issue : In(stream.Signature(ISSUE_LAYOUT)); done : Out(1)
        :data:`~dfx_hw.spec.issue.IssueSignature`.
    core_id, cores : In(8)
        This core's ring position and the ring size (controller configuration), sampled when
        a sync starts (hold them stable from one clock before).
    timeout : In(32)
        Sync timeout in core clocks, 0 = none (a control register), sampled when a sync starts.
    rf_request : Out(stream.Signature(RF_REQUEST_LAYOUT))
    local : In(stream.Signature(16 * lanes))
        The VPU's ``store`` stream for ``READ_VECTOR``.
    pair : In(stream.Signature(PAIR_LAYOUT))
        The two scalars for ``READ_PAIR``.
    gathered : Out(stream.Signature(16 * lanes))
        To the VPU's ``load`` stream for ``WRITE_VECTOR`` (the last word's extra lanes zero).
    error : Out(ErrorSignature)
    link_next, link_prev : Out(AuroraLinkSignature(16 * lanes))
        To core ``id + 1`` (clockwise frames out, counter-clockwise frames in, credits both
        ways) and core ``id - 1`` (the reverse), in ``next_domain`` / ``prev_domain``.
    rx_overflow, rx_full_seen : Out(1)
        Sticky observation of the RX FIFOs of both links: a beat was lost / a data FIFO was
        full once (for the benches; an overflow is also a ``RING_PROTOCOL`` error).
    """

    def __init__(self, *, lanes=16, max_cores=8, max_total=8192, rx_depth=DEFAULT_RX_DEPTH,
                 credits=None, write_latency=0, next_domain="link_next",
                 prev_domain="link_prev"):
        _positive_int("lanes", lanes, 4)
        if lanes & (lanes - 1):
            raise ValueError(f"lanes must be a power of two, not {lanes!r}")
        _positive_int("max_cores", max_cores)
        if max_cores > 255:
            raise ValueError(f"max_cores must be at most 255, not {max_cores!r}")
        _positive_int("max_total", max_total)
        if max_total >= 1 << FIELD_BITS["total"]:
            raise ValueError(f"max_total must be below 2**{FIELD_BITS['total']}, not "
                             f"{max_total!r}")
        _positive_int("rx_depth", rx_depth, 2 * SEGMENT_BEATS)
        if rx_depth & (rx_depth - 1):
            raise ValueError(f"rx_depth must be a power of two, not {rx_depth!r}")
        if credits is None:
            credits = rx_depth
        _positive_int("credits", credits)
        _positive_int("write_latency", write_latency, 0)
        for name, value in (("next_domain", next_domain), ("prev_domain", prev_domain)):
            if not isinstance(value, str) or not value or value == "sync":
                raise ValueError(f"{name} must name a link clock domain other than 'sync', "
                                 f"not {value!r}")
        self._lanes = lanes
        self._max_cores = max_cores
        self._max_total = max_total
        self._rx_depth = rx_depth
        self._credits = credits
        self._write_latency = write_latency
        self._next_domain = next_domain
        self._prev_domain = prev_domain
        self._staging_words = -(-max_total // lanes) + max_cores
        width = 16 * lanes
        super().__init__({
            **IssueSignature.members,
            "core_id": In(CORE_BITS),
            "cores": In(CORE_BITS),
            "timeout": In(TIMEOUT_BITS),
            "rf_request": Out(stream.Signature(RF_REQUEST_LAYOUT)),
            "local": In(stream.Signature(width)),
            "pair": In(stream.Signature(PAIR_LAYOUT)),
            "gathered": Out(stream.Signature(width)),
            "error": Out(ErrorSignature),
            "link_next": Out(AuroraLinkSignature(data_bits=width)),
            "link_prev": Out(AuroraLinkSignature(data_bits=width)),
            "rx_overflow": Out(1),
            "rx_full_seen": Out(1),
        })

    @property
    def lanes(self):
        return self._lanes

    @property
    def max_cores(self):
        return self._max_cores

    @property
    def max_total(self):
        return self._max_total

    @property
    def rx_depth(self):
        return self._rx_depth

    @property
    def staging_words(self):
        return self._staging_words

    def elaborate(self, platform):
        m = Module()
        lanes = self._lanes
        shift = (lanes - 1).bit_length()
        width = 16 * lanes
        nmax = self._max_cores
        depth = self._staging_words
        abits = max(1, (depth - 1).bit_length())
        wbits = abits + 1          # word counts and bases up to `depth`

        def words_of(length):
            return (length + lanes - 1) >> shift

        # -- submodules -------------------------------------------------------------------------
        m.submodules.decoder = dec = SyncDecoder()
        m.submodules.monitor = mon = ErrorMonitor()
        m.submodules.port_next = pnext = LinkPort(data_bits=width, domain=self._next_domain,
                                                  rx_depth=self._rx_depth)
        m.submodules.port_prev = pprev = LinkPort(data_bits=width, domain=self._prev_domain,
                                                  rx_depth=self._rx_depth)
        wiring.connect(m, wiring.flipped(self.link_next), pnext.link)
        wiring.connect(m, wiring.flipped(self.link_prev), pprev.link)
        m.d.comb += [self.rx_overflow.eq(pprev.overflow | pnext.overflow),
                     self.rx_full_seen.eq(pprev.full_seen | pnext.full_seen)]
        # Clockwise slices come in on link_prev and leave on link_next; counter-clockwise the
        # other way. Each link port carries one direction's frames out and the other's credits.
        directions = {}
        for name, into, out in ((CW, pprev, pnext), (CCW, pnext, pprev)):
            m.submodules[name] = way = RingDirection(
                direction=name, lanes=lanes, depth=depth, max_positions=nmax // 2,
                rx_depth=self._rx_depth, credits=self._credits, core_bits=CORE_BITS)
            wiring.connect(m, into.rx, way.rx)
            wiring.connect(m, out.rx_credits, way.credits_in)
            wiring.connect(m, way.frames, out.tx_frames)
            wiring.connect(m, way.credit_return, into.tx_credits)
            directions[name] = way
        cw, ccw = directions[CW], directions[CCW]
        m.submodules.ro_pipe = ro_pipe = ReadPipe(
            width=width, addr_bits=abits,
            side={"count": range(lanes + 1), "last": 1})
        m.submodules.packer = packer = Packer(lanes=lanes)
        # The readout reads the memory of the slot's direction (this core's slice: cw's copy);
        # `ro_mem` selects it with the request, `ro_mem_q` the data a clock later.
        ro_mem = Signal()
        ro_mem_q = Signal()
        m.d.sync += ro_mem_q.eq(ro_mem)
        for way in (cw, ccw):
            m.d.comb += [way.ro_addr.eq(ro_pipe.mem_addr), way.ro_en.eq(ro_pipe.mem_en)]
        m.d.comb += ro_pipe.mem_data.eq(Mux(ro_mem_q, ccw.ro_data, cw.ro_data))
        # -- sync state -------------------------------------------------------------------------
        me = Signal(CORE_BITS)
        n = Signal(CORE_BITS)
        tag = Signal(8)
        seq = Signal(8)
        is_syncs = Signal()
        total = Signal(FIELD_BITS["total"])
        vsrc = Signal(VRF_ADDR_BITS)
        vdst = Signal(VRF_ADDR_BITS)
        ssrc = Signal(FIELD_BITS["ssrc"])
        lens = [Signal(COUNT_BITS, name=f"len{s}") for s in range(nmax)]
        bases = [Signal(wbits, name=f"base{s}") for s in range(nmax)]
        run = Signal()             # a sync between issue and done
        fault = Signal()
        fault_code = Signal(ErrorCode)
        fault_info = Signal(32)
        m.d.sync += fault.eq(0)
        stopped = self.error.valid

        wiring.connect(m, wiring.flipped(self.error), mon.error)
        m.d.comb += [
            mon.ring.eq(n > 1),
            mon.active.eq(run),
            mon.tag.eq(tag),
            mon.timeout.eq(self.timeout),
            mon.next_up.eq(pnext.up), mon.prev_up.eq(pprev.up),
            mon.next_hard.eq(pnext.hard_err), mon.prev_hard.eq(pprev.hard_err),
            mon.next_soft.eq(pnext.soft_err), mon.prev_soft.eq(pprev.soft_err),
            mon.fault.eq(fault), mon.fault_code.eq(fault_code), mon.fault_info.eq(fault_info),
        ]

        def report(code, info):
            return [fault.eq(1), fault_code.eq(code), fault_info.eq(info)]

        # -- issue: one instruction word is registered, then decoded from the register ----------
        start = Signal()
        held = Signal()
        held_word = Signal(len(self.issue.payload.word))
        m.d.comb += self.issue.ready.eq(~held & ~stopped & ~fault)
        with m.If(self.issue.valid & self.issue.ready):
            m.d.sync += [held.eq(1), held_word.eq(self.issue.payload.word)]
        # ... decoded into registers (off every later path) ...
        d_valid = Signal()
        d = Signal(data.StructLayout({
            "legal": 1, "reserved": 1, "is_syncs": 1, "opcode": unsigned(Opcode.as_shape().width),
            "vsrc": unsigned(VRF_ADDR_BITS), "vdst": unsigned(VRF_ADDR_BITS),
            "ssrc": unsigned(FIELD_BITS["ssrc"]), "length": unsigned(FIELD_BITS["len"]),
            "total": unsigned(FIELD_BITS["total"]), "tag": unsigned(8),
            "words": unsigned(FIELD_BITS["len"]), "too_big": 1}))
        m.d.comb += dec.word.eq(held_word)
        with m.If(held & (~d_valid | start)):
            m.d.sync += [
                held.eq(0), d_valid.eq(1),
                d.legal.eq(dec.legal), d.reserved.eq(dec.reserved), d.is_syncs.eq(dec.is_syncs),
                d.opcode.eq(dec.opcode.as_value()), d.vsrc.eq(dec.vsrc), d.vdst.eq(dec.vdst),
                d.ssrc.eq(dec.ssrc), d.length.eq(dec.length), d.total.eq(dec.total),
                d.tag.eq(dec.tag),
                d.words.eq(Mux(dec.is_syncs, 1, words_of(dec.length))),
                d.too_big.eq((dec.length > self._max_total) | (dec.total > self._max_total)),
            ]
        with m.Elif(start):
            m.d.sync += d_valid.eq(0)
        # ... and started when the previous sync is done.
        m.d.comb += start.eq(d_valid & ~run & ~stopped & ~fault)
        m.d.comb += mon.start.eq(start)
        # Registered checks of the configuration (stable while idle).
        bad_config = Signal()
        m.d.sync += bad_config.eq((self.cores == 0) | (self.cores > nmax)
                                  | (self.core_id >= self.cores))
        own_words = Signal(wbits)
        own_count = Signal(wbits)
        req_valid = Signal()
        req = Signal(RF_REQUEST_LAYOUT)
        m.d.comb += [self.rf_request.valid.eq(req_valid), self.rf_request.payload.eq(req)]
        with m.If(self.rf_request.valid & self.rf_request.ready):
            m.d.sync += req_valid.eq(0)
        with m.If(start):
            with m.If(~d.legal):
                m.d.sync += report(ErrorCode.ILLEGAL_OPCODE, d.opcode)
            with m.Elif(d.reserved):
                m.d.sync += report(ErrorCode.RESERVED_BITS, d.tag)
            with m.Elif(bad_config | d.too_big
                        | (d.is_syncs & (self.cores > self._max_total // 2))):
                m.d.sync += report(ErrorCode.FIELD_RANGE, d.tag)
            with m.Else():
                m.d.sync += [
                    run.eq(1), me.eq(self.core_id), n.eq(self.cores), tag.eq(d.tag),
                    is_syncs.eq(d.is_syncs), vsrc.eq(d.vsrc), vdst.eq(d.vdst),
                    ssrc.eq(d.ssrc),
                    total.eq(Mux(d.is_syncs, self.cores << 1, d.total)),
                    lens[0].eq(d.length), bases[0].eq(0),
                    own_words.eq(d.words),
                    own_count.eq(0),
                ]
                with m.If(d.is_syncs | (d.length != 0)):
                    m.d.sync += [req_valid.eq(1),
                                 req.op.eq(Mux(d.is_syncs, RfOp.READ_PAIR, RfOp.READ_VECTOR)),
                                 req.addr.eq(Mux(d.is_syncs, d.ssrc, d.vsrc)),
                                 req.length.eq(d.length), req.final.eq(0)]
            m.d.sync += tag.eq(d.tag)
        active = run & ~stopped

        # -- this core's slice into both staging memories (after received beats) ---------------
        own_done = own_count == own_words
        rx_busy = cw.rx_write | ccw.rx_write
        m.d.comb += [
            self.local.ready.eq(active & ~is_syncs & ~own_done & ~rx_busy),
            self.pair.ready.eq(active & is_syncs & ~own_done & ~rx_busy),
        ]
        own_write = (self.local.valid & self.local.ready) | (self.pair.valid & self.pair.ready)
        for way in (cw, ccw):
            m.d.comb += [
                way.local_en.eq(own_write),
                way.local_addr.eq(own_count),
                way.local_data.eq(Mux(is_syncs, self.pair.payload.as_value(),
                                      self.local.payload)),
            ]
        with m.If(own_write):
            m.d.sync += own_count.eq(own_count + 1)

        # -- the two directions: configuration, progress, per-slot table ------------------------
        # Slot s is the slice of core (me - s) mod n: clockwise position p is slot p (p <= a),
        # counter-clockwise position p is slot n - p.
        a = Signal(CORE_BITS)                 # slices arriving clockwise
        with m.If(start):
            m.d.sync += a.eq(self.cores >> 1)
        for way, slices in ((cw, self.cores >> 1), (ccw, (self.cores - 1) >> 1)):
            m.d.comb += [
                way.start.eq(start), way.cfg_me.eq(self.core_id),
                way.cfg_n.eq(self.cores), way.cfg_slices.eq(slices),
                way.cfg_own_words.eq(d.words), way.cfg_own_len.eq(d.length),
                way.tag.eq(tag), way.seq.eq(seq), way.active.eq(active),
                way.own_count.eq(own_count),
            ]
        with m.If(cw.error | ccw.error | pnext.framing | pprev.framing
                  | pprev.overflow | pnext.overflow):
            m.d.sync += report(ErrorCode.RING_PROTOCOL, tag)
        for slot in range(1, nmax):
            with m.If(cw.hdr_valid & (cw.hdr_pos == slot)):
                m.d.sync += [lens[slot].eq(cw.hdr_count), bases[slot].eq(cw.hdr_base)]
            with m.Elif(ccw.hdr_valid & (ccw.hdr_pos + slot == n)):
                m.d.sync += [lens[slot].eq(ccw.hdr_count), bases[slot].eq(ccw.hdr_base)]
        hdr_mismatch = (cw.hdr_valid & (cw.hdr_count != lens[0])) \
            | (ccw.hdr_valid & (ccw.hdr_count != lens[0]))
        # The lengths received both ways, added a clock later than the last header (registered
        # with `gathered_ok` below, off the readout's start path).
        sum_len = Signal(FIELD_BITS["total"] + CORE_BITS + 1)
        m.d.sync += sum_len.eq(lens[0] + cw.sum_len + ccw.sum_len)
        rx_done = cw.rx_done & ccw.rx_done
        tx_done = cw.tx_done & ccw.tx_done

        # -- slice-by-slice writes (an even, word-aligned split) --------------------------------
        # `direct` holds while the split may be even: this core's len is a multiple of the lanes
        # (and not 0), `cores * len == total` (checked by adding len once per core, which also
        # yields this core's offset `core_id * len`), and every header has count == len. The
        # slices are then written in their expected arrival order -- this core's, clockwise
        # position 1, counter-clockwise 1, clockwise 2, ... -- each with its own WRITE_VECTOR.
        direct = Signal()
        mul_k = Signal(CORE_BITS + 1)          # cores added so far
        mul_acc = Signal(FIELD_BITS["total"] + CORE_BITS)
        mul_done = Signal()
        ds_k = Signal(CORE_BITS + 1)           # slices written (or being written)
        ds_ccw = Signal()                      # slice ds_k comes counter-clockwise
        ds_pos = Signal(CORE_BITS)             # its position in that direction
        own_off = Signal(FIELD_BITS["total"] + CORE_BITS)  # element offsets (origin * len)
        cw_off = Signal(FIELD_BITS["total"] + CORE_BITS)   # of the next clockwise slice
        ccw_off = Signal(FIELD_BITS["total"] + CORE_BITS)  # of the next counter-clockwise one
        ds_busy = Signal()                     # its words are being requested
        ds_mem = Signal()                      # its staging memory (1: counter-clockwise)
        ds_words_req = Signal(FIELD_BITS["total"])         # words requested slice by slice
        with m.If(start):
            m.d.sync += [direct.eq(~d.is_syncs & (d.length != 0) & (d.length[:shift] == 0)),
                         mul_k.eq(0), mul_acc.eq(0), mul_done.eq(0), ds_k.eq(0),
                         ds_ccw.eq(0), ds_pos.eq(0), ds_busy.eq(0), ds_words_req.eq(0)]
        with m.Elif(active & ~mul_done):
            with m.If(mul_k == me):
                m.d.sync += [own_off.eq(mul_acc),
                             cw_off.eq(Mux(mul_acc == 0, total - lens[0], mul_acc - lens[0])),
                             ccw_off.eq(Mux(mul_acc + lens[0] == total, 0, mul_acc + lens[0]))]
            with m.If(mul_k == n):
                m.d.sync += mul_done.eq(1)
                with m.If(mul_acc != total):
                    m.d.sync += direct.eq(0)
            with m.Else():
                m.d.sync += [mul_k.eq(mul_k + 1), mul_acc.eq(mul_acc + lens[0])]
        with m.If(hdr_mismatch):
            m.d.sync += direct.eq(0)

        # -- readout: slots in core-id order through the packer to `gathered` -------------------
        gathered_ok = Signal()                 # every slice in (a clock late, with sum_len)
        m.d.sync += gathered_ok.eq(rx_done & own_done & ~start)
        ro_started = Signal()
        ro_k = Signal(CORE_BITS)               # slices read so far
        ro_s = Signal(CORE_BITS)               # slot of core ro_k
        ro_loaded = Signal()
        ro_words = Signal(wbits)
        ro_count = Signal(wbits)
        ro_addr = Signal(abits)
        ro_tail = Signal(range(lanes + 1))     # elements of the slice's last word
        ro_flushed = Signal()
        out_words = Signal(FIELD_BITS["total"])
        out_count = Signal(FIELD_BITS["total"])
        ro_mem_sel = Signal()                  # the slot's staging memory (1: counter-clockwise)
        m.d.comb += ro_mem.eq(Mux(ds_busy, ds_mem, ro_mem_sel))
        rreq = ro_pipe.request
        # slice by slice: slice ds_k once it is complete (this core's: read from the register
        # file; another's: all its words received)
        ds_words = Signal(wbits)
        ds_count = Signal(wbits)
        ds_addr = Signal(abits)
        ds_slot = Signal(CORE_BITS)
        ds_last = Signal()                     # the next read is the slice's last word
        ds_ready = Mux(ds_k == 0, own_done,
                       Mux(ds_ccw, ccw.rx_done | (ccw.rx_pos > ds_pos),
                           cw.rx_done | (cw.rx_pos > ds_pos)))
        with m.If(start):
            m.d.sync += ds_slot.eq(0)
        with m.If(active & direct & mul_done & ~ds_busy & ~req_valid & (ds_k < n) & ds_ready
                  & ~fault & ~start):
            m.d.sync += [ds_busy.eq(1), ds_count.eq(0), ds_words.eq(words_of(lens[0])),
                         ds_addr.eq(select(bases, ds_slot)), ds_mem.eq(ds_ccw),
                         req_valid.eq(1), req.op.eq(RfOp.WRITE_VECTOR),
                         req.addr.eq(vdst + Mux(ds_k == 0, own_off,
                                                Mux(ds_ccw, ccw_off, cw_off))),
                         req.length.eq(lens[0]), req.final.eq(ds_k + 1 == n),
                         ds_last.eq(words_of(lens[0]) == 1)]
        # The next offsets each way, precomputed off the step's path (an offset is used again
        # two slices after it changed).
        cw_off_next = Signal.like(cw_off)
        ccw_off_next = Signal.like(ccw_off)
        m.d.sync += [cw_off_next.eq(Mux(cw_off == 0, total - lens[0], cw_off - lens[0])),
                     ccw_off_next.eq(Mux(ccw_off + lens[0] == total, 0, ccw_off + lens[0]))]
        with m.If(ds_busy & rreq.valid & rreq.ready):
            m.d.sync += [ds_addr.eq(ds_addr + 1), ds_count.eq(ds_count + 1),
                         ds_words_req.eq(ds_words_req + 1), ds_last.eq(ds_count + 2 == ds_words)]
            with m.If(ds_last):
                m.d.sync += [ds_busy.eq(0), ds_k.eq(ds_k + 1)]
                with m.If(ds_k == 0):               # own -> clockwise 1
                    m.d.sync += [ds_ccw.eq(0), ds_pos.eq(1), ds_slot.eq(1)]
                with m.Elif(~ds_ccw):               # clockwise p -> counter-clockwise p
                    m.d.sync += [ds_ccw.eq(1), ds_slot.eq(n - ds_pos), cw_off.eq(cw_off_next)]
                with m.Else():                      # counter-clockwise p -> clockwise p + 1
                    m.d.sync += [ds_ccw.eq(0), ds_pos.eq(ds_pos + 1), ds_slot.eq(ds_pos + 1),
                                 ccw_off.eq(ccw_off_next)]

        # in one piece: the packer path
        with m.If(start):
            m.d.sync += [ro_started.eq(0), ro_loaded.eq(0), ro_k.eq(0), ro_s.eq(self.core_id),
                         ro_flushed.eq(0), out_count.eq(0)]
        with m.Elif(active & gathered_ok & ~ro_started & ~direct & ~ds_busy & ~req_valid
                    & (out_count == ds_words_req)):
            m.d.sync += [ro_started.eq(1), out_count.eq(0)]
            with m.If(sum_len != total):
                m.d.sync += report(ErrorCode.RING_PROTOCOL, tag)
            with m.Else():
                m.d.sync += out_words.eq(words_of(total))
                with m.If(total != 0):
                    m.d.sync += [req_valid.eq(1), req.op.eq(RfOp.WRITE_VECTOR),
                                 req.addr.eq(vdst), req.length.eq(total), req.final.eq(1)]
        # (words are read only once their WRITE_VECTOR request has been taken, so `gathered`
        # never offers a word the register file has not been asked to write)
        reading = active & ro_started & ~ro_flushed & ~fault & ~ds_busy & ~req_valid
        slice_len = select(lens, ro_s)
        with m.If(reading & ~ro_loaded):
            tail = slice_len[:shift]
            m.d.sync += [ro_loaded.eq(1), ro_words.eq(words_of(slice_len)), ro_count.eq(0),
                         ro_addr.eq(select(bases, ro_s)), ro_tail.eq(Mux(tail == 0, lanes, tail)),
                         ro_mem_sel.eq(ro_s > a)]
        last_word = ro_count + 1 == ro_words
        flushing = ro_k == n
        with m.If(ds_busy):
            m.d.comb += [
                rreq.valid.eq(active & ~req_valid & (ds_count != ds_words)),
                rreq.payload.addr.eq(ds_addr),
                rreq.payload.bypass.eq(0),
                rreq.payload.value.eq(0),
                rreq.payload.count.eq(lanes),
                rreq.payload.last.eq(ds_last),
            ]
        with m.Else():
            m.d.comb += [
                rreq.valid.eq(reading & ro_loaded & (flushing | (ro_count != ro_words))),
                rreq.payload.addr.eq(ro_addr),
                rreq.payload.bypass.eq(flushing),
                rreq.payload.value.eq(0),
                rreq.payload.count.eq(Mux(flushing, 0, Mux(last_word, ro_tail, lanes))),
                rreq.payload.last.eq(flushing),
            ]
        with m.If(rreq.valid & rreq.ready & ~ds_busy):
            with m.If(flushing):
                m.d.sync += ro_flushed.eq(1)
            with m.Else():
                m.d.sync += [ro_addr.eq(ro_addr + 1), ro_count.eq(ro_count + 1)]
        # A slice is finished when all its words are requested (also a zero-length one).
        with m.If(reading & ro_loaded & ~flushing & (ro_count == ro_words)):
            m.d.sync += [ro_k.eq(ro_k + 1), ro_s.eq(Mux(ro_s == 0, n - 1, ro_s - 1)),
                         ro_loaded.eq(ro_k + 1 == n)]
        m.d.comb += [
            packer.i.valid.eq(ro_pipe.response.valid),
            packer.i.payload.data.eq(ro_pipe.response.payload.data),
            packer.i.payload.count.eq(ro_pipe.response.payload.count),
            packer.i.payload.last.eq(ro_pipe.response.payload.last),
            ro_pipe.response.ready.eq(packer.i.ready),
        ]
        m.d.comb += [self.gathered.valid.eq(packer.o.valid & active),
                     self.gathered.payload.eq(packer.o.payload),
                     packer.o.ready.eq(self.gathered.ready & active)]
        with m.If(self.gathered.valid & self.gathered.ready):
            m.d.sync += out_count.eq(out_count + 1)

        # -- done -------------------------------------------------------------------------------
        packed_done = ro_started & ro_flushed & (out_count == out_words)
        direct_done = direct & (ds_k == n) & ~ds_busy & (out_count == ds_words_req)
        finished = active & (packed_done | direct_done) & tx_done \
            & ~packer.o.valid & ~req_valid & ~ro_pipe.response.valid
        delay = Signal(range(self._write_latency + 1))
        closing = Signal()
        m.d.sync += self.done.eq(0)
        with m.If(start):
            m.d.sync += closing.eq(0)
        with m.Elif(finished & ~closing):
            m.d.sync += [closing.eq(1), delay.eq(self._write_latency)]
        with m.Elif(closing & active):
            with m.If(delay == 0):
                m.d.sync += [run.eq(0), closing.eq(0), self.done.eq(1), seq.eq(seq + 1)]
            with m.Else():
                m.d.sync += delay.eq(delay - 1)
        return m
