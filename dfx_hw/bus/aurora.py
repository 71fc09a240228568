"""The ring link: the user interface of an AMD Aurora 64B/66B core (PG074), streaming mode.

:class:`AuroraLinkSignature` is the link as the *user logic* (the router) sees it, in the link's
``user_clk`` domain (25.78125 Gb/s / 66 = 390.625 MHz for the U280's 4 x 25.78125 Gb/s QSFP28
channel):

``tx`` (``Out(stream.Signature(data_bits))``)
    ``payload`` -> ``s_axi_tx_tdata``, ``valid`` -> ``s_axi_tx_tvalid``, ``ready`` <-
    ``s_axi_tx_tready``. The core takes a beat on a clock with ``valid & ready``; ``ready`` is
    low while the channel is down and during clock compensation.
``rx`` (``valid``, ``payload`` in)
    ``m_axi_rx_tvalid``, ``m_axi_rx_tdata``. **There is no ready**: a beat shown with ``valid``
    is gone on the next clock, so the receiver must always accept it (a FIFO plus flow control).
``channel_up``, ``lane_up`` (``lanes`` bits), ``hard_err``, ``soft_err`` (in)
    The core's status outputs, synchronous to ``user_clk``. ``channel_up`` rises after lane
    initialisation, channel bonding and the partner's ready; ``hard_err`` means the channel is
    being reset; ``soft_err`` pulses for an invalid block or sync header received.

Data width: 64 bits per Aurora lane (``data_bits = 64 * lanes``; 256 for the U280's 4 lanes =
100 Gb/s at 390.625 MHz). The streaming interface has no ``tlast``/``tkeep``: every beat is a
full ``data_bits`` word and framing is the user's (:mod:`dfx_hw.spec.ring`). Connect the vectors
positionally (``assign s_axi_tx_tdata = tx_payload;``): PG074 numbers the bits ``[0:64n-1]``
(bit 0 the most significant) unless "little endian" is chosen, and either way both ends of a
ring link are routers, so the link carries the word unchanged.
"""

from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["AuroraLinkSignature", "AuroraRxSignature", "AURORA_LANE_BITS"]

#: User data bits per Aurora 64B/66B lane.
AURORA_LANE_BITS = 64


class AuroraRxSignature(wiring.Signature):
    """The receive side of the streaming user interface, from the Aurora core's side: a beat
    (``payload``) and its ``valid``, no ready."""

    def __init__(self, data_bits):
        self._data_bits = data_bits
        super().__init__({"valid": Out(1), "payload": Out(data_bits)})

    @property
    def data_bits(self):
        return self._data_bits


class AuroraLinkSignature(wiring.Signature):
    """One full-duplex Aurora 64B/66B link from the user logic's side (``Out`` = driven by the
    user logic). All members are in the link's ``user_clk`` domain.

    Parameters
    ----------
    data_bits : int
        User data width, a positive multiple of 64 (one Aurora lane per 64 bits).
    """

    def __init__(self, *, data_bits):
        if isinstance(data_bits, bool) or not isinstance(data_bits, int) or data_bits < 1 \
                or data_bits % AURORA_LANE_BITS:
            raise ValueError(f"data_bits must be a positive multiple of {AURORA_LANE_BITS}, "
                             f"not {data_bits!r}")
        self._data_bits = data_bits
        super().__init__({
            "tx": Out(stream.Signature(data_bits)),
            "rx": In(AuroraRxSignature(data_bits)),
            "channel_up": In(1),
            "lane_up": In(self.lanes),
            "hard_err": In(1),
            "soft_err": In(1),
        })

    @property
    def data_bits(self):
        return self._data_bits

    @property
    def lanes(self):
        """Aurora lanes (``lane_up`` bits)."""
        return self._data_bits // AURORA_LANE_BITS

    def __eq__(self, other):
        return isinstance(other, AuroraLinkSignature) and other.data_bits == self.data_bits

    def __repr__(self):
        return f"AuroraLinkSignature(data_bits={self._data_bits})"
