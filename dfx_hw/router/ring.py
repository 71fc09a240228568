"""N routers side by side, for benches that join them into a ring with a link model."""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .monitor import TIMEOUT_BITS
from .router import CORE_BITS, Router

__all__ = ["RouterRing"]

_CONFIG = ("core_id", "cores", "timeout")


class RouterRing(wiring.Component):
    """``count`` :class:`~dfx_hw.router.router.Router` s with core ids ``0..count-1``.

    Every router's ports except ``core_id``/``cores``/``timeout`` appear as ``r{i}`` (in
    Verilog ``r{i}__<port>``); ``cores`` and ``timeout`` are shared inputs. The links are *not*
    joined here: a link model in the bench carries ``r{i}.link_next.tx`` to
    ``r{i+1}.link_prev.rx`` and the credits back, so it can add latency, idle beats, a link-up
    delay and faults. All ``link_next`` ports are in clock domain ``link_next``, all
    ``link_prev`` ports in ``link_prev``.

    Parameters
    ----------
    count : int
        Routers (1..max_cores).
    **router_params
        Passed to every :class:`Router` (``lanes``, ``max_cores``, ``max_total``, ...).
    """

    def __init__(self, *, count, **router_params):
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a positive integer, not {count!r}")
        self._routers = [Router(**router_params) for _ in range(count)]
        if count > self._routers[0].max_cores:
            raise ValueError(f"count {count} exceeds max_cores "
                             f"{self._routers[0].max_cores}")
        members = {name: member for name, member in self._routers[0].signature.members.items()
                   if name not in _CONFIG}
        self._port_signature = wiring.Signature(members)
        super().__init__({
            "cores": In(CORE_BITS),
            "timeout": In(TIMEOUT_BITS),
            **{f"r{i}": Out(self._port_signature) for i in range(count)},
        })

    @property
    def routers(self):
        return list(self._routers)

    def elaborate(self, platform):
        m = Module()
        for index, router in enumerate(self._routers):
            m.submodules[f"router{index}"] = router
            m.d.comb += [router.core_id.eq(index), router.cores.eq(self.cores),
                         router.timeout.eq(self.timeout)]
            outer = getattr(self, f"r{index}")
            for name, member in self._port_signature.members.items():
                inner_port, outer_port = getattr(router, name), getattr(outer, name)
                if member.is_signature:
                    wiring.connect(m, wiring.flipped(outer_port), inner_port)
                elif member.flow == Out:
                    m.d.comb += outer_port.eq(inner_port)
                else:
                    m.d.comb += inner_port.eq(outer_port)
        return m
