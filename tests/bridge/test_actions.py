"""Actions through the bridge: RemoteManager, the executor, and at-most-once under faults."""

from __future__ import annotations

import asyncio
import json

import pytest

from amiasync import Action, ActionFailed, ActionTimeout, ManagerSocketError, core
from amiasync._compat import timeout
from amiasync.bridge import ACTIONS_STREAM, ActionOutcomeUnknown, Bridge, RemoteManager

from ..conftest import SECRET, USER
from .conftest import config
from .helpers import bridge_process
from .redis_server import free_port

FAST = dict(reconnect_delay=0.05, reconnect_max_delay=0.2)
QUICK = dict(heartbeat=1.0, claim_idle=1.0, connect_wait=0.5)


def marked(fake, marker: str) -> list:
    return [a for a in fake.received if a.get("Marker") == marker]


async def test_ok_error_and_event_lists(fakes, redis_server):
    fake = fakes[0]

    def listing(session, action):
        return [
            {"Response": "Success", "EventList": "start", "Message": "Items follow"},
            {"Event": "Item", "N": "1"},
            {"Event": "Item", "N": "2"},
            {"Event": "ItemsComplete", "EventList": "Complete", "ListItems": "2"},
        ]

    fake.on_action("Items", listing)
    async with Bridge({"pbx1": config(fake)}, redis_server.url, executor_options=QUICK, **FAST):
        async with RemoteManager(redis_server.url, server="pbx1") as remote:
            pong = await remote.send_action(core.Ping())
            assert pong.success and pong["Ping"] == "Pong"
            items = await remote.send_action(Action("Items"))
            assert [e["N"] for e in items.events] == ["1", "2"]
            assert items.complete is not None and items.complete.event_name == "ItemsComplete"
            refused = await remote.send_action(Action("NoSuchThing"))
            assert not refused.success and "Invalid/unknown command" in refused.message
            with pytest.raises(ActionFailed):
                await remote.send_action(Action("NoSuchThing"), check=True)
            # Many in flight at once, each matched to its own reply.
            replies = await asyncio.gather(
                *(
                    remote.send_action(Action("UserEvent", UserEvent="x", Marker=f"m{n}"))
                    for n in range(20)
                )
            )
            assert all(r.success for r in replies)


async def test_an_unanswered_action_is_unknown_and_sent_once(fakes, redis_server):
    fake = fakes[0]
    fake.on_action("Originate", lambda session, action: None)  # Asterisk never answers
    async with Bridge({"pbx1": config(fake)}, redis_server.url, executor_options=QUICK, **FAST):
        async with RemoteManager(redis_server.url, server="pbx1") as remote:
            with pytest.raises(ActionOutcomeUnknown):
                await remote.send_action(
                    Action("Originate", Channel="Local/1@x", Marker="u1"), timeout=2
                )
    assert len(marked(fake, "u1")) == 1


async def test_a_link_lost_mid_action_is_unknown(fakes, redis_server):
    fake = fakes[0]
    fake.on_action("Originate", lambda session, action: session.abort())
    async with Bridge({"pbx1": config(fake)}, redis_server.url, executor_options=QUICK, **FAST):
        async with RemoteManager(redis_server.url, server="pbx1") as remote:
            with pytest.raises(ActionOutcomeUnknown, match="outcome unknown"):
                await remote.send_action(
                    Action("Originate", Channel="Local/1@x", Marker="l1"), timeout=5
                )
    assert len(marked(fake, "l1")) == 1


async def test_a_pbx_that_is_down_gets_nothing_sent(redis_server):
    down = dict(host="127.0.0.1", port=free_port(), username=USER, secret=SECRET)
    async with Bridge({"pbx1": down}, redis_server.url, executor_options=QUICK, **FAST):
        async with RemoteManager(redis_server.url, server="pbx1") as remote:
            with pytest.raises(ManagerSocketError, match="not sent") as caught:
                await remote.send_action(core.Ping(), timeout=5)
            assert not isinstance(caught.value, ActionOutcomeUnknown)


async def test_expired_and_malformed_requests_are_refused_unsent(fakes, redis, redis_server):
    fake = fakes[0]
    async with Bridge({"pbx1": config(fake)}, redis_server.url, executor_options=QUICK, **FAST):
        requests = [
            {
                "id": "old",
                "expires": "1.0",
                "action": json.dumps([["Action", "UserEvent"], ["Marker", "old"]]),
            },
            {"id": "bad", "action": "not json"},
            {"id": "noname", "action": json.dumps([["Marker", "x"]])},
        ]
        for request in requests:
            await redis.xadd(
                ACTIONS_STREAM, {"server": "pbx1", "reply_to": "ami:replies:t", **request}
            )
        async with timeout(15):
            got: dict[str, dict[str, str]] = {}
            last = "0-0"
            while len(got) < 3:
                for _key, items in await redis.xread({"ami:replies:t": last}, block=500) or ():
                    for entry_id, fields in items:
                        got[fields["id"]] = fields
                        last = entry_id
    assert got["old"]["status"] == "error" and got["old"]["reason"] == "expired"
    assert got["bad"]["reason"] == "invalid" and got["noname"]["reason"] == "invalid"
    assert "response" not in got["bad"]
    assert not marked(fake, "old")
    assert await redis.ttl("ami:replies:t") > 0


