"""EventConsumer against a real redis-server: acks, claims, dead letters, a killed consumer."""

from __future__ import annotations

import asyncio
import json

from amiasync import events
from amiasync._compat import timeout
from amiasync.bridge import GAP, EventConsumer, dead_letter_stream

from .helpers import Child, eventually


async def fill(redis, server: str, count: int, start: int = 0) -> list[str]:
    """Append bridge-format entries (Hangup events) and return their ids."""
    ids = []
    for n in range(start, start + count):
        headers = [
            ["Event", "Hangup"],
            ["Channel", f"PJSIP/{n}"],
            ["Uniqueid", str(n)],
            ["Cause", "16"],
        ]
        ids.append(
            await redis.xadd(
                f"ami:events:{server}",
                {
                    "server": server,
                    "event": "Hangup",
                    "headers": json.dumps(headers),
                    "received": "1.5",
                },
            )
        )
    return ids


class Recorder:
    def __init__(self, until: int) -> None:
        self.seen: list[tuple[str, str, int]] = []
        self.until = until
        self.done = asyncio.Event()

    def note(self, server: str, entry_id: str, deliveries: int = 1) -> None:
        self.seen.append((server, entry_id, deliveries))
        if len(self.seen) >= self.until:
            self.done.set()


async def running(consumer: EventConsumer, until: asyncio.Event, seconds: float = 20.0) -> None:
    task = asyncio.ensure_future(consumer.run())
    try:
        async with timeout(seconds):
            await until.wait()
    finally:
        await stopped(consumer, task)


async def stopped(consumer: EventConsumer, task: asyncio.Future) -> None:
    consumer.stop()
    async with timeout(10):
        await task


async def test_typed_events_in_order_acknowledged_after_the_handler(redis, redis_server):
    ids1 = await fill(redis, "pbx1", 30)
    ids2 = await fill(redis, "pbx2", 30)
    await redis.xadd(
        "ami:events:pbx1",
        {
            "server": "pbx1",
            "event": GAP,
            "since": "1.0",
            "until": "2.0",
            "dropped": "3",
            "reason": "link",
            "received": "2.0",
        },
    )
    recorder = Recorder(61)
    kinds = set()

    async def handle(event, delivery):
        kinds.add((type(event), event.server == delivery.stream.rsplit(":", 1)[1]))
        if event.event_name == GAP:
            assert event["dropped"] == "3" and event["since"] == "1.0"
        else:
            assert isinstance(event, events.Hangup) and event["Cause"] == "16"
        recorder.note(event.server, delivery.id)

    consumer = EventConsumer(redis_server.url, "g1", handle, start="0", block=0.2)
    try:
        await running(consumer, recorder.done)
    finally:
        await consumer.close()
    assert [i for s, i, _ in recorder.seen if s == "pbx1"][:30] == ids1
    assert [i for s, i, _ in recorder.seen if s == "pbx2"] == ids2
    assert all(same for _cls, same in kinds)
    for stream in ("ami:events:pbx1", "ami:events:pbx2"):
        assert (await redis.xpending(stream, "g1"))["pending"] == 0


async def test_a_failed_entry_comes_back_then_a_poison_one_is_dead_lettered(redis, redis_server):
    ids = await fill(redis, "pbx1", 5)
    attempts: dict[str, int] = {}
    recorder = Recorder(4)

    def handle(event, delivery):
        attempts[delivery.id] = attempts.get(delivery.id, 0) + 1
        if delivery.id == ids[1] and delivery.deliveries < 2:
            raise RuntimeError("transient")
        if delivery.id == ids[3]:
            raise RuntimeError("poison")
        recorder.note(event.server, delivery.id, delivery.deliveries)

    consumer = EventConsumer(
        redis,
        "g2",
        handle,
        servers=["pbx1"],
        start="0",
        block=0.1,
        claim_idle=0.2,
        max_deliveries=3,
    )
    task = asyncio.ensure_future(consumer.run())
    try:
        async with timeout(30):
            await recorder.done.wait()
        await eventually(lambda: redis.xlen(dead_letter_stream("g2")))
    finally:
        await stopped(consumer, task)
    assert (ids[1], 2) in [(i, d) for _s, i, d in recorder.seen]
    assert attempts[ids[3]] == 3
    dead = await redis.xrange(dead_letter_stream("g2"))
    assert len(dead) == 1
    record = dead[0][1]
    assert record["id"] == ids[3] and record["stream"] == "ami:events:pbx1"
    assert record["deliveries"] == "4" and record["event"] == "Hangup"
    assert (await redis.xpending("ami:events:pbx1", "g2"))["pending"] == 0
    assert consumer.dead == 1 and consumer.failed >= 4


