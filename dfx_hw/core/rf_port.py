"""The register-file port of the core: every unit's access to the vector and scalar register
files goes through the VPU as micro-ops, and this component shares the VPU among them.

The VPU owns the register files (:class:`dfx_hw.vpu.vpu.VPU`); a DMA load, a matrix unit's input
and output, a ring sync's slice and gathered vector all move as the VPU's ``LOAD``/``STORE``/
``SLOAD``/``SSTORE`` micro-ops with their words on the VPU's ``load``/``store`` streams. Each
*requester* (the vector-instruction decoder, the DMA sequencer, the matrix sequencer, the
router) offers micro-ops on its ``request`` stream; an arbiter (round robin, one micro-op per
clock at most, from a register) hands them to the VPU and records, in order, who owns each
micro-op's stream words and its retirement:

* a ``LOAD`` (``ceil(length / lanes)`` words) or ``SLOAD`` (one word) takes its words from the
  owner's ``load`` stream;
* a ``STORE`` or ``SSTORE`` gives its words to the owner's ``store`` stream;
* when the VPU retires the micro-op (:attr:`dfx_hw.vpu.vpu.VPU.retire`, in acceptance order) and
  the request had ``notify`` set, the owner's ``retired`` output pulses.

Because the VPU takes micro-ops in order and each requester's micro-ops keep their order, a
requester sees its stream words and its retirements in the order of its own requests.
A requester that offers a ``LOAD`` must be able to deliver its words without anything else
happening in the VPU (the VPU waits for them in order): the sequencers offer a ``LOAD`` only
once its first word is available.
"""

from amaranth import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ..vpu.layouts import Opcode, VPUConfig

__all__ = ["RegisterFilePort", "request_layout", "requester_signature", "ORDER_DEPTH"]

#: Micro-ops that may be accepted by the VPU and not yet retired (the VPU's hazard slots bound
#: it: 21 at the U280 configuration).
ORDER_DEPTH = 32


def request_layout(config):
    """A requester's micro-op: the VPU's micro-op and ``notify`` (pulse the requester's
    ``retired`` when this micro-op retires)."""
    return data.StructLayout({"op": config.micro_op_layout, "notify": 1})


def requester_signature(config):
    """A requester's port, from the register-file port's side (a requester uses ``.flip()``):
    ``request`` In(stream of :func:`request_layout`), ``load`` In(stream of ``16 * lanes``),
    ``store`` Out(stream of ``16 * lanes``), ``retired`` Out(1)."""
    word = 16 * config.lanes
    return wiring.Signature({
        "request": In(stream.Signature(request_layout(config))),
        "load": In(stream.Signature(word)),
        "store": Out(stream.Signature(word)),
        "retired": Out(1),
    })


