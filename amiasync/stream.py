"""An async iterator over events, with a bounded queue.

Overflow policy: when the consumer falls ``maxsize`` events behind, the
*oldest* queued event is dropped and counted in :attr:`EventStream.dropped`
(and logged once per overflow). The alternative, blocking the socket reader,
would stall every other handler and pending action, and Asterisk drops a
client whose socket stops draining for ``writetimeout`` (100 ms by default),
which loses far more. A consumer that must see every event should use a
callback, or a larger ``maxsize``.

The stream hangs off a :class:`Subscriptions` (a
:class:`~amiasync.registry.CallbackRegistry`, or anything that registers
handlers the same way, such as a :class:`~amiasync.pool.ManagerPool`) alone:
it knows nothing of the manager. The manager tells it when the link ends
(:meth:`EventStream.link_lost`): for good, and iteration raises
:class:`~amiasync.exceptions.ManagerSocketError` once the queued events are
read; or for a reconnect, and :attr:`EventStream.gaps` counts it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar, cast

from .message import Event
from .registry import CallbackKey, Handler

__all__ = ["EventStream", "Subscriptions"]

log = logging.getLogger("amiasync")


class Subscriptions(Protocol):
    """Where a stream subscribes: what :class:`~amiasync.registry.CallbackRegistry` offers."""

    def register(self, key: CallbackKey, handler: Handler) -> None:
        """Call ``handler(event, manager)`` for events matching ``key``."""

    def unregister(self, key: CallbackKey, handler: Handler) -> bool:
        """Stop calling ``handler`` for ``key``; True if it was registered."""


#: The class of the events a stream yields (``EventStream[Hangup]``).
_E_co = TypeVar("_E_co", bound=Event, covariant=True)


class EventStream(Generic[_E_co]):
    """Events matching some keys, as an async iterator.

    Made by :meth:`Manager.events`; use as ``async with`` so it unsubscribes on exit::

        async with manager.events("Newchannel", "Hangup") as stream:
            async for event in stream:
                ...

    Several tasks may iterate one stream: each event goes to one of them, and
    all of them end when the stream is closed.

    A stream made for one event class is typed with it: ``manager.events(events.Hangup)``
    is an ``EventStream[Hangup]``, so ``event.cause_txt`` needs no cast.

    Args:
        registry: Where to subscribe.
        keys: Event names, globs or classes; none for every event.
        maxsize: The queue bound.

    Attributes:
        dropped: How many events were dropped because the consumer was too slow.
        gaps: How many times the link dropped (and was re-established) while
            the stream was open: events in between were never received.
        maxsize: The queue bound.
    """

    def __init__(
        self, registry: Subscriptions, keys: tuple[CallbackKey, ...], maxsize: int
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1: the queue is always bounded")
        self.maxsize = maxsize
        self.dropped = 0
        self.gaps = 0
        self._registry = registry
        self._keys = keys or ("",)
        self._queue: collections.deque[_E_co] = collections.deque()
        # One future shared by every waiting consumer, so that all of them wake.
        self._wakeup: asyncio.Future[None] | None = None
        self._last: Event | None = None
        self._closed = False
        self._error: BaseException | None = None
        self._overflowing = False
        for key in self._keys:
            registry.register(key, self._push)

    def _push(self, event: Event, manager: Any) -> None:
        # An event matching two of the keys reaches this handler twice in a
        # row (handlers run consecutively per event); queue it once.
        if event is self._last or self._closed:
            return
        self._last = event
        queue = self._queue
        if len(queue) >= self.maxsize:
            queue.popleft()
            self.dropped += 1
            if not self._overflowing:
                self._overflowing = True
                log.warning("event stream full (%d); dropping the oldest events", self.maxsize)
        # The registry delivers only events matching the keys: of class _E_co
        # when the stream was made for one class.
        queue.append(cast(_E_co, event))
        self._wake()

    def _wake(self) -> None:
        wakeup, self._wakeup = self._wakeup, None
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def __aiter__(self) -> EventStream[_E_co]:
        return self

    async def __anext__(self) -> _E_co:
        while not self._queue:
            if self._closed:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            wakeup = self._wakeup
            if wakeup is None:
                wakeup = self._wakeup = asyncio.get_running_loop().create_future()
            await wakeup
        if len(self._queue) == 1:
            self._overflowing = False
        self._last = None
        return self._queue.popleft()

    def qsize(self) -> int:
        """Return how many events wait to be read."""
        return len(self._queue)

    def link_lost(self, error: BaseException | None) -> None:
        """The manager's report that the link dropped.

        Args:
            error: None when a reconnect follows (counted in :attr:`gaps`);
                otherwise the error iteration raises once the queue is read.
        """
        if error is None:
            self.gaps += 1
            return
        self._error = error
        self.close()

    async def aclose(self) -> None:
        """Unsubscribe; iteration ends once the queued events are read."""
        self.close()

    def close(self) -> None:
        """Unsubscribe at once (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self._last = None
        for key in self._keys:
            self._registry.unregister(key, self._push)
        self._wake()

    async def __aenter__(self) -> EventStream[_E_co]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        keys: Any = self._keys
        return f"<EventStream {keys!r} queued={len(self._queue)} dropped={self.dropped}>"
