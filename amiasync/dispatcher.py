"""Fan-out of events and orphan responses to the registered callbacks.

Dispatch policy. Asterisk drops a client whose socket stops draining for
longer than ``writetimeout`` (100 ms by default), so the reader must never
wait long on a handler:

* plain-function handlers run at once in the reader, in registration order,
  so they (and every :class:`~amiasync.stream.EventStream`, which is one)
  see events in wire order even while a coroutine handler is awaiting; they
  must be quick;
* coroutine handlers are queued, with their event, in an ordered backlog
  served by one task, which awaits them in order: every coroutine handler
  sees the events in wire order too. The backlog holds ``max_backlog``
  events; when it is full the reader is paused (backpressure, logged once)
  until it is down to half, instead of dropping events or growing without
  bound. Callbacks are scheduled, never re-entrant (asyncpg's rule).

A handler that raises, even ``CancelledError``, is logged and the others
still run; only cancelling the dispatcher itself stops it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable
from typing import Any, Callable

from ._compat import timeout as async_timeout
from ._extensions import load
from .message import Event, Message
from .registry import CallbackRegistry, Handler

__all__ = ["Dispatcher"]

log = logging.getLogger("amiasync")


class Dispatcher:
    """Runs the callbacks for each event and orphan response.

    Args:
        registry: The callbacks.
        owner: Passed to every handler as its second argument (the manager).
        max_backlog: How many events may wait for coroutine handlers.
        pause: Called when the backlog is full (stop reading).
        resume: Called when it is down to half again.
    """

    def __init__(
        self,
        registry: CallbackRegistry,
        owner: Any,
        *,
        max_backlog: int,
        pause: Callable[[], None],
        resume: Callable[[], None],
    ) -> None:
        self._registry = registry
        self._owner = owner
        self.max_backlog = max_backlog
        self._pause = pause
        self._resume = resume
        self._backlog: collections.deque[tuple[Message, tuple[Handler, ...]]] = collections.deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._idle: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._paused = False
        self._warned = False
        self._stopping = False

    @property
    def pending(self) -> int:
        """How many events wait for their coroutine handlers (the one running included)."""
        return len(self._backlog) + self._busy

    def received(self, messages: list[Any]) -> None:
        """Dispatch a batch of events and orphan responses, in order (the hot path)."""
        lookup = self._registry.lookup
        call = self.call_inline
        queue = self._queue
        for message in messages:
            if isinstance(message, Event):
                sync, coros = lookup(message.event_name)
                if sync:
                    call(message, sync)
                if coros:
                    queue(message, coros)
            else:
                self.orphan(message)

    def event(self, event: Event) -> None:
        """Dispatch one event."""
        sync, coros = self._registry.lookup(event.event_name)
        if sync:
            self.call_inline(event, sync)
        if coros:
            self._queue(event, coros)

    def orphan(self, message: Message) -> None:
        """Dispatch a response no action claimed to the ``None`` handlers."""
        sync, coros = self._registry.for_orphans()
        if not sync and not coros:
            log.debug("orphan response dropped: %r", message)
            return
        if sync:
            self.call_inline(message, sync)
        if coros:
            self._queue(message, coros)

    def call_inline(self, message: Message, handlers: tuple[Handler, ...]) -> None:
        """Run plain-function handlers now, in order; log one that raises."""
        owner = self._owner
        for handler in handlers:
            try:
                result = handler(message, owner)
            except Exception:
                log.exception("callback %r raised on %r", handler, _name(message))
                continue
            if result is not None and isinstance(result, Awaitable):
                # A plain function that returned an awaitable (a lambda
                # around a coroutine): queue it behind the events before it.
                self._queue(message, (_wrap(result),))

    def _queue(self, message: Message, handlers: tuple[Handler, ...]) -> None:
        self._backlog.append((message, handlers))
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.ensure_future(self._run())
        wakeup, self._wakeup = self._wakeup, None
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)
        if len(self._backlog) >= self.max_backlog and not self._paused:
            if not self._warned:
                self._warned = True
                log.warning(
                    "async handlers are %d events behind; pausing the reader", self.max_backlog
                )
            self._paused = True
            self._pause()

    async def _run(self) -> None:
        backlog = self._backlog
        owner = self._owner
        low_water = self.max_backlog // 2
        while True:
            if not backlog:
                idle, self._idle = self._idle, None
                if idle is not None and not idle.done():
                    idle.set_result(None)
                self._wakeup = asyncio.get_running_loop().create_future()
                await self._wakeup
                continue
            message, handlers = backlog.popleft()
            self._busy = True
            try:
                for handler in handlers:
                    try:
                        result = handler(message, owner)
                        if isinstance(result, Awaitable):
                            await result
                    except asyncio.CancelledError:
                        if self._stopping:
                            raise
                        # A handler's own cancellation (it cancelled a task
                        # it awaited, or raised it): its error, not ours.
                        log.error("callback %r was cancelled on %r", handler, _name(message))
                    except Exception:
                        log.exception("callback %r raised on %r", handler, _name(message))
            finally:
                self._busy = False
                if self._paused and len(backlog) <= low_water:
                    self._paused = False
                    self._resume()

    async def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until the backlog is handled.

        Returns at once when called from a handler the dispatcher is running:
        it would be waiting for itself.
        """
        task = self._task
        if task is None or task.done() or asyncio.current_task() is task:
            return
        if not self.pending:
            return
        if self._idle is None or self._idle.done():
            self._idle = asyncio.get_running_loop().create_future()
        try:
            async with async_timeout(timeout):
                await asyncio.shield(self._idle)
        except asyncio.TimeoutError:
            log.warning("async handlers still busy after %s s; stopping them", timeout)

    async def stop(self) -> None:
        """Cancel the dispatcher task and drop the backlog."""
        task, self._task = self._task, None
        self._backlog.clear()
        if self._paused:
            self._paused = False
        if task is None or task.done():
            return
        self._stopping = True
        task.cancel()
        if task is not asyncio.current_task():
            try:
                await task
            except asyncio.CancelledError:
                # Our own task being cancelled too must not be swallowed.
                current = asyncio.current_task()
                cancelling = getattr(current, "cancelling", None)
                if cancelling is not None and cancelling():
                    raise


def _wrap(awaitable: Awaitable[Any]) -> Handler:
    async def run(message: Any, owner: Any) -> Any:
        return await awaitable

    return run


def _name(message: Message) -> str:
    return getattr(message, "event_name", None) or message.get("Response", "?")


# The compiled twin of Dispatcher.received (amiasync/_cdispatch.pyx) when it
# was built and AMIASYNC_NO_EXTENSIONS is not set; the method above is the reference.
_cdispatch = load("_cdispatch")
if _cdispatch is not None:
    Dispatcher.received = _cdispatch.received  # type: ignore[method-assign]
