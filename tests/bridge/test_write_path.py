"""The write path under attack: a slow or frozen Redis at stop, hostile event names,
batches Redis refuses, a writer that dies. A real redis-server throughout."""

from __future__ import annotations

import json
import logging
import os
import signal
import time

import pytest

from amiasync._compat import timeout
from amiasync.bridge import GAP, Bridge, EventBuffer, Gap, StreamWriter, event_from_fields
from amiasync.bridge.appender import TOKENS_KEY
from amiasync.bridge.scripts import APPEND_BATCH

from .conftest import config, redis_asyncio
from .helpers import eventually

FAST = dict(reconnect_delay=0.05, reconnect_max_delay=0.2)


def numbered(items) -> list[int]:
    return [
        int(dict(json.loads(f["headers"]))["N"]) for _id, f in items if f["event"] == "UserEvent"
    ]


def linked_buffer(server: str = "pbx") -> EventBuffer:
    buffer = EventBuffer(server, 1000)
    buffer.link_up(time.time())
    return buffer


async def test_stop_while_redis_is_paused_loses_nothing_and_says_so(fakes, redis, redis_server):
    """stop() must not let run() and flush() write (and pop) the same batch."""
    client = redis_asyncio.from_url(redis_server.url)
    bridge = Bridge({"pbx": config(fakes[0])}, client, actions=False, **FAST)
    await bridge.start()
    buffer, writer = bridge.buffers["pbx"], bridge.writers["pbx"]
    try:
        await bridge.pool.wait_ready(5)
        await eventually(lambda: _true(not buffer.entries))  # FullyBooted written
        # Writes wait for 3 s: the writer's batch is in flight through stop().
        await redis.execute_command("CLIENT", "PAUSE", "3000", "WRITE")
        n = 12_000
        for i in range(n):
            fakes[0].emit({"Event": "UserEvent", "UserEvent": "t", "N": str(i)})
        await eventually(lambda: _true(buffer.accepted >= n + 1 and writer.errors == 0))
        started = time.monotonic()
        flushed = await bridge.stop(flush_timeout=1.0)
        took = time.monotonic() - started
        left = len(buffer.entries)
    finally:
        await bridge.stop(0)
    # What stop() kept is the rest: once Redis is back, every event is there
    # once, in order.
    assert await writer.flush(10.0)
    items = await redis.xrange("ami:events:pbx")
    assert numbered(items) == list(range(n))
    assert buffer.dropped == 0
    # Redis was paused all along: stop() could not write everything, and
    # said so, within its deadline.
    assert not flushed and left and took < 1.8
    await client.aclose()


async def test_an_event_named_like_a_gap_is_an_event(redis):
    buffer = linked_buffer()
    buffer.add_event("UserEvent", b'[["N","0"]]', time.time())
    buffer.add_event(GAP, b'[["Event","__gap__"]]', time.time())
    for i in (1, 2, 3):
        buffer.add_event("UserEvent", b'[["N","%d"]]' % i, time.time())
    writer = StreamWriter(buffer, redis, retry_delay=0.01, retry_max_delay=0.02)
    assert await writer.flush(5.0)
    assert writer.errors == 0 and writer.written == 6
    items = await redis.xrange("ami:events:pbx")
    assert numbered(items) == [0, 1, 2, 3]
    odd = items[1][1]
    assert set(odd) == {"server", "event", "headers", "received"}
    assert odd["event"] == GAP and json.loads(odd["headers"]) == [["Event", "__gap__"]]
    # A consumer tells it from a gap entry: it is a plain Event, not a Gap.
    event = event_from_fields(odd)
    assert event.event_name == GAP and event.headers == [("Event", "__gap__")]
    assert not isinstance(event, Gap)
    gap = event_from_fields(
        {
            "server": "pbx",
            "event": GAP,
            "since": "1.5",
            "until": "2.5",
            "dropped": "3",
            "reason": "overflow",
        }
    )
    assert isinstance(gap, Gap) and gap.server == "pbx"
    assert [gap[k] for k in ("since", "until", "dropped", "reason")] == [
        "1.5",
        "2.5",
        "3",
        "overflow",
    ]


def test_a_negative_maxlen_or_an_empty_batch_is_refused_at_once():
    buffer = linked_buffer()
    with pytest.raises(ValueError, match="maxlen"):
        StreamWriter(buffer, None, maxlen=-1)
    with pytest.raises(ValueError, match="batch_size"):
        StreamWriter(buffer, None, batch_size=0)
    with pytest.raises(ValueError, match="maxlen"):
        Bridge({"pbx": dict(host="127.0.0.1", port=1)}, None, maxlen=-1)


