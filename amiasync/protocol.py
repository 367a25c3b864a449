"""The sans-IO AMI client session: actions in, bytes out; bytes in, answers out.

No asyncio here (python-websockets' ``protocol.py`` and h11's ``Connection``
are the models): :class:`ClientSession` owns the
:class:`~amiasync.frames.FrameDecoder`, the :class:`ActionTracker` and the
ActionID counter. :meth:`ClientSession.send` turns an action into the bytes to
write; :meth:`ClientSession.receive_data` turns received bytes into events,
orphan responses and completed actions; :meth:`ClientSession.login_steps`
walks the login (Challenge, then the MD5 key). The asyncio layer
(:mod:`amiasync.link`) and a plain blocking socket drive it the same way.

Asterisk answers every action with one response carrying the action's
``ActionID``. Some actions then send an *event list*: the response has
``EventList: start``, the items are events with the same ActionID, and an
event with ``EventList: Complete`` ends the list (``main/manager.c``,
``astman_send_listack`` and ``astman_send_list_complete_start``). Completion is
read from that header only, never guessed from the ``Message`` text.
``Originate`` with ``Async: true`` is answered at once and its outcome comes
later as an ``OriginateResponse`` event with the same ActionID
(``main/manager.c``, ``fast_originate``).
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import logging
import os
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any, Generic, TypeVar, Union

from . import frames
from ._extensions import load
from .auth import events_header, md5_key
from .exceptions import ActionFailed, InvalidAction, ManagerAuthError, ProtocolError
from .frames import DEFAULT_MAX_FRAME_SIZE
from .message import Action, Event, Message, Response

__all__ = [
    "Route",
    "PendingAction",
    "ActionTracker",
    "ClientSession",
    "Received",
    "OriginateResult",
    "parse_count",
    "new_action_id_prefix",
]

log = logging.getLogger("amiasync")


def _decoder_class() -> type[frames.FrameDecoder]:
    """Return the decoder to use: the reference, or the same with the compiled builder.

    The two differ in :attr:`~amiasync.frames.FrameDecoder.build_messages`
    only: the compiled twin of ``messages_from_texts`` (amiasync/_cmessage.pyx)
    when it was built and ``AMIASYNC_NO_EXTENSIONS`` is not set.
    """
    compiled = load("_cmessage")
    if compiled is None:
        return frames.FrameDecoder
    build = compiled.messages_from_texts

    class FrameDecoder(frames.FrameDecoder):
        __doc__ = frames.FrameDecoder.__doc__
        __qualname__ = "FrameDecoder"
        build_messages = staticmethod(build)

    return FrameDecoder


FrameDecoder = _decoder_class()

W = TypeVar("W")

#: What :meth:`ClientSession.receive_data` hands back, in wire order: an
#: event for the callbacks, a response no action claims (an orphan), or an
#: action whose answer is complete.
Received = Union[Event, Response, "PendingAction[Any]"]

#: Numbers longer than this are not counts: int() of a 5,000-digit string
#: raises on Python 3.11+ (and costs quadratic time before).
_MAX_DIGITS = 18


def parse_count(text: str | None) -> int | None:
    """Return the non-negative integer ``text`` spells in ASCII digits, else None.

    ``"²".isdigit()`` is true but ``int("²")`` raises; a peer may send either,
    or a number too long to convert. Nothing read from the wire may raise.

    Args:
        text: A header value, or None.

    Returns:
        The number, or None when the text is not a plain decimal count.
    """
    if text and len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def new_action_id_prefix() -> str:
    """Return a random ActionID prefix (``amiasync-3f9a1c-``).

    Random, so that broadcast answers (OriginateResponse) meant for another
    client on the same Asterisk never match one of ours.
    """
    return f"amiasync-{os.urandom(3).hex()}-"


@dataclasses.dataclass(frozen=True)
class OriginateResult:
    """The outcome of :meth:`Manager.originate`.

    Attributes:
        success: Whether the call was placed (``Response: Success`` in the event).
        uniqueid: The new channel's Uniqueid (None on failure).
        channel: The channel name.
        reason: Asterisk's numeric reason (4 answered, 5 busy, 8 congestion,
            0 failure, 1 hung up, 3 ringing timeout); None when the event
            carries no plain number.
        event: The ``OriginateResponse`` event.
        response: The immediate response to the action.
    """

    success: bool
    uniqueid: str | None
    channel: str | None
    reason: int | None
    event: Event
    response: Response

    @classmethod
    def from_event(cls, event: Event, response: Response) -> OriginateResult:
        """Read the outcome from an ``OriginateResponse`` event.

        Args:
            event: The event.
            response: The immediate response to the Originate.

        Returns:
            The outcome.
        """
        uniqueid = event.get("Uniqueid")
        return cls(
            success=event.get("Response", "").lower() == "success",
            uniqueid=None if uniqueid in (None, "", "<null>") else uniqueid,
            channel=event.get("Channel"),
            reason=parse_count(event.get("Reason")),
            event=event,
            response=response,
        )


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
        error: Set when the answer is complete but the action refused it
            (:meth:`Action.check_response` raised): the caller gets this.
        outcome: For an originate awaited with
            :meth:`ClientSession.expect_originate`: its ``OriginateResponse``.
        check: The action's own response check, if it has one.
        timeout: Seconds the caller allows for the whole answer, if limited.
        timer: The caller's handle on its timeout (the manager's deadline bucket).
    """

    __slots__ = (
        "action_id",
        "action_name",
        "check",
        "error",
        "outcome",
        "response",
        "timeout",
        "timer",
        "waiter",
    )

    def __init__(self, action_id: str, action_name: str, waiter: W) -> None:
        self.action_id = action_id
        self.action_name = action_name
        self.waiter = waiter
        self.response: Response | None = None
        self.error: Exception | None = None
        self.outcome: Event | None = None
        self.check: Callable[[Response], None] | None = None
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
        if isinstance(message, Event):
            if not self._lists:
                return Route.EVENT, None
            action_id = message.get("ActionID")
            pending = self._pending.get(action_id) if action_id else None
            if pending is None or pending.response is None:
                return Route.EVENT, None
            if message.get("EventList", "").lower() == "complete":
                pending.response.complete = message
                del self._pending[pending.action_id]
                self._lists -= 1
                return Route.DONE, pending
            pending.response.events.append(message)
            return Route.LIST_ITEM, pending
        if not isinstance(message, Response):
            return Route.ORPHAN, None
        action_id = message.get("ActionID")
        pending = self._pending.get(action_id) if action_id else None
        if pending is None or pending.response is not None:
            return Route.ORPHAN, None
        response = message
        response.action_name = pending.action_name
        pending.response = response
        # res_fax writes "EventList: Start"; Asterisk's own lists "start".
        if response.is_event_list and response.success:
            self._lists += 1
            return Route.LIST_ITEM, pending
        del self._pending[pending.action_id]
        return Route.DONE, pending


