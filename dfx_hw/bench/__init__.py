"""Benchmarks behind ``dfx bench [NAME ...] --out DIR``.

Each benchmark is a module here with a function ``run(*, quick=False) -> dict`` returning
JSON-serialisable figures (with a ``"summary"`` list of printable lines); register it in
:data:`BENCHMARKS` (name -> ``"module:function"``, imported only when run). A module may also
have ``chart(figures, path)``, which draws the figures as a PNG at ``path``
(:func:`chart_of`).
"""

import importlib

__all__ = ["BENCHMARKS", "get_benchmark", "chart_of"]

#: Registered benchmarks.
BENCHMARKS = {
    "isasim": "isasim:run",
    "vpu": "vpu:run",
    "device": "device:run",
    "rtl": "rtl:run",
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


def chart_of(run):
    """The ``chart(figures, path)`` function of the module of benchmark function ``run``, or
    ``None``."""
    import sys
    return getattr(sys.modules.get(run.__module__), "chart", None)
