"""Originate tracking, the event iterator, and the Events/Filter helpers."""

from __future__ import annotations

import asyncio

import pytest

import amiasync
from amiasync import core


async def test_twenty_concurrent_tracked_originates(manager, server):
    calls = [
        core.Originate(
            f"Local/{100 + i}@amitest",
            application="Wait",
            data="1",
            caller_id=f'"Caller {i}" <{4000 + i}>',
        )
        for i in range(20)
    ]
    results = await asyncio.gather(*(manager.originate(call, timeout=10) for call in calls))
    assert all(r.success and r.reason == 4 for r in results)
    assert len({r.uniqueid for r in results}) == 20
    for call, result in zip(calls, results):
        assert result.channel.startswith(call.get("Channel"))
        assert result.event["ActionID"] == result.response.action_id
    sent = [a for a in server.received if a["Action"] == "Originate"]
    assert all(a["Async"] == "true" for a in sent)


async def test_failed_originate_reports_its_reason(manager):
    result = await manager.originate(core.Originate("Local/fail@amitest", application="Wait"))
    assert not result.success and result.reason == 0 and result.uniqueid is None


async def test_originate_refused_and_timing_out(manager, server):
    with pytest.raises(amiasync.InvalidAction):
        await manager.originate(core.Ping())
    server.on_action("Originate", lambda s, a: {"Response": "Error", "Message": "Originate failed"})
    with pytest.raises(amiasync.ActionFailed, match="Originate failed"):
        await manager.originate(core.Originate("Local/100@amitest", application="Wait"))
    server.on_action("Originate", lambda s, a: {"Response": "Success", "Message": "queued"})
    with pytest.raises(amiasync.ActionTimeout):
        await manager.originate(
            core.Originate("Local/100@amitest", application="Wait"), timeout=0.1
        )


async def test_originate_fails_at_once_when_the_link_drops(manager, server):
    server.on_action("Originate", lambda s, a: {"Response": "Success", "Message": "queued"})
    task = asyncio.ensure_future(
        manager.originate(core.Originate("Local/100@amitest", application="Wait"), timeout=60)
    )
    await server.wait_for_action("Originate")
    server.drop_connections()
    with pytest.raises(amiasync.ManagerSocketError):
        await asyncio.wait_for(task, 5)


async def test_event_iterator_filters_and_unsubscribes(manager, server):
    async with manager.events("Newchannel", "Hang*") as stream:
        await manager.originate(core.Originate("Local/100@amitest", application="Wait"))
        names = []
        async for event in stream:
            names.append(event.event_name)
            if names.count("Hangup") == 2:
                break
    assert names == ["Newchannel", "Newchannel", "Hangup", "Hangup"]
    assert stream.dropped == 0
    server.emit({"Event": "Newchannel", "Privilege": "call,all"})
    await manager.ping()  # the event above has been read by now
    assert stream.qsize() == 0  # unsubscribed: nothing more queued


async def test_event_iterator_with_a_slow_consumer_drops_the_oldest(manager, server):
    async with manager.events("UserEvent", maxsize=10) as stream:
        for i in range(25):
            server.emit({"Event": "UserEvent", "Privilege": "user,all", "UserEvent": "T", "N": i})
        await manager.ping()  # all 25 events precede the Pong on the wire
        assert stream.dropped == 15 and stream.qsize() == 10
        got = [int((await stream.__anext__())["N"]) for _ in range(10)]
    assert got == list(range(15, 25))


async def test_event_iterator_ends_when_the_manager_closes(server):
    manager = await amiasync.connect(
        server.host, server.port, username="admin", secret="s3cret-wordpass"
    )
    stream = manager.events()
    reader = asyncio.ensure_future(stream.__anext__())
    await manager.close()
    # The FullyBooted from login may be queued; after it, iteration stops.
    events = []
    try:
        events.append(await asyncio.wait_for(reader, 5))
        while True:
            events.append(await asyncio.wait_for(stream.__anext__(), 5))
    except StopAsyncIteration:
        pass
    assert all(e.event_name == "FullyBooted" for e in events)


async def test_events_mask_and_filter_helpers(manager, server):
    response = await manager.set_events(["user"])
    assert response["Events"] == "On"
    await manager.add_filter("UserEvent: Keep")
    assert server.sessions[0].event_classes == frozenset({"user"})
    async with manager.events("UserEvent") as stream:
        for name in ("Drop", "Keep"):
            server.emit({"Event": "UserEvent", "Privilege": "user,all", "UserEvent": name})
        server.emit({"Event": "Newchannel", "Privilege": "call,all"})
        first = await asyncio.wait_for(stream.__anext__(), 5)
    assert first["UserEvent"] == "Keep"
    assert (await manager.set_events(False))["Events"] == "Off"


async def test_list_failing_before_it_starts_resolves_with_the_error(manager):
    response = await manager.send_action(core.Status("Local/none@nowhere-1;1"))
    assert not response.success and response.message == "No such channel"
    assert response.events == [] and response.complete is None


async def test_list_items_mismatch_is_reported(manager, server, caplog):
    def short_list(session, action):
        action_id = action["ActionID"]
        return [
            {"Response": "Success", "EventList": "start", "Message": "will follow"},
            amiasync.Event.from_headers(Event="Item", ActionID=action_id),
            amiasync.Event.from_headers(
                Event="ListComplete", ActionID=action_id, EventList="Complete", ListItems="3"
            ),
        ]

    server.on_action("ShortList", short_list)
    response = await manager.send_action(amiasync.Action("ShortList"))
    assert len(response.events) == 1 and response.complete["ListItems"] == "3"
    assert "ListItems says 3 but 1 items arrived" in caplog.text


async def test_list_times_out_as_a_whole(manager, server):
    server.on_action(
        "Endless", lambda s, a: {"Response": "Success", "EventList": "start", "Message": "..."}
    )
    with pytest.raises(amiasync.ActionTimeout, match="event list incomplete"):
        await manager.send_action(amiasync.Action("Endless"), timeout=0.1)
