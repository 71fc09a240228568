"""Text-generation backends behind ``dfx generate --backend NAME``.

Every backend is a subclass of :class:`~dfx_hw.backends.base.Backend` in its own module here.
**Adding one** takes the new module plus one line in :data:`BACKENDS` below (name ->
``"module:Class"``; the module is imported only when that backend is asked for). Options a backend
accepts (such as ``cores``) are listed in its ``option_names``; :func:`get_backend` refuses the
others with a clear error, so ``dfx generate --cores N`` fails for backends that have no cores.
"""

import importlib

from .base import Backend

__all__ = ["Backend", "BACKENDS", "backend_class", "get_backend"]

#: Registered backends: name -> "module (relative to this package):class".
BACKENDS = {
    "reference": "reference:ReferenceBackend",
    "isasim": "isasim:IsaSimBackend",
    "rtl": "rtl:RtlBackend",
    "xdma": "xdma:XdmaBackend",
}


def backend_class(name: str) -> type:
    """The :class:`Backend` subclass registered as ``name``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; known backends: {', '.join(BACKENDS)}")
    module_name, class_name = BACKENDS[name].split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, class_name)


def get_backend(name: str, model_dir, **options) -> Backend:
    """Build backend ``name`` for the checkpoint directory ``model_dir``.

    Parameters
    ----------
    name : str
        A key of :data:`BACKENDS`.
    model_dir : str or Path
        Hugging Face checkpoint directory (``config.json`` + ``model.safetensors``).
    **options
        Backend options (e.g. ``cores=4``); options whose value is ``None`` are dropped.

    Raises
    ------
    ValueError
        Unknown backend, an option the backend does not take, or a bad checkpoint.
    """
    cls = backend_class(name)
    options = {key: value for key, value in options.items() if value is not None}
    refused = sorted(set(options) - set(cls.option_names))
    if refused:
        takes = ", ".join(cls.option_names) if cls.option_names else "none"
        given = ", ".join(f"{key}={options[key]!r}" for key in refused)
        raise ValueError(f"backend {name!r} does not take the option {given} "
                         f"(options it takes: {takes})")
    return cls.from_model_dir(model_dir, **options)
