"""Benchmarks behind ``dfx bench [NAME ...] --out DIR``.

Each benchmark is a module here with a function ``run(*, quick=False) -> dict`` returning
JSON-serialisable figures (with a ``"summary"`` list of printable lines); register it in
:data:`BENCHMARKS` (name -> ``"module:function"``, imported only when run).
"""

import importlib

__all__ = ["BENCHMARKS", "get_benchmark"]

#: Registered benchmarks.
BENCHMARKS = {
    "isasim": "isasim:run",
    "vpu": "vpu:run",
    "device": "device:run",
}


def get_benchmark(name):
    """The ``run`` function of benchmark ``name``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; known benchmarks: {', '.join(BENCHMARKS)}")
    module_name, function = BENCHMARKS[name].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module_name}"), function)
