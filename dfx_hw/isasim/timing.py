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

    def __init__(self):
        #: When a list, :meth:`place` appends ``(unit, issue, done)`` for every instruction in
        #: execution order (for comparing the schedule with the RTL's trace port).
        self.log = None
        self.weights_free = 0    # clock the weight stream has delivered every tile so far
        self.issue = 0
        self.unit_free = {}
        self.vrf = {}            # (start, stop) -> clock its last write completes
        self.keys = {}           # scalar register or memory region key -> clock
        self.read_vrf = {}       # (start, stop) -> clock its last reader finishes
        self.read_keys = {}      # key -> clock its last reader finishes
        self.end = 0

    def _ready_of(self, items):
        when = 0
        for item in items:
            if item[0] == "vrf":
                _, start, stop = item
                for (a, b), clock in self.vrf.items():
                    if a < stop and start < b and clock > when:
                        when = clock
            else:
                when = max(when, self.keys.get(item, 0))
        return when

    def _read_release(self, items):
        """Clock when every earlier reader of what ``items`` name has finished (WAR)."""
        when = 0
        for item in items:
            if item[0] == "vrf":
                _, start, stop = item
                for (a, b), clock in self.read_vrf.items():
                    if a < stop and start < b and clock > when:
                        when = clock
            else:
                when = max(when, self.read_keys.get(item, 0))
        return when

    def _read(self, items, clock):
        for item in items:
            if item[0] == "vrf":
                key = (item[1], item[2])
                self.read_vrf[key] = max(clock, self.read_vrf.get(key, 0))
            else:
                self.read_keys[item] = max(clock, self.read_keys.get(item, 0))
        if len(self.read_vrf) > 256:  # readers finished before the next start cannot matter
            self.read_vrf = {k: c for k, c in self.read_vrf.items() if c > self.issue}

    def _written(self, items, clock):
        for item in items:
            if item[0] == "vrf":
                _, start, stop = item
                for key in [k for k in self.vrf if k[0] >= start and k[1] <= stop]:
                    del self.vrf[key]  # superseded by this write
                self.vrf[(start, stop)] = clock
            else:
                self.keys[item] = clock

    def start_of(self, unit, reads, writes):
        """Earliest clock an instruction for ``unit`` touching ``reads``/``writes`` may start.

        Items are ``("vrf", start, stop)`` ranges or hashable keys (``("srf", reg)``,
        ``("hbm", base)``, ``("ddr", address)``)."""
        return max(self.issue, self.unit_free.get(unit, 0), self._ready_of(reads),
                   self._ready_of(writes), self._read_release(writes))

    def issue_of(self, reads, writes):
        """Clock an instruction touching ``reads``/``writes`` leaves the issue stage: in order,
        once its dependencies are written back (its unit may still be busy: each unit has an
        issue queue and runs what it is given in order)."""
        return max(self.issue, self._ready_of(reads), self._ready_of(writes),
                   self._read_release(writes))

    def account(self, unit, occupancy, latency, reads=(), writes=()):
        """Schedule one instruction; return its completion clock."""
        issue = self.issue_of(reads, writes)
        start = max(issue, self.unit_free.get(unit, 0))
        return self.place(unit, start, occupancy, latency, writes, reads, issue=issue)

    def account_matrix(self, unit, tiles, *, drain, weight_reads=(), reads=(), writes=(),
                       memory_latency=None, vpu=None, x_words=0):
        """Schedule a matrix instruction that streams ``tiles`` weight tiles (the matrix unit
        runs one instruction at a time); return its completion clock.

        The weights are prefetched (:mod:`dfx_hw.control.scheduler`): their reads start when
        the instruction has reached the issue stage and nothing it reads from memory
        (``weight_reads``) is still being written; they arrive ``memory_latency`` clocks later,
        after the previous instruction's tiles. The first tile enters the matrix unit at
        the later of that and :data:`~dfx_hw.spec.costs.MATRIX_START` clocks after its input
        vector (``x_words`` register-file words) has been read through the vector unit ``vpu``
        (which may still be busy with earlier vector work); the result is written back
        ``drain`` clocks after the last tile."""
        from ..spec import costs
        latency = costs.HBM_READ_LATENCY if memory_latency is None else memory_latency
        prefetch = max(self.issue, self._ready_of(weight_reads))
        arrive = max(prefetch + latency, self.weights_free)
        issue = self.issue_of(reads, writes)
        start = max(issue, self.unit_free.get(unit, 0))
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
        return self.place(unit, start, done - start, 0, writes, reads, issue=issue)

    def place(self, unit, start, occupancy, latency, writes, reads=(), issue=None):
        """Record an instruction that starts at ``start`` (used for ring syncs, whose start is
        agreed by all cores), issued at ``issue`` (default: ``start``)."""
        issue = start if issue is None else issue
        self.issue = issue + 1
        self.unit_free[unit] = start + occupancy
        done = start + occupancy + latency
        self._written(writes, done)
        self._read(reads, done)
        self.end = max(self.end, done)
        if self.log is not None:
            self.log.append((unit, issue, done))
        return done
