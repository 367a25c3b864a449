"""Worker fleets: the bridge's event streams read through consumer groups, at least once.

Every consumer of a group gets a share of each PBX's stream. An entry is
acknowledged only after the handler returned without raising; one whose
handler raised stays pending and comes back. Entries pending for longer
than ``claim_idle`` seconds (their consumer died, or their handler failed)
are claimed with XAUTOCLAIM by whichever consumer of the group looks next;
an entry delivered more than ``max_deliveries`` times goes to the group's
dead-letter stream (``ami:dead:<group>``) with where it came from, and is
acknowledged.

Order: one consumer handles the entries it reads in stream order, so the
events of one PBX reach one consumer in order; a claimed entry comes back
after later ones, and a group of several consumers splits each stream
between them (one consumer per group, or a key of your own, when a handler
needs every event of a PBX in order).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
import os
import secrets
import socket
from collections.abc import Iterable, Iterator
from typing import Any, Callable

from ..backoff import backoff
from ..message import Event
from .format import (
    EVENTS_PREFIX,
    as_text,
    client_from_url,
    event_from_fields,
    events_stream,
    redis_errors,
    text_fields,
)

__all__ = ["EventConsumer", "Delivery", "EventHandler", "dead_letter_stream"]

log = logging.getLogger("amiasync.bridge")


@dataclasses.dataclass(frozen=True)
class Delivery:
    """Where an event came from, passed to the handler beside it.

    Attributes:
        stream: The stream key (``ami:events:<server>``).
        id: The entry's stream id, e.g. ``"1764620000000-0"``.
        deliveries: How many times the entry was delivered (1 the first time).
        claimed: True when it was claimed from another (or a failed) delivery.
    """

    stream: str
    id: str
    deliveries: int = 1
    claimed: bool = False


#: ``handler(event, delivery)``, a function or coroutine function.
EventHandler = Callable[[Event, Delivery], Any]


def dead_letter_stream(group: str) -> str:
    """Return the dead-letter stream of a consumer group."""
    return f"ami:dead:{group}"


class EventConsumer:
    """One consumer of a group over the bridge's event streams.

    Args:
        redis: A ``redis://`` URL or a ``redis.asyncio.Redis`` client (not closed here).
        group: The consumer group (created on each stream if missing).
        handler: ``handler(event, delivery)``; may be a coroutine function.
            ``event.server`` is the PBX, ``delivery.id`` the stream id.
        consumer: This consumer's name, unique in the group (random by default).
        servers: The PBX names to read; None finds every ``ami:events:*`` stream,
            again every ``discover_interval`` seconds.
        start: Where a new group starts: ``"$"`` (new entries) or ``"0"`` (all).
        batch: The most entries read at once.
        claim_idle: Seconds a pending entry waits before it is claimed.
        max_deliveries: Deliveries after which an entry goes to the dead-letter stream.
        dead_letter: The dead-letter stream (``ami:dead:<group>`` by default).

    Attributes:
        handled: Entries handled successfully. failed: Handler failures.
        claimed: Entries claimed from dead or failed deliveries. dead: Dead-lettered entries.
    """

    def __init__(
        self,
        redis: Any,
        group: str,
        handler: EventHandler,
        *,
        consumer: str | None = None,
        servers: Iterable[str] | None = None,
        start: str = "$",
        batch: int = 500,
        block: float = 1.0,
        claim_idle: float = 30.0,
        max_deliveries: int = 5,
        dead_letter: str | None = None,
        discover_interval: float = 5.0,
    ) -> None:
        if isinstance(redis, str):
            self.redis = client_from_url(redis)
            self._owns_client = True
        else:
            self.redis = redis
            self._owns_client = False
        self.group = group
        self.handler = handler
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.start = start
        self.batch = batch
        self.block = block
        self.claim_idle = claim_idle
        self.max_deliveries = max_deliveries
        self.dead_letter = dead_letter or dead_letter_stream(group)
        self.discover_interval = discover_interval
        self._fixed = None if servers is None else [events_stream(s) for s in servers]
        self._streams: list[str] = []
        self._is_async = inspect.iscoroutinefunction(handler)
        self._stopping = False
        self.handled = 0
        self.failed = 0
        self.claimed = 0
        self.dead = 0

    async def run(self) -> None:
        """Consume until :meth:`stop`; Redis errors are retried with backoff.

        Stopping with :meth:`stop` lets the batch in hand finish and be
        acknowledged (within ``block`` seconds when idle); cancelling the
        task works too, and leaves what was not acknowledged pending.
        """
        loop = asyncio.get_running_loop()
        next_claim = next_discovery = 0.0
        delays: Iterator[float] | None = None  # while Redis fails
        self._stopping = False
        while not self._stopping:
            try:
                now = loop.time()
                if now >= next_discovery:
                    await self._discover(first=not self._streams)
                    next_discovery = now + (
                        self.discover_interval if self._fixed is None else float("inf")
                    )
                if now >= next_claim:
                    await self.claim()
                    next_claim = now + max(0.05, self.claim_idle / 2)
                if not self._streams:
                    await asyncio.sleep(min(self.block, self.discover_interval))
                    continue
                await self.read_once()
                delays = None
            except redis_errors() as exc:
                log.warning("consumer %s: Redis failed (%s); retrying", self.consumer, exc)
                if delays is None:
                    delays = backoff(0.05, 2.0, jitter=0.0)
                await asyncio.sleep(next(delays))

    def stop(self) -> None:
        """Make :meth:`run` return after the batch in hand."""
        self._stopping = True

    async def _discover(self, first: bool) -> None:
        if self._fixed is not None:
            found = self._fixed
        else:
            found = sorted(
                {
                    as_text(key)
                    async for key in self.redis.scan_iter(match=EVENTS_PREFIX + "*", _type="stream")
                }
            )
        for stream in found:
            if stream in self._streams:
                continue
            # A stream that appears later is read from its start: its first
            # entries may predate this look.
            start = self.start if first else "0"
            try:
                await self.redis.xgroup_create(stream, self.group, id=start, mkstream=True)
            except redis_errors() as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._streams.append(stream)

    async def read_once(self) -> int:
        """Read and handle one batch of new entries; return how many were handled.

        The first call looks for the streams (and creates the group on them),
        as :meth:`run` does.
        """
        if not self._streams:
            await self._discover(first=True)
            if not self._streams:
                return 0
        reply = await self.redis.xreadgroup(
            self.group,
            self.consumer,
            dict.fromkeys(self._streams, ">"),
            count=self.batch,
            block=int(self.block * 1000),
        )
        done = 0
        for raw_stream, entries in reply or ():
            stream = as_text(raw_stream)
            acks = []
            for raw_id, fields in entries:
                entry_id = as_text(raw_id)
                if await self._handle(stream, entry_id, fields, Delivery(stream, entry_id)):
                    acks.append(entry_id)
            if acks:
                await self.redis.xack(stream, self.group, *acks)
                done += len(acks)
        return done

    async def claim(self) -> int:
        """Claim entries pending longer than ``claim_idle``; handle or dead-letter them.

        Returns:
            How many were claimed.
        """
        idle = int(self.claim_idle * 1000)
        count = 0
        for stream in self._streams:
            start = "0-0"
            while True:
                reply = await self.redis.xautoclaim(
                    stream, self.group, self.consumer, idle, start_id=start, count=self.batch
                )
                start = as_text(reply[0])
                for raw_id, fields in reply[1]:
                    entry_id = as_text(raw_id)
                    count += 1
                    self.claimed += 1
                    if not fields:
                        # Trimmed away (MAXLEN) while pending: nothing left to handle.
                        await self.redis.xack(stream, self.group, entry_id)
                        continue
                    deliveries = await self._deliveries(stream, entry_id)
                    delivery = Delivery(stream, entry_id, deliveries, claimed=True)
                    if deliveries > self.max_deliveries:
                        await self._bury(
                            stream, entry_id, fields, deliveries, "too many deliveries"
                        )
                    elif await self._handle(stream, entry_id, fields, delivery):
                        await self.redis.xack(stream, self.group, entry_id)
                if start == "0-0":
                    break
        return count

    async def _deliveries(self, stream: str, entry_id: str) -> int:
        pending = await self.redis.xpending_range(stream, self.group, entry_id, entry_id, 1)
        return int(pending[0]["times_delivered"]) if pending else 1

    async def _handle(self, stream: str, entry_id: str, fields: Any, delivery: Delivery) -> bool:
        """Run the handler; True when the entry may be acknowledged."""
        try:
            event = event_from_fields(text_fields(fields))
        except (ValueError, TypeError) as exc:
            await self._bury(stream, entry_id, fields, delivery.deliveries, f"malformed: {exc}")
            return False
        try:
            result = self.handler(event, delivery)
            if self._is_async or inspect.isawaitable(result):
                await result
        except Exception:
            self.failed += 1
            log.exception("consumer %s: handler failed on %s %s", self.consumer, stream, entry_id)
            return False
        self.handled += 1
        return True

    async def _bury(
        self, stream: str, entry_id: str, fields: Any, deliveries: int, why: str
    ) -> None:
        record = {**text_fields(fields)}
        record.update(
            stream=stream, id=entry_id, group=self.group, deliveries=str(deliveries), why=why
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.dead_letter, record)
            pipe.xack(stream, self.group, entry_id)
            await pipe.execute()
        self.dead += 1
        log.warning("consumer %s: %s %s dead-lettered (%s)", self.consumer, stream, entry_id, why)

    async def close(self) -> None:
        """Close the Redis client if this consumer made it."""
        if self._owns_client:
            with contextlib.suppress(Exception):
                await self.redis.aclose()
