"""The HBM memory map (:mod:`dfx_hw.spec.hbm_map`): the striping rule, its inverse, and the
property the DMA's weight stream relies on (a tile is whole rows, the same address in every
channel)."""

import numpy as np
import pytest

from dfx_hw.geometry import U280, TileGeometry
from dfx_hw.spec.hbm_map import join_image, locate, row_bytes, rows_per_tile, split_image


@pytest.mark.parametrize("geometry", [
    U280,
    TileGeometry(d=16, l=8, vpu_lanes=4, hbm_channels=4, hbm_port_bits=512),
    TileGeometry(d=64, l=16, hbm_channels=4),              # 8 rows per tile
    TileGeometry(d=16, l=4, hbm_channels=3, hbm_port_bits=256),   # not a whole row: still mapped
], ids=["u280", "n4-one-row", "n4-eight-rows", "n3"])
def test_split_and_join_are_inverse_and_agree_with_locate(geometry):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 1 << 16, 3 * geometry.tile_elements + 5).astype(np.uint16)
    base = 2 * row_bytes(geometry)
    channels = split_image(geometry, image, base=base)
    assert len(channels) == geometry.hbm_channels
    flat = join_image(geometry, channels, base=base, size=2 * image.size)
    assert (flat.view("<u2") == image).all()
    raw = image.astype("<u2").view(np.uint8)
    for byte in rng.integers(0, raw.size, 200):
        channel, address = locate(geometry, base + int(byte))
        assert channels[channel][address] == raw[byte]


def test_u280_tile_is_one_beat_of_every_channel():
    """At the U280 build tile t is beat t of every channel: channel c holds bytes
    64c .. 64c + 63 of the tile (lanes 2c/2c+1 of d = 64 rows)."""
    assert rows_per_tile(U280) == 1
    tile_bytes = 2 * U280.tile_elements
    for t in (0, 1, 77):
        for c in (0, 5, 31):
            assert locate(U280, t * tile_bytes + 64 * c) == (c, 64 * t)
            assert locate(U280, t * tile_bytes + 64 * c + 63) == (c, 64 * t + 63)


def test_geometry_without_whole_rows_has_no_rows_per_tile():
    assert rows_per_tile(TileGeometry(d=16, l=4, hbm_channels=3, hbm_port_bits=256)) is None
    assert rows_per_tile(TileGeometry(d=64, l=16, hbm_channels=4)) == 8


def test_bad_arguments_are_refused():
    g = TileGeometry(d=16, l=8, vpu_lanes=4, hbm_channels=4, hbm_port_bits=512)
    with pytest.raises(ValueError, match="base must be a non-negative multiple of the 256-byte"):
        split_image(g, np.zeros(4, np.uint16), base=64)
    with pytest.raises(ValueError, match="an HBM image must be float16, uint16 or uint8"):
        split_image(g, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="expected 4 channel images, got 3"):
        join_image(g, [np.zeros(64, np.uint8)] * 3)
    with pytest.raises(ValueError, match="flat_byte must be >= 0"):
        locate(g, -1)
