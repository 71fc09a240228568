"""Error codes of the DFX core: what went wrong, reported by a unit and latched for the host.

Every unit that can fail has an ``error`` port with :data:`ErrorSignature` (a unit's view:
``Out``). The unit raises ``valid`` on the first error and holds ``code`` and ``info`` steady
until reset: the report is sticky, so the control unit can never miss it. The control unit
latches the first report (with the pc and the instruction word it knows), stops issuing, and
shows it in the status registers of the register map. ``info`` carries the detail the host needs
to name the problem: an address (DMA), a sync tag (router), a loop counter (watchdog).

The host decodes ``code`` with :class:`ErrorCode` and :data:`MESSAGES`; the simulators raise the
matching Python exceptions for the same causes.
"""

from amaranth.lib import enum, wiring
from amaranth.lib.wiring import Out

__all__ = ["ErrorCode", "MESSAGES", "ErrorSignature", "INFO_BITS"]

#: Width of the ``info`` word of an error report.
INFO_BITS = 32


class ErrorCode(enum.Enum, shape=8):
    """Why the core stopped. ``NONE`` (0) means no error."""
    NONE = 0x00
    # control unit: decode and sequencing
    ILLEGAL_OPCODE = 0x01      #: an opcode the ISA does not define (0 is illegal: erased memory)
    RESERVED_BITS = 0x02       #: non-zero bits in an instruction's reserved field
    VRF_RANGE = 0x03           #: a vector register-file range outside the file
    SRF_RANGE = 0x04           #: a scalar register outside the file
    WATCHDOG = 0x05            #: the program ran longer than the watchdog limit (runaway loop)
    PC_RANGE = 0x06            #: the pc left the loaded program without reaching END
    FIELD_RANGE = 0x07         #: an operand field the hardware cannot execute (e.g. k > d)
    SPURIOUS_DONE = 0x08       #: a unit reported a write-back with nothing in flight
    # DMA
    HBM_WINDOW = 0x10          #: an HBM access outside the core's configured HBM window
    DDR_WINDOW = 0x11          #: a DDR access outside the core's configured DDR window
    AXI_SLVERR = 0x12          #: a memory answered SLVERR
    AXI_DECERR = 0x13          #: a memory answered DECERR (no slave at the address)
    HBM_ALIGN = 0x14           #: a weight stream's HBM address is not a multiple of the tile
    # router / ring
    LINK_DOWN = 0x20           #: a ring link (channel or lane) went down
    LINK_HARD_ERROR = 0x21     #: the link layer reported a hard error
    LINK_SOFT_ERROR = 0x22     #: the link layer reported a soft error during a sync
    SYNC_TIMEOUT = 0x23        #: a sync did not complete in time (a peer never sent)
    RING_PROTOCOL = 0x24       #: a beat arrived that no sync expects (tag or length mismatch)
    # compute units
    UNIT_FAULT = 0x30          #: a compute unit refused an operation it was handed


#: One line per code, for the host's message: ``MESSAGES[code].format(info=...)``.
MESSAGES = {
    ErrorCode.NONE: "no error",
    ErrorCode.ILLEGAL_OPCODE: "illegal opcode",
    ErrorCode.RESERVED_BITS: "non-zero reserved bits in the instruction word",
    ErrorCode.VRF_RANGE: "vector register-file range outside the file (element {info:#x})",
    ErrorCode.SRF_RANGE: "scalar register outside the file (s{info})",
    ErrorCode.WATCHDOG: "watchdog: more than {info} instructions executed (a runaway loop?)",
    ErrorCode.PC_RANGE: "the pc left the program without END (pc {info})",
    ErrorCode.FIELD_RANGE: "an operand field is out of range for this hardware ({info})",
    ErrorCode.SPURIOUS_DONE: "a unit reported a write-back with nothing in flight (unit {info})",
    ErrorCode.HBM_WINDOW: "HBM address {info:#x} is outside the core's HBM window",
    ErrorCode.DDR_WINDOW: "DDR address {info:#x} is outside the core's DDR window",
    ErrorCode.AXI_SLVERR: "memory answered SLVERR at address {info:#x}",
    ErrorCode.AXI_DECERR: "memory answered DECERR at address {info:#x}",
    ErrorCode.HBM_ALIGN: "HBM element address {info:#x} of a weight stream is not tile aligned",
    ErrorCode.LINK_DOWN: "ring link down during sync tag {info}",
    ErrorCode.LINK_HARD_ERROR: "ring link hard error during sync tag {info}",
    ErrorCode.LINK_SOFT_ERROR: "ring link soft error during sync tag {info}",
    ErrorCode.SYNC_TIMEOUT: "sync tag {info} timed out (a peer never sent)",
    ErrorCode.RING_PROTOCOL: "unexpected beat on the ring (sync tag {info})",
    ErrorCode.UNIT_FAULT: "a compute unit refused an operation ({info:#x})",
}

#: A unit's error report, from the unit's side (``Out``): sticky until reset.
ErrorSignature = wiring.Signature({
    "valid": Out(1),
    "code": Out(ErrorCode),
    "info": Out(INFO_BITS),
})
