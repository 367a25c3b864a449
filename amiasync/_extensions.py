"""Which implementation of the hot path is in use: compiled or pure Python.

amiasync's codec has an optional compiled twin (``amiasync/_cmessage.pyx``,
``amiasync/_cdispatch.pyx``, built with Cython when a C compiler is there at
install time, as aiohttp, multidict and yarl do). The pure-Python modules
(:mod:`amiasync.frames`, :mod:`amiasync.message`, :mod:`amiasync.dispatcher`)
are the reference: they are always importable, the twins must behave exactly
like them (the differential tests check it), and they are what runs when no
twin was built or when the environment variable ``AMIASYNC_NO_EXTENSIONS`` is
set to a non-empty value other than ``0`` at import time.
``amiasync.__compiled__`` says which one runs.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["NO_EXTENSIONS", "load", "loaded"]

#: True when ``AMIASYNC_NO_EXTENSIONS`` asks for the pure-Python implementation.
NO_EXTENSIONS = os.environ.get("AMIASYNC_NO_EXTENSIONS", "") not in ("", "0")

_loaded: dict[str, ModuleType] = {}


def load(name: str) -> ModuleType | None:
    """Return the compiled module ``amiasync.<name>``, or None to use the pure one.

    Args:
        name: The extension module's name (``"_cmessage"``).

    Returns:
        The module; None when extensions are disabled or it was not built.
    """
    if NO_EXTENSIONS:
        return None
    try:
        module = importlib.import_module(f"{__package__}.{name}")
    except ImportError:
        # Not built (no compiler at install time, or a source checkout).
        return None
    _loaded[name] = module
    return module


def loaded() -> frozenset[str]:
    """Return the names of the compiled modules in use."""
    return frozenset(_loaded)
