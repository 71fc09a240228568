"""One generation of a compiled model on an :class:`~.appliance.Appliance` (or one
:class:`~.device.Device`): the host's whole part, through the register map and the memories,
the same for every backend.

1. every card, in ring order: check ``ID``/``VERSION`` (:class:`BitstreamMismatch` for an old
   bitstream); check that the images fit the card (:class:`ModelTooLarge`); write the
   configuration (core id = ring position, core count = ring length, layers, prompt and token
   counts, the HBM and DDR windows, the watchdog) and read it back; load the program through
   the instruction-buffer registers; write the HBM image (split over the ports by
   :mod:`dfx_hw.spec.hbm_map`) and the DDR image (with the prompt's token ids, the new-token
   slots 0xFFFF = not yet stored);
2. ``CONTROL.START`` on every card;
3. poll: let time pass, read every card's ``STATUS`` and card 0's token slots and
   ``PERF_CYCLES``, yield each new token with the clock it was seen at, until no card runs;
   then raise the first card's :class:`CoreError` (decoded, naming the card and its ring
   position) or, past ``max_clocks``/``timeout``, a :class:`DeviceTimeout`.
"""

import time

import numpy as np

from ..control.loader import config_writes, program_writes
from ..isa.encoding import encode_program
from ..spec import hbm_map
from .appliance import Appliance
from .device import DDR, Device, DeviceError, DeviceTimeout, ModelTooLarge

__all__ = ["Generation", "geometry_of", "latency_stats"]

_EMPTY = 0xFFFF
_READ_BACK = ("CORE_ID", "CORE_COUNT", "LAYER_COUNT", "PROMPT_LEN", "NEW_TOKENS")


def geometry_of(config):
    """The :class:`~dfx_hw.geometry.TileGeometry` a core of ``config`` (a
    :class:`~dfx_hw.core.config.CoreConfig`) runs programs of."""
    from ..geometry import TileGeometry
    return TileGeometry(d=config.d, l=config.l, vpu_lanes=config.l,
                        hbm_channels=config.hbm_channels, hbm_port_bits=config.hbm_data_bits)


def latency_stats(clocks):
    """Per-token latency from the clocks (from START) each token was seen at: ``{"mean",
    "p50", "p99"}`` of the gaps between consecutive tokens (the first token's gap is from
    START, so it includes the prompt)."""
    if not clocks:
        return {}
    gaps = np.diff(np.asarray([0] + list(clocks), dtype=np.float64))
    return {"mean": float(gaps.mean()), "p50": float(np.percentile(gaps, 50)),
            "p99": float(np.percentile(gaps, 99))}


