"""amiasync: an asyncio client for the Asterisk Manager Interface.

The names most programs need are here::

    import amiasync
    from amiasync import core, core_events

    async with amiasync.connect("127.0.0.1", username="admin", secret="...") as manager:
        manager.register_callback("Newchannel", on_newchannel)
        response = await manager.send_action(core.Ping())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._extensions import loaded as _loaded_extensions
from .connection import (
    DEFAULT_PORT,
    USE_DEFAULT,
    ConnectionState,
    Manager,
    OriginateResult,
    UseDefault,
    connect,
)
from .exceptions import (
    ActionFailed,
    ActionTimeout,
    AMIError,
    ConnectionClosed,
    ConnectionLost,
    FrameTooLarge,
    InvalidAction,
    InvalidState,
    ManagerAuthError,
    ManagerError,
    ManagerSocketError,
    ProtocolError,
)
from .link import ActionCall
from .message import Action, Event, Message, Response
from .stream import EventStream

if TYPE_CHECKING:
    from .pool import ManagerPool

__all__ = [
    "__version__",
    "__compiled__",
    "Manager",
    "connect",
    "ManagerPool",
    "DEFAULT_PORT",
    "USE_DEFAULT",
    "UseDefault",
    "ConnectionState",
    "OriginateResult",
    "ActionCall",
    "EventStream",
    "Action",
    "Event",
    "Message",
    "Response",
    "AMIError",
    "ManagerError",
    "ProtocolError",
    "FrameTooLarge",
    "InvalidAction",
    "InvalidState",
    "ManagerSocketError",
    "ConnectionClosed",
    "ConnectionLost",
    "ActionTimeout",
    "ActionFailed",
    "ManagerAuthError",
]

__version__ = "0.1.0"

#: True when the compiled codec runs (built at install time, and
#: ``AMIASYNC_NO_EXTENSIONS`` not set); False for the pure-Python reference.
__compiled__ = _loaded_extensions() == {"_cmessage", "_cdispatch"}

#: Submodules reachable as attributes after ``import amiasync`` alone, as
#: ``pystrix.ami.core_events`` is after ``import pystrix``; imported on first
#: use, so ``import amiasync`` does not load the whole catalogue.
_SUBMODULES = frozenset({"actions", "core", "core_events", "events", "testing"})


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "ManagerPool":
        # Most programs talk to one Asterisk: the pool (and what it imports)
        # is loaded when a program first names it.
        from .pool import ManagerPool

        return ManagerPool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
