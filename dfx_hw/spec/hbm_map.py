"""The HBM memory map: where each byte of a core's flat HBM image lives in the HBM channels.

The compiler, the ISA simulator and the instruction set see HBM as one flat array of FP16
elements (``hbm`` addresses count tiles of ``d * l`` elements). The hardware has
``n = hbm_channels`` AXI ports of ``B = hbm_port_bits / 8`` bytes per beat. The DMA, the host
loader and the benches map the flat image onto the channels with this one rule:

* flat byte ``F`` (= ``window_base + 2 * element``) is in flat *beat* ``g = F // B``;
* beat ``g`` lives in channel ``c = g % n`` at channel byte address ``(g // n) * B + F % B``.

So consecutive beats go round-robin over the channels: a *row* of ``n`` beats (``n * B`` bytes)
holds one beat of every channel at the same channel address. At the U280 build
(``d * l * 2 = 2048`` bytes per tile, 32 channels x 64 bytes) a tile is exactly one row: tile
``t`` is beat ``t`` of every channel, and streaming tiles ``t0 .. t0 + T - 1`` reads the same
contiguous address range ``[t0 * 64, (t0 + T) * 64)`` from every channel at once, one tile per
clock. When a tile is ``m`` rows (fewer channels or a smaller beat), tile ``t`` is channel beats
``t * m .. t * m + m - 1`` of every channel. The rule is defined for any geometry; the DMA
hardware needs ``n`` and ``B`` to be powers of two and a tile to be a whole number of rows
(:func:`rows_per_tile`).

Images in memory are little-endian: element ``e`` of the flat image is bytes ``2e, 2e + 1``.
"""

import numpy as np

__all__ = ["beat_bytes", "row_bytes", "rows_per_tile", "locate", "split_image", "join_image"]


def beat_bytes(geometry):
    """Bytes per beat of one HBM port."""
    if geometry.hbm_port_bits % 8:
        raise ValueError(f"hbm_port_bits must be a multiple of 8, not {geometry.hbm_port_bits}")
    return geometry.hbm_port_bits // 8


def row_bytes(geometry):
    """Bytes of one row (one beat of every channel)."""
    return geometry.hbm_channels * beat_bytes(geometry)


def rows_per_tile(geometry):
    """Rows per ``d x l`` FP16 tile (``m``), or ``None`` when a tile is not a whole number of
    rows (the map is still defined; the DMA's weight stream is not)."""
    tile = 2 * geometry.tile_elements
    rows, rest = divmod(tile, row_bytes(geometry))
    return rows if rows and not rest else None


def locate(geometry, flat_byte):
    """``(channel, channel_byte)`` of flat HBM byte ``flat_byte``."""
    if flat_byte < 0:
        raise ValueError(f"flat_byte must be >= 0, not {flat_byte}")
    b, n = beat_bytes(geometry), geometry.hbm_channels
    beat, offset = divmod(int(flat_byte), b)
    return beat % n, (beat // n) * b + offset


def _as_bytes(image):
    array = np.asarray(image)
    if array.dtype == np.float16 or array.dtype == np.uint16:
        return np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"))).view(np.uint8)
    if array.dtype == np.uint8:
        return array
    raise ValueError(f"an HBM image must be float16, uint16 or uint8, not {array.dtype}")


def split_image(geometry, image, *, base=0):
    """Split a flat HBM image placed at flat byte ``base`` into one byte image per channel.

    Parameters
    ----------
    geometry : TileGeometry
    image : 1-D float16 / uint16 (elements) or uint8 (bytes) array
        The flat image (e.g. :class:`dfx_hw.compiler.images` output), element 0 at ``base``.
    base : int
        Flat byte address of the image (the core's HBM window base); a multiple of
        :func:`row_bytes`.

    Returns
    -------
    list of numpy.ndarray (uint8)
        ``n`` channel images, all the same length; channel ``c``'s byte ``a`` is what the DMA
        reads at address ``a`` of HBM port ``c``. Bytes past the image are zero.
    """
    rb = row_bytes(geometry)
    if base < 0 or base % rb:
        raise ValueError(f"base must be a non-negative multiple of the {rb}-byte row, not {base}")
    data = _as_bytes(image).reshape(-1)
    rows = -(-(base + data.size) // rb)
    flat = np.zeros(rows * rb, np.uint8)
    flat[base:base + data.size] = data
    n, b = geometry.hbm_channels, beat_bytes(geometry)
    grid = flat.reshape(rows, n, b)
    return [np.ascontiguousarray(grid[:, c, :]).reshape(-1) for c in range(n)]


def join_image(geometry, channels, *, base=0, size=None):
    """Inverse of :func:`split_image`: the flat bytes (uint8) from ``base``, ``size`` bytes long
    (default: to the end of the channel images)."""
    n, b = geometry.hbm_channels, beat_bytes(geometry)
    if len(channels) != n:
        raise ValueError(f"expected {n} channel images, got {len(channels)}")
    arrays = [np.asarray(ch, np.uint8).reshape(-1) for ch in channels]
    length = arrays[0].size
    if any(a.size != length for a in arrays) or length % b:
        raise ValueError(f"channel images must have one length, a multiple of {b} bytes")
    flat = np.stack([a.reshape(-1, b) for a in arrays], axis=1).reshape(-1)
    stop = flat.size if size is None else base + size
    if base < 0 or stop > flat.size:
        raise ValueError(f"[{base}, {stop}) is outside the {flat.size}-byte channel images")
    return flat[base:stop]
