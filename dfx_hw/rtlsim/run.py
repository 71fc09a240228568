"""Generation on the simulated RTL: what the host does, through the register map and the memory
images (:class:`~.sim.CoreSim`), for a compiled model.

1. every core: check ``ID``/``VERSION``; write the configuration (core id and count, layers,
   prompt and token counts, the HBM and DDR windows, the watchdog); load the program through
   the instruction-buffer registers; put the HBM image (split over the ports by
   :mod:`dfx_hw.spec.hbm_map`) and the DDR image (with the prompt's token ids) in memory;
2. ``CONTROL.START`` on every core;
3. run, reading the token buffer of core 0 as the cores store tokens, until every core is done
   or one stops on an error (raised as :class:`dfx_hw.control.loader.CoreError` with the
   decoded message).
"""

from dataclasses import dataclass, field

import numpy as np

from ..control.loader import (check_identity, config_writes, decode_status, error_of,
                              program_writes)
from ..isa.encoding import encode_program
from ..spec import hbm_map
from ..spec.regmap import REGMAP

__all__ = ["RtlRun", "geometry_of"]

#: Clocks simulated between two looks at the token buffer.
POLL_CLOCKS = 2000


def geometry_of(config):
    """The :class:`~dfx_hw.geometry.TileGeometry` a core of ``config`` runs programs of."""
    from ..geometry import TileGeometry
    return TileGeometry(d=config.d, l=config.l, vpu_lanes=config.l,
                        hbm_channels=config.hbm_channels, hbm_port_bits=config.hbm_data_bits)


@dataclass
class RtlResult:
    tokens: list
    logits: object
    clocks: int
    token_clocks: list = field(default_factory=list)


