"""amiasync: an asyncio client for the Asterisk Manager Interface.

The names most programs need are here::

    import amiasync
    from amiasync import core, core_events

    async with amiasync.connect("127.0.0.1", username="admin", secret="...") as manager:
        manager.register_callback("Newchannel", on_newchannel)
        response = await manager.send_action(core.Ping())
"""

from __future__ import annotations

from .connection import DEFAULT_PORT, Manager, connect
from .exceptions import (
    ActionFailed,
    ActionTimeout,
    AMIError,
    FrameTooLarge,
    InvalidAction,
    ManagerAuthError,
    ManagerError,
    ManagerSocketError,
    ProtocolError,
)
from .message import Action, Event, Message, Response
from .pool import ManagerPool

__all__ = [
    "__version__",
    "Manager",
    "connect",
    "ManagerPool",
    "DEFAULT_PORT",
    "Action",
    "Event",
    "Message",
    "Response",
    "AMIError",
    "ManagerError",
    "ProtocolError",
    "FrameTooLarge",
    "InvalidAction",
    "ManagerSocketError",
    "ActionTimeout",
    "ActionFailed",
    "ManagerAuthError",
]

__version__ = "0.1.0"
