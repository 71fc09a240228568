"""The host's register map of a DFX core: one table, used by the RTL, the host, the tests and docs.

The core is a 32-bit AXI4-Lite slave (:mod:`dfx_hw.bus.axi4_lite`) on the XDMA AXI-Lite master
BAR. Every register is 32 bits wide at a 4-byte aligned *byte* offset. :data:`REGISTERS` lists
them in address order; :data:`REGMAP` indexes them by name. The RTL
(:mod:`dfx_hw.control.regs`) builds its address decoder from the table, the host helpers
(:mod:`dfx_hw.control.loader`) and the benches take every offset and bit position from it, and
``docs/registers.md`` is generated from it (:func:`registers_markdown`; a test checks the
committed file is current).

Access kinds
------------
``ro``
    Read-only: the hardware drives the value; writes answer SLVERR.
``rw``
    Read/write.
``wo``
    Write-only command register: a write acts once; reads return 0.

Writes must set all four byte strobes (``wstrb = 0b1111``): a partial write answers SLVERR and
changes nothing. A register marked *locked while running* answers SLVERR, and changes nothing,
when written while the core runs. Reads of an offset that is not in the table answer 0 with
OKAY (the Linux XDMA driver probes offsets ``0x2000`` and ``0x3000`` of every BAR, listed here
as ``XDMA_PROBE_*``); writes there answer SLVERR.

Loading a program
-----------------
Write ``IBUF_ADDR`` (the instruction index to write next, normally 0), then for each 128-bit
instruction word its four 32-bit parts ``IBUF_DATA0`` (bits 0-31) .. ``IBUF_DATA3`` (bits 96-127);
the write of ``IBUF_DATA3`` stores the word and increments ``IBUF_ADDR``. Then write
``PROGRAM_LEN``. ``IBUF_DEPTH`` says how many words the buffer holds; a store at an index at or
beyond it answers SLVERR. :func:`dfx_hw.control.loader.program_writes` makes the write list and
refuses a program that does not fit.
"""

from dataclasses import dataclass

__all__ = ["Field", "Register", "REGISTERS", "REGMAP", "ADDRESS_BITS", "DATA_BITS", "ID_VALUE",
           "VERSION_MAJOR", "VERSION_MINOR", "VERSION_VALUE", "COUNTER_BITS",
           "COUNTER_NAMES", "UNIT_NAMES", "UNIT_STATES", "registers_markdown"]

#: Byte-address bits of the register port (a 64 KiB window: XDMA's probes at 0x2000/0x3000 fit).
ADDRESS_BITS = 16
#: Data bits of the register port.
DATA_BITS = 32
#: Value of ``ID``: ASCII "DFXC".
ID_VALUE = 0x44465843
#: Register-map version. The host refuses a bitstream whose major version differs from its own
#: or whose minor version is older.
VERSION_MAJOR = 1
VERSION_MINOR = 0
VERSION_VALUE = VERSION_MAJOR << 16 | VERSION_MINOR
#: Width of every performance counter (read as ``_LO`` + ``_HI``).
COUNTER_BITS = 48

#: The units the scheduler issues to, in port order (names of :class:`~dfx_hw.isa.InstrClass`).
UNIT_NAMES = ("MATRIX", "VECTOR", "DMA", "ROUTER")
#: What a unit's clock counts as (exactly one per clock while running).
UNIT_STATES = {
    "BUSY": "the unit has at least one instruction issued and not yet written back",
    "WAIT": "the unit has nothing in flight and the instruction at the issue stage, for this "
            "unit, waits on a dependency",
    "IDLE": "neither",
}
#: Global performance counters, in register order.
_GLOBAL_COUNTERS = {
    "CYCLES": "clocks while running (from START to END written back, or to an error)",
    "ISSUED": "instructions that left the issue stage (issued to a unit, or a control "
              "instruction retired)",
    "STALL_DEP": "clocks the instruction at the issue stage waited on a dependency "
                 "(read-after-write, write-after-write or write-after-read)",
    "STALL_FULL": "clocks the instruction at the issue stage waited because its unit already "
                  "had the maximum number of instructions in flight (or, for a weight-streaming "
                  "matrix instruction, the weight-prefetch queue was full)",
    "STALL_END": "clocks END waited at the issue stage for the units to write back",
    "BUBBLE": "clocks the issue stage was empty (pipeline refill after a jump, the layer "
              "offset multiply after SETR/LOOP of LAYER or a stride)",
}
COUNTER_NAMES = tuple(_GLOBAL_COUNTERS) + tuple(
    f"{unit}_{state}" for unit in UNIT_NAMES for state in UNIT_STATES)


