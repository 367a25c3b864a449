# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled twin of :meth:`amiasync.dispatcher.Dispatcher.received`.

:mod:`amiasync.dispatcher` is the reference: this does what ``received`` and
``call_inline`` do for a batch of events, in C (one Python-level call per
handler instead of three per event). A handler that raises is logged with the
reference's message; the rare cases (an orphan response, a plain function that
returned an awaitable, coroutine handlers) go to the reference's own methods.

It is chosen by :mod:`amiasync._extensions`; nothing imports it directly.
"""

from collections.abc import Awaitable

from . import dispatcher as _dispatcher

from .message import Event


def received(self, list messages):
    """Dispatch a batch of events and orphan responses, in order (the hot path)."""
    lookup = self._registry.lookup
    owner = self._owner
    cdef tuple sync, coros
    for message in messages:
        if not isinstance(message, Event):
            self.orphan(message)
            continue
        sync, coros = lookup(message.event_name)
        for handler in sync:
            try:
                result = handler(message, owner)
            except Exception:
                _dispatcher.log.exception(
                    "callback %r raised on %r", handler, _dispatcher._name(message)
                )
                continue
            if result is not None and isinstance(result, Awaitable):
                # A plain function that returned an awaitable: queue it
                # behind the events before it, as call_inline does.
                self._queue(message, (_dispatcher._wrap(result),))
        if coros:
            self._queue(message, coros)
