"""Routes: which handler serves which AGI script, and running one call.

Shared by :class:`~amiasync.agi.FastAGIServer` and
:class:`~amiasync.agi.AsyncAGI`, so both route and report the same way.
"""

from __future__ import annotations

import asyncio
import enum
import fnmatch
import inspect
import logging
from collections.abc import Coroutine
from typing import Any, Callable

from .errors import AGIConnectionLost, AGIHangup
from .session import AGI, Handler

__all__ = ["Router", "Outcome", "run_handler", "CallServer"]

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


class CallServer:
    """What FastAGIServer and AsyncAGI share: the routes and the running calls.

    Args:
        stop_grace: Default seconds :meth:`finish_calls` lets calls run.
    """

    def __init__(self, stop_grace: float) -> None:
        self.router = Router()
        self.stop_grace = stop_grace
        self._calls: set[asyncio.Task[None]] = set()

    def route(self, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator: serve the script ``pattern`` (a name or glob) with an async handler.

        Raises:
            TypeError: The handler is not an ``async def`` function.
            ValueError: The pattern is already routed.
        """
        return self.router.route(pattern)

    def add_route(self, pattern: str, handler: Handler) -> None:
        """Serve ``pattern`` with ``handler`` (see :meth:`route`)."""
        self.router.add(pattern, handler)

    @property
    def active_calls(self) -> int:
        """Calls being served now."""
        return len(self._calls)

    def spawn_call(self, call: Coroutine[Any, Any, None]) -> None:
        """Run one call as a task, counted in :attr:`active_calls` until it ends."""
        task = asyncio.get_running_loop().create_task(call)
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def finish_calls(self, grace: float | None) -> None:
        """Let running calls finish for ``grace`` seconds (``stop_grace``), then cancel them."""
        calls = set(self._calls)
        if not calls:
            return
        _, late = await asyncio.wait(calls, timeout=self.stop_grace if grace is None else grace)
        if late:
            log.warning("AGI stop: cancelling %d call(s) still running", len(late))
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
