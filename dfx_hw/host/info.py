"""What ``dfx info`` prints about a device: every readable register of the identification,
control, configuration and error groups, decoded field by field from the register map
(:mod:`dfx_hw.spec.regmap`), the decoded error, and the global performance counters."""

from ..control.loader import BitstreamMismatch, error_of
from ..spec.regmap import ID_VALUE, REGISTERS, VERSION_MAJOR, VERSION_MINOR

__all__ = ["describe"]

_GROUPS = ("id", "control", "config", "error", "ibuf")
_COUNTERS = ("CYCLES", "ISSUED", "STALL_DEP", "STALL_FULL", "STALL_END", "BUBBLE")


def _ascii(value):
    text = value.to_bytes(4, "big").decode("latin-1")
    return text if text.isprintable() else "?"


def describe(device):
    """``(lines, ok)``: the report of ``device`` and whether its identity is this host's."""
    lines = [f"device: {device.name} ({type(device).__name__})"]
    values = {}
    for reg in REGISTERS:
        if reg.group not in _GROUPS or not reg.readable:
            continue
        value = values[reg.name] = device.read_reg(reg.offset)
        text = f"{reg.name:<12} {value:#010x}"
        if reg.name == "ID":
            text += f' "{_ascii(value)}"'
        elif reg.fields:
            text += "  " + " ".join(
                f"{f.name}={value >> f.lsb & ((1 << f.width) - 1)}" for f in reg.fields)
        elif reg.group in ("config", "ibuf", "control") or reg.name in ("IBUF_DEPTH", "ERR_PC"):
            text += f"  ({value})"
        lines.append(text)
    ok = True
    try:
        device.check_identity()
        lines.append(f"identity: a DFX core, register map {values['VERSION'] >> 16}."
                     f"{values['VERSION'] & 0xFFFF} (this host: {VERSION_MAJOR}.{VERSION_MINOR})")
    except BitstreamMismatch as error:
        ok = False
        lines.append(f"identity: MISMATCH: {error}")
    if values.get("ID") == ID_VALUE:
        state = [f.name for f in next(r for r in REGISTERS if r.name == "STATUS").fields
                 if values["STATUS"] >> f.lsb & 1]
        lines.append(f"status: {' '.join(state) if state else 'none of IDLE/RUNNING/DONE/ERROR'}")
        error = error_of(values["ERR_CODE"], values["ERR_INFO"], values["ERR_PC"],
                         [values[f"ERR_WORD{i}"] for i in range(4)])
        lines.append(f"error: {error if error is not None else 'none'}")
        lines.append("counters: " + " ".join(f"{name}={device.counter(name)}"
                                             for name in _COUNTERS))
    return lines, ok
