"""An async iterator over events, with a bounded queue.

Overflow policy: when the consumer falls ``maxsize`` events behind, the
*oldest* queued event is dropped and counted in :attr:`EventStream.dropped`
(and logged once per overflow). The alternative, blocking the socket reader,
would stall every other handler and pending action, and Asterisk drops a
client whose socket stops draining for ``writetimeout`` (100 ms by default),
which loses far more. A consumer that must see every event should use a
callback, or a larger ``maxsize``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from .message import Event
from .registry import CallbackKey

if TYPE_CHECKING:
    from .connection import Manager

__all__ = ["EventStream"]

log = logging.getLogger("amiasync")

#: The class of the events a stream yields (``EventStream[Hangup]``).
_E_co = TypeVar("_E_co", bound=Event, covariant=True)


class EventStream(Generic[_E_co]):
    """Events matching some keys, as an async iterator.

    Made by :meth:`Manager.events`; use as ``async with`` so it unsubscribes on exit::

        async with manager.events("Newchannel", "Hangup") as stream:
            async for event in stream:
                ...

    A stream made for one event class is typed with it: ``manager.events(events.Hangup)``
    is an ``EventStream[Hangup]``, so ``event.cause_txt`` needs no cast.

    Attributes:
        dropped: How many events were dropped because the consumer was too slow.
        maxsize: The queue bound.
    """

    def __init__(self, manager: Manager, keys: tuple[CallbackKey, ...], maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1: the queue is always bounded")
        self.maxsize = maxsize
        self.dropped = 0
        self._manager = manager
        self._keys = keys or ("",)
        self._queue: collections.deque[_E_co] = collections.deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._last: Event | None = None
        self._closed = False
        self._overflowing = False
        for key in self._keys:
            manager.register_callback(key, self._push)

    def _push(self, event: Event, manager: Manager) -> None:
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
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def __aiter__(self) -> EventStream[_E_co]:
        return self

    async def __anext__(self) -> _E_co:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._wakeup = asyncio.get_running_loop().create_future()
            await self._wakeup
        if len(self._queue) == 1:
            self._overflowing = False
        return self._queue.popleft()

    def qsize(self) -> int:
        """Return how many events wait to be read."""
        return len(self._queue)

    async def aclose(self) -> None:
        """Unsubscribe; iteration ends once the queued events are read."""
        self.close()

    def close(self) -> None:
        """Unsubscribe at once (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        for key in self._keys:
            self._manager.unregister_callback(key, self._push)
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

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
