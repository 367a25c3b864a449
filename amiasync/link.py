"""One link to Asterisk over asyncio: transport, read and write paths, deadlines.

:class:`Connection` drives a sans-IO :class:`~amiasync.protocol.ClientSession`
over one TCP (or TLS) transport. Received bytes go from the event loop's read
callback straight to the session, with no reader task to wake in between;
completed actions resolve their futures here and events go to the
:class:`~amiasync.dispatcher.Dispatcher`. When the link ends, every pending
action fails at once with :class:`~amiasync.exceptions.ConnectionLost` (or
:class:`~amiasync.exceptions.ConnectionClosed` when we closed it); none is
sent again.

Timeouts. Action timeouts share timers: an action's deadline is rounded up to
the next multiple of :data:`TIMER_GRANULARITY` (20 ms) and every action due
in that slot is expired by one timer, so a timeout fires never earlier than
asked and at most 20 ms later. The deadline covers the write too.

Writes. Actions sent while others are in flight are written together, once
per event-loop iteration (an action sent while none is in flight is written
at once). When the peer stops reading and the transport holds
:data:`WRITE_LIMIT` unsent bytes, further actions wait, unwritten, until it
drains; one whose deadline passes meanwhile times out and is never written.
So the unsent buffer stays bounded and no await waits for a peer for ever.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Callable, cast

from ._compat import timeout as async_timeout
from .dispatcher import Dispatcher
from .exceptions import (
    ActionTimeout,
    ConnectionClosed,
    ConnectionLost,
    InvalidState,
    ManagerSocketError,
)
from .message import Action, Event, Response
from .protocol import ClientSession, PendingAction

__all__ = ["ActionCall", "Connection", "TIMER_GRANULARITY", "WRITE_LIMIT"]

log = logging.getLogger("amiasync")

#: Seconds: action timeouts are rounded up to a multiple of this and share a timer.
TIMER_GRANULARITY = 0.02
#: Unsent bytes the transport may hold before further actions wait.
WRITE_LIMIT = 1 << 18
#: Queued writes are flushed early past this many bytes.
_BATCH_LIMIT = 1 << 16

_Future = asyncio.Future
_Pending = PendingAction["asyncio.Future[Any]"]


class _Protocol(asyncio.Protocol):
    """Hands the transport's callbacks to the connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._connection._made(cast(asyncio.Transport, transport))

    def data_received(self, data: bytes) -> None:
        self._connection._data_received(data)

    def eof_received(self) -> bool:
        self._connection._lost(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._connection._lost(exc)

    def pause_writing(self) -> None:
        self._connection._write_paused = True

    def resume_writing(self) -> None:
        self._connection._resume_writing()


class ActionCall(asyncio.Future[Response], Coroutine[Any, Any, Response]):
    """The answer to one action: a future that is also a coroutine.

    :meth:`Connection.call` sends the action at once and returns this; the
    reader resolves it directly when the answer is complete. So ``await
    call`` and ``asyncio.gather(*calls)`` wait on the future itself, with
    no task per action (``gather`` wraps coroutines in tasks, not futures;
    Python 3.9's asks "coroutine?" first and makes the task), while
    ``asyncio.create_task(call)``, ``asyncio.run`` and
    ``asyncio.run_coroutine_threadsafe`` still take it: a task drives it
    through :meth:`send` and :meth:`throw`, which are the future's own
    ``__await__`` steps. Being a coroutine too, ``asyncio.wait`` refuses it
    ("Passing coroutines is forbidden"): wrap calls in tasks for ``wait``,
    or use ``gather`` or ``as_completed``.

    Cancelling it (directly, or by cancelling the task awaiting it) forgets
    the action: a late answer goes to the orphan handlers. Made by
    :meth:`Connection.call` and :meth:`failed`, not directly.
    """

    __slots__ = ("_action_id", "_link")

    # Both set by whoever makes it (Connection.call, or None for a call that
    # failed before anything was sent), so that making one stays the C
    # constructor's cost: no __init__ here. The ActionID, not the pending
    # record: the record holds the call as its waiter, and a reference back
    # would make a cycle that only the garbage collector frees.
    _link: Connection | None
    _action_id: str | None

    @classmethod
    def failed(cls, error: BaseException) -> ActionCall:
        """Return a call that raises ``error`` where it is awaited (nothing was sent).

        Args:
            error: The exception to raise.

        Returns:
            The call, done already.
        """
        call = cls(loop=asyncio.get_running_loop())
        call._link = call._action_id = None
        call.set_exception(error)
        return call

    @classmethod
    def pending(cls, loop: asyncio.AbstractEventLoop) -> ActionCall:
        """Return a call of ``loop`` that another call's outcome will settle.

        Args:
            loop: The loop it belongs to (may be another thread's).

        Returns:
            The call, not done; settle it with :meth:`copy_outcome`.
        """
        call = cls(loop=loop)
        call._link = call._action_id = None
        return call

    def copy_outcome(self, source: asyncio.Future[Response]) -> None:
        """Settle this call as ``source`` was settled (a done-callback)."""
        if self.done():
            if not source.cancelled():
                source.exception()  # seen: the outcome was this call's to report
        elif source.cancelled():
            self.cancel()
        elif (error := source.exception()) is not None:
            self.set_exception(error)
        else:
            self.set_result(source.result())

    def cancel(self, msg: Any = None) -> bool:
        """Cancel the call and forget its action; False when it is done already."""
        if not super().cancel(msg):
            return False
        if self._link is not None and self._action_id is not None:
            self._link._abandon(self, self._action_id)
        return True

    # The coroutine protocol, as a task drives it: these are the steps of the
    # future's own __await__ (yield itself while pending, then return its
    # result or raise its exception), without keeping an iterator.

    def send(self, value: Any) -> Any:
        """Run as a coroutine: wait for the answer, then stop with it."""
        if not self.done():
            self._asyncio_future_blocking = True
            return self
        try:
            result = self.result()
        except BaseException:
            # The traceback keeps this frame: without self in it, no cycle
            # call -> exception -> traceback -> frame -> call.
            del self
            raise
        raise StopIteration(result)

    def throw(self, typ: Any, val: Any = None, tb: TracebackType | None = None, /) -> Any:
        """Run as a coroutine: raise the exception where the answer is awaited."""
        # The driver stops waiting (a task cancelled before its first step,
        # a TaskGroup aborting): forget the action, as cancel() does.
        if not self.cancel() and not self.cancelled():
            self.exception()  # done already: whatever it held is now seen
        error = typ if val is None else val.with_traceback(tb)
        try:
            raise error
        finally:
            # The traceback keeps this frame: nothing in it may lead back to
            # the error (error -> traceback -> frame -> error is a cycle).
            del self, typ, val, tb, error

    def close(self) -> None:
        """Close it as a coroutine: abandon the call (see :meth:`cancel`)."""
        self.cancel()


class Connection:
    """One link: open it with :meth:`open`, then :meth:`request` actions over it.

    Args:
        session: The sans-IO session (its decoder must be fresh).
        dispatcher: Where events and orphan responses go.
        on_lost: Called once, with this connection and the cause, when the link ends.
    """

    def __init__(
        self,
        session: ClientSession[_Future[Any]],
        dispatcher: Dispatcher,
        on_lost: Callable[[Connection, BaseException | None], None],
    ) -> None:
        self.session = session
        self._dispatcher = dispatcher
        self._on_lost = on_lost
        self._transport: asyncio.Transport | None = None
        self._banner: _Future[str] | None = None
        self._ended: _Future[None] | None = None
        self._closing = False
        #: True from the banner until the link ends or starts closing.
        self.is_open = False
        self._write_paused = False
        self._read_paused = False
        # Actions waiting for the transport to drain, in order.
        self._blocked: collections.deque[tuple[_Pending, bytes]] = collections.deque()
        # Encoded actions waiting for the end of this loop iteration, and their size.
        self._out: list[bytes] | None = None
        self._out_size = 0
        # Deadline slot (a multiple of TIMER_GRANULARITY) -> the actions due
        # then, and the one timer that expires them.
        self._deadlines: dict[int, set[_Pending]] = {}
        self._deadline_timers: dict[int, asyncio.TimerHandle] = {}

    # -- opening and closing -------------------------------------------------

    async def open(self, host: str, port: int, ssl: Any, timeout: float | None) -> str:
        """Connect and wait for the banner.

        Returns:
            The banner line.

        Raises:
            ManagerSocketError: The connection failed, timed out, or closed before the banner.
            ProtocolError: The peer sent no AMI banner within the first 64 KiB.
        """
        loop = asyncio.get_running_loop()
        self._banner = loop.create_future()
        self._ended = loop.create_future()
        try:
            async with async_timeout(timeout):
                await loop.create_connection(lambda: _Protocol(self), host, port, ssl=ssl)
                return await self._banner
        except asyncio.TimeoutError as exc:
            self.abort()
            raise ManagerSocketError(f"no AMI banner from {host}:{port} in {timeout} s") from exc
        except OSError as exc:
            self.abort()
            raise ManagerSocketError(f"cannot connect to {host}:{port}: {exc}") from exc
        except BaseException:
            # ProtocolError, or cancelled (Ctrl-C): never leave a transport open.
            self.abort()
            raise

    def _made(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        transport.set_write_buffer_limits(high=WRITE_LIMIT)

    def abort(self) -> None:
        """Drop the link at once, unsent bytes and all."""
        self._closing = True
        self.is_open = False
        if self._transport is not None:
            self._transport.abort()
        else:
            self._lost(None)

    async def close(self, timeout: float = 1.0) -> None:
        """Close the link, flushing what is unsent for up to ``timeout`` s, then abort."""
        self._closing = True
        self.is_open = False
        transport = self._transport
        if transport is None or self._ended is None:
            return
        transport.close()
        try:
            async with async_timeout(timeout):
                await asyncio.shield(self._ended)
        except asyncio.TimeoutError:
            # The peer stopped reading: the unsent bytes will never go.
            transport.abort()
        if not self._ended.done():
            self._lost(None)

    async def wait_closed(self) -> None:
        """Wait until the link has ended."""
        if self._ended is not None:
            await asyncio.shield(self._ended)

    def _lost(self, cause: BaseException | None) -> None:
        ended = self._ended
        if ended is None or ended.done():
            return
        ended.set_result(None)
        self.is_open = False
        transport = self._transport
        if transport is not None:
            transport.abort()
        reason = "connection closed" if self._closing else "connection lost"
        if cause is not None:
            reason = f"{reason}: {cause}"
        error_class = ConnectionClosed if self._closing else ConnectionLost
        banner = self._banner
        if banner is not None and not banner.done():
            banner.set_exception(ManagerSocketError(f"{reason} before the banner"))
            banner.exception()  # open() may be gone already (cancelled): no "never retrieved"
        for timer in self._deadline_timers.values():
            timer.cancel()
        self._deadline_timers.clear()
        self._deadlines.clear()
        self._blocked.clear()
        self._out = None
        for pending in self.session.connection_lost():
            waiter = pending.waiter
            if not waiter.done():
                error = error_class(f"{pending.action_name} {pending.action_id}: {reason}")
                error.__cause__ = cause
                waiter.set_exception(error)
        self._on_lost(self, cause)

    # -- reading -----------------------------------------------------------

    def _data_received(self, data: bytes) -> None:
        session = self.session
        busy = session.busy
        try:
            items = session.receive_data(data)
        except Exception:  # a bug, never the peer's doing: keep the link alive
            log.exception("internal error decoding %d bytes; they were dropped", len(data))
            return
        banner = self._banner
        if banner is not None and not banner.done():
            decoder = session.decoder
            if decoder.banner is not None:
                banner.set_result(decoder.banner)
                self.is_open = True
            elif decoder.failed is not None:
                banner.set_exception(decoder.failed)
                banner.exception()
                return
        if not items:
            return
        dispatcher = self._dispatcher
        if not busy:
            # Nothing was awaited: events and orphan responses only.
            dispatcher.received(items)
            return
        for item in items:
            if isinstance(item, Event):
                dispatcher.event(item)
            elif isinstance(item, Response):
                dispatcher.orphan(item)
            else:
                self._resolve(item)

    def _resolve(self, pending: _Pending) -> None:
        self._untime(pending)
        waiter = pending.waiter
        if waiter.done():
            return
        if pending.outcome is not None:
            waiter.set_result(pending.outcome)
        elif pending.error is not None:
            waiter.set_exception(pending.error)
        else:
            waiter.set_result(pending.response)

    def pause_reading(self) -> None:
        """Stop reading from the socket (the dispatcher's backlog is full)."""
        if not self._read_paused and self._transport is not None:
            self._read_paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        """Read again."""
        if self._read_paused and self._transport is not None:
            self._read_paused = False
            if not self._transport.is_closing():
                self._transport.resume_reading()

    # -- writing -----------------------------------------------------------

    def call(self, action: Action, timeout: float | None, *, check: bool = False) -> ActionCall:
        """Send an action; return the :class:`ActionCall` its answer resolves.

        Args:
            action: The action.
            timeout: Seconds for the whole answer, the write included; None for no limit.
            check: Fail with :class:`~amiasync.exceptions.ActionFailed` when
                Asterisk answers an error.

        Returns:
            The call, already sent (or already failed: an invalid action or a
            closed link fails it, nothing is written).
        """
        if not self.is_open:
            return ActionCall.failed(InvalidState(f"not connected; {action.action_name} not sent"))
        if timeout is not None and math.isnan(timeout):
            # NaN compares false with everything: it would set no deadline at all.
            return ActionCall.failed(ValueError(f"timeout is NaN; {action.action_name} not sent"))
        loop = asyncio.get_running_loop()
        call = ActionCall(loop=loop)
        try:
            pending, data = self.session.start(action, call, check=check)
        except Exception as exc:  # InvalidAction: raised where the call is awaited
            return ActionCall.failed(exc)
        call._link = self
        call._action_id = pending.action_id
        if timeout is not None and timeout < math.inf:
            self._time(pending, loop.time() + timeout, timeout)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("send %s %s %s", action.action_name, pending.action_id, action.redacted())
        self._write(pending, data)
        return call

    def _abandon(self, call: ActionCall, action_id: str) -> None:
        """Forget the action of a cancelled call, if it is still in flight."""
        pending = self.session.tracker.get(action_id)
        if pending is not None and pending.waiter is call:
            self.forget(pending)

    def forget(self, pending: _Pending) -> None:
        """Stop waiting for an action (its caller went away); a late answer is an orphan."""
        self.session.discard(pending)
        self._untime(pending)

    async def request(self, action: Action, timeout: float | None) -> Response:
        """Send an action and return its complete answer (see :meth:`call`).

        Raises:
            InvalidAction: The action cannot be sent; nothing was written.
            InvalidState: The link is not open.
            ConnectionLost: The link dropped before the answer.
            ActionTimeout: No complete answer in time.
        """
        return await self.call(action, timeout)

    def expect_originate(self, action_id: str) -> _Future[Event]:
        """Return a future for the ``OriginateResponse`` carrying this ActionID."""
        future: _Future[Any] = asyncio.get_running_loop().create_future()
        self.session.expect_originate(action_id, future)
        return future

    def _write(self, pending: _Pending, data: bytes) -> None:
        if self._write_paused or self._blocked:
            # The peer is not reading: wait, unwritten, for the transport to drain.
            self._blocked.append((pending, data))
            return
        out = self._out
        if out is not None:
            # Others were sent in this loop iteration: one write for all.
            out.append(data)
            self._out_size += len(data)
            if self._out_size > _BATCH_LIMIT:
                self._flush()
        elif len(self.session.tracker) > 1:
            # Others are in flight, so more may be sent in this iteration.
            self._out = [data]
            self._out_size = len(data)
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._transport_write(data)

    def _transport_write(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return  # lost or closing: the actions fail with the link
        try:
            transport.write(data)
        except Exception as exc:
            log.warning("write failed, dropping the link: %s", exc)
            transport.abort()

    def _flush(self) -> None:
        """Write the actions queued in this loop iteration, in one piece."""
        out, self._out = self._out, None
        if out:
            self._transport_write(b"".join(out))

    def _resume_writing(self) -> None:
        self._write_paused = False
        blocked = self._blocked
        while blocked and not self._write_paused:
            pending, data = blocked.popleft()
            if not pending.waiter.done():  # timed out or cancelled: never written
                self._transport_write(data)

    @property
    def unsent(self) -> int:
        """Bytes written to the transport but not yet sent."""
        transport = self._transport
        return transport.get_write_buffer_size() if transport is not None else 0

    # -- deadlines ---------------------------------------------------------

    def _time(self, pending: _Pending, deadline: float, timeout: float) -> None:
        # One timer per deadline slot, never earlier than asked.
        slot = int(deadline / TIMER_GRANULARITY) + 1
        due = self._deadlines.get(slot)
        if due is None:
            due = self._deadlines[slot] = set()
            self._deadline_timers[slot] = asyncio.get_running_loop().call_at(
                slot * TIMER_GRANULARITY, self._expire, slot
            )
        due.add(pending)
        pending.timer = slot
        pending.timeout = timeout

    def _untime(self, pending: _Pending) -> None:
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
        tracker = self.session.tracker
        for pending in due:
            if tracker.get(pending.action_id) is not pending:
                continue
            tracker.discard(pending.action_id)
            if not pending.waiter.done():
                partial = pending.response
                got = " (event list incomplete)" if partial is not None else ""
                pending.waiter.set_exception(
                    ActionTimeout(
                        f"{pending.action_name} {pending.action_id}: "
                        f"no answer in {pending.timeout} s{got}",
                        action_id=pending.action_id,
                        partial=partial,
                    )
                )
