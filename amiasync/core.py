"""The core actions, under the names the pystrix seed uses: aliases of :mod:`amiasync.actions`.

``core.Login`` is :class:`amiasync.actions.Login`; given a challenge it sends the
MD5 key, so the seed's two-step login ports line for line::

    challenge = await manager.send_action(core.Challenge())
    await manager.send_action(core.Login(user, secret, challenge=challenge.result["Challenge"]))

The actions are looked up in :mod:`amiasync.actions` on first use (PEP 562), so
importing this module (the engine does) does not import the whole catalogue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .auth import events_header, md5_key
from .catalogue import lazy_getattr
from .message import Action

if TYPE_CHECKING:
    from .actions import (
        Challenge,
        Command,
        CoreShowChannels,
        Events,
        Filter,
        Login,
        Logoff,
        Originate,
        Ping,
        Status,
        UserEvent,
    )

__all__ = [
    "Action",
    "Challenge",
    "Login",
    "Logoff",
    "Ping",
    "Command",
    "Events",
    "Filter",
    "Originate",
    "CoreShowChannels",
    "Status",
    "UserEvent",
    "md5_key",
    "events_header",
]

__getattr__ = lazy_getattr(globals(), "amiasync.actions")
