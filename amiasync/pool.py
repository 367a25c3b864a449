"""Many PBXs in one process: a :class:`ManagerPool` of named :class:`Manager` objects.

Each PBX has its own :class:`~amiasync.connection.Manager`, its own reader
and its own reconnect loop, so one PBX that is down or slow never holds up
the others. Every message a member receives carries the member's name in
``message.server``, set by a catch-all callback that the pool registers
before any other, so every handler already sees it::

    pool = ManagerPool({
        "pbx1": dict(host="10.0.0.1", username="admin", secret="..."),
        "pbx2": dict(host="10.0.0.2", port=5039, ssl=True, username="admin", secret="..."),
    }, keepalive=10)
    async with pool:
        pool.register_callback("Hangup", on_hangup)   # on every PBX
        await pool["pbx1"].send_action(core.Ping())
        async for event in pool.events("Newchannel"):  # merged, in order per PBX
            print(event.server, event["Channel"])

A member whose first connection fails is reported (:meth:`ManagerPool.status`)
and then retried by its manager's own ``reconnect`` (capped exponential
backoff), in the background: it never holds up the others. A refused login
is final (state ``FAILED``) unless ``retry_auth_failures=True``: then it is
reported and retried like the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import weakref
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

from ._compat import timeout as async_timeout
from .connection import DEFAULT_PORT, ConnectionState, Manager, SSLOption, StateHandler
from .exceptions import ActionTimeout, AMIError, ManagerAuthError, ManagerSocketError
from .message import Event, Message
from .registry import CallbackKey, Handler
from .stream import EventStream

__all__ = ["ManagerPool", "MemberStatus", "ServerConfig"]

log = logging.getLogger("amiasync.pool")

#: What one PBX of a pool is: ``host``, ``port``, ``username``, ``secret``,
#: ``ssl``, ``auth``, ``events``, plus any :class:`Manager` keyword argument
#: that should differ from the pool's.
ServerConfig = Mapping[str, Any]

_TARGET_KEYS = frozenset({"host", "port", "username", "secret", "ssl", "auth", "events"})


@dataclasses.dataclass(frozen=True)
class MemberStatus:
    """One PBX of a pool, as :meth:`ManagerPool.status` reports it.

    Attributes:
        name: The PBX's name in the pool.
        connected: True while the member is connected and (if it logs in) logged in.
        state: The last connection state seen (None before the first attempt ended).
        since: Unix time of that state change.
        error: The last connection or login error, as text (None when there was none).
    """

    name: str
    connected: bool
    state: ConnectionState | None
    since: float | None
    error: str | None


@dataclasses.dataclass
class _Member:
    name: str
    manager: Manager
    host: str
    port: int
    ssl: SSLOption
    username: str | None
    # Kept out of repr(): a member shown in a log or a traceback never shows it.
    secret: str | None = dataclasses.field(repr=False)
    auth: str
    events: bool | str | list[str] | None
    state: ConnectionState | None = None
    since: float | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = None
    # Made in start(), inside the event loop (Python 3.9 binds events to a loop).
    first_attempt: asyncio.Event | None = None
    up: asyncio.Event | None = None

    @property
    def connected(self) -> bool:
        manager = self.manager
        return manager.logged_in if self.username is not None else manager.is_connected()


class ManagerPool(Mapping[str, Manager]):
    """Named managers, one per PBX, connected and reconnected independently.

    The pool is a read-only mapping from name to :class:`Manager`.

    Args:
        servers: Name to connection settings (see :data:`ServerConfig`).
        **manager_options: Keyword arguments for every :class:`Manager`
            (``keepalive``, ``action_timeout``, ...). ``reconnect`` is on
            unless given as False.

    Raises:
        ValueError: No servers, or a server without a ``host``.
    """

    def __init__(self, servers: Mapping[str, ServerConfig], **manager_options: Any) -> None:
        if not servers:
            raise ValueError("a pool needs at least one server")
        self._reconnect = bool(manager_options.pop("reconnect", True))
        self._members: dict[str, _Member] = {}
        # Weak, as in Manager: a stream the user dropped is not kept alive here.
        self._streams: weakref.WeakSet[EventStream[Event]] = weakref.WeakSet()
        for name, config in servers.items():
            if not config.get("host"):
                raise ValueError(f"server {name!r} has no host")
            options = {**manager_options}
            options.update((k, v) for k, v in config.items() if k not in _TARGET_KEYS)
            # The first attempt is made with reconnect off, to report it (_open).
            manager = Manager(**{**options, "reconnect": False})
            member = _Member(
                name=name,
                manager=manager,
                host=str(config["host"]),
                port=int(config.get("port", DEFAULT_PORT)),
                ssl=config.get("ssl"),
                username=config.get("username"),
                secret=config.get("secret"),
                auth=str(config.get("auth", "md5")),
                events=config.get("events", True),
            )
            # First of all callbacks, so every handler sees message.server.
            tag = _tagger(name)
            manager.register_callback("", tag)
            manager.register_callback(None, tag)
            manager.register_state_callback(self._state_handler(member))
            self._members[name] = member

    # -- the mapping --------------------------------------------------------

    def __getitem__(self, name: str) -> Manager:
        return self._members[name].manager

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    # -- life cycle ---------------------------------------------------------

    async def start(self, timeout: float | None = None) -> None:
        """Start connecting every member; wait for each one's first attempt to end.

        A member that cannot connect (or log in) keeps trying in the
        background; see :meth:`status`. This returns once every member has
        connected or failed once, or after ``timeout`` seconds, whichever
        comes first; it never raises because a PBX is down.

        Args:
            timeout: Seconds to wait for the first attempts; None waits for all.
        """
        waits = []
        for member in self._members.values():
            if member.task is None or member.task.done():
                member.first_attempt = asyncio.Event()
                member.up = asyncio.Event()
                member.task = asyncio.ensure_future(self._open(member))
            assert member.first_attempt is not None
            waits.append(asyncio.ensure_future(member.first_attempt.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout)
        finally:
            for wait in waits:
                wait.cancel()

    async def close(self) -> None:
        """Stop retrying and close every member (with Logoff), all at once."""
        for stream in list(self._streams):
            stream.close()
        tasks = [m.task for m in self._members.values() if m.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.gather(
            *(m.manager.close() for m in self._members.values()), return_exceptions=True
        )

    async def __aenter__(self) -> ManagerPool:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until every member is connected (and logged in).

        Raises:
            ActionTimeout: Some member is not ready in time.
            ManagerSocketError: The pool was not started.
        """
        try:
            async with async_timeout(timeout):
                for member in self._members.values():
                    if member.up is None:
                        raise ManagerSocketError("the pool was not started")
                    while not member.connected:
                        member.up.clear()
                        await member.up.wait()
        except asyncio.TimeoutError as exc:
            down = [m.name for m in self._members.values() if not m.connected]
            raise ActionTimeout(f"not connected after {timeout} s: {', '.join(down)}") from exc

    async def _open(self, member: _Member) -> None:
        """Connect and log in once, to report it; then leave retrying to the manager.

        The first attempt runs with the manager's ``reconnect`` off, so that
        its failure is known at once (:meth:`start` returns, :meth:`status`
        says why). After that the manager's own loop does the retrying:
        :meth:`Manager.connect` retries until the PBX answers, and a login
        that goes unanswered or loses its link (or, with
        ``retry_auth_failures``, is refused) drops the link, which the
        manager reconnects and logs in like any lost link.
        """
        manager = member.manager
        assert member.first_attempt is not None
        manager.reconnect = False
        try:
            await self._connect(member)
            return
        except ManagerAuthError as exc:
            if not self._refused(member, exc):
                return
        except (AMIError, OSError) as exc:
            self._failed(member, exc)
            if manager.is_connected():
                # Connected but the login went unanswered: start again clean.
                with contextlib.suppress(Exception):
                    await manager.close()
        finally:
            manager.reconnect = self._reconnect
            member.first_attempt.set()
        if not self._reconnect:
            return
        try:
            await self._connect(member)
        except ManagerAuthError as exc:
            self._refused(member, exc)
        except (AMIError, OSError) as exc:
            # The login went unanswered or lost its link: the manager dropped
            # the link and reconnects and logs in by itself (RECONNECTED then
            # says it is up).
            self._failed(member, exc)

    async def _connect(self, member: _Member) -> None:
        manager = member.manager
        await manager.connect(member.host, member.port, ssl=member.ssl)
        if member.username is not None:
            await manager.login(
                member.username, member.secret or "", auth=member.auth, events=member.events
            )
        member.error = None
        assert member.up is not None
        member.up.set()
        log.info("%s: connected to %s:%s", member.name, member.host, member.port)

    def _refused(self, member: _Member, exc: ManagerAuthError) -> bool:
        """Report a refused login; return True if the manager retries it."""
        retried = self._reconnect and member.manager.retry_auth_failures
        if retried:
            if member.error is None:
                log.warning("%s: login refused, retrying: %s", member.name, exc)
        else:
            log.error("%s: login refused, not retrying: %s", member.name, exc)
            member.state = ConnectionState.FAILED
            member.since = time.time()
        member.error = str(exc)
        return retried

    def _failed(self, member: _Member, exc: BaseException) -> None:
        if member.error is None:
            log.warning(
                "%s: cannot connect to %s:%s: %s", member.name, member.host, member.port, exc
            )
        member.error = str(exc)

    def _state_handler(self, member: _Member) -> StateHandler:
        def on_state(state: ConnectionState, manager: Manager) -> None:
            member.state = state
            member.since = time.time()
            if state is ConnectionState.RECONNECTED:
                member.error = None
            if member.up is not None and state is not ConnectionState.DISCONNECTED:
                member.up.set()
            if state is ConnectionState.FAILED and manager.last_error is not None:
                member.error = str(manager.last_error)

        return on_state

    # -- callbacks and events ----------------------------------------------

    def register_callback(self, key: CallbackKey, handler: Handler) -> None:
        """Register ``handler(message, manager)`` on every member.

        Keys are those of :meth:`Manager.register_callback`.

        ``message.server`` names the PBX; ``manager`` is that PBX's manager.
        """
        for member in self._members.values():
            member.manager.register_callback(key, handler)

    def unregister_callback(self, key: CallbackKey, handler: Handler) -> bool:
        """Remove a callback from every member; True if any member had it."""
        removed = [m.manager.unregister_callback(key, handler) for m in self._members.values()]
        return any(removed)

    def register_state_callback(self, handler: StateHandler) -> None:
        """Call ``handler(state, manager)`` on every member's state changes.

        ``pool.name_of(manager)`` tells which PBX it is.
        """
        for member in self._members.values():
            member.manager.register_state_callback(handler)

    def name_of(self, manager: Manager) -> str:
        """Return the pool name of one of its managers.

        Raises:
            KeyError: The manager is not in this pool.
        """
        for member in self._members.values():
            if member.manager is manager:
                return member.name
        raise KeyError(manager)

    def register(self, key: CallbackKey, handler: Handler) -> None:
        """:meth:`register_callback` under the name an :class:`EventStream` subscribes with."""
        self.register_callback(key, handler)

    def unregister(self, key: CallbackKey, handler: Handler) -> bool:
        """:meth:`unregister_callback` under the name an :class:`EventStream` uses."""
        return self.unregister_callback(key, handler)

    def events(self, *keys: CallbackKey, maxsize: int = 1000) -> EventStream[Event]:
        """Return one async iterator over the matching events of every member.

        Events are queued in the order they arrive, so the order of each
        PBX's events is kept; ``event.server`` tells them apart. The queue's
        bound and overflow policy are those of :class:`EventStream`.

        Args:
            *keys: Event names, globs or classes; none for every event.
            maxsize: The queue bound.

        Returns:
            An :class:`EventStream`, closed with the pool.
        """
        # The stream subscribes through register/unregister, which the pool
        # offers for all its members at once.
        stream: EventStream[Event] = EventStream(self, keys, maxsize)
        self._streams.add(stream)
        return stream

    def status(self) -> dict[str, MemberStatus]:
        """Return who is connected, by name."""
        return {
            m.name: MemberStatus(m.name, m.connected, m.state, m.since, m.error)
            for m in self._members.values()
        }

    def __repr__(self) -> str:
        up = sum(m.connected for m in self._members.values())
        return f"<ManagerPool {up}/{len(self._members)} connected: {', '.join(self._members)}>"


def _tagger(name: str) -> Handler:
    def tag(message: Message, manager: Manager) -> None:
        message.server = name

    return tag