@dataclass(frozen=True)
class Field:
    """Bits ``[lsb, lsb + width)`` of a register."""
    name: str
    lsb: int
    width: int
    doc: str

    @property
    def mask(self):
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Register:
    """One 32-bit register at byte ``offset``."""
    name: str
    offset: int
    access: str
    doc: str
    fields: tuple = ()
    reset: int = 0
    locked: bool = False          # writes refused (SLVERR) while the core runs
    group: str = ""

    def __post_init__(self):
        if self.access not in ("ro", "rw", "wo"):
            raise ValueError(f"register {self.name}: access must be ro/rw/wo, not {self.access!r}")
        if self.offset % 4 or not 0 <= self.offset < 1 << ADDRESS_BITS:
            raise ValueError(f"register {self.name}: bad offset {self.offset:#x}")
        used = 0
        for f in self.fields:
            if f.lsb < 0 or f.width < 1 or f.lsb + f.width > DATA_BITS or used & f.mask:
                raise ValueError(f"register {self.name}: field {f.name} does not fit")
            used |= f.mask

    @property
    def readable(self):
        return self.access != "wo"

    @property
    def writable(self):
        return self.access != "ro"

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"register {self.name} has no field {name!r}")


def _window(prefix, what):
    return [
        Register(f"{prefix}_BASE_LO", 0, "rw", f"{what} window base, byte address bits 0-31",
                 locked=True, group="config"),
        Register(f"{prefix}_BASE_HI", 0, "rw", f"{what} window base, byte address bits 32-63",
                 locked=True, group="config"),
        Register(f"{prefix}_SIZE_LO", 0, "rw", f"{what} window size in bytes, bits 0-31 "
                 "(the DMA refuses accesses outside [base, base + size))", locked=True,
                 group="config"),
        Register(f"{prefix}_SIZE_HI", 0, "rw", f"{what} window size in bytes, bits 32-63",
                 locked=True, group="config"),
    ]


def _at(offset, registers):
    return [Register(r.name, offset + 4 * i, r.access, r.doc, r.fields, r.reset, r.locked,
                     r.group) for i, r in enumerate(registers)]


def _counters(base):
    out = []
    docs = dict(_GLOBAL_COUNTERS)
    docs.update({f"{u}_{s}": f"{u.lower()} unit: {d}" for u in UNIT_NAMES
                 for s, d in UNIT_STATES.items()})
    for i, name in enumerate(COUNTER_NAMES):
        out.append(Register(f"PERF_{name}_LO", base + 8 * i, "ro",
                            f"bits 0-31 of: {docs[name]}", group="perf"))
        out.append(Register(f"PERF_{name}_HI", base + 8 * i + 4, "ro",
                            f"bits 32-{COUNTER_BITS - 1} of PERF_{name}", group="perf"))
    return out


_F = Field

#: Every register, in address order.
REGISTERS = tuple(sorted([
    # identification
    Register("ID", 0x0000, "ro", 'constant 0x44465843 (ASCII "DFXC"): a DFX core answers here',
             reset=ID_VALUE, group="id"),
    Register("VERSION", 0x0004, "ro", "register-map version; the host refuses another major or "
             "an older minor version", (
                 _F("MINOR", 0, 16, "minor version (compatible additions)"),
                 _F("MAJOR", 16, 16, "major version (incompatible changes)")),
             reset=VERSION_VALUE, group="id"),
    Register("IBUF_DEPTH", 0x0008, "ro", "instruction-buffer capacity in 128-bit words",
             group="id"),
    Register("PARAMS", 0x000C, "ro", "build parameters of the control unit", (
        _F("INFLIGHT", 0, 8, "instructions each unit may have in flight (scoreboard entries "
                             "per unit = issue-queue depth)"),
        _F("SRF_WORDS", 8, 8, "scalar registers the scoreboard checks against"),
        _F("VRF_LOG2", 16, 8, "log2 of the vector register-file size in elements")),
        group="id"),
    # control and status
    Register("CONTROL", 0x0010, "wo", "commands (write 1 to act)", (
        _F("START", 0, 1, "run the loaded program from pc 0 (ignored unless idle; after an "
                          "error write CLEAR first); clears DONE and the counters"),
        _F("CLEAR", 1, 1, "soft reset: abandon the run, empty the queues and the scoreboard, "
                          "clear DONE, ERROR and the error registers, pulse the units' reset")),
        group="control"),
    Register("STATUS", 0x0014, "ro", "state of the core", (
        _F("IDLE", 0, 1, "not running and nothing in flight: START is accepted (unless ERROR)"),
        _F("RUNNING", 1, 1, "the program runs"),
        _F("DONE", 2, 1, "END was reached and every instruction has written back"),
        _F("ERROR", 3, 1, "the run stopped on an error (ERR_* registers); CLEAR to rearm")),
        group="control"),
    Register("PC", 0x0018, "ro", "pc of the instruction at the issue stage (debug)",
             group="control"),
    # system configuration
    Register("CORE_ID", 0x0020, "rw", "this core's position in the ring", locked=True,
             group="config"),
    Register("CORE_COUNT", 0x0024, "rw", "cores in the ring (SYNCS gathers 2 words per core)",
             reset=1, locked=True, group="config"),
    Register("LAYER_COUNT", 0x0028, "rw", "decoder layers of the loaded model", locked=True,
             group="config"),
    Register("PROMPT_LEN", 0x002C, "rw", "prompt tokens of this run", locked=True,
             group="config"),
    Register("NEW_TOKENS", 0x0030, "rw", "tokens to generate in this run", locked=True,
             group="config"),
    Register("WATCHDOG", 0x0034, "rw", "stop with WATCHDOG after this many instructions have "
             "left the decode stage (0: no limit)", locked=True, group="config"),
    Register("PROGRAM_LEN", 0x0038, "rw", "instructions loaded; fetching at a pc at or beyond "
             "it stops with PC_RANGE", locked=True, group="config"),
    *_at(0x0040, _window("HBM", "HBM")),
    *_at(0x0050, _window("DDR", "DDR")),
    # error status
    Register("ERR_CODE", 0x0060, "ro", "first error (dfx_hw.spec.errors.ErrorCode; 0: none)",
             group="error"),
    Register("ERR_INFO", 0x0064, "ro", "detail of the error (the code's message says what)",
             group="error"),
    Register("ERR_PC", 0x0068, "ro", "pc of the instruction that failed", group="error"),
    *[Register(f"ERR_WORD{i}", 0x0070 + 4 * i, "ro",
               f"bits {32 * i}-{32 * i + 31} of the instruction word at ERR_PC", group="error")
      for i in range(4)],
    # instruction buffer
    Register("IBUF_ADDR", 0x0080, "rw", "index of the next instruction word IBUF_DATA3 stores; "
             "incremented by each store", locked=True, group="ibuf"),
    *[Register(f"IBUF_DATA{i}", 0x0090 + 4 * i, "wo",
               f"bits {32 * i}-{32 * i + 31} of the word to store"
               + ("; this write stores the word at IBUF_ADDR (SLVERR at or beyond IBUF_DEPTH)"
                  if i == 3 else ""), locked=True, group="ibuf") for i in range(4)],
    # XDMA driver probes
    Register("XDMA_PROBE_2000", 0x2000, "ro", "reads 0 (the Linux XDMA driver probes it)",
             group="xdma"),
    Register("XDMA_PROBE_3000", 0x3000, "ro", "reads 0 (the Linux XDMA driver probes it)",
             group="xdma"),
    *_counters(0x0100),
], key=lambda r: r.offset))

