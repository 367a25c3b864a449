"""The asyncio side: one TCP (or TLS) connection to Asterisk's manager.

:class:`Manager` owns a reader task that feeds socket bytes to the sans-IO
:class:`~amiasync.frames.FrameDecoder`, hands each message to the
:class:`~amiasync.protocol.ActionTracker`, resolves one future per ActionID,
and fans events out through the :class:`~amiasync.registry.CallbackRegistry`.

Dispatch policy. Asterisk drops a client whose socket stops draining for
longer than ``writetimeout`` (100 ms by default), so the reader must never
wait long on a handler:

* plain-function handlers run inline in the reader, in registration order;
  they must be quick;
* when any handler for an event is a coroutine function, that event (and
  every event after it, until the backlog is empty, to keep the order) goes
  through a queue served by one dispatcher task, which awaits the handlers in
  order. The queue holds ``max_event_backlog`` events; when it is full the
  reader waits for room (backpressure, logged once) instead of dropping
  events or growing without bound.

When the connection is lost, every pending action fails at once with
:class:`~amiasync.exceptions.ManagerSocketError`; none is sent again.

Timeouts and writes. Action timeouts share timers: an action's deadline is
rounded up to the next multiple of :data:`TIMER_GRANULARITY` (20 ms) and
every action due in that slot is expired by one timer, so a timeout fires
never earlier than asked and at most 20 ms later. Actions sent while others
are in flight are written together, once per event-loop iteration (an action
sent while none is in flight is written at once); every action is checked
and encoded, and refused if invalid, before anything is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import functools
import logging
import math
import random
import secrets
import ssl as ssl_module
from collections.abc import Awaitable, Generator
from types import TracebackType
from typing import Any, Callable, Union, cast

from . import core
from ._compat import timeout as async_timeout
from .events import EVENT_CLASSES
from .exceptions import (
    ActionFailed,
    ActionTimeout,
    AMIError,
    InvalidAction,
    ManagerAuthError,
    ManagerSocketError,
    ProtocolError,
)
from .frames import DEFAULT_MAX_FRAME_SIZE, FrameDecoder
from .message import Action, Event, Message, Response
from .protocol import ActionTracker, PendingAction, Route
from .registry import CallbackKey, CallbackRegistry, Handler
from .stream import EventStream

__all__ = [
    "Manager",
    "connect",
    "ConnectionState",
    "OriginateResult",
    "StateHandler",
    "DEFAULT_PORT",
    "SSLOption",
]

log = logging.getLogger("amiasync")

DEFAULT_PORT = 5038
#: ``ssl=`` takes an SSLContext, True for the default context, or None/False for plain TCP.
SSLOption = Union[ssl_module.SSLContext, bool, None]

_DEFAULT: Any = object()


class ConnectionState(enum.Enum):
    """What :meth:`Manager.register_state_callback` handlers are told."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RECONNECTED = "reconnected"
    FAILED = "failed"


#: ``handler(state, manager)``, a function or coroutine function.
StateHandler = Callable[["ConnectionState", "Manager"], Any]


@dataclasses.dataclass(frozen=True)
class OriginateResult:
    """The outcome of :meth:`Manager.originate`.

    Attributes:
        success: Whether the call was placed (``Response: Success`` in the event).
        uniqueid: The new channel's Uniqueid (None on failure).
        channel: The channel name.
        reason: Asterisk's numeric reason (4 answered, 5 busy, 8 congestion,
            0 failure, 1 hung up, 3 ringing timeout).
        event: The ``OriginateResponse`` event.
        response: The immediate response to the action.
    """

    success: bool
    uniqueid: str | None
    channel: str | None
    reason: int | None
    event: Event
    response: Response


_READ_SIZE = 1 << 18
_WRITE_HIGH_WATER = 1 << 16
#: Seconds: action timeouts are rounded up to a multiple of this and share a timer.
TIMER_GRANULARITY = 0.02
#: isinstance(message, Event) by class: Event is an ABC (a Mapping), and ABC
#: checks are slow for subclasses such as the typed events. One entry per class.
_IS_EVENT: dict[type, bool] = {}