@pytest.mark.parametrize(
    "args",
    [
        ["t1", "-1", "x", "e", "E1", "[]", "1.0"],  # maxlen not a count
        ["t1", "", "x", "e", "E1", "[]", "1.0", "E2", "[]", "2.0"],  # no kind
        ["t1", "", "x", "e", "E1", "[]", "1.0", "e", "E2", "[]"],  # cut short
        ["t1", "", "x", "e", "E1", "[]", "1.0", "g", "", "2.0", "many", "link"],
    ],
)
async def test_the_script_checks_the_whole_batch_before_writing(redis, args):
    script = redis.register_script(APPEND_BATCH)
    with pytest.raises(redis_asyncio.ResponseError, match="amiasync"):
        await script(keys=["ami:events:x", TOKENS_KEY], args=args)
    assert await redis.xlen("ami:events:x") == 0


async def test_a_batch_redis_refuses_is_counted_in_a_gap_not_retried_forever(redis, caplog):
    # A key of another type where the stream should be: every retry would
    # get the same WRONGTYPE.
    await redis.set("ami:events:pbx", "not a stream")
    buffer = linked_buffer()
    for i in range(3):
        buffer.add_event("UserEvent", b'[["N","%d"]]' % i, time.time())
    writer = StreamWriter(buffer, redis, retry_delay=0.01, retry_max_delay=0.02)
    with caplog.at_level(logging.ERROR, "amiasync.bridge"):
        assert not await writer.flush(0.5)
    assert writer.refused >= 1 and "WRONGTYPE" in (writer.last_error or "")
    # Said once at ERROR, not at every refusal of the gap that follows.
    assert caplog.text.count("refused a batch") == 1
    # The events left the buffer as one gap that counts them.
    assert buffer.dropped == 3 and len(buffer.entries) == 1
    await redis.delete("ami:events:pbx")
    assert await writer.flush(5.0)
    items = await redis.xrange("ami:events:pbx")
    assert [f["event"] for _id, f in items] == [GAP]
    gap = items[0][1]
    assert gap["dropped"] == "3" and gap["reason"] == "restart,error"
    assert float(gap["since"]) <= float(gap["until"])


async def test_flush_keeps_its_deadline_while_redis_is_frozen(redis_server):
    # A client as a user might pass it: no socket timeout at all.
    client = redis_asyncio.from_url(redis_server.url, decode_responses=True)
    await client.ping()
    buffer = linked_buffer()
    buffer.add_event("UserEvent", b'[["N","0"]]', time.time())
    writer = StreamWriter(buffer, client)
    assert redis_server.process is not None
    pid = redis_server.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        async with timeout(5.0):
            flushed = await writer.flush(0.5)
        took = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert not flushed and took < 1.5
    # The connection cut short was closed, not handed back half read: the
    # same client works, and the batch resent under its token is there once.
    assert await client.ping()
    assert await writer.flush(5.0)
    assert numbered(await client.xrange("ami:events:pbx", count=10)) == [0]
    await client.aclose()


async def test_a_writer_that_dies_is_logged_counted_and_started_again(
    fakes, redis, redis_server, caplog
):
    bridge = Bridge({"pbx": config(fakes[0])}, redis_server.url, actions=False, **FAST)
    writer = bridge.writers["pbx"]
    writer.retry_max_delay = 0.05
    real = writer._write_batch
    calls = 0

    async def broken_once(deadline=None):
        # A fault injected into the real writer: its first batch raises.
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug in the writer")
        return await real(deadline)

    writer._write_batch = broken_once
    with caplog.at_level(logging.ERROR, "amiasync.bridge"):
        async with bridge:
            await bridge.pool.wait_ready(5)
            fakes[0].emit({"Event": "UserEvent", "UserEvent": "t", "N": "7"})

            async def written() -> bool:
                return numbered(await redis.xrange("ami:events:pbx")) == [7]

            await eventually(written)
            stats = bridge.stats()["pbx"]
    assert stats.writer_failures == 1 and "a bug in the writer" in (stats.writer_error or "")
    assert "the Redis writer died" in caplog.text
    assert stats.dropped == 0


def test_the_buffer_is_bounded_in_bytes_too():
    buffer = EventBuffer("pbx", maxsize=1000, max_bytes=1000)
    buffer.link_up(0.0)
    headers = b"x" * 300
    accepted = [buffer.add_event("E", headers, float(n)) for n in range(5)]
    # The restart gap (its until, 8 bytes) and three events fit in 1000 bytes.
    assert accepted == [True, True, True, False, False]
    assert buffer.size == 8 + 3 * 300 and buffer.dropped == 2 and buffer.gap_open
    assert len(buffer.entries) == 4  # no gap entry for a drop that did not end
    buffer.remove(2)  # the restart gap and one event
    assert buffer.size == 2 * 300
    assert buffer.add_event("E", headers, 9.0)  # after its overflow gap
    assert list(buffer.entries)[-2][3:] == ("2", "overflow")
    with pytest.raises(ValueError):
        EventBuffer("pbx", max_bytes=0)


async def _true(value: bool) -> bool:
    return value