class RtlRun:
    """One generation of ``model`` (a :class:`~dfx_hw.compiler.CompiledModel` compiled for
    :func:`geometry_of` the simulation's config) on ``sim``'s cores."""

    def __init__(self, sim, model, prompt, n_new, *, watchdog=0, programs=None, hbm_size=None):
        if model.n_cores != sim.cores:
            raise ValueError(f"the model is compiled for {model.n_cores} cores, the simulation "
                             f"has {sim.cores}")
        self.sim, self.model = sim, model
        self.prompt = [int(t) for t in prompt]
        self.n_new = int(n_new)
        if programs is None:
            programs = [encode_program(p) for p in
                        model.programs(n_prompt=len(self.prompt), n_new=self.n_new)]
        geometry = model.geometry
        for core, (compiled, program) in enumerate(zip(model.cores, programs)):
            check_identity(sim.read_reg(core, REGMAP["ID"].offset),
                           sim.read_reg(core, REGMAP["VERSION"].offset))
            depth = sim.read_reg(core, REGMAP["IBUF_DEPTH"].offset)
            hbm_bytes = 2 * compiled.hbm.size if hbm_size is None else hbm_size
            ddr = compiled.ddr.copy()
            tokens_at = compiled.memmap.ddr["tokens"].addr
            slots = ddr.view(np.uint16)[tokens_at:]
            slots[:len(self.prompt)] = self.prompt
            slots[len(self.prompt):len(self.prompt) + self.n_new] = _EMPTY   # not yet stored
            writes = config_writes(
                core_id=core, core_count=model.n_cores, layer_count=model.config.n_layer,
                prompt_len=len(self.prompt), new_tokens=self.n_new, watchdog=watchdog,
                hbm_base=0, hbm_size=hbm_bytes, ddr_base=0, ddr_size=2 * ddr.size)
            writes += program_writes(list(program), depth=depth)
            for offset, value in writes:
                if sim.write_reg(core, offset, value):
                    raise OSError(f"core {core}: register write {offset:#x} = {value:#x} "
                                  f"refused")
            for port, image in enumerate(hbm_map.split_image(geometry, compiled.hbm)):
                sim.write_memory(core, port, 0, image.tobytes())
            sim.write_memory(core, sim.ddr_port, 0,
                             np.ascontiguousarray(ddr).view(np.uint8).tobytes())
        self._tokens_at = model.cores[0].memmap.ddr["tokens"].addr + len(self.prompt)
        self._start_clock = None

    def _read_tokens(self, count):
        raw = self.sim.read_memory(0, self.sim.ddr_port, 2 * self._tokens_at, 2 * count)
        return [int(t) for t in np.frombuffer(raw, "<u2")]

    def check_errors(self):
        """Raise the :class:`CoreError` of the first core whose STATUS says ERROR."""
        sim = self.sim
        for core in range(sim.cores):
            status = decode_status(sim.read_reg(core, REGMAP["STATUS"].offset))
            if status["error"]:
                error = error_of(sim.read_reg(core, REGMAP["ERR_CODE"].offset),
                                 sim.read_reg(core, REGMAP["ERR_INFO"].offset),
                                 sim.read_reg(core, REGMAP["ERR_PC"].offset),
                                 [sim.read_reg(core, REGMAP[f"ERR_WORD{i}"].offset)
                                  for i in range(4)])
                error.args = (f"core {core}: {error.args[0]}",)
                error.core = core
                raise error

    def start(self, cores=None):
        """``CONTROL.START`` on ``cores`` (default: every core)."""
        sim = self.sim
        start_field = REGMAP["CONTROL"].field("START").lsb
        for core in (range(sim.cores) if cores is None else cores):
            sim.write_reg(core, REGMAP["CONTROL"].offset, 1 << start_field)
        self._start_clock = sim.clocks

    def tokens(self, *, max_clocks=None, start=True):
        """Generator of ``(token, clock)`` as the cores store them (clocks from START); raises a
        :class:`CoreError` when a core stops on an error and ``TimeoutError`` past
        ``max_clocks``. ``start=False``: the cores were started already (:meth:`start`)."""
        sim = self.sim
        if start:
            self.start()
        first_clock = self._start_clock
        seen = 0
        while True:
            ran = sim.run(POLL_CLOCKS, min_clocks=1)
            tokens = self._read_tokens(self.n_new)
            while seen < self._written(tokens):
                yield tokens[seen], sim.clocks - first_clock
                seen += 1
            if ran < POLL_CLOCKS:            # no core is running: done or stopped
                self.check_errors()
                if seen < self.n_new:
                    raise RuntimeError(f"the cores stopped after {seen} of {self.n_new} tokens "
                                       f"without an error")
                return
            if max_clocks is not None and sim.clocks - first_clock > max_clocks:
                self.check_errors()
                raise TimeoutError(f"no end after {max_clocks} clocks ({seen} of {self.n_new} "
                                   f"tokens)")

    def stored_tokens(self):
        """The new tokens in core 0's token buffer so far."""
        tokens = self._read_tokens(self.n_new)
        return tokens[:self._written(tokens)]

    def _written(self, tokens):
        """Tokens stored so far: the compiled image fills the slots with 0xFFFF (never a token
        id of a vocabulary below 65,535)."""
        count = 0
        for token in tokens:
            if token == _EMPTY:
                break
            count += 1
        return count

    def logits(self):
        """The captured logits (``capture_logits`` models), as the ISA simulator returns them."""
        model = self.model
        vocab = model.config.vocab_size
        first = len(self.prompt) - 1
        out = np.zeros((self.n_new, vocab), np.float16)
        for core, compiled in enumerate(model.cores):
            base = compiled.memmap.ddr["logits"].addr
            start, stop = compiled.memmap.slices.vocab
            for i in range(self.n_new):
                row = base + (first + i) * vocab
                raw = self.sim.read_memory(core, self.sim.ddr_port, 2 * (row + start),
                                           2 * (stop - start))
                out[i, start:stop] = np.frombuffer(raw, "<f2")
        return out


_EMPTY = 0xFFFF
