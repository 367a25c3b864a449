"""Events into Redis: one bounded, ordered buffer per PBX, and the task that empties it.

:class:`EventBuffer` is the policy, with no I/O: the manager's reader adds
every event to it at once (Asterisk drops a client that stops reading, so
the reader never waits for Redis). When the buffer is full, new events are
dropped, never old ones, so nothing is reordered; the drop opens a *gap*,
which becomes a ``__gap__`` entry with the count (``dropped``) as soon as
there is room again, before the next event that is kept. A lost AMI link
opens a gap the same way, closed when the link is back, before any event of
the new link; a new buffer starts with a gap whose ``since`` Redis fills in
from the stream's last entry (a restarted bridge).

:class:`StreamWriter` sends the buffer to Redis in batches, each batch one
call of :data:`~amiasync.bridge.scripts.APPEND_BATCH` (one round trip for
up to ``batch_size`` events), retrying with capped exponential backoff while
Redis is down. An entry leaves the buffer only once Redis has it; a retry of
a batch whose reply was lost appends nothing twice (the script's token).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import hashlib
import itertools
import logging
import operator
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any, Union

from .._compat import timeout as async_timeout
from ..backoff import backoff
from .format import events_stream, redis_errors
from .scripts import APPEND_BATCH, EVENT_ENTRY, GAP_ENTRY

_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _pack
except ImportError:  # pragma: no cover - depends on the environment
    _pack = None

__all__ = ["EventBuffer", "StreamWriter", "TOKENS_KEY"]

log = logging.getLogger("amiasync.bridge")

#: The hash of the last batch token applied to each stream (see APPEND_BATCH).
TOKENS_KEY = "ami:bridge:tokens"

#: An event waiting: (EVENT_ENTRY, name, headers JSON, received); or a gap:
#: (GAP_ENTRY, since or "", until, dropped, reason). The kind comes first,
#: apart from the name, so that no event name can pass for a gap.
Entry = Union[tuple[str, str, bytes, str], tuple[str, str, str, str, str]]

#: The reason of the gap that replaces a batch Redis refused (see StreamWriter).
ERROR_REASON = "error"


@dataclasses.dataclass
class _Gap:
    since: str  # "" when Redis is to take it from the stream's last entry
    reasons: list[str]
    dropped: int = 0


def _is_noscript(exc: BaseException) -> bool:
    """True for Redis's answer to an EVALSHA of a script it does not hold."""
    import redis.exceptions

    return isinstance(exc, redis.exceptions.NoScriptError)


#: An entry's field its size is counted by: an event's headers, a gap's until.
_third = operator.itemgetter(2)


def _stamp(when: float) -> str:
    return f"{when:.6f}"


