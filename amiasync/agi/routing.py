"""Routes: which handler serves which AGI script, and running one call.

Shared by :class:`~amiasync.agi.FastAGIServer` and
:class:`~amiasync.agi.AsyncAGI`, so both route and report the same way.
"""

from __future__ import annotations

import enum
import fnmatch
import inspect
import logging
from typing import Callable

from .errors import AGIConnectionLost, AGIHangup
from .session import AGI, Handler

__all__ = ["Router", "Outcome", "run_handler"]

log = logging.getLogger("amiasync.agi")


class Router:
    """Maps script names (``"ivr"``, or globs such as ``"ivr/*"``) to handlers.

    An exact name wins over a glob; globs are tried in the order they were added.
    """

    def __init__(self) -> None:
        self._exact: dict[str, Handler] = {}
        self._globs: list[tuple[str, Handler]] = []

    def add(self, pattern: str, handler: Handler) -> None:
        """Serve ``pattern`` with ``handler``.

        Args:
            pattern: The script path without leading ``/`` and query; ``*``,
                ``?`` and ``[...]`` make it a glob.
            handler: A coroutine function taking the :class:`AGI` object.

        Raises:
            TypeError: ``handler`` is not a coroutine function (a plain
                function would never be awaited), or the pattern is not a str.
            ValueError: The pattern is already routed.
        """
        if not isinstance(pattern, str):
            raise TypeError(f"route pattern must be a str, not {type(pattern).__name__}")
        if not inspect.iscoroutinefunction(handler):
            raise TypeError(
                f"AGI handler {getattr(handler, '__qualname__', handler)!r} must be an "
                "async function (async def handler(agi): ...)"
            )
        pattern = pattern.strip("/")
        if pattern in self._exact or any(p == pattern for p, _ in self._globs):
            raise ValueError(f"AGI route {pattern!r} is already registered")
        if any(c in pattern for c in "*?["):
            self._globs.append((pattern, handler))
        else:
            self._exact[pattern] = handler

    def route(self, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add`; returns the handler unchanged."""

        def register(handler: Handler) -> Handler:
            self.add(pattern, handler)
            return handler

        return register

    def find(self, script: str) -> Handler | None:
        """The handler for a script, or None."""
        script = script.strip("/")
        handler = self._exact.get(script)
        if handler is not None:
            return handler
        for pattern, candidate in self._globs:
            if fnmatch.fnmatchcase(script, pattern):
                return candidate
        return None


class Outcome(enum.Enum):
    """How a handler ended."""

    DONE = "done"  #: it returned
    HANGUP = "hangup"  #: the channel hung up or the link closed under it
    FAILED = "failed"  #: it raised something else (logged)


async def run_handler(handler: Handler, agi: AGI) -> Outcome:
    """Run one call's handler and say how it ended; never raises its errors.

    A hangup (:class:`AGIHangup`, or the link closing) ends the call quietly;
    anything else a handler raises is logged with its traceback.
    """
    try:
        await handler(agi)
    except (AGIHangup, AGIConnectionLost) as exc:
        log.debug("AGI %r on %s ended: %s", agi.script, agi.channel, exc)
        return Outcome.HANGUP
    except Exception:
        log.exception("AGI handler for %r on %s raised", agi.script, agi.channel)
        return Outcome.FAILED
    return Outcome.DONE
