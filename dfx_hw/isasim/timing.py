"""Scoreboard timing of one core: the overlapped cycle estimate.

The serial estimate (:mod:`dfx_hw.spec.costs`, every instruction's occupancy plus latency added
up) ignores that DMA, matrix, vector and router instructions run concurrently. :class:`Timeline` models the
scheduler and scoreboard of DESIGN.md, section 4:

* instructions issue in program order, at most one per clock, each once its dependencies
  allow (below) -- a busy unit does not hold the issue: every unit has a queue;
* each unit (control, matrix, vector, DMA, router) starts an instruction when the previous one
  has finished occupying it (``occupancy`` clocks); matrix instructions with their weight
  prefetch and the read of their input through the vector unit (:meth:`Timeline.account_matrix`);
* an instruction waits until every register-file range or memory range it reads *or writes* is
  ready (read-after-write and write-after-write, as the scoreboard's stale bits do), and until
  every earlier instruction that *reads* what it writes has finished (write-after-read: the
  scoreboard holds a reader's entry until it writes back); its results are ready
  ``occupancy + latency`` clocks after it starts, and so is the release of what it read.

Dependencies are tracked on vector register-file ranges (any overlap), scalar registers, and
memory *regions* named by their base address (a K or V cache, a token-buffer slot): weights are
streamed read-only and carry none. The same rules, item for item, are the control unit's
scoreboard (:mod:`dfx_hw.control.rules`). A ring sync starts when every core is ready for it and completes for all
cores together (:meth:`Timeline.sync_ready` / :meth:`Timeline.sync_done`).
"""

__all__ = ["Timeline"]


