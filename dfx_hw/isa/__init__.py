"""The DFX instruction set: layouts (:mod:`.layouts`), encoding and text form (:mod:`.encoding`),
and the generated reference document (:mod:`.doc`)."""

from .layouts import *  # noqa: F401,F403
from .layouts import __all__ as _layouts_all
from .encoding import *  # noqa: F401,F403
from .encoding import __all__ as _encoding_all

__all__ = [*_layouts_all, *_encoding_all]
