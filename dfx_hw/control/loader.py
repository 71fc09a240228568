"""Host-side helpers for the control unit's register map: identify, load, configure, decode errors.

Every offset and bit comes from :mod:`dfx_hw.spec.regmap`. The helpers return lists of
``(offset, value)`` register writes and decode values read back, so a host runtime (PCIe BAR
accesses) and a cocotb bench (cocotbext-axi ``AxiLiteMaster``) use the same code.
"""

from ..isa.encoding import decode
from ..isa.layouts import WORD_BITS
from ..spec.errors import MESSAGES, ErrorCode
from ..spec.regmap import ID_VALUE, REGMAP, VERSION_MAJOR, VERSION_MINOR

__all__ = ["ProgramTooLarge", "BitstreamMismatch", "CoreError", "program_writes",
           "config_writes", "check_identity", "decode_status", "error_of"]

_CONFIG = ("CORE_ID", "CORE_COUNT", "LAYER_COUNT", "PROMPT_LEN", "NEW_TOKENS", "WATCHDOG")


class ProgramTooLarge(ValueError):
    """A program with more instructions than the instruction buffer holds."""


class BitstreamMismatch(RuntimeError):
    """The core at the register port is not a DFX core of a compatible register-map version."""


class CoreError(RuntimeError):
    """A run that stopped on an error: ``code`` (:class:`ErrorCode`), ``info``, ``pc``,
    ``word``."""

    def __init__(self, message, *, code, info, pc, word):
        super().__init__(message)
        self.code, self.info, self.pc, self.word = code, info, pc, word


def _words(program):
    words = []
    for index, word in enumerate(program):
        if isinstance(word, bool) or not isinstance(word, int) or not 0 <= word < 1 << WORD_BITS:
            raise ValueError(f"program word {index} is not a {WORD_BITS}-bit integer: {word!r}")
        words.append(word)
    return words


def program_writes(program, *, depth, start=0):
    """The register writes that load ``program`` (instruction words) at index ``start`` and set
    ``PROGRAM_LEN``.

    Raises
    ------
    ProgramTooLarge
        When ``start + len(program)`` exceeds ``depth`` (the ``IBUF_DEPTH`` register); nothing
        is written.
    ValueError
        For an empty program or a word that is not a 128-bit integer.
    """
    words = _words(program)
    if not words:
        raise ValueError("the program is empty (it needs at least END)")
    if start + len(words) > depth:
        raise ProgramTooLarge(
            f"the program has {len(words)} instructions but the instruction buffer holds "
            f"{depth} (IBUF_DEPTH){f' from index {start}' if start else ''}: "
            f"{start + len(words) - depth} too many; build the bitstream with a larger "
            f"ibuf_depth or split the program")
    writes = [(REGMAP["IBUF_ADDR"].offset, start)]
    for word in words:
        writes += [(REGMAP[f"IBUF_DATA{i}"].offset, word >> (32 * i) & 0xFFFFFFFF)
                   for i in range(4)]
    writes.append((REGMAP["PROGRAM_LEN"].offset, start + len(words)))
    return writes


def config_writes(**values):
    """Writes of the system configuration: keyword arguments named after the registers
    (``core_id``, ``core_count``, ``layer_count``, ``prompt_len``, ``new_tokens``,
    ``watchdog``; ``hbm_base``, ``hbm_size``, ``ddr_base``, ``ddr_size`` as 64-bit values).

    Raises
    ------
    ValueError
        An unknown name or a value that does not fit its register.
    """
    writes = []
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
        upper = name.upper()
        if upper in _CONFIG:
            if value >= 1 << 32:
                raise ValueError(f"{name} = {value} does not fit 32 bits")
            writes.append((REGMAP[upper].offset, value))
        elif upper in ("HBM_BASE", "HBM_SIZE", "DDR_BASE", "DDR_SIZE"):
            if value >= 1 << 64:
                raise ValueError(f"{name} = {value} does not fit 64 bits")
            writes += [(REGMAP[f"{upper}_LO"].offset, value & 0xFFFFFFFF),
                       (REGMAP[f"{upper}_HI"].offset, value >> 32)]
        else:
            raise ValueError(f"unknown configuration {name!r}; known: "
                             f"{', '.join(n.lower() for n in _CONFIG)}, hbm_base, hbm_size, "
                             "ddr_base, ddr_size")
    return writes


def check_identity(id_value, version):
    """Refuse a core whose ``ID``/``VERSION`` registers are not this register map's.

    Raises
    ------
    BitstreamMismatch
        With both versions in the message.
    """
    if id_value != ID_VALUE:
        raise BitstreamMismatch(f"no DFX core at the register port: ID reads {id_value:#010x}, "
                                f"expected {ID_VALUE:#010x}")
    major, minor = version >> 16, version & 0xFFFF
    if major != VERSION_MAJOR or minor < VERSION_MINOR:
        raise BitstreamMismatch(
            f"the bitstream's register map is version {major}.{minor}; this host needs "
            f"{VERSION_MAJOR}.{VERSION_MINOR} or a later minor version: rebuild the bitstream")


def decode_status(value):
    """``STATUS`` as a dict of its fields (``idle``, ``running``, ``done``, ``error``)."""
    reg = REGMAP["STATUS"]
    return {f.name.lower(): bool(value >> f.lsb & 1) for f in reg.fields}


def error_of(code, info, pc, word_parts):
    """The :class:`CoreError` for the error registers read back (``word_parts``: ERR_WORD0..3),
    or ``None`` when ``code`` is 0. The message names the code, its detail, the pc and the
    instruction (disassembled when the word is legal)."""
    if code == 0:
        return None
    try:
        error = ErrorCode(code)
        text = MESSAGES[error].format(info=info)
    except ValueError:
        error, text = None, f"unknown error code {code:#04x} (info {info:#x})"
    word = sum(part << (32 * i) for i, part in enumerate(word_parts))
    try:
        shown = str(decode(word))
    except ValueError:
        shown = f"word {word:#034x}"
    name = error.name if error is not None else f"{code:#04x}"
    return CoreError(f"core stopped at pc {pc} ({shown}): {name}: {text}", code=error,
                     info=info, pc=pc, word=word)
