"""The bridge in-process: fake PBXs on loopback, a real redis-server, nothing mocked."""

from __future__ import annotations

import json

from amiasync._compat import timeout
from amiasync.bridge import GAP, Bridge

from .conftest import config

FAST = dict(reconnect_delay=0.05, reconnect_max_delay=0.2)


async def entries(redis, server: str) -> list[tuple[str, dict[str, str]]]:
    return await redis.xrange(f"ami:events:{server}")


async def wait_for(redis, server: str, predicate, seconds: float = 15.0):
    """Read the stream until ``predicate(entries)`` holds (the bridge writes in its own time)."""
    async with timeout(seconds):
        last = "0-0"
        got: list[tuple[str, dict[str, str]]] = []
        while not predicate(got):
            reply = await redis.xread({f"ami:events:{server}": last}, block=200)
            for _key, items in reply or ():
                got.extend(items)
                last = items[-1][0]
        return got


def user_events(items) -> list[str]:
    return [
        dict(json.loads(f["headers"])).get("N", "") for _id, f in items if f["event"] == "UserEvent"
    ]


async def test_every_event_is_one_entry_in_its_pbx_stream(fakes, redis, redis_server):
    servers = {"pbx1": config(fakes[0]), "pbx2": config(fakes[1])}
    async with Bridge(servers, redis_server.url, actions=False, **FAST) as bridge:
        fakes[0].emit(
            [
                ("Event", "UserEvent"),
                ("UserEvent", "t"),
                ("N", "1"),
                ("V", "a"),
                ("V", "b"),
                ("Name", 'Łukasz "q" \\'),
            ]
        )
        fakes[1].emit({"Event": "UserEvent", "UserEvent": "t", "N": "2"})
        one = await wait_for(redis, "pbx1", lambda got: "1" in user_events(got))
        two = await wait_for(redis, "pbx2", lambda got: "2" in user_events(got))
        assert bridge.stats()["pbx1"].connected
    # A new stream: no gap before its first entries (nothing came before).
    assert one[0][1]["event"] == "FullyBooted" and two[0][1]["event"] == "FullyBooted"
    entry = next(f for _id, f in one if f["event"] == "UserEvent")
    assert set(entry) == {"server", "event", "headers", "received"}
    assert entry["server"] == "pbx1"
    assert json.loads(entry["headers"]) == [
        ["Event", "UserEvent"],
        ["UserEvent", "t"],
        ["N", "1"],
        ["V", "a"],
        ["V", "b"],
        ["Name", 'Łukasz "q" \\'],
    ]
    assert float(entry["received"]) > 1.7e9
    assert all(f["server"] == "pbx2" for _id, f in two)


async def test_a_lost_link_is_a_gap_before_the_new_links_first_event(fakes, redis, redis_server):
    servers = {"pbx1": config(fakes[0]), "pbx2": config(fakes[1])}
    async with Bridge(servers, redis_server.url, actions=False, **FAST) as bridge:
        for n in range(50):
            fakes[0].emit({"Event": "UserEvent", "UserEvent": "t", "N": f"a{n}"})
            fakes[1].emit({"Event": "UserEvent", "UserEvent": "t", "N": f"b{n}"})
        await wait_for(redis, "pbx1", lambda got: "a49" in user_events(got))
        fakes[0].drop_connections()
        await wait_for(redis, "pbx1", lambda got: any(f["event"] == GAP for _i, f in got))
        await bridge.pool.wait_ready(timeout=10)
        for n in range(50, 60):
            fakes[0].emit({"Event": "UserEvent", "UserEvent": "t", "N": f"a{n}"})
            fakes[1].emit({"Event": "UserEvent", "UserEvent": "t", "N": f"b{n}"})
        await wait_for(redis, "pbx1", lambda got: "a59" in user_events(got))
        await wait_for(redis, "pbx2", lambda got: "b59" in user_events(got))
    pbx1 = await entries(redis, "pbx1")
    kinds = [f["event"] for _id, f in pbx1]
    gap_at = kinds.index(GAP)
    gap = pbx1[gap_at][1]
    # The gap comes right before the new link's first event (FullyBooted), and
    # it spans from the last event of the old link to the new connection.
    assert kinds[gap_at + 1] == "FullyBooted"
    assert kinds.count(GAP) == 1
    assert float(gap["since"]) == float(pbx1[gap_at - 1][1]["received"])
    assert float(gap["since"]) <= float(gap["until"]) <= float(pbx1[gap_at + 1][1]["received"])
    assert gap["dropped"] == "0" and gap["reason"] == "link"
    assert user_events(pbx1) == [f"a{n}" for n in range(60)]
    # The other PBX's stream: no gap, every event in order.
    pbx2 = await entries(redis, "pbx2")
    assert GAP not in [f["event"] for _id, f in pbx2]
    assert user_events(pbx2) == [f"b{n}" for n in range(60)]


