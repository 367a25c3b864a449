"""The bridge itself: a :class:`ManagerPool`, one event buffer and writer per PBX, actions.

::

    bridge = Bridge({"pbx1": dict(host="10.0.0.1", username="admin", secret="...")},
                    "redis://127.0.0.1:6379/0", maxlen=1_000_000)
    async with bridge:
        await bridge.wait_stopped()    # or run until a signal: see amiasync.bridge.cli

Every event is stamped and buffered by a plain callback in the manager's
reader, so reading AMI never waits for Redis. The pool's connection states
drive the gaps: ``DISCONNECTED`` opens one, ``CONNECTED`` (before the login
on the new link, so before any of its events) closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from ..connection import ConnectionState, Manager
from ..message import Event
from ..pool import ManagerPool, ServerConfig
from .appender import EventBuffer, StreamWriter
from .executor import ActionExecutor
from .format import client_from_url, encode_pairs, redis_errors

__all__ = ["Bridge", "ServerStats"]

log = logging.getLogger("amiasync.bridge")


@dataclasses.dataclass(frozen=True)
class ServerStats:
    """One PBX's counters, as :meth:`Bridge.stats` reports them.

    Attributes:
        connected: The AMI link is up and logged in.
        accepted: Events buffered. dropped: Events dropped (buffer full).
        written: Entries in Redis (events and gaps). buffered: Entries waiting.
        gap_open: Events are being missed right now (link down, or buffer full).
        redis_error: The last Redis error while it lasts, else None.
        writer_failures: Times the writer's task died of an unexpected error
            (each logged at ERROR; the writer is started again).
        writer_error: The last such error, else None.
    """

    connected: bool
    accepted: int
    dropped: int
    written: int
    buffered: int
    gap_open: bool
    redis_error: str | None
    writer_failures: int = 0
    writer_error: str | None = None


class Bridge:
    """Every event of every PBX into Redis streams; actions from Redis to the PBXs.

    Args:
        servers: PBX name to connection settings (as for :class:`ManagerPool`).
        redis: A ``redis://`` URL or a ``redis.asyncio.Redis`` client (not closed here).
        maxlen: ``MAXLEN ~`` trimming of each event stream (None: keep everything).
        buffer_size: Entries each PBX may have waiting for Redis.
        buffer_bytes: Bytes of event headers (JSON) each PBX may have waiting
            for Redis; past either limit new events are dropped and counted.
        batch_size: The most entries per Redis round trip (a backlog is written
            in batches of this size; each one holds Redis for a few ms per 1,000).
        actions: Serve ``ami:actions`` (see :class:`ActionExecutor`).
        executor_options: Keyword arguments for :class:`ActionExecutor`.
        **manager_options: Keyword arguments for every :class:`Manager`
            (``keepalive`` is 10 s unless given).
    """

    def __init__(
        self,
        servers: Mapping[str, ServerConfig],
        redis: Any,
        *,
        maxlen: int | None = None,
        buffer_size: int = 100_000,
        buffer_bytes: int = 256 << 20,
        batch_size: int = 5000,
        actions: bool = True,
        executor_options: Mapping[str, Any] | None = None,
        **manager_options: Any,
    ) -> None:
        if isinstance(redis, str):
            self.redis = client_from_url(redis)
            self._owns_client = True
        else:
            self.redis = redis
            self._owns_client = False
        manager_options.setdefault("keepalive", 10.0)
        self.pool = ManagerPool(servers, **manager_options)
        self.buffers: dict[str, EventBuffer] = {}
        self.writers: dict[str, StreamWriter] = {}
        for name, manager in self.pool.items():
            buffer = EventBuffer(name, buffer_size, buffer_bytes)
            self.buffers[name] = buffer
            self.writers[name] = StreamWriter(
                buffer, self.redis, maxlen=maxlen, batch_size=batch_size
            )
            manager.register_callback("", _appender(buffer))
            manager.register_state_callback(_gap_keeper(buffer))
        self.executor = (
            ActionExecutor(self.redis, self.pool, **(executor_options or {})) if actions else None
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._writer_tasks: dict[str, asyncio.Task[None]] = {}
        self._restarts: dict[str, asyncio.TimerHandle] = {}
        self._failures: dict[str, tuple[int, str]] = {}
        self._stopping = False
        self._stopped: asyncio.Event | None = None

    async def start(self, timeout: float | None = 10.0) -> None:
        """Start the writers and the executor, then connect every PBX.

        Args:
            timeout: Seconds to wait for the PBXs' first connection attempts
                (those that fail go on retrying; see :meth:`ManagerPool.start`).
        """
        self._stopped = asyncio.Event()
        self._stopping = False
        self._tasks = []
        for name in self.writers:
            self._start_writer(name)
        if self.executor is not None:
            try:
                await self.executor.prepare()
            except redis_errors() as exc:
                log.warning("Redis is not answering (%s); serving actions once it is", exc)
            self._tasks.append(asyncio.ensure_future(self.executor.run()))
        await self.pool.start(timeout)

    async def stop(self, flush_timeout: float = 10.0) -> bool:
        """Stop reading AMI, write what is buffered (up to ``flush_timeout`` s), stop.

        The writers get ``flush_timeout`` seconds in all, however slow or
        frozen Redis is; what they could not write stays in
        :attr:`buffers` (and is logged), never counted as written.

        Returns:
            True if every buffer was written to Redis.
        """
        # Actions first (those in flight finish while the PBXs are still
        # connected), then AMI, then the writers.
        if self.executor is not None:
            await self.executor.stop(flush_timeout / 2)
        await self.pool.close()
        self._stopping = True
        for handle in self._restarts.values():
            handle.cancel()
        self._restarts.clear()
        for writer in self.writers.values():
            writer.stop()
        deadline = time.monotonic() + flush_timeout
        tasks = [*self._writer_tasks.values(), *self._tasks]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=flush_timeout)
            # Each writer has one owner at a time: a run() still in a Redis
            # call ends here, before flush() takes its buffer. Cancelling is
            # safe: the batch it was sending stays buffered under its token,
            # and Redis appends it once however often it is sent.
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._writer_tasks.clear()
        self._tasks = []
        flushed = True
        for writer in self.writers.values():
            left = max(0.0, deadline - time.monotonic())
            if not await writer.flush(left):
                flushed = False
                log.error(
                    "%s: %d entries not written to Redis at stop",
                    writer.buffer.stream,
                    len(writer.buffer.entries),
                )
        if self._owns_client:
            with contextlib.suppress(Exception):
                await self.redis.aclose()
        if self._stopped is not None:
            self._stopped.set()
        return flushed

    async def wait_stopped(self) -> None:
        """Wait until :meth:`stop` has finished."""
        if self._stopped is not None:
            await self._stopped.wait()

    def _start_writer(self, name: str) -> None:
        self._restarts.pop(name, None)
        if self._stopping:
            return
        task = asyncio.ensure_future(self.writers[name].run())
        self._writer_tasks[name] = task
        task.add_done_callback(lambda task: self._writer_ended(name, task))

    def _writer_ended(self, name: str, task: asyncio.Task[None]) -> None:
        """A writer's run() ended: if by an unexpected error, say so and start it again.

        Left dead, it would let the buffer fill and every later event be
        dropped as if Redis were slow.
        """
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        count = self._failures.get(name, (0, ""))[0] + 1
        self._failures[name] = (count, repr(exc))
        writer = self.writers[name]
        log.error(
            "%s: the Redis writer died; starting it again in %.1f s",
            writer.buffer.stream,
            writer.retry_max_delay,
            exc_info=exc,
        )
        if not self._stopping:
            loop = asyncio.get_running_loop()
            self._restarts[name] = loop.call_later(writer.retry_max_delay, self._start_writer, name)

    def stats(self) -> dict[str, ServerStats]:
        """Return each PBX's counters."""
        status = self.pool.status()
        return {
            name: ServerStats(
                connected=status[name].connected,
                accepted=buffer.accepted,
                dropped=buffer.dropped,
                written=self.writers[name].written,
                buffered=len(buffer.entries),
                gap_open=buffer.gap_open,
                redis_error=self.writers[name].last_error,
                writer_failures=self._failures.get(name, (0, None))[0],
                writer_error=self._failures.get(name, (0, None))[1],
            )
            for name, buffer in self.buffers.items()
        }

    async def __aenter__(self) -> Bridge:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _appender(buffer: EventBuffer) -> Any:
    add, clock = buffer.add_event, time.time

    def append(event: Event, manager: Manager) -> None:
        add(event.event_name, encode_pairs(event.headers), clock())

    return append


def _gap_keeper(buffer: EventBuffer) -> Any:
    def on_state(state: ConnectionState, manager: Manager) -> None:
        if state is ConnectionState.DISCONNECTED:
            buffer.link_lost()
        elif state is ConnectionState.CONNECTED:
            buffer.link_up(time.time())

    return on_state
