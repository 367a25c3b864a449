"""The manager: one supervised session with Asterisk's manager interface.

:class:`Manager` composes three parts and supervises them:

* a :class:`~amiasync.link.Connection` per link (transport, reads and writes,
  action deadlines, write batching and backpressure), driving the sans-IO
  :class:`~amiasync.protocol.ClientSession`;
* one :class:`~amiasync.dispatcher.Dispatcher` (plain handlers inline,
  coroutine handlers in an ordered backlog, reader pause and resume);
* the supervision itself: reconnect driven by the sans-IO
  :func:`~amiasync.backoff.backoff` generator, keepalive, state callbacks,
  :meth:`Manager.wait_ready`, and restoring the events mask and filters
  after a reconnect.

Every await ends: actions have deadlines that cover the write, ``close()``
aborts a link it cannot flush, ``wait_ready()`` raises once nothing more
will happen, and :meth:`Manager.events` streams end or raise when the link
drops for good.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import itertools
import logging
import ssl as ssl_module
import weakref
from collections.abc import Awaitable, Generator, Iterator
from types import TracebackType
from typing import Any, Callable, TypeVar, Union, overload

from ._compat import timeout as async_timeout
from .auth import events_header
from .backoff import backoff
from .dispatcher import Dispatcher
from .events import EVENT_CLASSES
from .exceptions import (
    ActionFailed,
    ActionTimeout,
    AMIError,
    ConnectionClosed,
    ConnectionLost,
    InvalidAction,
    InvalidState,
    ManagerAuthError,
    ManagerSocketError,
    ProtocolError,
)
from .frames import DEFAULT_MAX_FRAME_SIZE
from .link import TIMER_GRANULARITY, ActionCall, Connection
from .message import Action, Event, Response
from .protocol import ClientSession, OriginateResult, new_action_id_prefix
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
    "USE_DEFAULT",
    "UseDefault",
    "TIMER_GRANULARITY",
]

log = logging.getLogger("amiasync")

DEFAULT_PORT = 5038
#: ``ssl=`` takes an SSLContext, True for the default context, or None/False for plain TCP.
SSLOption = Union[ssl_module.SSLContext, bool, None]
#: The ``events`` choice of a login: True (``on``), False (``off``), a class
#: list such as ``["call", "system"]``, a ready string, or None (leave it out).
EventsOption = Union[bool, str, list[str], None]


class UseDefault:
    """The type of :data:`USE_DEFAULT`: "use the manager's own setting" (httpx's idea).

    A timeout of ``None`` means "no limit", so leaving a timeout out needs a
    value of its own.
    """

    _instance: UseDefault | None = None

    def __new__(cls) -> UseDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "USE_DEFAULT"


#: Passed (or left) as a timeout: use the manager's ``action_timeout``.
USE_DEFAULT = UseDefault()


class ConnectionState(enum.Enum):
    """What :meth:`Manager.register_state_callback` handlers are told."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RECONNECTED = "reconnected"
    FAILED = "failed"


#: ``handler(state, manager)``, a function or coroutine function.
StateHandler = Callable[["ConnectionState", "Manager"], Any]
#: An event class, for the typed overloads of events() and register_callback().
_E = TypeVar("_E", bound=Event)

#: Protocol errors logged per link; the rest are only counted.
_LOGGED_ERRORS = 10


class Manager:
    """An asyncio client for the Asterisk Manager Interface.

    Args:
        action_timeout: Seconds an action (with its event list, and its write)
            may take by default.
        connect_timeout: Seconds to open the connection and receive the banner.
        max_frame_size: The largest message accepted, in bytes; a larger one
            is skipped and counted in :attr:`protocol_errors`.
        max_event_backlog: How many events may wait for coroutine handlers
            before the reader pauses (see :mod:`amiasync.dispatcher`).
        action_id_prefix: Prefix of generated ActionIDs; random by default, so
            broadcast responses (OriginateResponse) of other clients never match.
        reconnect: Reconnect (and log in again, and restore the events mask
            and filters) when the link drops; the first :meth:`connect` is
            retried the same way.
        reconnect_delay: The first reconnect delay, in seconds.
        reconnect_max_delay: The cap on the delay, which doubles while links
            keep dying young.
        retry_auth_failures: With ``reconnect``, keep retrying (with the
            same backoff) when a login is refused, the first one included,
            instead of giving up (state ``FAILED``).
        keepalive: Seconds between keepalive Pings; None for none.
        keepalive_timeout: Seconds a keepalive Ping may take before the link
            is declared dead and dropped.

    Attributes:
        banner: The banner line, e.g. ``"Asterisk Call Manager/11.0.0"``, once connected.
        last_error: The error that ended reconnecting (a refused login), if any.
        protocol_errors: How many malformed or oversized frames were skipped.
        recent_protocol_errors: The last 100 of them.
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
        self.reconnect = reconnect
        self.reconnect_delay = reconnect_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.retry_auth_failures = retry_auth_failures
        self.keepalive = keepalive
        self.keepalive_timeout = keepalive_timeout
        self.banner: str | None = None
        self.last_error: BaseException | None = None
        self.protocol_errors = 0
        self.recent_protocol_errors: collections.deque[ProtocolError] = collections.deque(
            maxlen=100
        )
        self._prefix = action_id_prefix or new_action_id_prefix()
        self._ids = itertools.count(1)
        self._registry = CallbackRegistry()
        self._dispatcher = Dispatcher(
            self._registry,
            self,
            max_backlog=max_event_backlog,
            pause=self._pause_reading,
            resume=self._resume_reading,
        )
        self._link: Connection | None = None
        # The loop of the last link, for send_action() called from another thread.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._logged_errors = 0
        self._logged_in = False
        self._ready = False
        # Set by close() and by a final failure: no more reconnects.
        self._stopped = False
        self._final: ManagerSocketError | None = None
        self._changed: asyncio.Future[None] | None = None
        self._target: tuple[str, int, SSLOption, float | None] | None = None
        self._credentials: tuple[str, str, str, EventsOption] | None = None
        self._event_mask: str | None = None
        self._filters: list[str] = []
        self._streams: weakref.WeakSet[EventStream[Any]] = weakref.WeakSet()
        self._state_handlers: list[StateHandler] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._keepalive_task: asyncio.Task[None] | None = None
        self._delays: Iterator[float] = self._new_backoff()
        self._link_started = 0.0
        # Asterisk publishes Event: Shutdown before it closes every session
        # (main/asterisk.c, really_quit()), so the end of the link that follows
        # is expected: it is logged at INFO, not as a lost connection.
        self._shutdown_seen = False
        self._registry.register("Shutdown", self._note_shutdown)

    # -- state ----------------------------------------------------------------

    @property
    def ami_version(self) -> str | None:
        """The AMI version from the banner (``"11.0.0"`` for Asterisk 22)."""
        return self.banner.rpartition("/")[2] if self.banner else None

    def is_connected(self) -> bool:
        """Return True while a link is open."""
        return self._link is not None and self._link.is_open

    @property
    def logged_in(self) -> bool:
        """True after a successful login on the current link."""
        return self._logged_in and self.is_connected()

    def _notify_changed(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None and not changed.done():
            changed.set_result(None)

    def _set_ready(self, ready: bool) -> None:
        self._ready = ready
        self._notify_changed()

    # -- connecting -----------------------------------------------------------

    async def connect(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        ssl: SSLOption = None,
        timeout: float | None = None,
    ) -> str:
        """Open the connection and wait for Asterisk's banner.

        With ``reconnect=True`` a failed attempt is retried with the same
        backoff as a lost link, until one succeeds or :meth:`close` is called.

        Args:
            host: Host name or address.
            port: The manager port (5038; the TLS port is often 5039).
            ssl: An ``ssl.SSLContext``, True for the default context, or None.
            timeout: Seconds for each attempt (``connect_timeout`` by default).

        Returns:
            The banner line.

        Raises:
            InvalidState: This manager is already connected.
            ManagerSocketError: The connection failed, timed out, or closed
                before the banner.
            ProtocolError: The peer sent no AMI banner.
        """
        if self.is_connected():
            raise InvalidState("already connected")
        self._target = (host, port, ssl, timeout)
        self._stopped = False
        self._final = None
        self.last_error = None
        while True:
            try:
                return await self._open_link()
            except (ManagerSocketError, ProtocolError) as exc:
                if not self.reconnect or self._stopped:
                    raise
                delay = next(self._delays)
                log.info("connect to %s:%s failed (%s); next try in %.2f s", host, port, exc, delay)
                await asyncio.sleep(delay)
                if self._stopped:
                    raise InvalidState("closed while connecting") from exc

    async def _open_link(self) -> str:
        assert self._target is not None
        host, port, ssl, timeout = self._target
        context = ssl_module.create_default_context() if ssl is True else (ssl or None)
        session: ClientSession[Any] = ClientSession(
            max_frame_size=self.max_frame_size,
            event_classes=EVENT_CLASSES,
            action_id_prefix=self._prefix,
            action_ids=self._ids,
            on_error=self._protocol_error,
        )
        link = Connection(session, self._dispatcher, self._link_lost)
        self._logged_errors = 0
        banner = await link.open(
            host, port, context, self.connect_timeout if timeout is None else timeout
        )
        if not link.is_open:
            raise ConnectionLost(f"{host}:{port} closed right after the banner")
        self._link = link
        self.banner = banner
        self._shutdown_seen = False
        self._logged_in = False
        self._loop = asyncio.get_running_loop()
        self._link_started = self._loop.time()
        log.info("connected to %s:%s (%s)", host, port, banner)
        if self.keepalive:
            self._keepalive_task = asyncio.ensure_future(self._keepalive_loop(link))
        if self._credentials is None or asyncio.current_task() is not self._supervisor:
            self._set_ready(True)
        self._notify_state(ConnectionState.CONNECTED)
        return banner

    async def login(
        self,
        username: str,
        secret: str,
        *,
        auth: str = "md5",
        events: EventsOption = True,
        timeout: float | UseDefault | None = USE_DEFAULT,
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
                closed (Asterisk closes it too, after a one-second pause) and
                not reopened, unless ``reconnect`` and ``retry_auth_failures``
                are both on: then the reconnect loop retries, with backoff.
            InvalidState: Not connected.
            ManagerSocketError: The connection was lost.
            ActionTimeout: No answer in time. With ``reconnect`` on, this and
                a lost connection drop the link, and the reconnect loop logs
                in (with these credentials) on a new one.
        """
        link = self._require_link("Login")
        steps = link.session.login_steps(username, secret, auth=auth, events=events)
        previous = self._credentials
        # Kept before the answer: a link that drops mid-login is then
        # reconnected and logged in like any other (with reconnect on).
        self._credentials = (username, secret, auth, events)
        try:
            action = next(steps)
            while True:
                reply = await self.send_action(action, timeout=timeout)
                action = steps.send(reply)
        except StopIteration as done:
            response: Response = done.value
        except ManagerAuthError as exc:
            if asyncio.current_task() is not self._supervisor and not (
                self.reconnect and self.retry_auth_failures
            ):
                # A refused login is final: no reconnect would do better.
                self._stopped = True
                self.last_error = exc
                self._credentials = previous
            # Otherwise the reconnect loop, started when this link ends, retries.
            await link.close()
            raise
        except InvalidAction:
            # Refused before sending (a CR in the username): a reconnect must
            # not try these credentials again and again.
            self._credentials = previous
            raise
        except (ActionTimeout, ManagerSocketError):
            if self.reconnect:
                # Unanswered in time, the Login may still be granted later,
                # leaving a session logged in on Asterisk's side (so its
                # authtimeout no longer closes it) that this side never
                # learns about; and nothing would log this link in again: a
                # keepalive Ping before login is answered "Permission
                # denied" (main/manager.c, process_message()), an answer all
                # the same. So the link goes: a late answer can only reach
                # it, and the reconnect loop logs in on a new one.
                link.abort()
            raise
        self._logged_in = True
        if asyncio.current_task() is not self._supervisor:
            # After a reconnect, ready waits until the session is restored.
            self._set_ready(True)
        log.info("logged in as %s", username)
        return response

    def _require_link(self, what: str) -> Connection:
        link = self._link
        if link is None or not link.is_open:
            if self._final is not None:
                raise ConnectionLost(f"{what} not sent: {self._final}") from self._final
            if self._stopped and self._target is not None:
                raise InvalidState(f"closed; {what} not sent")
            raise InvalidState(f"not connected; {what} not sent")
        return link

    async def close(self, timeout: float = 2.0) -> None:
        """Log off if logged in, then close the connection; never waits longer than needed.

        Pending actions fail with :class:`ConnectionClosed`; events already
        received still reach their coroutine handlers (for up to ``timeout``
        s; at once when called from one of them). A link that cannot be
        flushed (the peer stopped reading) is aborted.

        Args:
            timeout: Seconds for the Logoff answer and for draining handlers.
        """
        self._stopped = True
        current = asyncio.current_task()
        for task in (self._supervisor, self._keepalive_task):
            if task is not None and task is not current and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        link = self._link
        if link is not None and link.is_open:
            if self._logged_in:
                with contextlib.suppress(AMIError):
                    await link.request(Action("Logoff"), timeout)
            await self._dispatcher.drain(timeout)
            await link.close(timeout=1.0)
        for stream in list(self._streams):
            stream.close()
        await self._dispatcher.stop()
        self._set_ready(False)

    async def wait_closed(self) -> None:
        """Wait until the current link is lost or closed."""
        if self._link is not None:
            await self._link.wait_closed()

    async def __aenter__(self) -> Manager:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- actions --------------------------------------------------------------

    def next_action_id(self) -> str:
        """Return a fresh ActionID, unique on this manager."""
        return f"{self._prefix}{next(self._ids)}"

    def send_action(
        self,
        action: Action,
        timeout: float | UseDefault | None = USE_DEFAULT,
        *,
        check: bool = False,
    ) -> ActionCall:
        """Send an action; what comes back is awaited for its response (and event list).

        Args:
            action: The action to send.
            timeout: Seconds for the whole answer, the write included;
                ``action_timeout`` by default, None to wait as long as the
                connection lives.
            check: Raise :class:`ActionFailed` when Asterisk answers with an error.

        The action is written at once (not when the result is first awaited);
        what comes back is an :class:`~amiasync.link.ActionCall`, a future of
        the response that is also a coroutine: ``await`` it, ``gather`` many
        (no task per action), or hand it to ``asyncio.create_task``.
        Cancelling it forgets the action. The errors below are raised where
        it is awaited.

        Returns:
            The response. For event-list actions ``response.events`` holds the
            items in order and ``response.complete`` the closing event.

        Raises:
            TypeError: ``action`` is not an :class:`Action` (a dict, say).
            InvalidAction: The action cannot be sent; nothing was written.
            InvalidState: Not connected (or closed).
            ManagerSocketError: The connection was lost before the answer
                (raised at once, never after the timeout).
            ActionTimeout: No complete answer in time (``partial`` holds what
                arrived). A late response then goes to the orphan handlers.
            ActionFailed: With ``check=True``, Asterisk answered an error.
            Exception: Whatever the action's own
                :meth:`~amiasync.message.Action.check_response` raised
                (``core.Login``: :class:`ManagerAuthError`).
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._send_action_from_thread(action, timeout, check)
        if not isinstance(action, Action):
            # A panoramisk-style dict would otherwise fail later with an AttributeError.
            return ActionCall.failed(
                TypeError(
                    f"send_action() takes an Action, not {type(action).__name__}: "
                    'write core.Ping() or amiasync.Action("QueueAdd", Queue="support")'
                )
            )
        link = self._link
        if link is None or not link.is_open:
            try:
                link = self._require_link(action.action_name)
            except AMIError as exc:
                return ActionCall.failed(exc)
        delay = self.action_timeout if isinstance(timeout, UseDefault) else timeout
        return link.call(action, delay, check=check)

    def _send_action_from_thread(
        self, action: Action, timeout: float | UseDefault | None, check: bool
    ) -> ActionCall:
        """``asyncio.run_coroutine_threadsafe(manager.send_action(...), loop)``.

        Called in a thread with no running loop, so nothing here may touch the
        link: the call belongs to the manager's loop, which sends the action
        when it runs the callback scheduled below.
        """
        loop = self._loop
        if loop is None:
            raise InvalidState(f"not connected; {action.action_name!s} not sent")
        outer = ActionCall.pending(loop)

        def start() -> None:
            if outer.done():  # cancelled before the loop got to it
                return
            inner = self.send_action(action, timeout, check=check)
            inner.add_done_callback(outer.copy_outcome)
            outer.add_done_callback(lambda _: inner.cancel() if outer.cancelled() else None)

        loop.call_soon_threadsafe(start)
        return outer

    async def command(
        self, command: str, timeout: float | UseDefault | None = USE_DEFAULT
    ) -> list[str]:
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
        response = await self.send_action(Action("Command", Command=command), timeout=timeout)
        if not response.success:
            raise ActionFailed(
                response,
                f"command {command!r} failed: "
                + "\n".join(response.output or [response.message or "error"]),
            )
        return response.output

    def ping(self, timeout: float | UseDefault | None = USE_DEFAULT) -> ActionCall:
        """Send a Ping and return the Pong response (an :class:`~amiasync.link.ActionCall`).

        Raises:
            ActionFailed: Asterisk answered an error.
        """
        return self.send_action(_PING, timeout=timeout, check=True)

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
        link = self._require_link("Originate")
        action_id = action.action_id or self.next_action_id()
        headers = [(k, v) for k, v in action.headers if k.lower() != "async"]
        request = Action("Originate", [*headers, ("Async", "true")], action_id=action_id)
        # Awaited before sending: the waiter must exist whatever order Asterisk writes in.
        outcome = link.expect_originate(action_id)
        try:
            async with async_timeout(timeout):
                response = await link.request(request, None)
                if not response.success:
                    raise ActionFailed(response)
                event = await outcome
        except asyncio.TimeoutError as exc:
            raise ActionTimeout(
                f"Originate {action_id}: no OriginateResponse in {timeout} s", action_id=action_id
            ) from exc
        finally:
            link.session.forget_originate(action_id)
            if outcome.done() and not outcome.cancelled():
                outcome.exception()  # retrieved: the caller got the first error
        return OriginateResult.from_event(event, response)

    @overload
    def events(self, key: type[_E], /, *, maxsize: int = 1000) -> EventStream[_E]: ...
    @overload
    def events(self, *keys: CallbackKey, maxsize: int = 1000) -> EventStream[Event]: ...
    def events(self, *keys: CallbackKey, maxsize: int = 1000) -> EventStream[Any]:
        """Return an async iterator over matching events (see :mod:`amiasync.stream`).

        Without reconnect the iteration raises :class:`ManagerSocketError`
        when the link drops; with reconnect it goes on and the stream's
        ``gaps`` counts the drops. It ends on :meth:`close`.

        Args:
            *keys: Event names, globs or classes; none for every event.
            maxsize: The queue bound; past it the oldest event is dropped and counted.

        Returns:
            An :class:`EventStream`, also an async context manager that
            unsubscribes; for one event class, typed with it (``EventStream[Hangup]``).
        """
        stream: EventStream[Any] = EventStream(self._registry, keys, maxsize)
        if self._final is not None:
            stream.link_lost(self._final)
        else:
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
        value = events_header(mask) or "on"
        response = await self.send_action(Action("Events", EventMask=value), check=True)
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
        response = await self.send_action(_filter(pattern), check=True)
        self._filters.append(pattern)
        return response

    # -- callbacks ------------------------------------------------------------

    # Typed overloads: a class key checks the handler's event parameter against
    # it; a name, glob, "" or None takes any handler; a key only known as
    # CallbackKey needs a handler that accepts any Event.
    @overload
    def register_callback(self, key: type[_E], handler: Callable[[_E, Manager], Any]) -> None: ...
    @overload
    def register_callback(self, key: str | None, handler: Handler) -> None: ...
    @overload
    def register_callback(
        self, key: CallbackKey, handler: Callable[[Event, Manager], Any]
    ) -> None: ...
    def register_callback(self, key: CallbackKey, handler: Handler) -> None:
        """Call ``handler(message, manager)`` for matching events or orphan responses.

        Args:
            key: An event name or glob, an event class, ``""`` for every
                event, or ``None`` for responses no pending action claims.
            handler: A function or coroutine function. Plain functions run at
                once, in the order they were registered; coroutine functions
                are awaited one at a time in that order, after the plain ones
                (see :mod:`amiasync.dispatcher`). One that raises is logged
                and the others still run.

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

    # -- reading --------------------------------------------------------------

    def _pause_reading(self) -> None:
        if self._link is not None:
            self._link.pause_reading()

    def _resume_reading(self) -> None:
        if self._link is not None:
            self._link.resume_reading()

    def _protocol_error(self, error: ProtocolError) -> None:
        """The decoder's report: counted, kept (the last 100), logged (a few per link)."""
        self.protocol_errors += 1
        self.recent_protocol_errors.append(error)
        self._logged_errors += 1
        if self._logged_errors <= _LOGGED_ERRORS:
            log.warning("protocol error, message skipped: %s", error)
        elif self._logged_errors == _LOGGED_ERRORS + 1:
            log.warning("more protocol errors on this link; counted, no longer logged")

    def _link_lost(self, link: Connection, cause: BaseException | None) -> None:
        if link is not self._link:
            return  # a link being opened, or one already replaced
        self._link = None
        loop = asyncio.get_running_loop()
        healthy = (self._logged_in or self._credentials is None) and (
            loop.time() - self._link_started >= max(1.0, self.reconnect_max_delay)
        )
        if healthy:
            self._delays = self._new_backoff()
        self._logged_in = False
        self._set_ready(False)
        keepalive = self._keepalive_task
        if keepalive is not None and keepalive is not asyncio.current_task():
            keepalive.cancel()
        if self._stopped:
            reason = "connection closed"
        elif self._shutdown_seen:
            reason = "connection closed by Asterisk after Shutdown"
        else:
            reason = "connection lost"
        expected = self._stopped or self._shutdown_seen
        log.log(
            logging.INFO if expected else logging.WARNING,
            "%s%s",
            reason,
            f": {cause}" if cause else "",
        )
        self._notify_state(ConnectionState.DISCONNECTED)
        if self._stopped:
            for stream in list(self._streams):
                stream.close()
        elif self.reconnect and self._target is not None:
            for stream in list(self._streams):
                stream.link_lost(None)
            if self._supervisor is None or self._supervisor.done():
                self._supervisor = asyncio.ensure_future(self._reconnect_loop())
        else:
            error = ConnectionLost(f"{reason}: {cause}" if cause else reason)
            error.__cause__ = cause
            self._final = error
            for stream in list(self._streams):
                stream.link_lost(error)
            self._notify_changed()

    def _note_shutdown(self, event: Event, manager: Manager) -> None:
        self._shutdown_seen = True

    # -- staying connected ----------------------------------------------------

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

    def unregister_state_callback(self, handler: StateHandler) -> bool:
        """Remove a callback registered with :meth:`register_state_callback`.

        A handler registered several times is removed once. A handler may
        remove itself (or another) while it is being called: the state
        change being reported still reaches the handlers registered when it
        happened.

        Args:
            handler: The callback, as it was registered (a bound method
                compares equal to itself taken again from the same object).

        Returns:
            True if it was registered.
        """
        try:
            self._state_handlers.remove(handler)
        except ValueError:
            return False
        return True

    def _notify_state(self, state: ConnectionState) -> None:
        # A copy: a handler may unregister itself or another while we loop.
        for handler in list(self._state_handlers):
            try:
                result = handler(state, self)
                if isinstance(result, Awaitable):
                    asyncio.ensure_future(result).add_done_callback(_log_task_error)
            except Exception:
                log.exception("state callback %r raised on %s", handler, state.value)

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until connected and, if a login was made before, logged in again.

        Args:
            timeout: Seconds to wait; None waits as long as something may still happen.

        Raises:
            ActionTimeout: Not ready in time.
            InvalidState: Never connected, or closed.
            ManagerSocketError: The link was lost with no reconnect, or
                reconnecting gave up (``last_error`` says why).
        """
        try:
            async with async_timeout(timeout):
                while True:
                    if self._ready and self.is_connected():
                        return
                    if self.last_error is not None and self._stopped:
                        raise ConnectionClosed(f"gave up: {self.last_error}") from self.last_error
                    if self._final is not None:
                        raise self._final
                    if self._stopped:
                        raise InvalidState("closed")
                    if self._target is None:
                        raise InvalidState("never connected")
                    if self._changed is None or self._changed.done():
                        self._changed = asyncio.get_running_loop().create_future()
                    await self._changed
        except asyncio.TimeoutError as exc:
            raise ActionTimeout(f"not connected after {timeout} s") from exc

    def _new_backoff(self) -> Iterator[float]:
        return backoff(self.reconnect_delay, self.reconnect_max_delay)

    async def _reconnect_loop(self) -> None:
        """Reconnect with capped exponential backoff and jitter, then restore the session.

        The delays come from one :func:`~amiasync.backoff.backoff` generator,
        kept while links die young (a link is healthy once it stayed up and
        logged in), so a peer that accepts and drops at once is not hammered.
        """
        assert self._target is not None
        host, port, _, _ = self._target
        while not self._stopped:
            delay = next(self._delays)
            await asyncio.sleep(delay)
            try:
                await self._open_link()
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
                self._stopped = True
                self._final = ConnectionClosed("reconnecting gave up: login refused")
                self._final.__cause__ = exc
                for stream in list(self._streams):
                    stream.link_lost(self._final)
                self._notify_state(ConnectionState.FAILED)
                self._notify_changed()
                return
            except (AMIError, OSError) as exc:
                log.info("reconnect to %s:%s failed (%s)", host, port, exc)
                link = self._link
                if link is not None:
                    link.abort()
                continue
            self._set_ready(True)
            log.info("reconnected to %s:%s", host, port)
            self._notify_state(ConnectionState.RECONNECTED)
            return

    async def _restore_session(self) -> None:
        if self._event_mask is not None:
            await self.send_action(Action("Events", EventMask=self._event_mask), check=True)
        for pattern in self._filters:
            await self.send_action(_filter(pattern), check=True)

    async def _keepalive_loop(self, link: Connection) -> None:
        """Ping every ``keepalive`` s; no Pong in ``keepalive_timeout`` s means the link is dead.

        A Ping action, never a bare CRLF: Asterisk answers an empty line with
        ``Missing action in request``, which would be an orphan response.
        """
        assert self.keepalive is not None
        while link.is_open:
            await asyncio.sleep(self.keepalive)
            try:
                await link.request(Action("Ping"), self.keepalive_timeout)
            except ActionTimeout:
                log.warning("keepalive: no Pong in %s s; dropping the link", self.keepalive_timeout)
                link.abort()
                return
            except AMIError:
                return


#: Every ping sends the same action: encoding never changes an Action, and
#: the ActionID is given per send.
_PING = Action("Ping")


def _filter(pattern: str) -> Action:
    return Action("Filter", Operation="Add", Filter=pattern)


def _log_task_error(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("callback task failed", exc_info=task.exception())


class connect:  # noqa: N801 - used as a function: ``async with amiasync.connect(...)``
    """Connect and log in; use as ``async with`` or ``await``.

    ``async with amiasync.connect(host, username=..., secret=...) as manager:``
    closes (with Logoff) on exit; ``manager = await amiasync.connect(...)``
    leaves closing to the caller. The remaining arguments are
    :class:`Manager`'s, with the same meaning and defaults.

    Args:
        host: Host name or address.
        port: The manager port.
        username: The manager.conf user; no login when None.
        secret: Its secret.
        ssl: An ``ssl.SSLContext``, True for the default context, or None.
        auth: ``"md5"`` or ``"plain"``.
        events: The ``Events`` header for the login.
        action_timeout: See :class:`Manager`.
        connect_timeout: See :class:`Manager`.
        max_frame_size: See :class:`Manager`.
        max_event_backlog: See :class:`Manager`.
        action_id_prefix: See :class:`Manager`.
        reconnect: See :class:`Manager`.
        reconnect_delay: See :class:`Manager`.
        reconnect_max_delay: See :class:`Manager`.
        retry_auth_failures: See :class:`Manager`.
        keepalive: See :class:`Manager`.
        keepalive_timeout: See :class:`Manager`.

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
        events: EventsOption = True,
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
        self._args = (host, port, ssl)
        self._login = (username, secret, auth, events)
        self.manager = Manager(
            action_timeout=action_timeout,
            connect_timeout=connect_timeout,
            max_frame_size=max_frame_size,
            max_event_backlog=max_event_backlog,
            action_id_prefix=action_id_prefix,
            reconnect=reconnect,
            reconnect_delay=reconnect_delay,
            reconnect_max_delay=reconnect_max_delay,
            retry_auth_failures=retry_auth_failures,
            keepalive=keepalive,
            keepalive_timeout=keepalive_timeout,
        )

    async def _open(self) -> Manager:
        host, port, ssl = self._args
        username, secret, auth, events = self._login
        try:
            await self.manager.connect(host, port, ssl=ssl)
            if username is not None:
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
