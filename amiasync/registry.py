"""The callback registry: which handlers an event or orphan response goes to.

Keys follow pystrix: an event name (``"Newchannel"``), a glob
(``"Queue*"``), an event class (``events.Newchannel``; the generic
:class:`~amiasync.message.Event` means every event), ``""`` for every event,
or ``None`` for orphan responses. Names match case-insensitively, as AMI keys
do. Plain handlers run in the order they were registered, whatever key
matched; so do coroutine handlers, among themselves.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any, Callable, Union

from .message import Event

__all__ = ["Handler", "Handlers", "CallbackKey", "CallbackRegistry", "is_async_handler"]

#: A callback: ``handler(message, manager)``, a plain function or a coroutine function.
Handler = Callable[[Any, Any], Any]
#: The handlers for one name: (plain functions, coroutine functions), each in
#: registration order.
Handlers = tuple[tuple[Handler, ...], tuple[Handler, ...]]
#: What a callback is registered under.
CallbackKey = Union[str, type, None]

_GLOB = frozenset("*?[")
#: Event names whose resolution is kept; Asterisk 22 documents about 280.
_CACHE_MAX = 4096


def is_async_handler(handler: Handler) -> bool:
    """Tell whether calling ``handler`` gives a coroutine to await."""
    while isinstance(handler, functools.partial):
        handler = handler.func
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )


def _normalise(key: CallbackKey) -> str | None:
    if key is None:
        return None
    if isinstance(key, type):
        if not issubclass(key, Event):
            raise TypeError(f"{key.__name__} is not an event class")
        return key.name.lower()
    if isinstance(key, str):
        return key.lower()
    raise TypeError(f"a callback key is an event name, an event class, '' or None, not {key!r}")


class CallbackRegistry:
    """Handlers by key, resolved per event name and cached.

    The resolution for a name is computed on first use and cached until the
    registrations change, so dispatching an event costs one dict lookup.
    Handlers are split into plain functions, which the manager runs at once
    in the reader, and coroutine functions, which it awaits in order in one
    task (see :mod:`amiasync.dispatcher`).
    """

    def __init__(self) -> None:
        self._entries: list[tuple[str | None, Handler, bool]] = []
        self._cache = _Resolved(self.for_event)
        #: ``lookup(name)``: the handlers for an event name (plain ones,
        #: coroutine ones). A name resolved before costs one dict lookup in C:
        #: this is the reader's hot path.
        self.lookup: Callable[[str], Handlers] = self._cache.__getitem__

    def register(self, key: CallbackKey, handler: Handler) -> None:
        """Add ``handler`` under ``key`` (see the module docstring for keys).

        Raises:
            TypeError: The key is of no accepted kind, or the handler is not callable.
        """
        if not callable(handler):
            raise TypeError("a callback must be callable")
        self._entries.append((_normalise(key), handler, is_async_handler(handler)))
        self._cache.clear()

    def unregister(self, key: CallbackKey, handler: Handler) -> bool:
        """Remove one registration of ``handler`` under ``key``.

        Returns:
            True if it was registered.
        """
        norm = _normalise(key)
        for index, (k, h, _) in enumerate(self._entries):
            if k == norm and h == handler:
                del self._entries[index]
                self._cache.clear()
                return True
        return False

    def for_event(self, name: str) -> Handlers:
        """Return the plain and the coroutine handlers for an event name, each in order."""
        lower = name.lower()
        found = _split(
            (h, a)
            for k, h, a in self._entries
            if k is not None
            and (k == "" or k == lower or (_GLOB.intersection(k) and fnmatchcase(lower, k)))
        )
        if len(self._cache) >= _CACHE_MAX:
            # Names come from the wire; a peer inventing them must not grow this.
            self._cache.clear()
        self._cache[name] = found
        return found

    def for_orphans(self) -> Handlers:
        """Return the handlers registered under ``None``: plain ones, then coroutine ones."""
        return _split((h, a) for k, h, a in self._entries if k is None)

    def __len__(self) -> int:
        return len(self._entries)


class _Resolved(dict[str, Handlers]):
    """Resolved names; a missing one is resolved (and stored) by ``for_event``."""

    def __init__(self, resolve: Callable[[str], Handlers]) -> None:
        super().__init__()
        self._resolve = resolve

    def __missing__(self, name: str) -> Handlers:
        return self._resolve(name)


def _split(chosen: Iterable[tuple[Handler, bool]]) -> Handlers:
    pairs = list(chosen)
    return tuple(h for h, a in pairs if not a), tuple(h for h, a in pairs if a)
