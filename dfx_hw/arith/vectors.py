"""Test stimulus for the FP16 units: the corner set and random operand pairs (bit patterns)."""

import itertools

import numpy as np

from .format import INF, QNAN

__all__ = ["CORNER_VALUES", "corner_pairs", "random_pairs"]

_MAGNITUDES = [
    0x0000,                  # zero
    0x0001, 0x0002, 0x0003,  # smallest subnormals
    0x01FF, 0x0200,
    0x03FF,                  # largest subnormal
    0x0400, 0x0401,          # smallest normals
    0x07FF, 0x0800,
    0x0C00, 0x1000,          # 2**-12, 2**-11: half an ulp of 0.5 and 1 (rounding ties)
    0x1001, 0x0FFF,
    0x3555,                  # 1/3
    0x37FF, 0x3800,          # 0.5
    0x3BFF, 0x3C00, 0x3C01,  # around 1
    0x3C02, 0x3C03,
    0x3E00,                  # 1.5
    0x4000, 0x4001,          # 2
    0x5BFF, 0x5C00,          # 256
    0x7800, 0x7A00,
    0x7BFE, 0x7BFF,          # largest normals
    INF,
    QNAN, 0x7C01, 0x7FFF,    # NaNs (quiet, signalling, all ones)
]

#: Every corner magnitude with both signs (``uint16``).
CORNER_VALUES = np.array(sorted({s | v for v in _MAGNITUDES for s in (0, 0x8000)}),
                         dtype=np.uint16)


def corner_pairs():
    """All ordered pairs of :data:`CORNER_VALUES`: ``(a, b)`` ``uint16`` arrays."""
    pairs = np.array(list(itertools.product(CORNER_VALUES, repeat=2)), dtype=np.uint16)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def random_pairs(count, *, seed, near_share=0.25):
    """``count`` random operand pairs ``(a, b)`` as ``uint16`` arrays.

    A share ``1 - near_share`` are uniformly random bit patterns; the rest have near-equal
    magnitudes (``b``'s magnitude within 8 ulps of ``a``'s, random signs) so that additions
    and subtractions cancel.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 16, size=count, dtype=np.uint32)
    b = rng.integers(0, 1 << 16, size=count, dtype=np.uint32)
    near = rng.random(count) < near_share
    magnitude = np.clip((a & 0x7FFF).astype(np.int64) + rng.integers(-8, 9, size=count),
                        0, 0x7FFF)
    b = np.where(near, magnitude | (b & 0x8000), b)
    return a.astype(np.uint16), b.astype(np.uint16)
