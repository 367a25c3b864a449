"""The bridge and a real Asterisk (the sandbox): a PBX restart is a gap in its stream only."""

from __future__ import annotations

import asyncio
import json

import pytest

from amiasync.bridge import GAP, Bridge

from .conftest import config
from .helpers import eventually

pytestmark = pytest.mark.integration


async def _booted_after_gap(redis, key: str) -> bool:
    kinds = [f["event"] for _id, f in await redis.xrange(key)]
    return GAP in kinds and "FullyBooted" in kinds[kinds.index(GAP) :]


async def test_a_pbx_restart_is_a_gap_and_the_other_streams_go_on(
    asterisk, fakes, redis, redis_server
):
    real = dict(
        host=asterisk.host, port=asterisk.port, username=asterisk.username, secret=asterisk.secret
    )
    servers = {"real": real, "fake": config(fakes[0])}
    bridge = Bridge(
        servers, redis_server.url, actions=False, reconnect_delay=0.1, reconnect_max_delay=0.5
    )
    await bridge.start()
    try:
        assert all(s.connected for s in bridge.stats().values()), bridge.stats()
        ticking = True

        async def tick() -> None:
            n = 0
            while ticking:
                fakes[0].emit({"Event": "UserEvent", "UserEvent": "tick", "N": str(n)})
                n += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.ensure_future(tick())
        await asterisk.sandbox("rx", "core restart now")
        await eventually(lambda: _booted_after_gap(redis, "ami:events:real"), seconds=90)
        ticking = False
        await ticker
        await eventually(lambda: _stats(bridge))
    finally:
        await bridge.stop()
    items = await redis.xrange("ami:events:real")
    kinds = [f["event"] for _id, f in items]
    gap_at = kinds.index(GAP)
    gap = items[gap_at][1]
    # Asterisk said goodbye (Shutdown) on the old link; the gap follows it and
    # comes before every event of the new link (SuccessfulAuth, FullyBooted, ...).
    assert "Shutdown" in kinds[:gap_at] and "FullyBooted" in kinds[gap_at + 1 :]
    assert gap["reason"] == "link" and float(gap["since"]) <= float(gap["until"])
    assert float(gap["since"]) == float(items[gap_at - 1][1]["received"])
    assert all(float(f["received"]) >= float(gap["until"]) for _id, f in items[gap_at + 1 :])
    fake = await redis.xrange("ami:events:fake")
    assert GAP not in [f["event"] for _id, f in fake]
    ticks = [
        int(dict(json.loads(f["headers"]))["N"]) for _id, f in fake if f["event"] == "UserEvent"
    ]
    assert ticks == list(range(len(ticks))) and len(ticks) > 10


async def _stats(bridge) -> bool:
    return all(s.connected and not s.buffered for s in bridge.stats().values())