class Generation:
    """One generation of ``model`` (a :class:`~dfx_hw.compiler.CompiledModel` compiled for the
    cards' geometry and ``len(ring)`` cores) on ``ring``; loading happens here.

    Parameters
    ----------
    ring : Appliance or Device
    model, prompt, n_new
        The compiled model, the prompt's token ids, the tokens to generate.
    watchdog : int
        ``WATCHDOG`` register (0: none).
    programs : list of lists of 128-bit words, optional
        Programs to load instead of the model's (tests of error paths).
    hbm_size : int, optional
        ``HBM_SIZE`` window register instead of the image's size (tests of error paths).
    """

    def __init__(self, ring, model, prompt, n_new, *, watchdog=0, programs=None, hbm_size=None):
        if isinstance(ring, Device):
            ring = Appliance([ring])
        if not isinstance(ring, Appliance):
            raise TypeError(f"ring must be an Appliance or a Device, not {type(ring).__name__}")
        if model.n_cores != len(ring):
            raise ValueError(f"the model is compiled for {model.n_cores} cores, the ring has "
                             f"{len(ring)} cards")
        self.ring, self.model = ring, model
        self.prompt = [int(t) for t in prompt]
        self.n_new = int(n_new)
        self.token_clocks, self.token_seconds = [], []
        if programs is None:
            programs = [encode_program(p) for p in
                        model.programs(n_prompt=len(self.prompt), n_new=self.n_new)]
        images = [self._images(position, device, compiled)
                  for position, (device, compiled) in enumerate(zip(ring, model.cores))]
        for position, (device, compiled, program, (hbm, ddr)) in enumerate(
                zip(ring, model.cores, programs, images)):
            depth = device.reg("IBUF_DEPTH")
            hbm_bytes = 2 * compiled.hbm.size if hbm_size is None else hbm_size
            values = dict(core_id=position, core_count=len(ring),
                          layer_count=model.config.n_layer, prompt_len=len(self.prompt),
                          new_tokens=self.n_new, watchdog=watchdog)
            writes = config_writes(**values, hbm_base=0, hbm_size=hbm_bytes, ddr_base=0,
                                   ddr_size=len(ddr))
            writes += program_writes(list(program), depth=depth)
            for offset, value in writes:
                device.write_reg(offset, value)
            for name in _READ_BACK:
                got = device.reg(name)
                if got != values[name.lower()]:
                    raise DeviceError(
                        f"{device.name} (ring position {position}): {name} reads {got} after "
                        f"writing {values[name.lower()]}: is the core running (CLEAR it) or "
                        f"is the register port broken?")
            for port, image in enumerate(hbm):
                device.write_memory(port, 0, image)
            device.write_memory(DDR, 0, ddr)
        self._tokens_at = model.cores[0].memmap.ddr["tokens"].addr + len(self.prompt)
        self._started = None

    def _images(self, position, device, compiled):
        """Check the card (identity, sizes) and make its images: (HBM port images, DDR)."""
        device.check_identity()
        geometry = self.model.geometry
        if device.hbm_ports != geometry.hbm_channels:
            raise ModelTooLarge(
                f"{device.name}: the model is compiled for {geometry.hbm_channels} HBM ports, "
                f"the card has {device.hbm_ports}")
        hbm = [image.tobytes() for image in hbm_map.split_image(geometry, compiled.hbm)]
        need = max(len(image) for image in hbm)
        if need > device.hbm_port_bytes:
            raise ModelTooLarge(
                f"{device.name} (ring position {position}): the model does not fit the card's "
                f"HBM: its slice needs {need:,} bytes per HBM port ({2 * compiled.hbm.size:,} "
                f"in all), the card has {device.hbm_port_bytes:,} per port "
                f"({device.hbm_ports} ports); use more cards (--cores) or a smaller model")
        ddr = compiled.ddr.copy()
        slots = ddr.view(np.uint16)[compiled.memmap.ddr["tokens"].addr:]
        slots[:len(self.prompt)] = self.prompt
        slots[len(self.prompt):len(self.prompt) + self.n_new] = _EMPTY
        ddr = np.ascontiguousarray(ddr).view(np.uint8).tobytes()
        if len(ddr) > device.ddr_bytes:
            raise ModelTooLarge(
                f"{device.name} (ring position {position}): the DDR image needs {len(ddr):,} "
                f"bytes, the card has {device.ddr_bytes:,}")
        return hbm, ddr

    # ---- running ------------------------------------------------------------------------------
    def start(self, cores=None):
        """``CONTROL.START`` on the cards at ring positions ``cores`` (default: all)."""
        for position in (range(len(self.ring)) if cores is None else cores):
            self.ring[position].start()
        self._started = time.perf_counter()

    def check_errors(self):
        """Raise the :class:`CoreError` of the first card whose STATUS says ERROR (its
        ``core`` attribute is the ring position)."""
        for position, device in enumerate(self.ring):
            if device.status()["error"]:
                error = device.error()
                if error is None:
                    continue
                hint = ""
                if error.code is not None and error.code.name.startswith("LINK"):
                    hint = (" (check the cabling: ring position "
                            f"{position}'s QSFP0 goes to position "
                            f"{(position + 1) % len(self.ring)}'s QSFP1, and that every card "
                            "of the ring was started)")
                error.args = (f"core {position} ({self.ring[position].name}): "
                              f"{error.args[0]}{hint}",)
                error.core = position
                raise error

    def tokens(self, *, max_clocks=None, timeout=None, start=True):
        """Generator of ``(token, clock)`` as the cards store them (``clock``: card 0's
        ``PERF_CYCLES`` when the token was seen). Raises the :class:`CoreError` of a card that
        stops on an error, and :class:`DeviceTimeout` past ``max_clocks`` (clocks of the
        longest-running card) or ``timeout`` seconds. ``start=False``: the cards were started
        already (:meth:`start`)."""
        if start:
            self.start()
        lead = self.ring[0]
        seen = 0
        self.token_clocks, self.token_seconds = [], []
        while True:
            self.ring.advance()
            running = [device.status()["running"] for device in self.ring]
            tokens = self._read_tokens(self.n_new)
            clock = lead.counter("CYCLES")
            now = time.perf_counter() - (self._started or 0.0)
            while seen < self._written(tokens):
                self.token_clocks.append(clock)
                self.token_seconds.append(now)
                yield tokens[seen], clock
                seen += 1
            if not any(running):                  # done or stopped
                self.check_errors()
                if seen < self.n_new:
                    raise DeviceError(f"the cards stopped after {seen} of {self.n_new} tokens "
                                      f"without an error")
                return
            if max_clocks is not None:
                longest = max(device.counter("CYCLES")
                              for device, run in zip(self.ring, running) if run)
                if longest > max_clocks:
                    self._timeout(f"{max_clocks:,} clocks", seen, running)
            if timeout is not None and now > timeout:
                self._timeout(f"{timeout} s", seen, running)

    def _timeout(self, limit, seen, running):
        self.check_errors()
        waiting = ", ".join(f"{device.name} (pc {device.reg('PC')})"
                            for device, run in zip(self.ring, running) if run)
        raise DeviceTimeout(f"no DONE after {limit}: {seen} of {self.n_new} tokens; still "
                            f"running: {waiting}")

    def _read_tokens(self, count):
        raw = self.ring[0].read_memory(DDR, 2 * self._tokens_at, 2 * count)
        return [int(t) for t in np.frombuffer(raw, "<u2")]

    @staticmethod
    def _written(tokens):
        """Tokens stored so far: the slots hold 0xFFFF until stored (never a token id of a
        vocabulary below 65,535)."""
        count = 0
        for token in tokens:
            if token == _EMPTY:
                break
            count += 1
        return count

    def stored_tokens(self):
        """The new tokens in card 0's token buffer so far."""
        tokens = self._read_tokens(self.n_new)
        return tokens[:self._written(tokens)]

    def logits(self):
        """The captured logits (``capture_logits`` models), as the ISA simulator returns them."""
        model = self.model
        vocab = model.config.vocab_size
        first = len(self.prompt) - 1
        out = np.zeros((self.n_new, vocab), np.float16)
        for device, compiled in zip(self.ring, model.cores):
            base = compiled.memmap.ddr["logits"].addr
            start, stop = compiled.memmap.slices.vocab
            for i in range(self.n_new):
                row = base + (first + i) * vocab
                raw = device.read_memory(DDR, 2 * (row + start), 2 * (stop - start))
                out[i, start:stop] = np.frombuffer(raw, "<f2")
        return out
