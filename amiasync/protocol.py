"""Which answer belongs to which action: the sans-IO correlation state.

Asterisk answers every action with one response carrying the action's
``ActionID``. Some actions then send an *event list*: the response has
``EventList: start``, the items are events with the same ActionID, and an
event with ``EventList: Complete`` ends the list (``main/manager.c``,
``astman_send_listack`` and ``astman_send_list_complete_start``). Completion is
read from that header only, never guessed from the ``Message`` text.

:class:`ActionTracker` holds the actions in flight, keyed by ActionID for O(1)
lookup, and says for every incoming message where it goes. It knows nothing
of asyncio: the waiter it stores is whatever the caller gives it.
"""

from __future__ import annotations

import enum
from typing import Any, Generic, TypeVar

from .exceptions import InvalidAction
from .message import Event, Message, Response

__all__ = ["Route", "PendingAction", "ActionTracker"]

W = TypeVar("W")

_EVENT = Event._kind
_RESPONSE = Response._kind


class Route(enum.Enum):
    """Where an incoming message goes."""

    #: An event for the callbacks (not part of any list in progress).
    EVENT = "event"
    #: A response that no pending action claims (timed out, cancelled, unknown).
    ORPHAN = "orphan"
    #: The pending action is answered in full; its response is ready.
    DONE = "done"
    #: Consumed as part of an event list still in progress.
    LIST_ITEM = "list item"


class PendingAction(Generic[W]):
    """One action in flight.

    Attributes:
        action_id: The ActionID it was sent with.
        action_name: The AMI action name.
        waiter: The caller's object to wake (an asyncio future for the manager).
        response: The response, once it arrived (with list items so far).
        timeout: Seconds the caller allows for the whole answer, if limited.
        timer: The caller's handle on its timeout (the manager's deadline bucket).
    """

    __slots__ = ("action_id", "action_name", "response", "timeout", "timer", "waiter")

    def __init__(self, action_id: str, action_name: str, waiter: W) -> None:
        self.action_id = action_id
        self.action_name = action_name
        self.waiter = waiter
        self.response: Response | None = None
        self.timeout: float | None = None
        self.timer: Any = None


class ActionTracker(Generic[W]):
    """The actions in flight on one connection, by ActionID."""

    def __init__(self) -> None:
        self._pending: dict[str, PendingAction[W]] = {}
        # How many event lists are being collected. While none is, events are
        # not even parsed for an ActionID: the common case costs nothing.
        self._lists = 0

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, action_id: object) -> bool:
        return action_id in self._pending

    def start(self, action_id: str, action_name: str, waiter: W) -> PendingAction[W]:
        """Record an action about to be sent.

        Args:
            action_id: Its ActionID; must not be in flight already.
            action_name: The AMI action name.
            waiter: What to hand back when the answer is complete.

        Returns:
            The pending record.

        Raises:
            InvalidAction: Another action with this ActionID is in flight.
        """
        if action_id in self._pending:
            raise InvalidAction(f"ActionID {action_id!r} is already in flight")
        pending = self._pending[action_id] = PendingAction(action_id, action_name, waiter)
        return pending

    def get(self, action_id: str) -> PendingAction[W] | None:
        """Return the action in flight with this ActionID, if any."""
        return self._pending.get(action_id)

    def discard(self, action_id: str) -> PendingAction[W] | None:
        """Forget an action (timed out or cancelled); a late answer becomes an orphan.

        Returns:
            The record, or None if it was not in flight.
        """
        pending = self._pending.pop(action_id, None)
        if pending is not None and pending.response is not None:
            self._lists -= 1
        return pending

    def take_all(self) -> list[PendingAction[W]]:
        """Forget every action in flight (the connection is gone) and return them."""
        pending = list(self._pending.values())
        self._pending.clear()
        self._lists = 0
        return pending

    def receive(self, message: Message) -> tuple[Route, PendingAction[W] | None]:
        """Decide where an incoming message goes.

        Args:
            message: A decoded response or event.

        Returns:
            The route and, for ``DONE`` and ``LIST_ITEM``, the pending action
            (no longer tracked once ``DONE``).
        """
        # Message._kind, not isinstance: the classes are ABCs (Mappings), and
        # ABC checks are slow on the typed event subclasses.
        kind = message._kind
        if kind is _EVENT:
            if not self._lists:
                return Route.EVENT, None
            action_id = message.get("ActionID")
            pending = self._pending.get(action_id) if action_id else None
            if pending is None or pending.response is None:
                return Route.EVENT, None
            if message.get("EventList", "").lower() == "complete":
                pending.response.complete = message  # type: ignore[assignment]
                del self._pending[pending.action_id]
                self._lists -= 1
                return Route.DONE, pending
            pending.response.events.append(message)  # type: ignore[arg-type]
            return Route.LIST_ITEM, pending
        if kind is not _RESPONSE:
            return Route.ORPHAN, None
        action_id = message.get("ActionID")
        pending = self._pending.get(action_id) if action_id else None
        if pending is None or pending.response is not None:
            return Route.ORPHAN, None
        response: Response = message  # type: ignore[assignment]
        response.action_name = pending.action_name
        pending.response = response
        # res_fax writes "EventList: Start"; Asterisk's own lists "start".
        if response.is_event_list and response.success:
            self._lists += 1
            return Route.LIST_ITEM, pending
        del self._pending[pending.action_id]
        return Route.DONE, pending
