"""Live state: channels, bridges, calls and queues kept true from AMI.

:class:`LiveModel` is the sans-IO model (events in, changes out);
:class:`LiveState` runs it over a :class:`~amiasync.Manager`, with a
snapshot at start and after every reconnect.
"""

from .model import (
    DEVICE_STATES,
    Bridge,
    Call,
    Change,
    Channel,
    LiveModel,
    Queue,
    QueueCaller,
    QueueMember,
    SyncOverflow,
    Transfer,
)
from .state import SNAPSHOT_ACTIONS, ChangesOverflow, ChangeStream, LiveState

__all__ = [
    "LiveState",
    "ChangeStream",
    "ChangesOverflow",
    "SNAPSHOT_ACTIONS",
    "LiveModel",
    "Change",
    "Channel",
    "Bridge",
    "Call",
    "Queue",
    "QueueMember",
    "QueueCaller",
    "Transfer",
    "SyncOverflow",
    "DEVICE_STATES",
]
