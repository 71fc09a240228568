"""The router's error status: link status, a sync timeout and protocol faults, each an
:data:`~dfx_hw.spec.errors.ErrorSignature` report naming the sync tag."""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..spec.errors import INFO_BITS, ErrorCode, ErrorSignature

__all__ = ["ErrorMonitor", "TIMEOUT_BITS"]

#: Width of the timeout register input (core clocks).
TIMEOUT_BITS = 32


class ErrorMonitor(wiring.Component):
    """Latches the first error (sticky until reset) as ``error``:

    * ``LINK_DOWN``: a link that has been up (``*_up``) goes down, while ``ring`` (more than one
      core) -- at any time, a dropped channel loses beats;
    * ``LINK_HARD_ERROR``: a link's sticky hard-error flag is set, while ``ring``;
    * ``LINK_SOFT_ERROR``: a link's sticky soft-error flag is set while a sync is ``active``
      (a soft error between syncs is reported when the next sync starts);
    * ``SYNC_TIMEOUT``: ``active`` for ``timeout`` clocks since ``start`` (``timeout`` = 0: no
      limit), i.e. a peer never sent or a link never came up;
    * ``fault``: any other report (``fault_code``, ``fault_info``) from the router (decode,
      protocol).

    ``info`` is ``tag`` (the sync in progress, or the last one) except for ``fault``. When
    several causes appear on the same clock the order above decides.
    """

    def __init__(self):
        super().__init__({
            "ring": In(1),
            "active": In(1),
            "start": In(1),
            "tag": In(8),
            "timeout": In(TIMEOUT_BITS),
            "next_up": In(1), "prev_up": In(1),
            "next_hard": In(1), "prev_hard": In(1),
            "next_soft": In(1), "prev_soft": In(1),
            "fault": In(1),
            "fault_code": In(ErrorCode),
            "fault_info": In(INFO_BITS),
            "error": Out(ErrorSignature),
        })

    def elaborate(self, platform):
        m = Module()
        was_up = Signal(2)
        ups = Cat(self.next_up, self.prev_up)
        m.d.sync += was_up.eq(was_up | ups)
        down = Signal()
        hard = Signal()
        soft = Signal()
        # Registered conditions: the report follows one clock later, off the status paths.
        m.d.sync += [
            down.eq(self.ring & (was_up & ~ups).any()),
            hard.eq(self.ring & (self.next_hard | self.prev_hard)),
            soft.eq(self.ring & self.active & (self.next_soft | self.prev_soft)),
        ]

        remaining = Signal(TIMEOUT_BITS)
        armed = Signal()
        expired = Signal()
        with m.If(self.start):
            m.d.sync += [remaining.eq(self.timeout), armed.eq(self.timeout != 0)]
        with m.Elif(self.active & armed):
            m.d.sync += remaining.eq(remaining - 1)
        m.d.sync += expired.eq(self.active & armed & (remaining == 1) & ~self.start)

        with m.If(~self.error.valid):
            with m.If(down):
                m.d.sync += [self.error.valid.eq(1), self.error.code.eq(ErrorCode.LINK_DOWN),
                             self.error.info.eq(self.tag)]
            with m.Elif(hard):
                m.d.sync += [self.error.valid.eq(1),
                             self.error.code.eq(ErrorCode.LINK_HARD_ERROR),
                             self.error.info.eq(self.tag)]
            with m.Elif(soft):
                m.d.sync += [self.error.valid.eq(1),
                             self.error.code.eq(ErrorCode.LINK_SOFT_ERROR),
                             self.error.info.eq(self.tag)]
            with m.Elif(expired):
                m.d.sync += [self.error.valid.eq(1), self.error.code.eq(ErrorCode.SYNC_TIMEOUT),
                             self.error.info.eq(self.tag)]
            with m.Elif(self.fault):
                m.d.sync += [self.error.valid.eq(1), self.error.code.eq(self.fault_code),
                             self.error.info.eq(self.fault_info)]
        return m