def _require_success(response: Response) -> None:
    if not response.success:
        raise ActionFailed(response)


def _checked(check: Callable[[Response], None]) -> Callable[[Response], None]:
    """Return ``check`` followed by :func:`_require_success`."""

    def both(response: Response) -> None:
        check(response)
        _require_success(response)

    return both


class ClientSession(Generic[W]):
    """One client's side of one AMI connection, without any I/O.

    Feed it what the socket gave with :meth:`receive_data`; write what
    :meth:`send` returns. ``W`` is whatever the caller wants handed back with
    a completed action (an asyncio future, or nothing for a blocking loop).

    Args:
        max_frame_size: The largest message accepted, in bytes.
        event_classes: Event name to typed class, looked up with ``.get``.
        action_id_prefix: Prefix of generated ActionIDs; random by default,
            so broadcast answers (OriginateResponse) of other clients never match.
        action_ids: The counter behind generated ActionIDs, to share one
            across the sessions of successive links.
        on_error: Called with each decoder problem as it is found.

    Attributes:
        decoder: The frame decoder (``banner``, ``errors``, ``error_count``).
        tracker: The actions in flight.
    """

    def __init__(
        self,
        *,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        event_classes: Mapping[str, type[Event]] | None = None,
        action_id_prefix: str | None = None,
        action_ids: Iterator[int] | None = None,
        on_error: Callable[[ProtocolError], None] | None = None,
    ) -> None:
        self.decoder = FrameDecoder(
            max_frame_size=max_frame_size, event_classes=event_classes, on_error=on_error
        )
        self.tracker: ActionTracker[W] = ActionTracker()
        self._prefix = action_id_prefix or new_action_id_prefix()
        self._ids = action_ids if action_ids is not None else itertools.count(1)
        self._originates: dict[str, PendingAction[W]] = {}

    @property
    def banner(self) -> str | None:
        """The banner line, once received."""
        return self.decoder.banner

    @property
    def busy(self) -> bool:
        """True while an action or an originate waits for its answer."""
        return bool(len(self.tracker) or self._originates)

    def next_action_id(self) -> str:
        """Return a fresh ActionID, unique in this session."""
        return f"{self._prefix}{next(self._ids)}"

    def start(
        self, action: Action, waiter: W, *, check: bool = False
    ) -> tuple[PendingAction[W], bytes]:
        """Track an action and return it with the bytes to write.

        Args:
            action: The action; its own ActionID is used if it has one.
            waiter: Handed back when the answer is complete.
            check: Fail the action with :class:`ActionFailed` when Asterisk
                answers an error (after the action's own check).

        Returns:
            The pending record and the bytes.

        Raises:
            InvalidAction: The action cannot be sent (nothing is tracked).
        """
        action_id = action.action_id or self.next_action_id()
        # Encoding checks every header: an invalid action is refused here,
        # before anything is tracked or written.
        data = action.encode(action_id)
        pending = self.tracker.start(action_id, action.action_name, waiter)
        own = type(action).check_response is not Action.check_response
        if check:
            pending.check = _checked(action.check_response) if own else _require_success
        elif own:
            pending.check = action.check_response
        return pending, data

    def send(self, action: Action, waiter: W | None = None) -> bytes:
        """Track an action; return the bytes to write (see :meth:`start`)."""
        return self.start(action, waiter)[1]  # type: ignore[arg-type]

    def discard(self, pending: PendingAction[W]) -> None:
        """Stop waiting for an action (timed out, cancelled); a late answer is an orphan."""
        if self.tracker.get(pending.action_id) is pending:
            self.tracker.discard(pending.action_id)

    def expect_originate(self, action_id: str, waiter: W) -> PendingAction[W]:
        """Wait for the ``OriginateResponse`` of an originate sent with this ActionID.

        Raises:
            InvalidAction: An originate with this ActionID is already awaited.
        """
        if action_id in self._originates:
            raise InvalidAction(f"ActionID {action_id!r} is already in flight")
        pending = self._originates[action_id] = PendingAction(action_id, "Originate", waiter)
        return pending

    def forget_originate(self, action_id: str) -> None:
        """Stop waiting for an originate's outcome."""
        self._originates.pop(action_id, None)

    def receive_data(self, data: bytes) -> list[Received]:
        """Decode received bytes and say what each message is.

        Args:
            data: Bytes as read from the socket, cut anywhere.

        Returns:
            In wire order: events for the callbacks (list items of a pending
            action are kept on its response instead), responses no action
            claims, and completed actions (:class:`PendingAction` with
            ``response``, ``error`` or ``outcome`` set; an originate's outcome
            comes just before its event). Never raises.
        """
        messages: list[Any] = self.decoder.feed(data)
        if not len(self.tracker) and not self._originates:
            # Nothing awaited: every event is for the callbacks and every
            # response an orphan, so the decoder's list is the answer.
            return messages
        out: list[Received] = []
        append = out.append
        receive = self.tracker.receive
        originates = self._originates
        for message in messages:
            route, pending = receive(message)
            if route is Route.EVENT:
                if originates and message.event_name == "OriginateResponse":
                    waiting = originates.pop(message.get("ActionID", ""), None)
                    if waiting is not None:
                        waiting.outcome = message
                        append(waiting)
                append(message)
            elif route is Route.DONE:
                assert pending is not None and pending.response is not None
                if pending.response.complete is not None:
                    self._count_items(pending.response)
                if pending.check is not None:
                    try:
                        pending.check(pending.response)
                    except Exception as exc:  # the caller gets it, the reader goes on
                        # No traceback kept: it would tie this frame (the whole batch) to the
                        # error in a cycle only the garbage collector frees.
                        pending.error = exc.with_traceback(None)
                append(pending)
            elif route is Route.ORPHAN:
                append(message)
        return out

    @staticmethod
    def _count_items(response: Response) -> None:
        """Warn when an event list's closing event announces another item count."""
        complete = response.complete
        assert complete is not None
        announced = parse_count(complete.get("ListItems"))
        if announced is not None and announced != len(response.events):
            log.warning(
                "%s: ListItems says %d but %d items arrived",
                complete.event_name,
                announced,
                len(response.events),
            )

    def connection_lost(self) -> list[PendingAction[W]]:
        """Forget every action and originate in flight; return them to be failed."""
        lost = self.tracker.take_all()
        lost.extend(self._originates.values())
        self._originates.clear()
        return lost

    def login_steps(
        self,
        username: str,
        secret: str,
        *,
        auth: str = "md5",
        events: bool | str | list[str] | None = True,
    ) -> Generator[Action, Response, Response]:
        """Walk the login: yields each action to send, takes its response.

        With ``auth="md5"`` a Challenge comes first and the Login carries
        ``md5hex(challenge + secret)`` as ``Key`` (``main/manager.c``,
        ``authenticate``); with ``"plain"`` the Login carries the secret.

        Args:
            username: The manager.conf user.
            secret: Its secret.
            auth: ``"md5"`` or ``"plain"``.
            events: The ``Events`` header (see :func:`amiasync.auth.events_header`).

        Returns:
            The successful Login response (as the generator's return value).

        Raises:
            ValueError: ``auth`` is neither ``"md5"`` nor ``"plain"``.
            ManagerAuthError: Asterisk refused the challenge or the login.
        """
        if auth not in ("md5", "plain"):
            raise ValueError("auth is 'md5' or 'plain'")
        mask = events_header(events)
        if auth == "md5":
            reply = yield Action("Challenge", AuthType="MD5")
            challenge = reply.get("Challenge")
            if not reply.success or not challenge:
                raise ManagerAuthError(reply, f"Challenge refused: {reply.message}")
            login = Action(
                "Login",
                AuthType="MD5",
                Username=username,
                Key=md5_key(challenge, secret),
                Events=mask,
            )
        else:
            login = Action("Login", Username=username, Secret=secret, Events=mask)
        response = yield login
        if not response.success:
            raise ManagerAuthError(response, f"login refused for {username!r}: {response.message}")
        return response