async def test_a_malformed_entry_goes_straight_to_the_dead_letters(redis, redis_server):
    await redis.xadd("ami:events:pbx1", {"server": "pbx1", "event": "Hangup", "headers": "{oops"})
    good = await fill(redis, "pbx1", 1)
    recorder = Recorder(1)
    consumer = EventConsumer(
        redis, "g3", lambda e, d: recorder.note(e.server, d.id), start="0", block=0.1
    )
    await running(consumer, recorder.done)
    assert recorder.seen[0][1] == good[0]
    dead = await redis.xrange(dead_letter_stream("g3"))
    assert len(dead) == 1 and dead[0][1]["why"].startswith("malformed")


async def test_kill_9_of_a_consumer_its_pending_entries_are_claimed(redis, redis_server):
    ids = await fill(redis, "pbx1", 300)
    await redis.xgroup_create("ami:events:pbx1", "fleet", id="0")
    child = await Child.start(
        "-m",
        "tests.bridge.consumer_child",
        redis_server.url,
        "fleet",
        "doomed",
        "20",
        ready="consumer ready",
    )
    try:
        await eventually(lambda: _at_least(redis.scard("handled:doomed"), 20))
        # It read a batch (50) and hangs in the 21st: those wait in its pending list.
        pending = await redis.xpending("ami:events:pbx1", "fleet")
        assert pending["pending"] >= 30
    finally:
        child.kill9()
        await child.stop()
    handled: set[str] = set()
    all_done = asyncio.Event()

    def handle(event, delivery):
        handled.add(delivery.id)
        if handled | doomed >= set(ids):
            all_done.set()

    doomed = set(await redis.smembers("handled:doomed"))
    survivor = EventConsumer(
        redis, "fleet", handle, consumer="survivor", servers=["pbx1"], block=0.1, claim_idle=0.5
    )
    task = asyncio.ensure_future(survivor.run())
    try:
        async with timeout(30):
            await all_done.wait()
        await eventually(lambda: _nothing_pending(redis, "ami:events:pbx1", "fleet"))
    finally:
        await stopped(survivor, task)
    # Every entry handled at least once; the dead consumer's were claimed.
    assert handled | doomed == set(ids)
    assert survivor.claimed >= 30


async def test_streams_appearing_later_are_found_and_read_from_their_start(redis, redis_server):
    await fill(redis, "early", 1)  # before the consumer: "$" skips it
    recorder = Recorder(6)
    consumer = EventConsumer(
        redis, "g5", lambda e, d: recorder.note(e.server, d.id), block=0.1, discover_interval=0.2
    )
    task = asyncio.ensure_future(consumer.run())
    try:
        # The first look has made the group on the early stream.
        await eventually(lambda: _has_group(redis, "ami:events:early", "g5"))
        await fill(redis, "late1", 3)
        await fill(redis, "late2", 3)
        async with timeout(20):
            await recorder.done.wait()
    finally:
        await stopped(consumer, task)
    assert sorted({s for s, _i, _d in recorder.seen}) == ["late1", "late2"]


async def _has_group(redis, stream: str, group: str) -> bool:
    return any(g["name"] == group for g in await redis.xinfo_groups(stream))


async def _at_least(count, wanted: int) -> bool:
    return await count >= wanted


async def _nothing_pending(redis, stream: str, group: str) -> bool:
    return (await redis.xpending(stream, group))["pending"] == 0
