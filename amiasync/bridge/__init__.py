"""A Redis Streams bridge: AMI events to worker fleets, actions back, at least once.

Needs redis-py (``pip install 'amiasync[redis]'``); nothing here is imported
by ``import amiasync``.

* :class:`Bridge` (and the ``amiasync bridge`` command) appends every event
  of every PBX to ``ami:events:<name>`` and serves ``ami:actions``;
* :class:`EventConsumer` reads those streams through a consumer group, at
  least once, with claims of dead consumers' entries and a dead-letter stream;
* :class:`RemoteManager` sends actions through the bridge.

The stream format is in :mod:`amiasync.bridge.format`.
"""

from __future__ import annotations

from .appender import EventBuffer, StreamWriter
from .consumer import Delivery, EventConsumer, EventHandler, dead_letter_stream
from .executor import ActionExecutor
from .format import ACTIONS_STREAM, EVENTS_PREFIX, GAP, Gap, event_from_fields, events_stream
from .remote import ActionOutcomeUnknown, RemoteManager
from .service import Bridge, ServerStats

__all__ = [
    "Bridge",
    "ServerStats",
    "RemoteManager",
    "ActionOutcomeUnknown",
    "EventConsumer",
    "Delivery",
    "EventHandler",
    "dead_letter_stream",
    "ActionExecutor",
    "EventBuffer",
    "StreamWriter",
    "ACTIONS_STREAM",
    "EVENTS_PREFIX",
    "GAP",
    "events_stream",
    "event_from_fields",
    "Gap",
]
