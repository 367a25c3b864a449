"""The sans-IO live model: channels, bridges, calls and queues from AMI events.

No asyncio here. :class:`LiveModel` is fed events with :meth:`LiveModel.apply`
and answers with the :class:`Change` records they caused; the asyncio layer
(:mod:`amiasync.live.state`) only moves events in and changes out.

Why replaying is safe. Every handler below *overwrites*: an event sets the
fields it carries (Asterisk 22 puts the whole channel snapshot on every channel
event, see ``main/manager_channels.c``, ``ast_manager_build_channel_state_string``)
or sets one membership (channel in bridge, member in queue) to a value. No
handler counts or shifts. So applying a snapshot taken at any moment ``T`` and
then *every* event received since *before* the snapshot was requested gives
the same state as applying the events alone: a field's final value is that of
the last event that wrote it, or the snapshot's when none did, which is what
Asterisk holds. That is how :meth:`LiveModel.begin_sync` /
:meth:`LiveModel.finish_sync` merge CoreShowChannels, BridgeList and
QueueStatus with the events that keep arriving while they are answered,
without knowing where in the event stream Asterisk took them.

What makes it exact in the corner cases:

* Uniqueids and bridge ids are never reused, so a hung-up channel and a
  destroyed bridge are remembered (a bounded set of tombstones): an event or a
  snapshot item about them that arrives late is ignored instead of bringing
  them back. Asterisk removes a channel from its snapshot cache before it
  publishes the final snapshot that becomes ``Hangup``
  (``main/stasis_channels.c``, ``ast_channel_publish_final_snapshot``), so a
  CoreShowChannels item can never follow the Hangup of its channel.
* A bridge's and a call's members are derived from the channels
  (``bridge_id``, ``linkedid``), so they can never disagree with them.
* Queue callers are kept in queue order; a caller's position is its place in
  that order, so a caller leaving renumbers the others as app_queue does,
  without the model ever decrementing anything.

Bounded: a hung-up channel is gone (with its variables), a destroyed bridge
is gone, a call ends with its last channel, the tombstones and the list of
recent transfers have fixed sizes, and the buffer of a sync is capped.
"""

from __future__ import annotations

import time
import types
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Callable, Literal, NamedTuple, Union

from ..message import Event

__all__ = [
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
    "Entity",
    "ChangeKind",
    "DEVICE_STATES",
]

ChangeKind = Literal["added", "updated", "removed"]
Entity = Literal["channel", "bridge", "call", "queue", "transfer"]

#: app_queue reports a member's ``Status`` as an ``ast_device_state`` number
#: (``include/asterisk/devicestate.h``); these are the names ``core show
#: hints`` uses for them.
DEVICE_STATES = {
    0: "Unknown",
    1: "Not in use",
    2: "In use",
    3: "Busy",
    4: "Invalid",
    5: "Unavailable",
    6: "Ringing",
    7: "Ring+Inuse",
    8: "On Hold",
}

_NO_VARIABLES: Mapping[str, str] = types.MappingProxyType({})
_NO_PEERS: frozenset[str] = frozenset()
_NO_MEMBERS: Mapping[str, QueueMember] = types.MappingProxyType({})


class Channel(NamedTuple):
    """One channel, keyed by its Uniqueid.

    Attributes:
        uniqueid: Asterisk's Uniqueid (``"1733070000.42"``).
        name: The channel name (``"PJSIP/101-00000001"``).
        state: The state as Asterisk names it (``"Up"``, ``"Ringing"``, ``"Ring"``).
        linkedid: The Uniqueid of the call's first channel.
        bridge_id: The BridgeUniqueid of the bridge it is in, or None.
        application: The dialplan application running (``"Dial"``), if known.
        dial_peers: Uniqueids of the channels it is dialling or being dialled by.
        local_peer: For a Local channel half, the Uniqueid of the other half.
        on_hold: Whether the phone put it on hold (``Hold`` / ``Unhold``).
        variables: Channel variables Asterisk reported (``VarSet``, ``ChanVariable``).
    """

    uniqueid: str
    name: str = ""
    state: str = ""
    caller_id_num: str = ""
    caller_id_name: str = ""
    connected_line_num: str = ""
    connected_line_name: str = ""
    linkedid: str = ""
    context: str = ""
    exten: str = ""
    priority: str = ""
    account_code: str = ""
    language: str = ""
    application: str = ""
    application_data: str = ""
    bridge_id: str | None = None
    dial_peers: frozenset[str] = _NO_PEERS
    dial_status: str = ""
    local_peer: str | None = None
    on_hold: bool = False
    variables: Mapping[str, str] = _NO_VARIABLES