class _ReaderProtocol(asyncio.StreamReaderProtocol):
    """The socket's protocol: a StreamReader until the banner, then the manager.

    Once :attr:`on_data` is set, received bytes go straight to it from the
    event loop's read callback, with no reader task to wake in between (one
    loop iteration less per response). :attr:`on_lost` hears the end of the
    connection (EOF or loss); the StreamReader and the writer's ``drain`` and
    ``wait_closed`` keep working as with :func:`asyncio.open_connection`.
    """

    def __init__(self, reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(reader, loop=loop)
        self.on_data: Callable[[bytes], None] | None = None
        self.on_lost: Callable[[BaseException | None], None] | None = None

    def data_received(self, data: bytes) -> None:
        on_data = self.on_data
        if on_data is None:
            super().data_received(data)
        else:
            on_data(data)

    def eof_received(self) -> bool:
        keep_open = bool(super().eof_received())
        if self.on_lost is not None:
            self.on_lost(None)
        return keep_open

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.on_lost is not None:
            self.on_lost(exc)


class Manager:
    """An asyncio client for one Asterisk Manager Interface connection.

    Args:
        action_timeout: Seconds an action (with its event list) may take by default.
        connect_timeout: Seconds to open the connection and receive the banner.
        max_frame_size: The largest message accepted, in bytes.
        max_event_backlog: How many events may wait for coroutine handlers
            before the reader pauses (see the module docstring).
        action_id_prefix: Prefix of generated ActionIDs; random by default, so
            broadcast responses (OriginateResponse) of other clients never match.
    """

    def __init__(
        self,
        *,
        action_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_event_backlog: int = 10_000,
        action_id_prefix: str | None = None,
        reconnect: bool = False,
        reconnect_delay: float = 0.1,
        reconnect_max_delay: float = 1.0,
        retry_auth_failures: bool = False,
        keepalive: float | None = None,
        keepalive_timeout: float = 5.0,
    ) -> None:
        self.action_timeout = action_timeout
        self.connect_timeout = connect_timeout
        self.max_frame_size = max_frame_size
        self.max_event_backlog = max_event_backlog
        self._prefix = action_id_prefix or f"amiasync-{secrets.token_hex(3)}-"
        self._counter = 0
        self._registry = CallbackRegistry()
        self._tracker: ActionTracker[asyncio.Future[Response]] = ActionTracker()
        # Action timeouts: deadline slot (a multiple of TIMER_GRANULARITY) ->
        # the actions due then, and the one timer that expires them.
        self._deadlines: dict[int, set[PendingAction[asyncio.Future[Response]]]] = {}
        self._deadline_timers: dict[int, asyncio.TimerHandle] = {}
        # Encoded actions waiting for the end of this loop iteration, and their size.
        self._out: list[bytes] | None = None
        self._out_size = 0
        self._decoder: FrameDecoder | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._protocol: _ReaderProtocol | None = None
        self._backlog: asyncio.Queue[tuple[Message, tuple[Handler, ...]]] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._warned_backlog = False
        # True while reading is paused because the backlog is full.
        self._paused = False
        self._logged_in = False
        self._closing = False
        self._lost: asyncio.Future[None] | None = None
        #: The banner line, e.g. ``"Asterisk Call Manager/11.0.0"``, once connected.
        self.banner: str | None = None
        self.reconnect = reconnect
        self.reconnect_delay = reconnect_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.retry_auth_failures = retry_auth_failures
        self.keepalive = keepalive
        self.keepalive_timeout = keepalive_timeout
        #: The error that ended reconnecting (a refused login), if any.
        self.last_error: BaseException | None = None
        self._target: tuple[str, int, SSLOption, float | None] | None = None
        self._credentials: tuple[str, str, str, bool | str | list[str] | None] | None = None
        self._event_mask: str | None = None
        self._filters: list[str] = []
        self._originates: dict[str, asyncio.Future[Event]] = {}
        self._streams: set[EventStream] = set()
        self._state_handlers: list[StateHandler] = []
        self._reconnect_task: asyncio.Task[None] | None = None
        self._keepalive_task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        # issue 16: Asterisk sends Event: Shutdown and then closes every session
        # (main/asterisk.c, really_quit()), so the end of the link that follows
        # is expected: it is logged at INFO, not as a lost connection.
        self._shutdown_seen = False
        self._registry.register("Shutdown", self._note_shutdown)

    # -- connecting ---------------------------------------------------------

    @property
    def ami_version(self) -> str | None:
        """The AMI version from the banner (``"11.0.0"`` for Asterisk 22)."""
        return self.banner.rpartition("/")[2] if self.banner else None

    def is_connected(self) -> bool:
        """Return True while the connection is open."""
        return self._writer is not None and not self._writer.is_closing()

    @property
    def logged_in(self) -> bool:
        """True after a successful login on the current connection."""
        return self._logged_in and self.is_connected()

    async def connect(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        ssl: SSLOption = None,
        timeout: float | None = None,
    ) -> str:
        """Open the connection and wait for Asterisk's banner.

        Args:
            host: Host name or address.
            port: The manager port (5038; the TLS port is often 5039).
            ssl: An ``ssl.SSLContext``, True for the default context, or None.
            timeout: Seconds for connecting and the banner (``connect_timeout`` by default).

        Returns:
            The banner line.

        Raises:
            ManagerSocketError: The connection failed, timed out, or closed
                before the banner; or this manager is already connected.
            ProtocolError: The peer did not send an AMI banner.
        """
        if self.is_connected():
            raise ManagerSocketError("already connected")
        context = ssl_module.create_default_context() if ssl is True else (ssl or None)
        delay = self.connect_timeout if timeout is None else timeout
        decoder = FrameDecoder(max_frame_size=self.max_frame_size, event_classes=EVENT_CLASSES)
        loop = asyncio.get_running_loop()
        try:
            async with async_timeout(delay):
                # asyncio.open_connection, with a protocol that can hand the
                # bytes to this manager directly once the banner is in.
                reader = asyncio.StreamReader(limit=_READ_SIZE, loop=loop)
                protocol = _ReaderProtocol(reader, loop)
                transport, _ = await loop.create_connection(
                    lambda: protocol, host, port, ssl=context
                )
                writer = asyncio.StreamWriter(transport, protocol, reader, loop)
                try:
                    first: list[Message] = []
                    while decoder.banner is None:
                        # Everything buffered, so nothing is left in the
                        # StreamReader when the protocol switches over.
                        data = await reader.read(1 << 30)
                        if not data:
                            raise ManagerSocketError(f"{host}:{port} closed before the banner")
                        first = decoder.feed(data)
                except BaseException:
                    writer.close()
                    raise
        except asyncio.TimeoutError as exc:
            raise ManagerSocketError(f"no AMI banner from {host}:{port} in {delay} s") from exc
        except OSError as exc:
            raise ManagerSocketError(f"cannot connect to {host}:{port}: {exc}") from exc
        if not decoder.banner or "Call Manager/" not in decoder.banner:
            writer.close()
            raise ProtocolError(f"{host}:{port} did not send an AMI banner")
        self._target = (host, port, ssl, timeout)
        self.last_error = None
        self.banner = decoder.banner
        self._decoder = decoder
        self._reader, self._writer = reader, writer
        self._closing = False
        self._shutdown_seen = False
        self._logged_in = False
        self._paused = False
        self._lost = loop.create_future()
        self._report(decoder.take_errors())
        log.info("connected to %s:%s (%s)", host, port, self.banner)
        for message in first:
            self._route(message)
        # No await since the last read: from here on the protocol hands every
        # byte to _data_received, and the end of the link to _link_lost.
        self._protocol = protocol
        protocol.on_data = self._data_received
        protocol.on_lost = functools.partial(self._link_lost, protocol)
        if reader.at_eof() or reader.exception() is not None or transport.is_closing():
            # The link ended with the banner: report it as the reader would.
            loop.call_soon(self._link_lost, protocol, reader.exception())
        if self.keepalive:
            self._keepalive_task = asyncio.ensure_future(self._keepalive_loop(self.keepalive))
        if self._ready is None:
            self._ready = asyncio.Event()
        if self._credentials is None or asyncio.current_task() is not self._reconnect_task:
            self._ready.set()
        self._notify_state(ConnectionState.CONNECTED)
        return self.banner

    async def login(
        self,
        username: str,
        secret: str,
        *,
        auth: str = "md5",
        events: bool | str | list[str] | None = True,
        timeout: float | None = _DEFAULT,
    ) -> Response:
        """Log in, with a Challenge and an MD5 key by default.

        Args:
            username: The manager.conf user.
            secret: Its secret; sent only as an MD5 key unless ``auth="plain"``.
            auth: ``"md5"`` (Challenge then Login with Key) or ``"plain"``.
            events: The ``Events`` header: True, False, a class list, or None.
            timeout: Seconds for each step (``action_timeout`` by default; None
                waits as long as the connection lives).

        Returns:
            The successful Login response.

        Raises:
            ManagerAuthError: Asterisk refused the login; the connection is
                closed (Asterisk closes it too, after a one-second pause).
            ManagerSocketError: Not connected, or the connection was lost.
            ActionTimeout: No answer in time.
        """
        if auth not in ("md5", "plain"):
            raise ValueError("auth is 'md5' or 'plain'")
        if auth == "md5":
            reply = await self.send_action(core.Challenge(), timeout=timeout)
            challenge = reply.get("Challenge")
            if not reply.success or not challenge:
                raise ManagerAuthError(reply, f"Challenge refused: {reply.message}")
            login = core.Login(username, secret, challenge=challenge, events=events)
        else:
            login = core.Login(username, secret, events=events)
        response = await self.send_action(login, timeout=timeout)
        if not response.success:
            await self._abort()
            raise ManagerAuthError(response, f"login refused for {username!r}: {response.message}")
        self._logged_in = True
        self._credentials = (username, secret, auth, events)
        if self._ready is not None and asyncio.current_task() is not self._reconnect_task:
            # After a reconnect, ready waits until the session is restored.
            self._ready.set()
        log.info("logged in as %s", username)
        return response

    async def close(self, timeout: float = 2.0) -> None:
        """Log off if logged in, then close the connection.

        Pending actions fail with :class:`ManagerSocketError`; events already
        received still reach their async handlers (for up to ``timeout`` s).

        Args:
            timeout: Seconds for the Logoff answer and for draining handlers.
        """
        self._closing = True
        self._stop_task(self._reconnect_task)
        for stream in list(self._streams):
            stream.close()
        if self._writer is None:
            return
        if self.logged_in:
            with contextlib.suppress(AMIError, asyncio.TimeoutError):
                await self.send_action(core.Logoff(), timeout=timeout)
        if self._backlog is not None and self._dispatcher is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                async with async_timeout(timeout):
                    await self._backlog.join()
        await self._abort()

    async def _abort(self) -> None:
        """Close the socket at once and wait for the reader to wind down."""
        self._closing = True
        writer = self._writer
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                async with async_timeout(1.0):
                    await writer.wait_closed()
        self._connection_lost(None)
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
            self._dispatcher = None
            self._backlog = None

    async def wait_closed(self) -> None:
        """Wait until the connection is lost or closed."""
        if self._lost is not None:
            await asyncio.shield(self._lost)

    async def __aenter__(self) -> Manager:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- actions ------------------------------------------------------------

    def next_action_id(self) -> str:
        """Return a fresh ActionID, unique on this manager."""
        self._counter += 1
        return f"{self._prefix}{self._counter}"

    async def send_action(
        self, action: Action, timeout: float | None = _DEFAULT, *, check: bool = False
    ) -> Response:
        """Send an action and wait for its response (and its event list, if any).

        Args:
            action: The action to send.
            timeout: Seconds for the whole answer; ``action_timeout`` by
                default, None to wait as long as the connection lives.
            check: Raise :class:`ActionFailed` when Asterisk answers with an error.

        Returns:
            The response. For event-list actions ``response.events`` holds the
            items in order and ``response.complete`` the closing event.

        Raises:
            TypeError: ``action`` is not an :class:`Action` (a dict, say).
            InvalidAction: The ActionID cannot be sent; nothing was written.
            ManagerSocketError: Not connected, or the connection was lost
                before the answer (raised at once, never after the timeout).
            ActionTimeout: No complete answer in time. A late response then
                goes to the orphan handlers.
            ActionFailed: With ``check=True``, Asterisk answered an error.
        """
        if not isinstance(action, Action):
            # issue 16: a panoramisk-style dict would fail later with an AttributeError.
            raise TypeError(
                f"send_action() takes an Action, not {type(action).__name__}: "
                'write core.Ping() or amiasync.Action("QueueAdd", {"Queue": "support"})'
            )
        writer = self._writer
        if writer is None or writer.is_closing():
            raise ManagerSocketError(f"not connected; {action.action_name} not sent")
        action_id = action.action_id or self.next_action_id()
        # Encoding checks every header: an invalid action is refused here,
        # before anything is queued or written.
        data = action.encode(action_id)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Response] = loop.create_future()
        tracker = self._tracker
        pending = tracker.start(action_id, action.action_name, future)
        delay = self.action_timeout if timeout is _DEFAULT else timeout
        if delay is not None and delay < math.inf:
            # One timer per deadline slot, never earlier than asked.
            slot = int((loop.time() + delay) / TIMER_GRANULARITY) + 1
            due = self._deadlines.get(slot)
            if due is None:
                due = self._deadlines[slot] = set()
                self._deadline_timers[slot] = loop.call_at(
                    slot * TIMER_GRANULARITY, self._expire, slot
                )
            due.add(pending)
            pending.timer = slot
            pending.timeout = delay
        if log.isEnabledFor(logging.DEBUG):
            log.debug("send %s %s %s", action.action_name, action_id, action.redacted())
        try:
            out = self._out
            if out is not None:
                # Others were sent in this loop iteration: one write for all.
                out.append(data)
                self._out_size += len(data)
                if self._out_size > _WRITE_HIGH_WATER:
                    self._flush()
            elif len(tracker) > 1:
                # Others are in flight, so more may be sent in this iteration.
                self._out = [data]
                self._out_size = len(data)
                loop.call_soon(self._flush)
            else:
                writer.write(data)
            if writer.transport.get_write_buffer_size() > _WRITE_HIGH_WATER:
                await writer.drain()
            response = await future
        except BaseException as exc:
            self._forget(pending)
            if isinstance(exc, (ConnectionError, OSError)) and not isinstance(exc, AMIError):
                raise ManagerSocketError(f"{action.action_name} not sent: {exc}") from exc
            raise
        if check and not response.success:
            raise ActionFailed(response)
        return response

    def _flush(self) -> None:
        """Write the actions queued in this loop iteration, in one piece."""
        out, self._out = self._out, None
        writer = self._writer
        if not out or writer is None or writer.is_closing():
            # Lost or closing: their actions fail with the connection.
            return
        try:
            writer.write(b"".join(out))
        except Exception as exc:
            log.warning("write failed, dropping the link: %s", exc)
            writer.transport.abort()

    def _forget(self, pending: PendingAction[asyncio.Future[Response]]) -> None:
        if self._tracker.get(pending.action_id) is pending:
            self._tracker.discard(pending.action_id)
        self._untime(pending)

    def _untime(self, pending: PendingAction[asyncio.Future[Response]]) -> None:
        slot = pending.timer
        if slot is not None:
            due = self._deadlines.get(slot)
            if due is not None:
                due.discard(pending)

    def _expire(self, slot: int) -> None:
        """Time out the actions due in this deadline slot that are still in flight."""
        self._deadline_timers.pop(slot, None)
        due = self._deadlines.pop(slot, None)
        if not due:
            return
        tracker = self._tracker
        for pending in due:
            if tracker.get(pending.action_id) is not pending:
                continue
            tracker.discard(pending.action_id)
            if not pending.waiter.done():
                got = " (event list incomplete)" if pending.response is not None else ""
                pending.waiter.set_exception(
                    ActionTimeout(
                        f"{pending.action_name} {pending.action_id}: "
                        f"no answer in {pending.timeout} s{got}"
                    )
                )

    async def command(self, command: str, timeout: float | None = _DEFAULT) -> list[str]:
        """Run a CLI command and return its output lines, all of them, in order.

        Args:
            command: The CLI command, e.g. ``"core show channels"``.
            timeout: Seconds to wait (``action_timeout`` by default).

        Returns:
            The output lines.

        Raises:
            ActionFailed: Asterisk reported the command failed (unknown
                command, or the command returned an error).
        """
        response = await self.send_action(core.Command(command), timeout=timeout)
        if not response.success:
            raise ActionFailed(
                response,
                f"command {command!r} failed: "
                + "\n".join(response.output or [response.message or "error"]),
            )
        return response.output

    async def ping(self, timeout: float | None = _DEFAULT) -> Response:
        """Send a Ping and return the Pong response."""
        return await self.send_action(core.Ping(), timeout=timeout, check=True)

    async def originate(self, action: Action, timeout: float | None = 30.0) -> OriginateResult:
        """Originate a call and wait for its outcome (the ``OriginateResponse`` event).

        The action is sent with ``Async: true``; Asterisk answers at once and
        later broadcasts ``OriginateResponse`` with the same ActionID, which
        this method waits for (the event also reaches the callbacks). The
        session must receive ``call`` events for that to arrive.

        Args:
            action: An ``Originate`` action (``amiasync.actions.Originate``).
            timeout: Seconds for the whole call set-up, None for no limit.

        Returns:
            The outcome: ``success``, the channel's ``uniqueid`` and ``reason``.

        Raises:
            InvalidAction: The action is not an Originate.
            ActionFailed: Asterisk refused to queue the originate.
            ActionTimeout: No OriginateResponse in time.
            ManagerSocketError: The connection was lost meanwhile.
        """
        if action.action_name.lower() != "originate":
            raise InvalidAction(f"originate() takes an Originate action, not {action.action_name}")
        action_id = action.action_id or self.next_action_id()
        headers = [(k, v) for k, v in action.headers if k.lower() != "async"]
        request = Action("Originate", [*headers, ("Async", "true")], action_id=action_id)
        if action_id in self._originates:
            raise InvalidAction(f"ActionID {action_id!r} is already in flight")
        outcome: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        # Registered before sending: the event may overtake nothing, but the
        # waiter must exist whatever order Asterisk writes in.
        self._originates[action_id] = outcome
        try:
            async with async_timeout(timeout):
                response = await self.send_action(request, timeout=None)
                if not response.success:
                    raise ActionFailed(response)
                event = await outcome
        except asyncio.TimeoutError as exc:
            raise ActionTimeout(
                f"Originate {action_id}: no OriginateResponse in {timeout} s"
            ) from exc
        finally:
            self._originates.pop(action_id, None)
        reason = event.get("Reason", "")
        uniqueid = event.get("Uniqueid")
        return OriginateResult(
            success=event.get("Response", "").lower() == "success",
            uniqueid=None if uniqueid in (None, "", "<null>") else uniqueid,
            channel=event.get("Channel"),
            reason=int(reason) if reason.isdigit() else None,
            event=event,
            response=response,
        )

    def events(self, *keys: CallbackKey, maxsize: int = 1000) -> EventStream:
        """Return an async iterator over matching events (see :mod:`amiasync.stream`).

        Args:
            *keys: Event names, globs or classes; none for every event.
            maxsize: The queue bound; past it the oldest event is dropped and counted.

        Returns:
            An :class:`EventStream`, also an async context manager that unsubscribes.
        """
        stream = EventStream(self, keys, maxsize)
        self._streams.add(stream)
        return stream

    async def set_events(self, mask: bool | str | list[str]) -> Response:
        """Set the session's events mask (the ``Events`` action); kept across reconnects.

        Args:
            mask: True (``on``), False (``off``), or classes such as ``["call", "system"]``.

        Returns:
            The response.

        Raises:
            ActionFailed: Asterisk refused the mask.
        """
        value = core.events_header(mask) or "on"
        response = await self.send_action(core.Events(value), check=True)
        self._event_mask = value
        return response

    async def add_filter(self, pattern: str) -> Response:
        """Add an event filter (the ``Filter`` action); kept across reconnects.

        Args:
            pattern: A regular expression matched against each event's text;
                a leading ``!`` excludes matching events.

        Returns:
            The response.

        Raises:
            ActionFailed: Asterisk refused the filter (bad regex, or missing
                the ``system`` write permission).
        """
        response = await self.send_action(core.Filter(pattern), check=True)
        self._filters.append(pattern)
        return response

    # -- callbacks ----------------------------------------------------------

    def register_callback(self, key: CallbackKey, handler: Handler) -> None:
        """Call ``handler(message, manager)`` for matching events or orphan responses.

        Args:
            key: An event name or glob, an event class, ``""`` for every
                event, or ``None`` for responses no pending action claims.
            handler: A function or coroutine function. Handlers run in the
                order they were registered; one that raises is logged and the
                others still run.

        Raises:
            TypeError: The key or handler is of the wrong kind.
        """
        self._registry.register(key, handler)

    def unregister_callback(self, key: CallbackKey, handler: Handler) -> bool:
        """Remove a callback registered with :meth:`register_callback`.

        Returns:
            True if it was registered.
        """
        return self._registry.unregister(key, handler)

    # -- reading ------------------------------------------------------------

    def _data_received(self, data: bytes) -> None:
        """Decode and route what the socket gave (called by the protocol)."""
        decoder = self._decoder
        assert decoder is not None
        messages = decoder.feed(data)
        if decoder.errors:
            self._report(decoder.take_errors())
        backlog = self._backlog
        if len(self._tracker) or self._originates or (backlog is not None and backlog.qsize()):
            route = self._route
            for message in messages:
                route(message)
        else:
            # The common case: events, no action in flight, no queued event.
            # Every event then takes _route's EVENT branch, unrolled here,
            # and _dispatch's inline branch (_call_inline). Nothing a sync handler does can
            # start an action, an originate or the backlog before this loop
            # ends (those happen in tasks), except an async handler: from
            # then on, _route again.
            registry = self._registry
            cache = registry._cache
            for_event = registry.for_event
            call_inline = self._call_inline
            is_event = _IS_EVENT
            remaining = iter(messages)
            for message in remaining:
                kind = message.__class__
                event = is_event.get(kind)
                if event is None:
                    event = is_event[kind] = isinstance(message, Event)
                if not event:
                    self._route(message)
                    for message in remaining:
                        self._route(message)
                    break
                name = message.event_name  # type: ignore[attr-defined]
                found = cache.get(name)
                handlers, any_async = found if found is not None else for_event(name)
                if not handlers:
                    continue
                if any_async:
                    self._dispatch(message, handlers, any_async)
                    for message in remaining:
                        self._route(message)
                    break
                call_inline(message, handlers)
        backlog = self._backlog
        if backlog is not None and backlog.qsize() >= self.max_event_backlog:
            self._pause_reading()

    def _link_lost(self, protocol: _ReaderProtocol, cause: BaseException | None) -> None:
        """The protocol's end-of-link report; ignored once that link is replaced."""
        if protocol is self._protocol:
            self._connection_lost(cause)

    def _report(self, errors: list[ProtocolError]) -> None:
        for error in errors:
            log.warning("protocol error, message skipped: %s", error)

    def _route(self, message: Message) -> None:
        kind, pending = self._tracker.receive(message)
        if kind is Route.EVENT:
            # _data_received unrolls this branch (with _dispatch's inline one) for
            # batches read while no action, originate or queued event waits:
            # a change here must be made there too, or that case excluded.
            if self._originates and message.event_name == "OriginateResponse":  # type: ignore[attr-defined]
                waiter = self._originates.get(message.get("ActionID", ""))
                if waiter is not None and not waiter.done():
                    waiter.set_result(message)  # type: ignore[arg-type]
            handlers, any_async = self._registry.for_event(message.event_name)  # type: ignore[attr-defined]
            if handlers:
                self._dispatch(message, handlers, any_async)
        elif kind is Route.DONE:
            assert pending is not None and pending.response is not None
            if pending.timer is not None:
                self._untime(pending)
            self._check_list(pending.response)
            if not pending.waiter.done():
                pending.waiter.set_result(pending.response)
        elif kind is Route.ORPHAN:
            handlers, any_async = self._registry.for_orphans()
            if handlers:
                self._dispatch(message, handlers, any_async)
            else:
                log.debug("orphan response dropped: %r", message)

    @staticmethod
    def _check_list(response: Response) -> None:
        complete = response.complete
        if complete is None:
            return
        announced = complete.get("ListItems")
        if announced is not None and announced.isdigit() and int(announced) != len(response.events):
            log.warning(
                "%s: ListItems says %s but %d items arrived",
                complete.event_name,
                announced,
                len(response.events),
            )

    def _call_inline(self, message: Message, handlers: tuple[Handler, ...]) -> None:
        """Run plain-function handlers in the reader, in order; log one that raises."""
        for handler in handlers:
            try:
                result = handler(message, self)
            except Exception:
                log.exception("callback %r raised on %r", handler, _name(message))
                continue
            if result is not None and isinstance(result, Awaitable):
                # A sync function that returned an awaitable (a lambda
                # around a coroutine): run it without blocking the reader.
                task = asyncio.ensure_future(result)
                task.add_done_callback(self._log_task_error)

    def _dispatch(self, message: Message, handlers: tuple[Handler, ...], any_async: bool) -> None:
        backlog = self._backlog
        if not any_async and (backlog is None or backlog.empty()):
            self._call_inline(message, handlers)
            return
        if backlog is None:
            backlog = self._backlog = asyncio.Queue()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.ensure_future(self._dispatch_loop(backlog))
        backlog.put_nowait((message, handlers))

    def _pause_reading(self) -> None:
        """Stop reading until the backlog is down to half (see _dispatch_loop)."""
        if not self._warned_backlog:
            self._warned_backlog = True
            log.warning(
                "async handlers are %d events behind; pausing the reader", self.max_event_backlog
            )
        writer = self._writer
        if not self._paused and writer is not None and not writer.is_closing():
            self._paused = True
            cast(asyncio.ReadTransport, writer.transport).pause_reading()

    def _resume_reading(self) -> None:
        if self._paused:
            self._paused = False
            writer = self._writer
            if writer is not None and not writer.is_closing():
                cast(asyncio.ReadTransport, writer.transport).resume_reading()

    async def _dispatch_loop(
        self, backlog: asyncio.Queue[tuple[Message, tuple[Handler, ...]]]
    ) -> None:
        low_water = self.max_event_backlog // 2
        while True:
            message, handlers = await backlog.get()
            try:
                for handler in handlers:
                    try:
                        result = handler(message, self)
                        if isinstance(result, Awaitable):
                            await result
                    except Exception:
                        log.exception("callback %r raised on %r", handler, _name(message))
            finally:
                backlog.task_done()
                if self._paused and backlog.qsize() <= low_water:
                    self._resume_reading()

    @staticmethod
    def _log_task_error(task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("callback task failed", exc_info=task.exception())

    def _connection_lost(self, cause: BaseException | None) -> None:
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        self._reader = None
        self._protocol = None
        self._logged_in = False
        self._paused = False
        self._out = None
        writer.close()
        if self._closing:
            reason = "connection closed"
        elif self._shutdown_seen:
            reason = "connection closed by Asterisk after Shutdown"
        else:
            reason = "connection lost"
        if cause is not None:
            reason = f"{reason}: {cause}"
        for timer in self._deadline_timers.values():
            timer.cancel()
        self._deadline_timers.clear()
        self._deadlines.clear()
        for pending in self._tracker.take_all():
            if not pending.waiter.done():
                error = ManagerSocketError(f"{pending.action_name} {pending.action_id}: {reason}")
                error.__cause__ = cause
                pending.waiter.set_exception(error)
        for action_id, waiter in list(self._originates.items()):
            if not waiter.done():
                error = ManagerSocketError(f"Originate {action_id}: {reason}")
                error.__cause__ = cause
                waiter.set_exception(error)
        self._stop_task(self._keepalive_task)
        if self._ready is not None:
            self._ready.clear()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        expected = self._closing or self._shutdown_seen
        log.log(logging.INFO if expected else logging.WARNING, "%s", reason)
        self._notify_state(ConnectionState.DISCONNECTED)
        reconnecting = self._reconnect_task is not None and not self._reconnect_task.done()
        if self.reconnect and not self._closing and self._target is not None and not reconnecting:
            self._reconnect_task = asyncio.ensure_future(self._reconnect_loop())

    def _note_shutdown(self, event: Message, manager: Manager) -> None:
        self._shutdown_seen = True

    @staticmethod
    def _stop_task(task: asyncio.Task[Any] | None) -> None:
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()

    # -- staying connected --------------------------------------------------

    def register_state_callback(self, handler: StateHandler) -> None:
        """Call ``handler(state, manager)`` when the connection changes state.

        States are :class:`ConnectionState` values: ``CONNECTED`` after every
        successful connect, ``DISCONNECTED`` when the link goes,
        ``RECONNECTED`` once an automatic reconnect has logged in again and
        restored the events mask and filters (the moment to resync, e.g.
        re-read CoreShowChannels), and ``FAILED`` when reconnecting stopped
        for good (a refused login). Handlers may be coroutine functions.

        Args:
            handler: The callback.
        """
        self._state_handlers.append(handler)

    def _notify_state(self, state: ConnectionState) -> None:
        for handler in self._state_handlers:
            try:
                result = handler(state, self)
                if isinstance(result, Awaitable):
                    asyncio.ensure_future(result).add_done_callback(self._log_task_error)
            except Exception:
                log.exception("state callback %r raised on %s", handler, state.value)

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until connected and, if a login was made before, logged in again.

        Args:
            timeout: Seconds to wait; None waits as long as it takes.

        Raises:
            ActionTimeout: Not ready in time.
            ManagerSocketError: Never connected, or reconnecting gave up.
        """
        if self._ready is None:
            raise ManagerSocketError("never connected")
        try:
            async with async_timeout(timeout):
                while True:
                    if self.last_error is not None and not self.is_connected():
                        raise ManagerSocketError("reconnecting gave up") from self.last_error
                    if self._ready.is_set():
                        return
                    await self._ready.wait()
        except asyncio.TimeoutError as exc:
            raise ActionTimeout(f"not connected after {timeout} s") from exc

    async def _reconnect_loop(self) -> None:
        """Reconnect with capped exponential backoff and jitter, then restore the session.

        The delay starts at ``reconnect_delay`` and doubles up to
        ``reconnect_max_delay``, each wait shortened by up to 20 % at random
        so that many clients do not reconnect in step. The cap is low by
        default (1 s) so the manager is back within a second of Asterisk
        accepting connections; a refused TCP connect costs nothing.
        """
        assert self._target is not None
        host, port, ssl, timeout = self._target
        delay = self.reconnect_delay
        while not self._closing:
            await asyncio.sleep(delay * random.uniform(0.8, 1.0))
            delay = min(delay * 2, self.reconnect_max_delay)
            try:
                await self.connect(host, port, ssl=ssl, timeout=timeout)
                if self._credentials is not None:
                    username, secret, auth, events = self._credentials
                    await self.login(username, secret, auth=auth, events=events)
                await self._restore_session()
            except ManagerAuthError as exc:
                if self.retry_auth_failures:
                    log.warning("reconnect: login refused (%s); retrying", exc)
                    continue
                # Asterisk sleeps a second and closes on every failed login:
                # retrying in a loop is a storm against a wrong secret.
                log.error("reconnect: login refused, giving up: %s", exc)
                self.last_error = exc
                if self._ready is not None:
                    self._ready.set()
                self._notify_state(ConnectionState.FAILED)
                return
            except (AMIError, OSError) as exc:
                log.info(
                    "reconnect to %s:%s failed (%s); next try in %.2f s", host, port, exc, delay
                )
                if self._writer is not None:
                    await self._abort_quietly()
                continue
            if self._ready is not None:
                self._ready.set()
            log.info("reconnected to %s:%s", host, port)
            self._notify_state(ConnectionState.RECONNECTED)
            return

    async def _abort_quietly(self) -> None:
        closing, self._closing = self._closing, True
        writer, self._writer = self._writer, None
        # Whatever the old link still reports is ignored from now on.
        self._protocol = None
        self._out = None
        if writer is not None:
            writer.close()
        self._stop_task(self._keepalive_task)
        self._closing = closing

    async def _restore_session(self) -> None:
        if self._event_mask is not None:
            await self.send_action(core.Events(self._event_mask), check=True)
        for pattern in self._filters:
            await self.send_action(core.Filter(pattern), check=True)

    async def _keepalive_loop(self, interval: float) -> None:
        """Ping every ``interval`` s; no Pong in ``keepalive_timeout`` s means the link is dead.

        A Ping action, never a bare CRLF: Asterisk answers an empty line with
        ``Missing action in request``, which would be an orphan response.
        """
        while True:
            await asyncio.sleep(interval)
            if not self.is_connected():
                return
            try:
                await self.send_action(core.Ping(), timeout=self.keepalive_timeout)
            except ActionTimeout:
                log.warning("keepalive: no Pong in %s s; dropping the link", self.keepalive_timeout)
                writer = self._writer
                if writer is not None:
                    writer.transport.abort()
                return
            except AMIError:
                return


def _name(message: Message) -> str:
    return getattr(message, "event_name", None) or message.get("Response", "?")


class connect:  # noqa: N801 - used as a function: ``async with amiasync.connect(...)``
    """Connect and log in; use as ``async with`` or ``await``.

    ``async with amiasync.connect(host, username=..., secret=...) as manager:``
    closes (with Logoff) on exit; ``manager = await amiasync.connect(...)``
    leaves closing to the caller.

    Args:
        host: Host name or address.
        port: The manager port.
        username: The manager.conf user; no login when None.
        secret: Its secret.
        ssl: An ``ssl.SSLContext``, True for the default context, or None.
        auth: ``"md5"`` or ``"plain"``.
        events: The ``Events`` header for the login.
        **options: Keyword arguments for :class:`Manager`.

    Raises:
        ManagerSocketError: The connection failed.
        ManagerAuthError: The login was refused.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        username: str | None = None,
        secret: str | None = None,
        ssl: SSLOption = None,
        auth: str = "md5",
        events: bool | str | list[str] | None = True,
        **options: Any,
    ) -> None:
        self._args = (host, port, ssl)
        self._login = (username, secret, auth, events)
        self.manager = Manager(**options)

    async def _open(self) -> Manager:
        host, port, ssl = self._args
        username, secret, auth, events = self._login
        await self.manager.connect(host, port, ssl=ssl)
        if username is not None:
            try:
                await self.manager.login(username, secret or "", auth=auth, events=events)
            except BaseException:
                await self.manager.close()
                raise
        return self.manager

    def __await__(self) -> Generator[Any, None, Manager]:
        return self._open().__await__()

    async def __aenter__(self) -> Manager:
        return await self._open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.manager.close()