async def test_a_restarted_bridge_starts_with_a_gap_from_the_last_entry(fakes, redis, redis_server):
    servers = {"pbx1": config(fakes[0])}
    async with Bridge(servers, redis_server.url, actions=False, **FAST):
        fakes[0].emit({"Event": "UserEvent", "UserEvent": "t", "N": "before"})
        await wait_for(redis, "pbx1", lambda got: "before" in user_events(got))
    last = (await entries(redis, "pbx1"))[-1]
    async with Bridge(servers, redis_server.url, actions=False, **FAST):
        fakes[0].emit({"Event": "UserEvent", "UserEvent": "t", "N": "after"})
        await wait_for(redis, "pbx1", lambda got: "after" in user_events(got))
    items = await entries(redis, "pbx1")
    at = items.index(last)
    gap = items[at + 1][1]
    assert gap["event"] == GAP and gap["reason"] == "restart"
    assert gap["since"] == last[1]["received"]
    assert items[at + 2][1]["event"] == "FullyBooted"
    assert user_events(items) == ["before", "after"]


async def test_streams_are_trimmed_to_maxlen(fakes, redis, redis_server):
    async with Bridge(
        {"pbx1": config(fakes[0])}, redis_server.url, actions=False, maxlen=100, **FAST
    ):
        for n in range(3000):
            fakes[0].emit({"Event": "UserEvent", "UserEvent": "t", "N": str(n)})
        await wait_for(redis, "pbx1", lambda got: "2999" in user_events(got))
    # MAXLEN ~ trims whole macro nodes only: about 100, never the 3000.
    assert 100 <= await redis.xlen("ami:events:pbx1") < 1000


async def test_a_batch_sent_twice_is_appended_once(redis):
    from amiasync.bridge.appender import TOKENS_KEY
    from amiasync.bridge.scripts import APPEND_BATCH

    script = redis.register_script(APPEND_BATCH)
    batch = ["tok:1", "", "pbx9", "e", "E1", "[]", "1.0", "e", "E2", "[]", "2.0"]
    assert await script(keys=["ami:events:pbx9", TOKENS_KEY], args=batch) == 2
    # The reply was lost, say: the writer sends the same batch again.
    assert await script(keys=["ami:events:pbx9", TOKENS_KEY], args=batch) == 0
    # A restart gap takes its since from the stream's last entry.
    gap = ["tok:2", "", "pbx9", "g", "", "5.0", "0", "restart", "e", "E3", "[]", "5.5"]
    assert await script(keys=["ami:events:pbx9", TOKENS_KEY], args=gap) == 2
    items = await entries(redis, "pbx9")
    assert [f["event"] for _id, f in items] == ["E1", "E2", GAP, "E3"]
    assert items[2][1]["since"] == "2.0" and items[2][1]["until"] == "5.0"
    # On an empty stream there is nothing to cover: no gap entry.
    assert (
        await script(
            keys=["ami:events:empty", TOKENS_KEY], args=["t", "", "x", "g", "", "1", "0", "restart"]
        )
        == 0
    )


async def test_a_redis_that_lost_the_script_gets_it_again(fakes, redis, redis_server):
    # SCRIPT FLUSH is what a restarted Redis looks like to EVALSHA (NOSCRIPT).
    async with Bridge({"pbx1": config(fakes[0])}, redis_server.url, actions=False, **FAST):
        fakes[0].emit({"Event": "UserEvent", "UserEvent": "t", "N": "1"})
        await wait_for(redis, "pbx1", lambda got: "1" in user_events(got))
        await redis.script_flush()
        fakes[0].emit({"Event": "UserEvent", "UserEvent": "t", "N": "2"})
        got = await wait_for(redis, "pbx1", lambda got: "2" in user_events(got))
    assert user_events(got) == ["1", "2"]


async def test_without_hiredis_redis_py_packs_the_same_batches(
    fakes, redis, redis_server, monkeypatch
):
    from amiasync.bridge import appender

    monkeypatch.setattr(appender, "_pack", None)
    async with Bridge({"pbx1": config(fakes[0])}, redis_server.url, actions=False, **FAST):
        for n in range(500):
            fakes[0].emit({"Event": "UserEvent", "UserEvent": "t", "N": str(n), "Name": "王小明"})
        got = await wait_for(redis, "pbx1", lambda got: "499" in user_events(got))
    assert user_events(got) == [str(n) for n in range(500)]
    assert dict(json.loads(got[-1][1]["headers"]))["Name"] == "王小明"