class EventBuffer:
    """One PBX's entries on their way to Redis: bounded, in order, gaps counted.

    Args:
        server: The PBX's name.
        maxsize: How many entries may wait; past it events are dropped and counted.
        max_bytes: How many bytes of headers (JSON) may wait; past it events
            are dropped and counted too (a burst of large events reaches it
            before ``maxsize``).

    Attributes:
        stream: The Redis key (``ami:events:<server>``).
        accepted: Events buffered so far.
        dropped: Events dropped so far (buffer full, or a batch Redis refused).
        gaps: Gap entries buffered so far.
        size: Bytes of the entries waiting: events' headers, and each gap's
            ``until`` (a few bytes; one field counted for every entry keeps
            :meth:`remove` in C).
    """

    def __init__(self, server: str, maxsize: int = 100_000, max_bytes: int = 256 << 20) -> None:
        if maxsize < 2:
            raise ValueError("maxsize must be at least 2 (a gap entry and an event)")
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.server = server
        self.stream = events_stream(server)
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: collections.deque[Entry] = collections.deque()
        self.accepted = 0
        self.dropped = 0
        self.gaps = 0
        # The received time of the last entry buffered: a gap starts there.
        self._last = ""
        self._gap: _Gap | None = _Gap("", ["restart"])
        self._link_up = False
        self._waiter: asyncio.Future[None] | None = None

    def add_event(self, name: str, headers: bytes, received: float) -> bool:
        """Buffer one event; False if it had to be dropped (and was counted).

        Args:
            name: The event name.
            headers: Its headers as JSON pairs (:func:`~amiasync.bridge.format.encode_pairs`).
            received: When it was read (Unix time).
        """
        entries = self.entries
        size = len(headers)
        gap = self._gap
        if gap is not None:
            # The gap entry goes first, if both it and the event fit.
            gap_size = len(_stamp(received))
            if self.size + gap_size + size > self.max_bytes or not self._close_gap(
                received, room=2
            ):
                gap.dropped += 1
                self.dropped += 1
                return False
        if len(entries) >= self.maxsize or self.size + size > self.max_bytes:
            self._open_gap("overflow")
            assert self._gap is not None
            self._gap.dropped += 1
            self.dropped += 1
            return False
        stamp = _stamp(received)
        entries.append((EVENT_ENTRY, name, headers, stamp))
        self.size += size
        self._last = stamp
        self.accepted += 1
        if self._waiter is not None:
            self.wake()
        return True

    def link_lost(self) -> None:
        """The AMI link went down: events may be missed from the last one on."""
        self._link_up = False
        self._open_gap("link")

    def link_up(self, when: float) -> None:
        """A new AMI link is up: close the gap now, before its first event."""
        self._link_up = True
        if self._gap is not None:
            self._close_gap(when, room=1)

    def room_made(self, when: float) -> None:
        """Entries left for Redis: close an overflow gap now, not at the next event.

        A quiet PBX may send nothing for minutes after an overflow; its
        consumers hear of the loss as soon as the buffer has room. A gap
        while the link is down stays open until :meth:`link_up`.
        """
        if self._gap is not None and self._link_up:
            self._close_gap(when, room=1)

    @property
    def gap_open(self) -> bool:
        """True while events are being missed (link down or buffer full)."""
        return self._gap is not None

    def _open_gap(self, reason: str) -> None:
        gap = self._gap
        if gap is None:
            if not self._last:
                # Nothing buffered in this process: since the stream's last entry.
                self._gap = _Gap("", [reason])
            else:
                self._gap = _Gap(self._last, [reason])
        elif reason not in gap.reasons:
            gap.reasons.append(reason)

    def _close_gap(self, until: float, room: int) -> bool:
        """Buffer the gap entry if ``room`` entries fit (the gap, and what follows)."""
        gap = self._gap
        assert gap is not None
        if len(self.entries) + room > self.maxsize:
            return False
        stamp = _stamp(until)
        self.size += len(stamp)
        self.entries.append((GAP_ENTRY, gap.since, stamp, str(gap.dropped), ",".join(gap.reasons)))
        self._gap = None
        self._last = stamp
        self.gaps += 1
        self.wake()
        return True

    def remove(self, count: int) -> None:
        """Forget the oldest ``count`` entries: Redis has them."""
        popleft = self.entries.popleft
        self.size -= sum(map(len, map(_third, [popleft() for _ in range(count)])))

    def replace_with_gap(self, count: int) -> int:
        """Put one gap in place of the oldest ``count`` entries; return the events it drops.

        For a batch Redis refused: its events are counted in the gap's
        ``dropped`` (with those of the gaps it held), so none is lost
        silently, and the gap keeps their place in the stream's order.
        """
        taken = list(itertools.islice(self.entries, count))
        self.remove(count)
        events = sum(1 for entry in taken if entry[0] == EVENT_ENTRY)
        dropped = events
        reasons: list[str] = []
        for entry in taken:
            if len(entry) == 5:  # a gap
                dropped += int(entry[3])
                reasons.extend(r for r in entry[4].split(",") if r not in reasons)
        if ERROR_REASON not in reasons:
            reasons.append(ERROR_REASON)
        first, last = taken[0], taken[-1]
        since = first[1] if first[0] == GAP_ENTRY else first[3]
        until = last[2] if last[0] == GAP_ENTRY else last[3]
        gap = (GAP_ENTRY, str(since), str(until), str(dropped), ",".join(reasons))
        self.entries.appendleft(gap)
        self.size += len(gap[2])
        self.dropped += events
        self.gaps += 1
        return events

    def wake(self) -> None:
        """Wake :meth:`wait_for_entries` even though nothing was added."""
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait_for_entries(self) -> None:
        """Wait until the buffer holds something."""
        if self.entries:
            return
        if self._waiter is None or self._waiter.done():
            self._waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._waiter)