class Timeline:
    """The overlapped timing of one core (all times in core clocks)."""

    def __init__(self, *, self_ordered=()):
        #: Units that resolve read-after-write hazards among their own instructions (the
        #: vector unit: the VPU holds a micro-op until its operands are written, and reads at
        #: issue, before any later write): an instruction for such a unit does not wait at the
        #: issue stage for earlier instructions of the same unit; it starts once what it reads
        #: is written.
        self.self_ordered = frozenset(self_ordered)
        #: When a list, :meth:`place` appends ``(unit, issue, done)`` for every instruction in
        #: execution order (for comparing the schedule with the RTL's trace port).
        self.log = None
        self.weights_free = 0    # clock the weight stream has delivered every tile so far
        self._outputs = ()       # first output word of the last matrix instructions
        self._prefetched = 0     # clock the last weight prefetch was offered
        self._issued = []        # issue clocks of the last two instructions
        self.issue = 0
        self.unit_free = {}
        self.unit_done = {}      # unit -> clock its last instruction so far finishes
        self.vrf = {}            # (start, stop) -> clock its last write completes
        self.keys = {}           # scalar register or memory region key -> clock
        self.writer = {}         # (start, stop) or key -> unit of its last writer
        self.read_vrf = {}       # (start, stop) -> clock its last reader finishes
        self.read_keys = {}      # key -> clock its last reader finishes
        self.read_other = ({}, {})  # the same two for readers on units not self-ordered
        self.end = 0

    def _ready_of(self, items, skip=None, only=None):
        """Clock every write of what ``items`` name completes; ``skip``: ignore writes by that
        unit, ``only``: count only writes by that unit."""
        when = 0
        for item in items:
            if item[0] == "vrf":
                _, start, stop = item
                for key, clock in self.vrf.items():
                    a, b = key
                    if a < stop and start < b and clock > when:
                        unit = self.writer.get(key)
                        if (skip is None or unit != skip) and (only is None or unit == only):
                            when = clock
            else:
                unit = self.writer.get(item)
                if (skip is None or unit != skip) and (only is None or unit == only):
                    when = max(when, self.keys.get(item, 0))
        return when

    def _read_release(self, items, unit=None):
        """Clock when every earlier reader of what ``items`` name has finished (WAR); for a
        self-ordered ``unit``, every earlier reader on another unit."""
        vrf, keys = self.read_vrf, self.read_keys
        if unit in self.self_ordered:
            vrf, keys = self.read_other
        when = 0
        for item in items:
            if item[0] == "vrf":
                _, start, stop = item
                for (a, b), clock in vrf.items():
                    if a < stop and start < b and clock > when:
                        when = clock
            else:
                when = max(when, keys.get(item, 0))
        return when

    def _read(self, items, clock, unit=None):
        tables = [(self.read_vrf, self.read_keys)]
        if unit not in self.self_ordered:
            tables.append(self.read_other)
        for vrf, keys in tables:
            for item in items:
                if item[0] == "vrf":
                    key = (item[1], item[2])
                    vrf[key] = max(clock, vrf.get(key, 0))
                else:
                    keys[item] = max(clock, keys.get(item, 0))
        for vrf in (self.read_vrf, self.read_other[0]):
            if len(vrf) > 256:  # readers finished before the next start cannot matter
                stale = [k for k, c in vrf.items() if c <= self.issue]
                for k in stale:
                    del vrf[k]

    def _written(self, items, clock, unit=None):
        for item in items:
            if item[0] == "vrf":
                _, start, stop = item
                for key in [k for k in self.vrf if k[0] >= start and k[1] <= stop]:
                    del self.vrf[key]  # superseded by this write
                    self.writer.pop(key, None)
                self.vrf[(start, stop)] = clock
                self.writer[(start, stop)] = unit
            else:
                self.keys[item] = clock
                self.writer[item] = unit

    def start_of(self, unit, reads, writes):
        """Earliest clock an instruction for ``unit`` touching ``reads``/``writes`` may start.

        Items are ``("vrf", start, stop)`` ranges or hashable keys (``("srf", reg)``,
        ``("hbm", base)``, ``("ddr", address)``)."""
        return max(self.issue, self.unit_free.get(unit, 0), self._ready_of(reads),
                   self._ready_of(writes), self._read_release(writes))

    def issue_of(self, reads, writes, unit=None):
        """Clock an instruction touching ``reads``/``writes`` leaves the issue stage: in order,
        once its dependencies are written back (its unit may still be busy: each unit has an
        issue queue and runs what it is given in order); for a self-ordered ``unit``, its
        dependencies on other units."""
        skip = unit if unit in self.self_ordered else None
        return max(self.issue, self._ready_of(reads, skip=skip),
                   self._ready_of(writes, skip=skip), self._read_release(writes, unit))

    def _own_ready(self, unit, reads, writes, issue):
        """For a self-ordered ``unit``: when an instruction that reads or writes what an earlier
        instruction of the same unit still in flight at ``issue`` writes may start -- once
        every earlier instruction of the unit has finished, less
        :data:`~dfx_hw.spec.costs.VECTOR_CHAIN_LEAD` (it is issued ``after``,
        :mod:`dfx_hw.spec.issue`, and enters the VPU as it settles); 0 when it has no such
        dependency."""
        if unit not in self.self_ordered:
            return 0
        if max(self._ready_of(reads, only=unit), self._ready_of(writes, only=unit)) <= issue:
            return 0
        from ..spec import costs
        return self.unit_done.get(unit, 0) - costs.VECTOR_CHAIN_LEAD

    def account(self, unit, occupancy, latency, reads=(), writes=(), not_before=0):
        """Schedule one instruction (starting no earlier than ``not_before``); return its
        completion clock."""
        issue = self.issue_of(reads, writes, unit)
        start = max(issue, self.unit_free.get(unit, 0),
                    self._own_ready(unit, reads, writes, issue), not_before)
        return self.place(unit, start, occupancy, latency, writes, reads, issue=issue)

    def account_matrix(self, unit, tiles, *, drain, weight_reads=(), reads=(), writes=(),
                       memory_latency=None, vpu=None, x_words=0, out_words=0, first_band=None):
        """Schedule a matrix instruction that streams ``tiles`` weight tiles; return its
        completion clock.

        The matrix unit is pipelined across instructions (:mod:`dfx_hw.core.matrix_path`): the
        sequencer starts an instruction once the matrix unit has taken the previous one's
        input. The model approximates that by: an instruction starts once the previous one's
        input has been read and the one :data:`~dfx_hw.spec.costs.MATRIX_MODEL_STARTED` before
        it is :data:`~dfx_hw.spec.costs.MATRIX_MODEL_LEAD` clocks from writing its result; the
        tiles follow the previous instruction's tiles.
        The weights are
        prefetched (:mod:`dfx_hw.control.scheduler`): their reads start when the instruction
        has reached the stage behind the issue stage (the one before it has reached the issue
        stage) and nothing it reads from memory (``weight_reads``) is still being written; they arrive ``memory_latency`` clocks later, after the previous
        instruction's tiles. The first tile enters the matrix unit at the later of that and
        :data:`~dfx_hw.spec.costs.MATRIX_START` clocks after its input vector (``x_words``
        register-file words) has been read through the vector unit ``vpu`` (which may still be
        busy with earlier vector work); the result is written back ``drain`` clocks after the
        last tile, its first word ``drain`` clocks after the tiles of the first band
        (``first_band``, default all). The results enter the register file through the vector
        unit too (``LOAD`` micro-ops of at most :data:`~dfx_hw.spec.costs.MATRIX_LOAD_WORDS`
        words, each with an idle clock): their ``out_words`` are charged to ``vpu``'s timeline
        when the instruction is placed -- the vector unit's capacity, not the exact clocks of
        the write-back, which the RTL's VPU interleaves with the vector instructions around it
        (at a 1,024-token context the vector unit is nearly saturated, and without this charge
        the model was 6.6 % optimistic)."""
        from ..spec import costs
        latency = costs.HBM_READ_LATENCY if memory_latency is None else memory_latency
        # the prefetch queue offers the instructions to the DMA in program order, each from the
        # stage behind the issue stage (once the instruction before it has reached the issue
        # stage) when nothing it reads from memory is being written
        behind = self._issued[-2] + 1 if len(self._issued) > 1 else 0
        prefetch = max(behind, self._ready_of(weight_reads), self._prefetched)
        self._prefetched = prefetch
        arrive = max(prefetch + latency, self.weights_free)
        issue = self.issue_of(reads, writes)
        started = costs.MATRIX_MODEL_STARTED
        outputs = (0,) * started + tuple(self._outputs)
        start = max(issue, self.unit_free.get(unit, 0),
                    outputs[-started] - costs.MATRIX_MODEL_LEAD)
        if vpu is not None:
            # the input vector leaves the register file through the vector unit (a STORE
            # micro-op of x_words words), after the vector work already given to it
            start_x = max(start, self.unit_free.get(vpu, 0))
            self.unit_free[vpu] = start_x + x_words + 1
        else:
            start_x = start
        first = max(start_x + costs.MATRIX_START, arrive)
        self.weights_free = first + tiles
        done = first + tiles + drain
        band = tiles if first_band is None else min(first_band, tiles)
        self._outputs = outputs[1 - started:] + (first + band + drain,) if started > 1 \
            else (first + band + drain,)
        done = self.place(unit, start, done - start, 0, writes, reads, issue=issue)
        self.unit_free[unit] = start_x + 1
        if vpu is not None and out_words:
            loads = -(-out_words // costs.MATRIX_LOAD_WORDS)
            self.unit_free[vpu] = self.unit_free.get(vpu, 0) + out_words + loads
        return done

    def place(self, unit, start, occupancy, latency, writes, reads=(), issue=None):
        """Record an instruction that starts at ``start`` (used for ring syncs, whose start is
        agreed by all cores), issued at ``issue`` (default: ``start``)."""
        issue = start if issue is None else issue
        self.issue = issue + 1
        self._issued = self._issued[-1:] + [issue]
        self.unit_free[unit] = start + occupancy
        done = start + occupancy + latency
        self.unit_done[unit] = max(self.unit_done.get(unit, 0), done)
        self._written(writes, done, unit)
        self._read(reads, done, unit)
        self.end = max(self.end, done)
        if self.log is not None:
            self.log.append((unit, issue, done))
        return done