class Bridge(NamedTuple):
    """One bridge, keyed by its BridgeUniqueid.

    Attributes:
        channels: Uniqueids of the channels in it.
    """

    bridge_id: str
    type: str = ""
    technology: str = ""
    creator: str = ""
    name: str = ""
    channels: frozenset[str] = _NO_PEERS


class Call(NamedTuple):
    """The channels that share one Linkedid.

    Attributes:
        linkedid: The Uniqueid of the call's first channel.
        channels: Uniqueids of its live channels.
    """

    linkedid: str
    channels: frozenset[str] = _NO_PEERS


class QueueMember(NamedTuple):
    """A queue member, keyed by its interface (``"PJSIP/101"``).

    Attributes:
        status: app_queue's device state number (see :data:`DEVICE_STATES`).
    """

    interface: str
    name: str = ""
    state_interface: str = ""
    membership: str = ""
    penalty: int = 0
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = 0
    in_call: bool = False
    status: int = 0
    paused: bool = False
    paused_reason: str = ""
    wrapuptime: int = 0

    @property
    def status_name(self) -> str:
        """The status as ``core show hints`` names it (``"Not in use"``)."""
        return DEVICE_STATES.get(self.status, str(self.status))


class QueueCaller(NamedTuple):
    """A caller waiting in a queue.

    Attributes:
        joined: When it joined, on the model's clock (``time.time`` by default).
    """

    uniqueid: str
    channel: str = ""
    caller_id_num: str = ""
    caller_id_name: str = ""
    joined: float = 0.0


class Queue(NamedTuple):
    """A queue, keyed by name.

    ``strategy`` and the statistics come from QueueStatus (``QueueParams``) and
    are as of the last sync; members and callers are kept live.

    Attributes:
        members: Members by interface.
        callers: Waiting callers in queue order (``position`` is index + 1).
    """

    name: str
    strategy: str = ""
    max: int = 0
    holdtime: int = 0
    talktime: int = 0
    completed: int = 0
    abandoned: int = 0
    service_level: int = 0
    weight: int = 0
    members: Mapping[str, QueueMember] = _NO_MEMBERS
    callers: tuple[QueueCaller, ...] = ()

    def position(self, uniqueid: str) -> int | None:
        """A waiting caller's position (1 is next), or None when it is not waiting."""
        for index, caller in enumerate(self.callers):
            if caller.uniqueid == uniqueid:
                return index + 1
        return None


class Transfer(NamedTuple):
    """A blind or attended transfer Asterisk reported (kept: the latest few).

    Attributes:
        kind: ``"blind"`` or ``"attended"``.
        result: Asterisk's ``Result`` (``"Success"``, ``"Fail"``, ...).
        transferer: The transferring channel's Uniqueid.
        target: For a blind transfer the ``exten@context``; for an attended
            one the Uniqueid of the transfer target channel.
    """

    kind: str
    result: str
    transferer: str
    target: str


Value = Union[Channel, Bridge, Call, Queue, Transfer]


class Change(NamedTuple):
    """One change of the model.

    Attributes:
        kind: ``"added"``, ``"updated"`` or ``"removed"``.
        entity: ``"channel"``, ``"bridge"``, ``"call"``, ``"queue"`` or ``"transfer"``.
        key: The Uniqueid, BridgeUniqueid, Linkedid or queue name.
        old: The value before (None when added).
        new: The value after (None when removed).
    """

    kind: ChangeKind
    entity: Entity
    key: str
    old: Any
    new: Any


class SyncOverflow(Exception):
    """More events arrived during a sync than :class:`LiveModel` buffers; sync again."""


_IN_CALL_SOURCES = frozenset({"QueueMember", "QueueMemberAdded"})


_Headers = dict[str, str]


def _flag(value: str | None) -> bool:
    return value in ("1", "true", "True", "yes")


def _int(value: str | None) -> int:
    try:
        return int(value) if value else 0
    except ValueError:
        return 0


class _Tombstones:
    """The last ``size`` keys seen to end, in order (uniqueids are never reused)."""

    __slots__ = ("_keys", "_size")

    def __init__(self, size: int) -> None:
        self._keys: dict[str, None] = {}
        self._size = size

    def add(self, key: str) -> None:
        keys = self._keys
        keys[key] = None
        if len(keys) > self._size:
            del keys[next(iter(keys))]

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)