class RegisterFilePort(wiring.Component):
    """Shares the VPU among ``requesters``.

    Parameters
    ----------
    config : VPUConfig
    requesters : tuple of str
        Names of the requesters, e.g. ``("vector", "dma", "matrix", "router")``; the port of
        requester ``name`` is ``getattr(self, name)``.

    Members
    -------
    <name> : Out(requester signature)
        ``request`` In(stream of :func:`request_layout`), ``load`` In(stream of ``16 * lanes``),
        ``store`` Out(stream of ``16 * lanes``), ``retired`` Out(1).
    vpu_instr : Out(stream.Signature(config.micro_op_layout))
    vpu_load : Out(stream.Signature(16 * lanes))
    vpu_store : In(stream.Signature(16 * lanes))
    vpu_retire : In(1)
    holding : Out(len(requesters))
        Bit ``i``: the arbiter's register holds a micro-op of requester ``i`` (in
        ``requesters`` order) that the VPU has not accepted yet.
    """

    def __init__(self, *, config, requesters):
        if not isinstance(config, VPUConfig):
            raise ValueError(f"config must be a VPUConfig, not {config!r}")
        requesters = tuple(requesters)
        if not requesters or len(set(requesters)) != len(requesters) or \
                not all(isinstance(r, str) and r.isidentifier() for r in requesters):
            raise ValueError(f"requesters must be distinct identifiers, not {requesters!r}")
        self._config = config
        self._names = requesters
        word = 16 * config.lanes
        members = {name: Out(requester_signature(config)) for name in requesters}
        members.update({
            "vpu_instr": Out(stream.Signature(config.micro_op_layout)),
            "vpu_load": Out(stream.Signature(word)),
            "vpu_store": In(stream.Signature(word)),
            "vpu_retire": In(1),
            "holding": Out(len(requesters)),
        })
        super().__init__(members)

    @property
    def requesters(self):
        return self._names

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        lanes = cfg.lanes
        shift = (lanes - 1).bit_length()
        ports = [getattr(self, name) for name in self._names]
        count = len(ports)
        owner_bits = max(1, (count - 1).bit_length())
        words_bits = cfg.length_width

        # Stream ownership, in VPU acceptance order.
        stream_entry = data.StructLayout({"owner": owner_bits, "words": words_bits})
        m.submodules.loads = loads = SyncFIFOBuffered(width=stream_entry.size, depth=ORDER_DEPTH)
        m.submodules.stores = stores = SyncFIFOBuffered(width=stream_entry.size,
                                                        depth=ORDER_DEPTH)
        retire_entry = data.StructLayout({"owner": owner_bits, "notify": 1})
        m.submodules.order = order = SyncFIFOBuffered(width=retire_entry.size,
                                                      depth=ORDER_DEPTH)

        # ---- arbiter: one registered micro-op towards the VPU -----------------------------------
        out = self.vpu_instr
        held = Signal(request_layout(cfg))
        held_owner = Signal(owner_bits)
        held_valid = Signal()
        last = Signal(owner_bits)       # round robin: the requester granted last
        room = loads.w_rdy & stores.w_rdy & order.w_rdy
        take = ~held_valid | out.ready
        pick = Signal(owner_bits)
        any_request = Signal()
        # The first requester after `last` (cyclically) with a request.
        for offset in reversed(range(1, count + 1)):
            index = Signal(owner_bits, name=f"rr_{offset}")
            m.d.comb += index.eq(Mux(last + offset >= count, last + offset - count,
                                     last + offset))
            with m.If(Array(p.request.valid for p in ports)[index]):
                m.d.comb += [pick.eq(index), any_request.eq(1)]
        grant = Signal()
        m.d.comb += grant.eq(take & room & any_request)
        for i, port in enumerate(ports):
            m.d.comb += port.request.ready.eq(grant & (pick == i))
        with m.If(take):
            m.d.sync += held_valid.eq(grant)
            with m.If(grant):
                m.d.sync += [held.eq(Array(p.request.payload for p in ports)[pick]),
                             held_owner.eq(pick), last.eq(pick)]
        m.d.comb += [out.valid.eq(held_valid), out.payload.eq(held.op)]
        for i in range(count):
            m.d.comb += self.holding[i].eq(held_valid & (held_owner == i))

        # On acceptance by the VPU: record who owns its words and its retirement.
        accepted = out.valid & out.ready
        opcode = held.op.opcode
        is_load = (opcode == Opcode.LOAD) | (opcode == Opcode.SLOAD)
        is_store = (opcode == Opcode.STORE) | (opcode == Opcode.SSTORE)
        vector_words = (held.op.length + lanes - 1) >> shift
        words = Mux((opcode == Opcode.LOAD) | (opcode == Opcode.STORE), vector_words, 1)
        m.d.comb += [
            loads.w_en.eq(accepted & is_load),
            loads.w_data.eq(Cat(held_owner, words)),
            stores.w_en.eq(accepted & is_store),
            stores.w_data.eq(Cat(held_owner, words)),
            order.w_en.eq(accepted),
            order.w_data.eq(Cat(held_owner, held.notify)),
        ]

        # ---- load words: from the owner of the oldest load micro-op -------------------------------
        load_head = data.View(stream_entry, loads.r_data)
        load_count = Signal(words_bits)
        load_valid = loads.r_rdy & Array(p.load.valid for p in ports)[load_head.owner]
        m.d.comb += [self.vpu_load.valid.eq(load_valid),
                     self.vpu_load.payload.eq(Array(p.load.payload for p in ports)
                                              [load_head.owner])]
        for i, port in enumerate(ports):
            m.d.comb += port.load.ready.eq(loads.r_rdy & (load_head.owner == i)
                                           & self.vpu_load.ready)
        with m.If(self.vpu_load.valid & self.vpu_load.ready):
            with m.If(load_count + 1 == load_head.words):
                m.d.sync += load_count.eq(0)
                m.d.comb += loads.r_en.eq(1)
            with m.Else():
                m.d.sync += load_count.eq(load_count + 1)

        # ---- store words: to the owner of the oldest store micro-op -------------------------------
        store_head = data.View(stream_entry, stores.r_data)
        store_count = Signal(words_bits)
        store_ready = stores.r_rdy & Array(p.store.ready for p in ports)[store_head.owner]
        m.d.comb += self.vpu_store.ready.eq(store_ready)
        for i, port in enumerate(ports):
            m.d.comb += [port.store.valid.eq(stores.r_rdy & (store_head.owner == i)
                                             & self.vpu_store.valid),
                         port.store.payload.eq(self.vpu_store.payload)]
        with m.If(self.vpu_store.valid & self.vpu_store.ready):
            with m.If(store_count + 1 == store_head.words):
                m.d.sync += store_count.eq(0)
                m.d.comb += stores.r_en.eq(1)
            with m.Else():
                m.d.sync += store_count.eq(store_count + 1)

        # ---- retirement ---------------------------------------------------------------------
        head = data.View(retire_entry, order.r_data)
        m.d.comb += order.r_en.eq(self.vpu_retire)
        for i, port in enumerate(ports):
            m.d.sync += port.retired.eq(self.vpu_retire & (head.owner == i) & head.notify)
        return m