class StreamWriter:
    """The task that moves one :class:`EventBuffer` into Redis.

    One batch is in hand at a time (:meth:`run` and :meth:`flush` take
    turns), and its entries leave the buffer only once Redis confirms them.

    Args:
        buffer: The buffer to empty.
        redis: A ``redis.asyncio.Redis`` client.
        maxlen: ``MAXLEN ~`` trimming of the stream after each batch (None: no trimming).
        batch_size: The most entries per round trip.
        retry_delay: The first wait after a Redis error, doubled up to ``retry_max_delay``.

    Attributes:
        written: Entries Redis has (events and gaps).
        errors: Redis errors met (each followed by a retry, or a refused batch).
        refused: Batches Redis refused with an error a retry would only repeat
            (each replaced by a gap entry that counts its events as dropped).

    Raises:
        ValueError: ``maxlen`` is negative or ``batch_size`` is less than 1.
    """

    def __init__(
        self,
        buffer: EventBuffer,
        redis: Any,
        *,
        maxlen: int | None = None,
        batch_size: int = 5000,
        retry_delay: float = 0.05,
        retry_max_delay: float = 2.0,
    ) -> None:
        if maxlen is not None and maxlen < 0:
            raise ValueError(f"maxlen must be None or at least 0, not {maxlen}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.buffer = buffer
        self.redis = redis
        self.maxlen = maxlen
        self.batch_size = batch_size
        self.retry_delay = retry_delay
        self.retry_max_delay = retry_max_delay
        self.written = 0
        self.errors = 0
        self.refused = 0
        self.last_error: str | None = None
        # Redis names a script by the SHA1 of its text (EVALSHA).
        self._sha = hashlib.sha1(APPEND_BATCH.encode(), usedforsecurity=False).hexdigest()
        self._token_prefix = secrets.token_hex(6)
        self._stopping = False
        self._batches = 0
        self._unconfirmed: tuple[str, int] | None = None
        # The waits between refused batches; None until one is refused.
        self._refusal_delays: Iterator[float] | None = None
        # Made on first use, inside the running loop (Python 3.9's Lock binds
        # the loop it is created in).
        self._turn: asyncio.Lock | None = None

    async def _call(self, command: list[str | bytes]) -> Any:
        """Send one command on a connection of the client's pool; return the reply.

        A batch is thousands of arguments. redis-py's asyncio client packs
        a command in Python (about 3 us per event in benchmarks/bridge.py);
        hiredis's C ``pack_command`` (the ``redis`` extra) takes under 1 us.
        The connection, the reply parsing and the errors stay redis-py's.
        """
        pool = self.redis.connection_pool
        connection = await pool.get_connection()
        try:
            packed = (
                _pack(tuple(command)) if _pack is not None else connection.pack_command(*command)
            )
            await connection.send_packed_command(packed)
            return await connection.read_response()
        except BaseException:
            # A reply may be left half read (an error, or a deadline that
            # cancelled the read): never reuse this connection. nowait: a
            # frozen Redis must not hold the close up either.
            await connection.disconnect(nowait=True)
            raise
        finally:
            await pool.release(connection)

    async def run(self) -> None:
        """Write batches until :meth:`stop`, then return (what is left: :meth:`flush`)."""
        self._stopping = False
        while not self._stopping:
            await self.buffer.wait_for_entries()
            await self._write_batch()

    def stop(self) -> None:
        """Make :meth:`run` return after the batch in hand.

        A batch whose Redis call is cut short (the task cancelled) stays in
        the buffer under its token: :meth:`flush` sends it again, and Redis
        appends it once either way.
        """
        self._stopping = True
        self.buffer.wake()

    async def flush(self, timeout: float) -> bool:
        """Write everything buffered, for up to ``timeout`` seconds; True if the buffer emptied.

        The deadline bounds every Redis call too (a frozen Redis, a client
        without socket timeout): a call it cuts short closes its connection.
        """
        deadline = time.monotonic() + timeout
        while self.buffer.entries:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                async with async_timeout(left):
                    if not await self._write_batch(deadline):
                        break
            except asyncio.TimeoutError:
                break
        return not self.buffer.entries

    async def _write_batch(self, deadline: float | None = None) -> bool:
        """Write the oldest entries, retrying; False if ``deadline`` (monotonic) came first."""
        if self._turn is None:
            self._turn = asyncio.Lock()
        # run() and flush() never write the same entries at once: each
        # would pop them when its own call returned.
        async with self._turn:
            return await self._write_oldest(deadline)

    async def _write_oldest(self, deadline: float | None) -> bool:
        buffer = self.buffer
        entries = buffer.entries
        if self._unconfirmed is not None:
            # A batch Redis may or may not have applied: the same entries
            # under the same token, so that it is appended once either way.
            token, count = self._unconfirmed
        else:
            count = min(len(entries), self.batch_size)
            if not count:
                return True
            self._batches += 1
            token = f"{self._token_prefix}:{self._batches}"
            self._unconfirmed = (token, count)
        command: list[str | bytes] = [
            "EVALSHA",
            self._sha,
            "2",
            buffer.stream,
            TOKENS_KEY,
            token,
            "" if self.maxlen is None else str(self.maxlen),
            buffer.server,
        ]
        for entry in itertools.islice(entries, count):
            command.extend(entry)
        delays = backoff(self.retry_delay, self.retry_max_delay)
        loaded = False
        while True:
            try:
                await self._call(command)
            except redis_errors() as exc:
                if _is_noscript(exc) and not loaded:
                    # A new Redis (or one restarted, or SCRIPT FLUSH): load
                    # the script and try again at once.
                    loaded = True
                    with contextlib.suppress(*redis_errors()):
                        await self.redis.script_load(APPEND_BATCH)
                        continue
                self.errors += 1
                if _is_refusal(exc):
                    await self._refused(count, exc)
                    return True
                if self.last_error is None:
                    log.warning("%s: Redis write failed, retrying: %s", buffer.stream, exc)
                self.last_error = str(exc)
                delay = next(delays)
                if deadline is not None and time.monotonic() + delay > deadline:
                    return False
                if deadline is None and self._stopping:
                    return False  # stop() while Redis is down: flush() takes over
                await asyncio.sleep(delay)
                continue
            break
        if self.last_error is not None:
            log.info("%s: Redis writes work again", buffer.stream)
            self.last_error = None
        self._refusal_delays = None
        # Only now do the entries leave the buffer: Redis has them.
        self._unconfirmed = None
        buffer.remove(count)
        self.written += count
        buffer.room_made(time.time())
        return True

    async def _refused(self, count: int, exc: BaseException) -> None:
        """Redis refused the batch for good: count it in a gap in its place, go on."""
        self._unconfirmed = None
        self.refused += 1
        self.last_error = str(exc)
        events = self.buffer.replace_with_gap(count)
        # Logged once until a batch is written again: a Redis that refuses
        # every batch (a key of another type) refuses the gap next too.
        level = logging.ERROR if self._refusal_delays is None else logging.DEBUG
        log.log(
            level,
            "%s: Redis refused a batch (%s); its %d events are counted as dropped",
            self.buffer.stream,
            exc,
            events,
        )
        if self._refusal_delays is None:
            self._refusal_delays = backoff(self.retry_delay, self.retry_max_delay, jitter=0.0)
        delay = next(self._refusal_delays)
        if not self._stopping:
            await asyncio.sleep(delay)


def _is_refusal(exc: BaseException) -> bool:
    """True for an error reply that sending the same batch again would only repeat.

    The script's own checks, a script error, a key of another type: Redis
    answers the same to the same batch. Refusals that pass (a replica made
    primary, memory freed, a busy script ended, a cluster slot moving) come
    before the script writes anything, so those are retried like a lost link.
    """
    import redis.exceptions as errors

    if not isinstance(exc, errors.ResponseError) or isinstance(exc, errors.NoScriptError):
        return False
    transient = (
        errors.ReadOnlyError,
        errors.OutOfMemoryError,
        errors.TryAgainError,
        errors.ClusterDownError,
        errors.NoPermissionError,
    )
    if isinstance(exc, transient):
        return False
    return not str(exc).startswith(("BUSY", "LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"))
