"""The core events, under the names the pystrix seed uses: aliases of :mod:`amiasync.events`.

Register callbacks with these classes (``core_events.FullyBooted``) or with
the event name as a string; both mean the same.
"""

from __future__ import annotations

from .events import FullyBooted, OriginateResponse, Shutdown, UserEvent
from .message import Event

__all__ = ["Event", "FullyBooted", "Shutdown", "OriginateResponse", "UserEvent"]
