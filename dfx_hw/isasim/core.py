"""One DFX core of the ISA simulator: registers, register files, images and instruction semantics.

Every arithmetic result comes from :mod:`dfx_hw.model.bittrue` (the simulator never computes an
FP16 value itself). Router instructions are not executed here: :meth:`Core.run` stops at them and
the :class:`~dfx_hw.isasim.ring.Ring` performs the all-gather.
"""

from collections import Counter

import numpy as np

from ..compiler.tiling import WEIGHT_BAND, row_offsets, tiled_size, unpack
from ..isa.encoding import IllegalInstruction, decode
from ..isa.layouts import InstrClass, Opcode, Register, Signature
from ..model.bittrue import functions, recipes, reduce
from ..model.bittrue.fp16 import from_bits, to_bits
from ..spec import costs
from ..spec.units import SELF_ORDERED, unit_of
from .errors import AddressError, IllegalInstructionError, RegisterFileOverflow, SimulationError
from .timing import Timeline

__all__ = ["Core"]

_TEXT_LIMIT = 200


class Core:
    """A DFX core.

    Parameters
    ----------
    core_id, cores : int
        This core's position in the ring and the ring size.
    words : sequence of int
        The program as instruction words (decoded here; an illegal word raises only when it is
        reached).
    hbm, ddr : float16 arrays
        The core's images (modified in place by stores).
    geometry : TileGeometry
    vrf_size, srf_size : int
        Register-file sizes in words.
    max_instructions : int or None
        Stop with an error after this many instructions (runaway-loop guard).
    trace : callable or None
        Called as ``trace(core_id, pc, instruction)`` before each instruction executes (router
        instructions included, when the ring performs them).
    """

    def __init__(self, *, core_id, cores, words, hbm, ddr, geometry, vrf_size, srf_size,
                 max_instructions=None, trace=None):
        self.core_id, self.cores = core_id, cores
        self.max_instructions = max_instructions
        self.trace = trace
        self.executed = 0
        self.geometry = geometry
        self.hbm, self.ddr = hbm, ddr
        self.ddr_u16 = ddr.view(np.uint16)
        self.vrf = np.zeros(vrf_size, np.float16)
        self.srf = np.zeros(srf_size, np.int64)
        self.regs = {reg: 0 for reg in Register}
        self.program = []
        for word in words:
            try:
                self.program.append(decode(int(word)))
            except IllegalInstruction as error:
                self.program.append(error)
        self.pc = 0
        self.done = False
        self.counts = Counter()
        self.cycles = 0              # serial estimate (spec/costs.py)
        self.timeline = Timeline(self_ordered=SELF_ORDERED)  # overlapped (timing.py)
        #: The matrix sequencer's kept input ``(vsrc, k)``: the last CONV1D's input vector,
        #: which a CONV1D of the same vector takes without a STORE through the vector unit
        #: until a word of it is written (``core/matrix_path.py``); timing only.
        self.kept_input = None
        self._unit = None
        self.token_marks = []        # (counts copy, serial, overlapped clocks) per token store
        self._weights = {}           # decoded weight matrices: (addr, k, n) -> array
        self._tap = None             # (vdst, n) of a CONV1D with `argmax` just executed
        self._dispatch = {
            Opcode.END: self._end, Opcode.SETR: self._setr, Opcode.LOOP: self._loop,
            Opcode.SETS: self._sets, Opcode.CONV1D: self._conv1d,
            Opcode.MASKEDMM: self._maskedmm, Opcode.MM: self._mm, Opcode.ARGMAX: self._argmax,
            Opcode.ARGMAXP: self._argmaxp, Opcode.LDD: self._ldd, Opcode.STD: self._std,
            Opcode.LDTOK: self._ldtok, Opcode.STTOK: self._sttok, Opcode.STH: self._sth,
            Opcode.STHT: self._stht,
        }

    # -- errors ---------------------------------------------------------------------------------
    def text(self, pc=None):
        pc = self.pc if pc is None else pc
        item = self.program[pc]
        return str(item)[:_TEXT_LIMIT] if not isinstance(item, Exception) else None

    def error(self, cls, message):
        return cls(message, core=self.core_id, pc=self.pc, text=self.text())

    # -- fetch ----------------------------------------------------------------------------------
    def current(self):
        """The instruction at the program counter (raises for an illegal word or a pc past the
        end)."""
        if not 0 <= self.pc < len(self.program):
            raise SimulationError(f"program counter {self.pc} is outside the program "
                                  f"({len(self.program)} instructions; missing END?)",
                                  core=self.core_id, pc=self.pc)
        item = self.program[self.pc]
        if isinstance(item, Exception):
            raise IllegalInstructionError(str(item), core=self.core_id, pc=self.pc)
        return item

    def run(self):
        """Execute until END or a router instruction (returned, not executed).

        Raises
        ------
        SimulationError
            When :attr:`max_instructions` (if set) is exceeded: a runaway loop.
        """
        while not self.done:
            instr = self.current()
            if instr.info.cls is InstrClass.ROUTER:
                return instr
            self.executed += 1
            if self.max_instructions is not None and self.executed > self.max_instructions:
                raise self.error(SimulationError,
                                 f"more than {self.max_instructions} instructions executed "
                                 f"(a runaway loop?)")
            if self.trace is not None:
                self.trace(self.core_id, self.pc, instr)
            self._unit = unit_of(instr) or instr.info.cls  # SETS: the vector unit
            self.counts[instr.info.cls.name.lower()] += 1
            if instr.info.cls is InstrClass.VECTOR:
                self._vector(instr)
            else:
                self._dispatch[instr.op](instr)
            if not self.done and instr.op is not Opcode.LOOP:
                self.pc += 1
        return None

    # -- register files and images ---------------------------------------------------------------
    def vslice(self, addr, length):
        if addr + length > self.vrf.size:
            raise self.error(RegisterFileOverflow,
                             f"vector register-file access [{addr}, {addr + length}) exceeds its "
                             f"{self.vrf.size} words")
        return slice(addr, addr + length)

    def sreg(self, index, count=1):
        if index + count > self.srf.size:
            raise self.error(RegisterFileOverflow,
                             f"scalar register s{index + count - 1} exceeds the {self.srf.size} "
                             f"scalar registers")
        return index

    def sfp(self, index):
        return from_bits(np.uint16(self.srf[self.sreg(index)]))

    def set_sfp(self, index, value):
        self.srf[self.sreg(index)] = int(to_bits(np.float16(value)))

    def _range(self, image, name, start, length):
        if start < 0 or start + length > image.size:
            raise self.error(AddressError,
                             f"{name} access [{start}, {start + length}) is outside the "
                             f"{image.size}-element {name} image")
        return slice(start, start + length)

    def ddr_addr(self, instr):
        addr = instr["ddr"]
        if "layer" in instr.flags:
            addr += self.regs[Register.LAYER] * self.regs[Register.DDR_STRIDE]
        if "token" in instr.flags:
            addr += self.regs[Register.TOKEN] * instr.fields.get("stride", 1)
        if "index" in instr.flags:
            addr += int(self.srf[self.sreg(instr["ssrc"])]) * instr["stride"]
        return addr

    def hbm_addr(self, instr):
        addr = instr["hbm"] * self.geometry.tile_elements
        if "layer" in instr.flags:
            addr += self.regs[Register.LAYER] * self.regs[Register.HBM_STRIDE]
        return addr

    def tokened(self, instr, value):
        return value + self.regs[Register.TOKEN] if "token" in instr.flags else value

    # -- control --------------------------------------------------------------------------------
    def _cost(self, occupancy, latency, reads=(), writes=()):
        """Account one instruction: serial clocks and the scoreboard timeline."""
        self.cycles += occupancy + latency
        self.timeline.account(self._unit, occupancy, latency, reads, writes)
        self.forget_kept(writes)

    def forget_kept(self, writes):
        """Drop the kept CONV1D input when ``writes`` touch a register-file word of it (the
        RTL watches the VPU's write port word by word)."""
        if self.kept_input is None:
            return
        lanes = self.geometry.vpu_lanes
        vsrc, k = self.kept_input
        low, high = vsrc // lanes, (vsrc + k - 1) // lanes
        for item in writes:
            if item[0] == "vrf" and item[2] > item[1] and item[1] // lanes <= high \
                    and (item[2] - 1) // lanes >= low:
                self.kept_input = None
                return

    @staticmethod
    def _v(addr, length):
        return ("vrf", addr, addr + length)

    @staticmethod
    def _s(*regs):
        return tuple(("srf", r) for r in regs)

    def _end(self, instr):
        self.done = True
        self._cost(costs.CONTROL_CYCLES, 0)

    def _setr(self, instr):
        self.regs[instr["reg"]] = instr["imm32"]
        self._cost(costs.CONTROL_CYCLES, 0)

    def _loop(self, instr):
        reg = instr["reg"]
        self.regs[reg] += 1
        self.pc = instr["target"] if self.regs[reg] < instr["limit"] else self.pc + 1
        self._cost(costs.CONTROL_CYCLES, 0)

    def _sets(self, instr):
        self.srf[self.sreg(instr["sdst"])] = instr["imm16"]
        self._cost(costs.CONTROL_CYCLES, 0, writes=self._s(instr["sdst"]))

    # -- matrix unit ----------------------------------------------------------------------------
    def _matrix_cost(self, k, n, reads, writes, *, drain=costs.MATRIX_DRAIN, band=WEIGHT_BAND,
                     kept=False):
        """``band``: column tiles per band of the matrix in HBM (``None``: the whole width, as
        the caches are stored; one narrower than the accumulator gap stalls at row steps);
        ``kept``: the input is the kept one (no STORE through the vector unit)."""
        g = self.geometry
        row_tiles, col_tiles = -(-k // g.d), -(-n // g.l)
        tiles = costs.mpu_clocks(row_tiles, col_tiles,
                                 col_tiles if band is None else min(band, col_tiles))
        memory = tuple(item for item in reads if item[0] == "hbm")
        self.cycles += costs.MATRIX_START + costs.HBM_READ_LATENCY + tiles + drain
        width = col_tiles if band is None else min(band, col_tiles)
        self.timeline.account_matrix(self._unit, tiles, drain=drain, weight_reads=memory,
                                     reads=reads, writes=writes, vpu=InstrClass.VECTOR,
                                     x_words=0 if kept else -(-k // g.vpu_lanes),
                                     out_words=-(-n // g.vpu_lanes),
                                     first_band=costs.mpu_clocks(row_tiles, width, width))
        self.forget_kept(writes)

    def _weight(self, addr, k, n):
        key = (addr, k, n)
        matrix = self._weights.get(key)
        if matrix is None:
            g = self.geometry
            region = self.hbm[self._range(self.hbm, "HBM", addr, tiled_size(k, n, g.d, g.l))]
            matrix = np.ascontiguousarray(unpack(region, k, n, d=g.d, l=g.l, band=WEIGHT_BAND))
            self._weights[key] = matrix
        return matrix

    def _invalidate(self, start, stop):
        if self._weights:
            g = self.geometry
            for key in [key for key in self._weights
                        if key[0] < stop and start < key[0] + tiled_size(key[1], key[2], g.d, g.l)]:
                del self._weights[key]

    def _conv1d(self, instr):
        k, n = instr["k"], instr["n"]
        x = self.vrf[self.vslice(instr["vsrc"], k)]
        w = self._weight(self.hbm_addr(instr), k, n)
        bias = None
        if "nobias" not in instr.flags:
            bias = self.ddr[self._range(self.ddr, "DDR", self.ddr_addr(instr), n)]
        y = reduce.mfu_matvec(x, w, bias, d=self.geometry.d)
        if "gelu" in instr.flags:
            y = functions.gelu(y)
        self.vrf[self.vslice(instr["vdst"], n)] = y
        kept = self.kept_input == (instr["vsrc"], k)
        self.kept_input = (instr["vsrc"], k)
        self._matrix_cost(k, n, (self._v(instr["vsrc"], k),), (self._v(instr["vdst"], n),),
                          drain=costs.MATRIX_DRAIN + (costs.GELU_DRAIN if "gelu" in instr.flags
                                                      else 0), kept=kept)
        self._tap = (instr["vdst"], n) if "argmax" in instr.flags else None

    def _cache_matrix(self, instr, cols, prefix_rows):
        """Rows ``[0, prefix_rows)`` of a full-band tiled cache matrix with ``cols`` columns."""
        g = self.geometry
        nt = -(-cols // g.l)
        size = -(-prefix_rows // g.d) * nt * g.tile_elements
        region = self.hbm[self._range(self.hbm, "HBM", self.hbm_addr(instr), size)]
        return unpack(region, prefix_rows, cols, d=g.d, l=g.l, band=nt)

    def _maskedmm(self, instr):
        self._tap = None
        g = self.geometry
        k, n = instr["k"], self.tokened(instr, instr["n"])
        if k > g.d:
            raise self.error(IllegalInstructionError,
                             f"maskedmm field 'k' = {k} is out of range (a key column holds at "
                             f"most d = {g.d} elements)")
        padded = -(-n // g.l) * g.l
        q = self.vrf[self.vslice(instr["vsrc"], k)]
        kt = self._cache_matrix(instr, padded, k)  # K^T: k rows (one tile), padded columns
        raw = reduce.mfu_matvec(q, kt, None, d=g.d)
        scores = recipes.attention_scores(raw, n, scale=from_bits(np.uint16(instr["imm16"])))
        self.vrf[self.vslice(instr["vdst"], padded)] = scores
        self.set_sfp(instr["sdst"], reduce.vpu_max(scores, lanes=g.vpu_lanes))
        self._matrix_cost(k, padded, (self._v(instr["vsrc"], k), ("hbm", self.hbm_addr(instr))),
                          (self._v(instr["vdst"], padded),) + self._s(instr["sdst"]),
                          drain=costs.MATRIX_DRAIN + costs.MASKED_MAX, band=None)

    def _mm(self, instr):
        self._tap = None
        g = self.geometry
        k, n = self.tokened(instr, instr["k"]), instr["n"]
        p = self.vrf[self.vslice(instr["vsrc"], k)]
        v = self._cache_matrix(instr, n, k)
        self.vrf[self.vslice(instr["vdst"], n)] = reduce.mfu_matvec(p, v, None, d=g.d)
        self._matrix_cost(k, n, (self._v(instr["vsrc"], k), ("hbm", self.hbm_addr(instr))),
                          (self._v(instr["vdst"], n),), band=None)

    def _argmax(self, instr):
        tap, self._tap = self._tap, None
        if "tap" in instr.flags and tap != (instr["vsrc"], instr["len"]):
            raise self.error(IllegalInstructionError,
                             f"argmax tap of v[{instr['vsrc']}:+{instr['len']}]: the matrix "
                             f"instruction before it must be a CONV1D with `argmax` that wrote "
                             f"exactly that range ("
                             + ("none did" if tap is None else f"it wrote v[{tap[0]}:+{tap[1]}]")
                             + ")")
        x = self.vrf[self.vslice(instr["vsrc"], instr["len"])]
        value, index = reduce.argmax(x, lanes=self.geometry.vpu_lanes)
        self.srf[self.sreg(instr["sdst"], 2)] = int(to_bits(value))
        self.srf[instr["sdst"] + 1] = instr["base"] + int(index)
        # tapped: the arg-max unit took the words as the CONV1D wrote them; two SLOADs remain
        words = 1 if "tap" in instr.flags else -(-instr["len"] // self.geometry.vpu_lanes)
        self._cost(*costs.vector_clocks("VMAX", words),
                   (self._v(instr["vsrc"], instr["len"]),),
                   self._s(instr["sdst"], instr["sdst"] + 1))

    def _argmaxp(self, instr):
        self._tap = None
        count = instr["len"]
        pairs = self.vrf[self.vslice(instr["vsrc"], 2 * count)].view(np.uint16).reshape(count, 2)
        _, winner = reduce.argmax(pairs[:, 0].view(np.float16), lanes=self.geometry.vpu_lanes)
        self.srf[self.sreg(instr["sdst"], 2)] = int(pairs[winner, 0])
        self.srf[instr["sdst"] + 1] = int(pairs[winner, 1])
        self._cost(*costs.vector_clocks("VMAX", -(-2 * count // self.geometry.vpu_lanes)),
                   (self._v(instr["vsrc"], 2 * count),),
                   self._s(instr["sdst"], instr["sdst"] + 1))

    # -- vector unit ----------------------------------------------------------------------------
    def _vector(self, instr):
        info = instr.info
        sig = info.signature
        primitive = info.primitive
        kwargs = {"lanes": self.geometry.vpu_lanes} if primitive.uses_lanes else {}
        if sig in (Signature.SS, Signature.S):
            args = [self.sfp(instr["ssrc"])]
            if sig is Signature.SS:
                args.append(self.sfp(instr["ssrc2"]))
            self.set_sfp(instr["sdst"], primitive.function(*args, **kwargs))
            sources = (instr["ssrc"], instr["ssrc2"]) if sig is Signature.SS else (instr["ssrc"],)
            self._cost(*costs.vector_clocks(primitive.mnemonic, 1), self._s(*sources),
                       self._s(instr["sdst"]))
            return
        length = self.tokened(instr, instr["len"])
        args = [self.vrf[self.vslice(instr["vsrc"], length)]]
        pair = sig.pair     # a vector and a reduction of it
        if sig.second_vector:
            args.append(self.vrf[self.vslice(instr["vsrc2"], length)])
        elif sig.scalar_source:
            args.append(self.sfp(instr["ssrc"]))
        result = primitive.function(*args, **kwargs)
        writes = ()
        if pair:
            result, scalar = result
            self.set_sfp(instr["sdst"], scalar)
            writes = self._s(instr["sdst"])
        if sig is Signature.VR:
            self.set_sfp(instr["sdst"], result)
            writes = self._s(instr["sdst"])
        else:
            self.vrf[self.vslice(instr["vdst"], length)] = result
            writes = (self._v(instr["vdst"], length),) + writes
        reads = [self._v(instr["vsrc"], length)]
        if sig.second_vector:
            reads.append(self._v(instr["vsrc2"], length))
        elif sig.scalar_source:
            reads += self._s(instr["ssrc"])
        self._cost(*costs.vector_clocks(primitive.mnemonic,
                                        -(-length // self.geometry.vpu_lanes)), reads, writes)

    # -- DMA ------------------------------------------------------------------------------------
    def _dma_cost(self, elements, reads=(), writes=(), *, mnemonic):
        """The DMA runs one instruction at a time: its clocks are its occupancy. A store to HBM
        (STH, STHT) is not held by a weight stream reading the same channels: the memory
        alternates a waiting write beat with the read beats (``rtlsim/cpp/axi_memory.h``), and
        the few beats a key or value takes from the stream are not modelled."""
        self._cost(costs.dma_clocks(mnemonic, elements, self.geometry.vpu_lanes), 0, reads,
                   writes)

    def _ldd(self, instr):
        n = instr["len"]
        addr = self.ddr_addr(instr)
        values = self.ddr[self._range(self.ddr, "DDR", addr, n)]
        self.vrf[self.vslice(instr["vdst"], n)] = values
        # An indexed load (embedding lookup) names its table without the index term: the
        # scoreboard does not see the scalar (dfx_hw.control.rules).
        key = addr - int(self.srf[instr["ssrc"]]) * instr["stride"] if "index" in instr.flags \
            else addr
        reads = [("ddr", key)] + (list(self._s(instr["ssrc"])) if "index" in instr.flags else [])
        self._dma_cost(n, reads, (self._v(instr["vdst"], n),), mnemonic="LDD")

    def _std(self, instr):
        n = instr["len"]
        values = self.vrf[self.vslice(instr["vsrc"], n)]
        addr = self.ddr_addr(instr)
        self.ddr[self._range(self.ddr, "DDR", addr, n)] = values
        self._dma_cost(n, (self._v(instr["vsrc"], n),), (("ddr", addr),), mnemonic="STD")

    def _ldtok(self, instr):
        addr = self._range(self.ddr, "DDR", self.tokened(instr, instr["ddr"]), 1)
        self.srf[self.sreg(instr["sdst"])] = int(self.ddr_u16[addr][0])
        self._dma_cost(1, (("ddr", addr.start),), self._s(instr["sdst"]), mnemonic="LDTOK")

    def _sttok(self, instr):
        addr = self._range(self.ddr, "DDR", self.tokened(instr, instr["ddr"]), 1)
        value = int(self.srf[self.sreg(instr["ssrc"])])
        if not 0 <= value < 1 << 16:
            raise self.error(SimulationError, f"token id {value} does not fit 16 bits")
        self.ddr_u16[addr] = value
        self._dma_cost(1, self._s(instr["ssrc"]), (("ddr", addr.start),), mnemonic="STTOK")
        self.token_marks.append((Counter(self.counts), self.cycles, self.timeline.end))

    def _sth(self, instr):
        n = instr["len"]
        start = self.hbm_addr(instr)
        if "token" in instr.flags:
            start += self.regs[Register.TOKEN] * instr["stride"]
        span = self._range(self.hbm, "HBM", start, n)
        self.hbm[span] = self.vrf[self.vslice(instr["vsrc"], n)]
        self._invalidate(span.start, span.stop)
        self._dma_cost(n, (self._v(instr["vsrc"], n),), (("hbm", self.hbm_addr(instr)),),
                       mnemonic="STH")

    def _stht(self, instr):
        g = self.geometry
        n = instr["len"]
        row = self.regs[Register.TOKEN] if "token" in instr.flags else 0
        offsets = self.hbm_addr(instr) + row_offsets(row, n, d=g.d, l=g.l)
        lo, hi = int(offsets.min()), int(offsets.max()) + 1
        self._range(self.hbm, "HBM", lo, hi - lo)
        self.hbm[offsets] = self.vrf[self.vslice(instr["vsrc"], n)]
        self._invalidate(lo, hi)
        self._dma_cost(n, (self._v(instr["vsrc"], n),), (("hbm", self.hbm_addr(instr)),),
                       mnemonic="STHT")