async def test_remote_timeout_and_invalid_reply(redis_server):
    # No bridge at all: the request waits, the remote times out, and the
    # request carries an expiry so that a bridge starting later refuses it.
    async with RemoteManager(redis_server.url, server="nobody") as remote:
        with pytest.raises(ActionTimeout):
            await remote.send_action(core.Ping(), timeout=0.3)


async def test_two_bridges_on_one_pbx_send_each_action_once(fakes, redis_server):
    fake = fakes[0]
    servers = {"pbx1": config(fake)}
    async with (
        Bridge(servers, redis_server.url, executor_options=QUICK, **FAST),
        Bridge(servers, redis_server.url, executor_options=QUICK, **FAST),
    ):
        async with RemoteManager(redis_server.url, server="pbx1") as remote:
            replies = await asyncio.gather(
                *(
                    remote.send_action(Action("UserEvent", UserEvent="x", Marker=f"two{n}"))
                    for n in range(40)
                )
            )
    assert all(r.success for r in replies)
    for n in range(40):
        assert len(marked(fake, f"two{n}")) == 1


async def test_a_request_delivered_to_a_dead_consumer_is_claimed_and_sent_once(
    fakes, redis, redis_server
):
    fake = fakes[0]
    servers = {"pbx1": config(fake)}
    # A bridge that read the request and died before taking it: the entry
    # sits in its group's pending list, never sent.
    await redis.xgroup_create(ACTIONS_STREAM, "bridge:pbx1", id="$", mkstream=True)
    await redis.xadd(
        ACTIONS_STREAM,
        {
            "server": "pbx1",
            "id": "c1",
            "reply_to": "ami:replies:c",
            "action": json.dumps([["Action", "UserEvent"], ["UserEvent", "x"], ["Marker", "c1"]]),
        },
    )
    assert await redis.xreadgroup("bridge:pbx1", "dead-bridge", {ACTIONS_STREAM: ">"}, count=10)
    async with Bridge(servers, redis_server.url, executor_options=QUICK, **FAST):
        async with timeout(20):
            reply = None
            while reply is None:
                got = await redis.xread({"ami:replies:c": "0-0"}, block=500)
                if got:
                    reply = got[0][1][0][1]
    assert reply["status"] == "ok" and reply["id"] == "c1"
    assert len(marked(fake, "c1")) == 1


async def test_kill_9_of_a_bridge_mid_action_answers_unknown_and_never_resends(fakes, redis_server):
    fake = fakes[0]
    fake.on_action("Originate", lambda session, action: None)
    pbx = f"pbx1={fake.host}:{fake.port}"
    first = await bridge_process(redis_server.url, pbx, extra=("--heartbeat", "1"))
    async with RemoteManager(redis_server.url, server="pbx1") as remote:
        pending = asyncio.ensure_future(
            remote.send_action(Action("Originate", Channel="Local/1@x", Marker="k9"), timeout=30)
        )
        await fake.wait_for_action("Originate", timeout=15)
        first.kill9()
        await first.stop()
        second = await bridge_process(redis_server.url, pbx, extra=("--heartbeat", "1"))
        try:
            with pytest.raises(ActionOutcomeUnknown, match="stopped before the answer"):
                await asyncio.wait_for(pending, 25)
            # Still once, with a live bridge that could have resent it.
            pong = await remote.send_action(core.Ping(), timeout=10)
            assert pong.success
        finally:
            await second.stop()
    assert len(marked(fake, "k9")) == 1


def test_the_exception_tree_draws_the_bridge_exceptions():
    # One root, one drawing: every AMIError the bridge defines is in it, under its base.
    import inspect

    import amiasync.bridge
    from amiasync import exceptions

    tree = exceptions.__doc__ or ""
    for _name, cls in inspect.getmembers(amiasync.bridge, inspect.isclass):
        if issubclass(cls, exceptions.AMIError) and cls.__module__.startswith("amiasync.bridge"):
            assert f"└── {cls.__name__}" in tree or f"├── {cls.__name__}" in tree
            assert tree.index(cls.__bases__[0].__name__) < tree.index(cls.__name__)