#: Registers by name.
REGMAP = {r.name: r for r in REGISTERS}


def _check():
    offsets = {}
    for r in REGISTERS:
        if r.offset in offsets:  # pragma: no cover - a table bug, caught at import
            raise AssertionError(f"{r.name} and {offsets[r.offset]} share offset {r.offset:#x}")
        offsets[r.offset] = r.name
    if len(REGMAP) != len(REGISTERS):  # pragma: no cover
        raise AssertionError("two registers share a name")


_check()


def registers_markdown() -> str:
    """``docs/registers.md``: the register map as Markdown."""
    import inspect
    import re
    import sys

    doc = inspect.cleandoc(sys.modules[__name__].__doc__)
    intro = doc.split("\n", 2)[2].strip()
    intro = re.sub(r":(?:data|func|mod|class):", "", intro).replace("``", "`")
    intro = re.sub(r"^(.+)\n-+$", r"## \1", intro, flags=re.M)             # RST headings
    intro = re.sub(r"^(`\w+`)\n    (.+)$", r"- \1: \2", intro, flags=re.M)  # definitions
    out = ["# DFX core registers", "",
           "Generated from `dfx_hw/spec/regmap.py` by "
           "`python -m dfx_hw.spec.regmap > docs/registers.md`; do not edit by hand (a test "
           "checks that this file is current).", "",
           intro, "",
           f"ID = `{ID_VALUE:#010x}`, VERSION = {VERSION_MAJOR}.{VERSION_MINOR}. Performance "
           f"counters are {COUNTER_BITS} bits, count only while running and hold their value "
           "afterwards (read them when not running for a consistent value); every clock of a "
           "run is exactly one of BUSY, WAIT and IDLE for each unit.", "",
           "| offset | name | access | reset | description |", "|---|---|---|---|---|"]
    for r in REGISTERS:
        lock = " Locked while running." if r.locked else ""
        reset = f"`{r.reset:#x}`" if r.access == "rw" or r.reset else "-"
        out.append(f"| `{r.offset:#06x}` | `{r.name}` | {r.access} | {reset} | {r.doc}.{lock} |")
    out += ["", "## Fields", ""]
    out[out.index("| offset | name | access | reset | description |"):0] = ["## Registers", ""]
    for r in REGISTERS:
        if not r.fields:
            continue
        out += [f"### `{r.name}` ({r.offset:#06x})", "", "| bits | field | description |",
                "|---|---|---|"]
        for f in r.fields:
            bits = f"[{f.lsb + f.width - 1}:{f.lsb}]" if f.width > 1 else f"[{f.lsb}]"
            out.append(f"| {bits} | `{f.name}` | {f.doc} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(registers_markdown(), end="")