# The channel snapshot headers Asterisk 22 puts on channel events
# (ast_manager_build_channel_state_string_prefix), as (header, field) pairs.
_SNAPSHOT = (
    ("Channel", "name"),
    ("ChannelStateDesc", "state"),
    ("CallerIDNum", "caller_id_num"),
    ("CallerIDName", "caller_id_name"),
    ("ConnectedLineNum", "connected_line_num"),
    ("ConnectedLineName", "connected_line_name"),
    ("Linkedid", "linkedid"),
    ("Context", "context"),
    ("Exten", "exten"),
    ("Priority", "priority"),
    ("AccountCode", "account_code"),
    ("Language", "language"),
)
_PREFIXED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _snapshot_keys(prefix: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (prefixed) snapshot header names and the Channel fields they fill."""
    keys = _PREFIXED.get(prefix)
    if keys is None:
        keys = _PREFIXED[prefix] = (
            tuple(prefix + header for header, _ in _SNAPSHOT),
            tuple(field for _, field in _SNAPSHOT),
        )
    return keys


_CHANNEL_INDEX = {name: index for index, name in enumerate(Channel._fields)}


def _evolve(channel: Channel, fields: Mapping[str, Any]) -> Channel:
    """``channel._replace(**fields)``, without its per-field keyword handling (hot path)."""
    values = list(channel)
    index = _CHANNEL_INDEX
    for name, value in fields.items():
        values[index[name]] = value
    return Channel._make(values)


def _chan_variables(event: Event) -> dict[str, str]:
    # manager.conf's channelvars arrive as repeated ``ChanVariable: NAME=value``.
    found: dict[str, str] = {}
    for key, value in event.headers:
        if key == "ChanVariable":
            name, _, val = value.partition("=")
            found[name] = val
    return found


# QueueMember* events and QueueStatus' QueueMember items name fields differently.
_MEMBER_INT = (
    ("Penalty", "penalty"),
    ("CallsTaken", "calls_taken"),
    ("LastCall", "last_call"),
    ("LastPause", "last_pause"),
    ("LoginTime", "login_time"),
    ("Status", "status"),
    ("Wrapuptime", "wrapuptime"),
)
_QUEUE_INT = (
    ("Max", "max"),
    ("Holdtime", "holdtime"),
    ("TalkTime", "talktime"),
    ("Completed", "completed"),
    ("Abandoned", "abandoned"),
    ("ServiceLevel", "service_level"),
    ("Weight", "weight"),
)


class LiveModel:
    """Channels, bridges, calls and queues, kept from AMI events (sans-IO).

    Args:
        clock: Seconds for queue callers' join times (``time.time`` by default).
        max_sync_buffer: How many events a sync may buffer before it fails
            with :class:`SyncOverflow`.
        tombstones: How many ended channels and bridges are remembered.
        max_transfers: How many recent transfers are kept.

    Attributes:
        channels: Channels by Uniqueid.
        bridges: Bridges by BridgeUniqueid.
        calls: Calls by Linkedid.
        queues: Queues by name.
        transfers: The latest transfers, oldest first.
        synced: True once a sync finished, until :meth:`mark_unsynced`.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        max_sync_buffer: int = 200_000,
        tombstones: int = 20_000,
        max_transfers: int = 100,
        _dead: tuple[_Tombstones, _Tombstones] | None = None,
    ) -> None:
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.calls: dict[str, Call] = {}
        self.queues: dict[str, Queue] = {}
        self.transfers: deque[Transfer] = deque(maxlen=max_transfers)
        self.synced = False
        self.clock = clock
        self.max_sync_buffer = max_sync_buffer
        self._dead_channels, self._dead_bridges = _dead or (
            _Tombstones(tombstones),
            _Tombstones(tombstones),
        )
        self._buffer: list[Event] | None = None
        # The snapshot headers last applied to each channel, to skip repeats.
        self._snapshots: dict[str, tuple[str | None, ...]] = {}
        self._changes: list[Change] = []
        self._handlers: dict[str, Callable[[_Headers, Event], None]] = {
            "Newchannel": self._on_channel,
            "Newstate": self._on_channel,
            "NewCallerid": self._on_channel,
            "NewConnectedLine": self._on_channel,
            "NewAccountCode": self._on_channel,
            "Newexten": self._on_newexten,
            "VarSet": self._on_varset,
            "Rename": self._on_rename,
            "Hangup": self._on_hangup,
            "HangupRequest": self._on_channel,
            "SoftHangupRequest": self._on_channel,
            "Hold": self._on_hold,
            "Unhold": self._on_hold,
            "DialBegin": self._on_dial,
            "DialEnd": self._on_dial,
            "DialState": self._on_dial,
            "LocalBridge": self._on_local_bridge,
            "BridgeCreate": self._on_bridge,
            "BridgeEnter": self._on_bridge_enter,
            "BridgeLeave": self._on_bridge_leave,
            "BridgeDestroy": self._on_bridge_destroy,
            "BridgeMerge": self._on_bridge_merge,
            "BridgeVideoSourceUpdate": self._on_bridge,
            "BlindTransfer": self._on_blind_transfer,
            "AttendedTransfer": self._on_attended_transfer,
            "QueueMemberAdded": self._on_member,
            "QueueMemberStatus": self._on_member,
            "QueueMemberPause": self._on_member,
            "QueueMemberPenalty": self._on_member,
            "QueueMemberRinginuse": self._on_member,
            "QueueMemberRemoved": self._on_member_removed,
            "QueueCallerJoin": self._on_caller_join,
            "QueueCallerLeave": self._on_caller_leave,
            "QueueCallerAbandon": self._on_caller_leave,
            "AgentCalled": self._on_agent,
            "AgentConnect": self._on_agent,
            "AgentComplete": self._on_agent,
            "AgentRingNoAnswer": self._on_agent,
            "AgentDump": self._on_agent,
            # The list items of CoreShowChannels, BridgeList/BridgeInfo, QueueStatus.
            "CoreShowChannel": self._on_core_show_channel,
            "BridgeListItem": self._on_bridge,
            "BridgeInfoChannel": self._on_bridge_info_channel,
            "QueueParams": self._on_queue_params,
            "QueueMember": self._on_member,
            "QueueEntry": self._on_queue_entry,
        }

    # -- the public face ----------------------------------------------------

    @property
    def handled_events(self) -> frozenset[str]:
        """The event names :meth:`apply` acts on."""
        return frozenset(self._handlers)

    @property
    def syncing(self) -> bool:
        """True between :meth:`begin_sync` and :meth:`finish_sync` / :meth:`abort_sync`."""
        return self._buffer is not None

    def apply(self, event: Event) -> list[Change]:
        """Apply one event (or snapshot list item) and return what changed.

        Events the model does not use are ignored. Never raises on odd input:
        a missing header reads as empty.

        Args:
            event: An AMI event.

        Returns:
            The changes, in order (often empty).
        """
        handler = self._handlers.get(event.event_name)
        if handler is None:
            return []
        buffer = self._buffer
        if buffer is not None:
            if len(buffer) < self.max_sync_buffer:
                buffer.append(event)
            else:
                self._overflowed = True
        # One dict of the headers for all the handler's lookups: Asterisk
        # spells its header names one way, and repeats only ChanVariable
        # (read from the headers list itself).
        handler(dict(event.headers), event)
        changes = self._changes
        if changes:
            self._changes = []
        return changes

    def begin_sync(self) -> None:
        """Start a sync: from now on events are also kept for :meth:`finish_sync`.

        Call it *before* sending CoreShowChannels, BridgeList and QueueStatus.
        Events go on being applied (and reported) as usual meanwhile.
        """
        self._buffer = []
        self._overflowed = False
        self.synced = False

    def abort_sync(self) -> None:
        """Give up the sync in progress (the link dropped); the model stays unsynced."""
        self._buffer = None
        self.synced = False

    def finish_sync(self, items: Iterable[Event]) -> list[Change]:
        """Replace the state by Asterisk's snapshot merged with the buffered events.

        Builds a fresh state from ``items`` (the list items of CoreShowChannels,
        BridgeList and QueueStatus, in any order), applies on top every event
        received since :meth:`begin_sync`, then reports the difference from
        the current state as changes and adopts the new state.

        Args:
            items: The snapshot list items.

        Returns:
            The changes from the state before to the synced one.

        Raises:
            SyncOverflow: More than ``max_sync_buffer`` events arrived during
                the sync; nothing changed; begin again.
            RuntimeError: No sync was begun.
        """
        buffer = self._buffer
        if buffer is None:
            raise RuntimeError("finish_sync() without begin_sync()")
        self._buffer = None
        if self._overflowed:
            raise SyncOverflow(f"more than {self.max_sync_buffer} events during the sync")
        fresh = LiveModel(
            clock=self.clock,
            max_transfers=self.transfers.maxlen or 0,
            _dead=(self._dead_channels, self._dead_bridges),
        )
        # Callers already known keep the time they joined (QueueEntry's Wait
        # has a resolution of a second; the events' time is better).
        fresh._joined = self._join_times()
        for item in items:
            fresh.apply(item)
        for event in buffer:
            fresh.apply(event)
        fresh.transfers.extend(self.transfers)
        changes = [
            *_diff("channel", self.channels, fresh.channels),
            *_diff("bridge", self.bridges, fresh.bridges),
            *_diff("call", self.calls, fresh.calls),
            *_diff("queue", self.queues, fresh.queues),
        ]
        self.channels, self.bridges = fresh.channels, fresh.bridges
        self.calls, self.queues = fresh.calls, fresh.queues
        self._snapshots = fresh._snapshots
        self.synced = True
        return changes

    def mark_unsynced(self) -> None:
        """Say the model may be stale (the link dropped); a sync makes it true again."""
        self.synced = False

    # -- channels -----------------------------------------------------------

    _joined: dict[tuple[str, str], float] | None = None
    _overflowed = False
    _transfer_count = 0

    def _join_times(self) -> dict[tuple[str, str], float]:
        return {
            (queue.name, caller.uniqueid): caller.joined
            for queue in self.queues.values()
            for caller in queue.callers
        }

    def _put(self, old: Channel | None, new: Channel) -> None:
        """Store a channel, keeping its bridge and call in step, and report it."""
        if old == new:
            return
        uniqueid = new.uniqueid
        self.channels[uniqueid] = new
        if old is None:
            self._changes.append(Change("added", "channel", uniqueid, None, new))
            old_bridge = old_call = None
        else:
            self._changes.append(Change("updated", "channel", uniqueid, old, new))
            old_bridge, old_call = old.bridge_id, old.linkedid
        if new.bridge_id != old_bridge:
            if old_bridge is not None:
                self._bridge_member(old_bridge, uniqueid, False)
            if new.bridge_id is not None:
                self._bridge_member(new.bridge_id, uniqueid, True)
        if new.linkedid != old_call:
            if old_call:
                self._call_member(old_call, uniqueid, False)
            if new.linkedid:
                self._call_member(new.linkedid, uniqueid, True)

    def _touch(self, h: _Headers, event: Event, prefix: str = "", **fields: Any) -> Channel | None:
        """Overwrite a channel's snapshot from an event's (prefixed) headers.

        Returns the channel as stored, or None when the event names none or a
        channel that already hung up.
        """
        uniqueid = h.get(prefix + "Uniqueid")
        # "none": a global variable's VarSet (Set(GLOBAL(...)), Setvar without
        # a channel) names no channel that way.
        if not uniqueid or uniqueid == "none" or uniqueid in self._dead_channels:
            return None
        headers, names = _snapshot_keys(prefix)
        values = tuple(map(h.get, headers))
        old = self.channels.get(uniqueid)
        chanvars = None if prefix or "ChanVariable" not in h else _chan_variables(event)
        if (
            old is not None
            and not fields
            and self._snapshots.get(uniqueid) == values
            and (chanvars is None or all(old.variables.get(k) == v for k, v in chanvars.items()))
        ):
            # Most channel events repeat a snapshot already applied.
            return old
        self._snapshots[uniqueid] = values
        for name, value in zip(names, values):
            if value is not None:
                fields[name] = value
        if chanvars:
            base = fields.get("variables", old.variables if old is not None else _NO_VARIABLES)
            if any(base.get(k) != v for k, v in chanvars.items()):
                fields["variables"] = {**base, **chanvars}
        self._put(old, _evolve(old or Channel(uniqueid), fields))
        return self.channels[uniqueid]

    def _update(self, uniqueid: str, **fields: Any) -> None:
        old = self.channels.get(uniqueid)
        if old is not None:
            self._put(old, _evolve(old, fields))

    def _on_channel(self, h: _Headers, event: Event) -> None:
        self._touch(h, event)

    def _on_newexten(self, h: _Headers, event: Event) -> None:
        self._touch(
            h,
            event,
            application=h.get("Application", ""),
            application_data=h.get("AppData", ""),
        )

    def _on_core_show_channel(self, h: _Headers, event: Event) -> None:
        bridge = h.get("BridgeId") or None
        if bridge is not None and bridge in self._dead_bridges:
            bridge = None
        self._touch(
            h,
            event,
            exten=h.get("Exten", h.get("Extension", "")),
            application=h.get("Application", ""),
            application_data=h.get("ApplicationData", ""),
            bridge_id=bridge,
        )

    def _on_varset(self, h: _Headers, event: Event) -> None:
        # Every change of a channel's snapshot has its own event before this
        # one (manager_channels.c turns each snapshot update into Newstate,
        # Newexten, NewCallerid...), so a VarSet only adds its variable,
        # unless it is the first the model hears of the channel.
        name = h.get("Variable")
        old = self.channels.get(h.get("Uniqueid", ""))
        if old is None:
            old = self._touch(h, event)
        if old is None or not name:
            return
        value = h.get("Value", "")
        if old.variables.get(name) != value:
            self._put(old, _evolve(old, {"variables": {**old.variables, name: value}}))

    def _on_rename(self, h: _Headers, event: Event) -> None:
        uniqueid, name = h.get("Uniqueid"), h.get("Newname")
        if uniqueid and name:
            self._update(uniqueid, name=name)

    def _on_hold(self, h: _Headers, event: Event) -> None:
        self._touch(h, event, on_hold=event.event_name == "Hold")

    def _on_hangup(self, h: _Headers, event: Event) -> None:
        uniqueid = h.get("Uniqueid")
        if not uniqueid:
            return
        self._dead_channels.add(uniqueid)
        self._snapshots.pop(uniqueid, None)
        old = self.channels.pop(uniqueid, None)
        if old is None:
            return
        self._changes.append(Change("removed", "channel", uniqueid, old, None))
        if old.bridge_id is not None:
            self._bridge_member(old.bridge_id, uniqueid, False)
        if old.linkedid:
            self._call_member(old.linkedid, uniqueid, False)
        for peer in old.dial_peers:
            other = self.channels.get(peer)
            if other is not None:
                self._update(peer, dial_peers=other.dial_peers - {uniqueid})
        if old.local_peer is not None:
            other = self.channels.get(old.local_peer)
            if other is not None and other.local_peer == uniqueid:
                self._update(old.local_peer, local_peer=None)
        self._leave_queues(uniqueid)

    def _on_dial(self, h: _Headers, event: Event) -> None:
        dest = self._touch(h, event, "Dest")
        caller = self._touch(h, event)
        if dest is None:
            return
        name = event.event_name
        if name == "DialEnd":
            self._update(dest.uniqueid, dial_status=h.get("DialStatus", ""))
        if caller is None or name == "DialState":
            return
        begin = name == "DialBegin"
        for one, other in ((caller.uniqueid, dest.uniqueid), (dest.uniqueid, caller.uniqueid)):
            channel = self.channels[one]
            peers = channel.dial_peers | {other} if begin else channel.dial_peers - {other}
            self._update(one, dial_peers=peers)

    def _on_local_bridge(self, h: _Headers, event: Event) -> None:
        one = self._touch(h, event, "LocalOne")
        two = self._touch(h, event, "LocalTwo")
        if one is not None and two is not None:
            self._update(one.uniqueid, local_peer=two.uniqueid)
            self._update(two.uniqueid, local_peer=one.uniqueid)

    # -- bridges ------------------------------------------------------------

    def _bridge_member(self, bridge_id: str, uniqueid: str, present: bool) -> None:
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            if not present or bridge_id in self._dead_bridges:
                return
            bridge = Bridge(bridge_id)
            self._changes.append(Change("added", "bridge", bridge_id, None, bridge))
            self.bridges[bridge_id] = bridge
        channels = bridge.channels | {uniqueid} if present else bridge.channels - {uniqueid}
        if channels != bridge.channels:
            new = bridge._replace(channels=channels)
            self.bridges[bridge_id] = new
            self._changes.append(Change("updated", "bridge", bridge_id, bridge, new))

    def _call_member(self, linkedid: str, uniqueid: str, present: bool) -> None:
        call = self.calls.get(linkedid)
        if call is None:
            if not present:
                return
            new = Call(linkedid, frozenset((uniqueid,)))
            self.calls[linkedid] = new
            self._changes.append(Change("added", "call", linkedid, None, new))
            return
        channels = call.channels | {uniqueid} if present else call.channels - {uniqueid}
        if channels == call.channels:
            return
        if not channels:
            del self.calls[linkedid]
            self._changes.append(Change("removed", "call", linkedid, call, None))
            return
        new = Call(linkedid, channels)
        self.calls[linkedid] = new
        self._changes.append(Change("updated", "call", linkedid, call, new))

    def _upsert_bridge(self, h: _Headers) -> Bridge | None:
        bridge_id = h.get("BridgeUniqueid")
        if not bridge_id or bridge_id in self._dead_bridges:
            return None
        get = h.get
        old = self.bridges.get(bridge_id)
        base = old or Bridge(bridge_id)
        new = base._replace(
            type=get("BridgeType", base.type),
            technology=get("BridgeTechnology", base.technology),
            creator=get("BridgeCreator", base.creator),
            name=get("BridgeName", base.name),
        )
        if new != old:
            self.bridges[bridge_id] = new
            kind: ChangeKind = "added" if old is None else "updated"
            self._changes.append(Change(kind, "bridge", bridge_id, old, new))
        return new

    def _on_bridge(self, h: _Headers, event: Event) -> None:
        self._upsert_bridge(h)

    def _on_bridge_enter(self, h: _Headers, event: Event) -> None:
        bridge = self._upsert_bridge(h)
        if bridge is not None:
            self._touch(h, event, bridge_id=bridge.bridge_id)
        else:
            self._touch(h, event)

    def _on_bridge_info_channel(self, h: _Headers, event: Event) -> None:
        # BridgeInfo's items carry the channel snapshot, not the bridge id: the
        # complete event does. LiveState reads membership from CoreShowChannels.
        self._touch(h, event)

    def _on_bridge_leave(self, h: _Headers, event: Event) -> None:
        self._upsert_bridge(h)
        bridge_id = h.get("BridgeUniqueid")
        channel = self._touch(h, event)
        if channel is not None and channel.bridge_id == bridge_id:
            self._update(channel.uniqueid, bridge_id=None)

    def _on_bridge_destroy(self, h: _Headers, event: Event) -> None:
        bridge_id = h.get("BridgeUniqueid")
        if not bridge_id:
            return
        self._dead_bridges.add(bridge_id)
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            return
        for uniqueid in bridge.channels:
            self._update(uniqueid, bridge_id=None)
        old = self.bridges.pop(bridge_id)
        self._changes.append(Change("removed", "bridge", bridge_id, old, None))

    def _on_bridge_merge(self, h: _Headers, event: Event) -> None:
        source = self.bridges.get(h.get("FromBridgeUniqueid", ""))
        target = h.get("ToBridgeUniqueid")
        if source is None or not target or target in self._dead_bridges:
            return
        for uniqueid in source.channels:
            self._update(uniqueid, bridge_id=target)

    def _on_blind_transfer(self, h: _Headers, event: Event) -> None:
        self._touch(h, event, "Transferer")
        self._touch(h, event, "Transferee")
        target = f"{h.get('Extension', '')}@{h.get('Context', '')}"
        self._add_transfer(
            Transfer("blind", h.get("Result", ""), h.get("TransfererUniqueid", ""), target)
        )

    def _on_attended_transfer(self, h: _Headers, event: Event) -> None:
        for prefix in ("OrigTransferer", "SecondTransferer", "Transferee", "TransferTarget"):
            self._touch(h, event, prefix)
        # Named by their headers: the transferer has often hung up already
        # (that is what completes the transfer), and is reported all the same.
        target = h.get("TransferTargetUniqueid") or self._merged_target(h) or h.get("DestApp", "")
        self._add_transfer(
            Transfer("attended", h.get("Result", ""), h.get("OrigTransfererUniqueid", ""), target)
        )

    def _merged_target(self, h: _Headers) -> str:
        """The target of an attended transfer whose event names none.

        Asterisk finds the target as the transferer's peer in the second
        bridge (``ast_attended_transfer_message_create`` in
        ``main/stasis_bridges.c``); when the transferer has already left it
        (hanging up is what completes the transfer) there is none, and the
        ``TransferTarget*`` headers are missing. The bridges are joined by
        then: the target is the one member of the destination bridge that is
        neither the transferee nor a transferer.
        """
        bridge = self.bridges.get(h.get("DestBridgeUniqueid", ""))
        if bridge is None:
            return ""
        known = {
            h.get(p + "Uniqueid") for p in ("Transferee", "OrigTransferer", "SecondTransferer")
        }
        others = bridge.channels - known
        return next(iter(others)) if len(others) == 1 else ""

    def _add_transfer(self, transfer: Transfer) -> None:
        self.transfers.append(transfer)
        self._transfer_count += 1
        key = str(self._transfer_count)
        self._changes.append(Change("added", "transfer", key, None, transfer))

    # -- queues -------------------------------------------------------------

    def _queue(self, name: str) -> Queue:
        queue = self.queues.get(name)
        if queue is None:
            queue = Queue(name)
        return queue

    def _put_queue(self, old: Queue | None, new: Queue) -> None:
        if new == old:
            return
        self.queues[new.name] = new
        kind: ChangeKind = "added" if old is None else "updated"
        self._changes.append(Change(kind, "queue", new.name, old, new))

    def _on_queue_params(self, h: _Headers, event: Event) -> None:
        name = h.get("Queue")
        if not name:
            return
        old = self.queues.get(name)
        base = old or Queue(name)
        fields: dict[str, Any] = {f: _int(h.get(k)) for k, f in _QUEUE_INT if k in h}
        fields["strategy"] = h.get("Strategy", base.strategy)
        self._put_queue(old, base._replace(**fields))

    def _on_member(self, h: _Headers, event: Event) -> None:
        name = h.get("Queue")
        get = h.get
        interface = get("Interface") or get("Location")
        if not name or not interface:
            return
        old_queue = self.queues.get(name)
        queue = old_queue or Queue(name)
        base = queue.members.get(interface) or QueueMember(interface)
        fields: dict[str, Any] = {f: _int(get(k)) for k, f in _MEMBER_INT if k in h}
        if "Paused" in h:
            fields["paused"] = _flag(get("Paused"))
        # A member's InCall changes without an event of its own: app_queue
        # sets it when the call connects and clears it when it completes
        # (AgentConnect / AgentComplete, below), and a QueueMemberStatus sent
        # for the device state change around then can still say 0. So only
        # QueueStatus' items (and a new member) are believed here.
        if event.event_name in _IN_CALL_SOURCES and "InCall" in h:
            fields["in_call"] = _flag(get("InCall"))
        for header, field in (
            ("StateInterface", "state_interface"),
            ("Membership", "membership"),
            ("PausedReason", "paused_reason"),
        ):
            value = get(header)
            if value is not None:
                fields[field] = value
        member_name = get("MemberName") or get("Name")
        if member_name is not None:
            fields["name"] = member_name
        member = base._replace(**fields)
        if member != queue.members.get(interface):
            members = {**queue.members, interface: member}
            self._put_queue(old_queue, queue._replace(members=members))

    def _on_member_removed(self, h: _Headers, event: Event) -> None:
        name, interface = h.get("Queue"), h.get("Interface")
        queue = self.queues.get(name or "")
        if queue is None or not interface or interface not in queue.members:
            return
        members = {k: v for k, v in queue.members.items() if k != interface}
        self._put_queue(queue, queue._replace(members=members))

    def _join(self, name: str, caller: QueueCaller, position: int) -> None:
        old = self.queues.get(name)
        queue = old or Queue(name)
        callers = [c for c in queue.callers if c.uniqueid != caller.uniqueid]
        index = min(max(position - 1, 0), len(callers))
        callers.insert(index, caller)
        self._put_queue(old, queue._replace(callers=tuple(callers)))

    def _joined_at(self, name: str, uniqueid: str, default: float) -> float:
        queue = self.queues.get(name)
        if queue is not None:
            for caller in queue.callers:
                if caller.uniqueid == uniqueid:
                    return caller.joined
        if self._joined is not None:
            return self._joined.get((name, uniqueid), default)
        return default

    def _on_caller_join(self, h: _Headers, event: Event) -> None:
        name = h.get("Queue")
        channel = self._touch(h, event)
        if not name or channel is None:
            return
        joined = self._joined_at(name, channel.uniqueid, self.clock())
        caller = QueueCaller(
            channel.uniqueid, channel.name, channel.caller_id_num, channel.caller_id_name, joined
        )
        self._join(name, caller, _int(h.get("Position")))

    def _on_queue_entry(self, h: _Headers, event: Event) -> None:
        name, uniqueid = h.get("Queue"), h.get("Uniqueid")
        if not name or not uniqueid or uniqueid in self._dead_channels:
            return
        joined = self._joined_at(name, uniqueid, self.clock() - _int(h.get("Wait")))
        caller = QueueCaller(
            uniqueid,
            h.get("Channel", ""),
            h.get("CallerIDNum", ""),
            h.get("CallerIDName", ""),
            joined,
        )
        self._join(name, caller, _int(h.get("Position")))

    def _on_caller_leave(self, h: _Headers, event: Event) -> None:
        self._touch(h, event)
        name, uniqueid = h.get("Queue"), h.get("Uniqueid")
        queue = self.queues.get(name or "")
        if queue is not None and uniqueid:
            self._drop_caller(queue, uniqueid)

    def _drop_caller(self, queue: Queue, uniqueid: str) -> None:
        callers = tuple(c for c in queue.callers if c.uniqueid != uniqueid)
        if len(callers) != len(queue.callers):
            self._put_queue(queue, queue._replace(callers=callers))

    def _leave_queues(self, uniqueid: str) -> None:
        # A caller that hangs up leaves every queue (QueueCallerAbandon and
        # QueueCallerLeave come before Hangup; this is for a missed one).
        for queue in list(self.queues.values()):
            self._drop_caller(queue, uniqueid)

    def _on_agent(self, h: _Headers, event: Event) -> None:
        # Agent* events carry the caller's snapshot and the member's channel
        # (Dest*); the member's device state arrives as QueueMemberStatus.
        self._touch(h, event)
        self._touch(h, event, "Dest")
        name = event.event_name
        if name not in ("AgentConnect", "AgentComplete"):
            return
        queue = self.queues.get(h.get("Queue", ""))
        interface = h.get("Interface", "")
        member = queue.members.get(interface) if queue is not None else None
        if queue is None or member is None:
            return
        in_call = name == "AgentConnect"
        if member.in_call != in_call:
            members = {**queue.members, interface: member._replace(in_call=in_call)}
            self._put_queue(queue, queue._replace(members=members))


def _diff(entity: Entity, old: Mapping[str, Value], new: Mapping[str, Value]) -> Iterable[Change]:
    for key, value in old.items():
        if key not in new:
            yield Change("removed", entity, key, value, None)
    for key, value in new.items():
        before = old.get(key)
        if before is None:
            yield Change("added", entity, key, None, value)
        elif before != value:
            yield Change("updated", entity, key, before, value)
