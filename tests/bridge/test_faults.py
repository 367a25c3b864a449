"""Faults, for real: kill -9 of a bridge mid-burst, redis-server restarted mid-burst."""

from __future__ import annotations

import asyncio
import json

from amiasync.bridge import GAP, Bridge

from .conftest import config
from .helpers import bridge_process, eventually

FAST = dict(reconnect_delay=0.05, reconnect_max_delay=0.2)


def numbered(items) -> list[int]:
    return [
        int(dict(json.loads(f["headers"]))["N"]) for _id, f in items if f["event"] == "UserEvent"
    ]


async def burst(fake, start: int, count: int, chunk: int = 200) -> None:
    for n in range(start, start + count):
        fake.emit({"Event": "UserEvent", "UserEvent": "burst", "N": str(n)})
        if n % chunk == 0:
            await asyncio.sleep(0.001)  # let the fake's socket drain


async def _length_at_least(redis, key: str, wanted: int) -> bool:
    return await redis.xlen(key) >= wanted


async def _has(redis, key: str, n: int) -> bool:
    return n in numbered(await redis.xrevrange(key, count=5))


async def test_kill_9_of_the_bridge_mid_burst_then_a_restart(fakes, redis, redis_server):
    fake = fakes[0]
    pbx = f"pbx1={fake.host}:{fake.port}"
    key = "ami:events:pbx1"
    first = await bridge_process(redis_server.url, pbx, extra=("--no-actions",))
    emitting = asyncio.ensure_future(burst(fake, 0, 20_000))
    try:
        await eventually(lambda: _length_at_least(redis, key, 2000), seconds=60)
        first.kill9()
    finally:
        await first.stop()
        await emitting
    second = await bridge_process(redis_server.url, pbx, extra=("--no-actions",))
    try:
        await eventually(lambda: _length_at_least(redis, key, 1), seconds=30)
        await burst(fake, 100_000, 10)
        await eventually(lambda: _has(redis, key, 100_009), seconds=30)
    finally:
        err = await second.stop()
    items = await redis.xrange(key)
    kinds = [f["event"] for _id, f in items]
    gap_at = kinds.index(GAP)
    before = numbered(items[:gap_at])
    # Everything before the gap is there, in order, once: the burst up to the kill.
    assert before == list(range(len(before))) and len(before) >= 1999
    gap = items[gap_at][1]
    assert gap["reason"] == "restart" and gap["since"] == items[gap_at - 1][1]["received"]
    assert kinds[gap_at + 1] == "FullyBooted" and kinds.count(GAP) == 1
    assert numbered(items[gap_at:]) == list(range(100_000, 100_010))
    assert "0 dropped" in err and "0 not written" in err


async def test_redis_restarted_mid_burst_buffer_bounded_loss_counted(fakes, redis_server):
    fake = fakes[0]
    key = "ami:events:pbx1"
    bridge = Bridge(
        {"pbx1": config(fake)}, redis_server.url, actions=False, buffer_size=2000, **FAST
    )
    await bridge.start()
    try:
        import redis.asyncio as redis_asyncio

        await burst(fake, 0, 1000)
        check = redis_asyncio.from_url(redis_server.url, decode_responses=True)
        await eventually(lambda: _has(check, key, 999))
        await check.aclose()
        redis_server.stop()
        await burst(fake, 1000, 6000)
        await eventually(lambda: _stats_true(bridge, lambda s: s.accepted + s.dropped >= 7000 - 1))
        stats = bridge.stats()["pbx1"]
        assert stats.buffered <= 2000 and stats.dropped > 0 and stats.redis_error
        redis_server.start()
        # Once Redis has the buffer, the gap is written at once, without
        # waiting for another event.
        await eventually(lambda: _stats_true(bridge, lambda s: not s.buffered and not s.gap_open))
        await burst(fake, 7000, 100)
        check = redis_asyncio.from_url(redis_server.url, decode_responses=True)
        await eventually(lambda: _has(check, key, 7099), seconds=60)
        items = await check.xrange(key)
        await check.aclose()
    finally:
        await bridge.stop()
    stats = bridge.stats()["pbx1"]
    got = numbered(items)
    # In order, no duplicates (retried batches were not appended twice)...
    assert got == sorted(set(got))
    # ...and every missing event is counted in a gap entry, none silently lost.
    gaps = [f for _id, f in items if f["event"] == GAP]
    assert sum(int(g["dropped"]) for g in gaps) == stats.dropped == 7100 - len(got)
    assert any("overflow" in g["reason"] for g in gaps)
    assert stats.buffered == 0


async def _stats_true(bridge, predicate) -> bool:
    return predicate(bridge.stats()["pbx1"])
