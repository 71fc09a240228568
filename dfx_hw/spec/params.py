"""Validation of size parameters shared by the contracts and the units (one message format
everywhere)."""

__all__ = ["check_power_of_two", "check_positive"]


def check_power_of_two(name, value):
    """Return ``value`` if it is a positive power-of-two ``int``, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value & (value - 1):
        raise ValueError(f"{name} must be a positive power of two, not {value!r}")
    return value


def check_positive(name, value):
    """Return ``value`` if it is a positive ``int``, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return value
