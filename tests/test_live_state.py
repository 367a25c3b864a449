"""LiveState over a real loopback socket to the fake Asterisk.

The fake server's scripted list actions emit live events while (and right
after) they answer, the races the snapshot has to survive on a real Asterisk.
"""

from __future__ import annotations

import asyncio

import pytest

import amiasync
from amiasync.live import ChangesOverflow, LiveState
from amiasync.message import Event
from amiasync.testing import FakeAsterisk

from .conftest import SECRET, USER


def channel(name: str, uniqueid: str, state: str = "Up", **extra: str) -> dict[str, str]:
    return {
        "Channel": name,
        "ChannelStateDesc": state,
        "Uniqueid": uniqueid,
        "Linkedid": extra.pop("Linkedid", uniqueid),
        "CallerIDNum": "100",
        **extra,
    }


def live(event: str, **headers: str) -> Event:
    return Event.from_headers({"Event": event, "Privilege": "call,all", **headers})


def listing(items: list[dict[str, str]], item_event: str, complete: str, action_id: str):
    yield {"Response": "Success", "ActionID": action_id, "EventList": "start"}
    for item in items:
        yield {"Event": item_event, "ActionID": action_id, **item}
    yield {
        "Event": complete,
        "ActionID": action_id,
        "EventList": "Complete",
        "ListItems": str(len(items)),
    }


class Truth:
    """What the scripted Asterisk reports; tests change it between syncs."""

    def __init__(self, server: FakeAsterisk) -> None:
        self.server = server
        self.channels: list[dict[str, str]] = []
        self.bridges: list[dict[str, str]] = []
        self.queue_items: list[tuple[str, dict[str, str]]] = []
        self.during: list[Event] = []  # emitted before the CoreShowChannels items
        self.after: list[Event] = []  # emitted just after the lists
        self.lists = 0
        server.on_action("CoreShowChannels", self._channels)
        server.on_action("BridgeList", self._bridges)
        server.on_action("QueueStatus", self._queues)

    def _channels(self, session, action):
        self.lists += 1
        for event in self.during:
            self.server.emit(event)
        self.during = []
        reply = list(
            listing(
                self.channels, "CoreShowChannel", "CoreShowChannelsComplete", action["ActionID"]
            )
        )
        after, self.after = self.after, []
        if after:
            asyncio.get_running_loop().call_soon(lambda: [self.server.emit(e) for e in after])
        return reply

    def _bridges(self, session, action):
        return list(
            listing(self.bridges, "BridgeListItem", "BridgeListComplete", action["ActionID"])
        )

    def _queues(self, session, action):
        action_id = action["ActionID"]
        yield {"Response": "Success", "ActionID": action_id, "EventList": "start"}
        for name, item in self.queue_items:
            yield {"Event": name, "ActionID": action_id, **item}
        yield {"Event": "QueueStatusComplete", "ActionID": action_id, "EventList": "Complete"}


@pytest.fixture
async def truth(server: FakeAsterisk) -> Truth:
    return Truth(server)


async def test_the_snapshot_survives_events_during_and_after_it(server, truth, manager):
    truth.channels = [
        channel("PJSIP/a-1", "1.1", BridgeId="b1"),
        channel("PJSIP/b-2", "1.2", Linkedid="1.1", BridgeId="b1"),
        # Hung up while the list was being built: its Hangup came first.
        channel("PJSIP/c-3", "1.3"),
    ]
    truth.bridges = [{"BridgeUniqueid": "b1", "BridgeType": "basic"}]
    truth.queue_items = [
        ("QueueParams", {"Queue": "support", "Strategy": "ringall"}),
        ("QueueMember", {"Queue": "support", "Location": "PJSIP/agent", "Paused": "1"}),
    ]
    truth.during = [
        live("Hangup", **channel("PJSIP/c-3", "1.3")),
        live("Newchannel", **channel("PJSIP/d-4", "1.4", state="Ring")),
    ]
    truth.after = [live("Newstate", **channel("PJSIP/d-4", "1.4", state="Up"))]
    async with LiveState(manager) as state:
        await state.synced(timeout=5)
        assert state.is_synced
        # The state change sent right after the list is applied too.
        for _ in range(100):
            if state.channels.get("1.4") and state.channels["1.4"].state == "Up":
                break
            await asyncio.sleep(0.01)
        assert set(state.channels) == {"1.1", "1.2", "1.4"}
        assert state.channels["1.4"].state == "Up"
        assert state.bridges["b1"].channels == {"1.1", "1.2"}
        assert state.calls["1.1"].channels == {"1.1", "1.2"}
        assert state.queues["support"].members["PJSIP/agent"].paused is True


async def test_changes_come_in_order_and_a_reconnect_resyncs(server, truth):
    truth.channels = [channel("PJSIP/a-1", "1.1")]
    manager = await amiasync.connect(
        server.host, server.port, username=USER, secret=SECRET, reconnect=True
    )
    try:
        async with LiveState(manager) as state:
            await state.synced(timeout=5)
            changes = state.changes()
            server.emit(live("Newchannel", **channel("PJSIP/b-2", "1.2", state="Ring")))
            server.emit(live("Newstate", **channel("PJSIP/b-2", "1.2", state="Up")))
            seen = [await asyncio.wait_for(changes.__anext__(), 5) for _ in range(3)]
            assert [(c.kind, c.entity, c.key) for c in seen] == [
                ("added", "channel", "1.2"),
                ("added", "call", "1.2"),
                ("updated", "channel", "1.2"),
            ]
            assert seen[2].old.state == "Ring" and seen[2].new.state == "Up"

            # The truth moves on while the link is down: 1.1 and 1.2 are
            # gone, 1.5 is new. Until the resync, the state says it is stale.
            truth.channels = [channel("PJSIP/e-5", "1.5")]
            lists = truth.lists
            server.drop_connections()
            for _ in range(200):
                if not state.is_synced:
                    break
                await asyncio.sleep(0.01)
            assert not state.is_synced
            await state.synced(timeout=10)
            assert truth.lists == lists + 1
            assert set(state.channels) == {"1.5"}
            after = []
            while changes.qsize():
                after.append(await changes.__anext__())
            kinds = {(c.kind, c.entity, c.key) for c in after}
            assert {
                ("removed", "channel", "1.1"),
                ("removed", "channel", "1.2"),
                ("added", "channel", "1.5"),
            } <= kinds
        # Closing the LiveState ends the stream.
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(changes.__anext__(), 5)
    finally:
        await manager.close()


async def test_a_reader_that_falls_behind_is_told(server, truth, manager):
    async with LiveState(manager) as state:
        await state.synced(timeout=5)
        changes = state.changes(maxsize=5)
        for n in range(10):
            server.emit(live("Newchannel", **channel(f"PJSIP/x-{n}", f"2.{n}")))
        for _ in range(200):
            if len(state.channels) == 10:
                break
            await asyncio.sleep(0.01)
        assert len(state.channels) == 10  # the model itself lost nothing
        received = 0
        with pytest.raises(ChangesOverflow):
            while True:
                await asyncio.wait_for(changes.__anext__(), 5)
                received += 1
        assert received <= 5


async def test_synced_waits_and_times_out_while_the_lists_hang(server, manager):
    server.on_action("CoreShowChannels", lambda session, action: None)  # never answers
    state = LiveState(manager, sync_timeout=0.3, retry_delay=0.05)
    async with state:
        with pytest.raises(amiasync.ActionTimeout):
            await state.synced(timeout=0.5)
        assert not state.is_synced
    with pytest.raises(amiasync.ManagerSocketError):
        await state.synced(timeout=1)


async def test_a_manager_reconnected_by_hand_is_resynced(server, truth):
    truth.channels = [channel("PJSIP/a-1", "1.1")]
    manager = await amiasync.connect(server.host, server.port, username=USER, secret=SECRET)
    try:
        async with LiveState(manager, retry_delay=0.05) as state:
            await state.synced(timeout=5)
            truth.channels = [channel("PJSIP/b-2", "1.2")]
            server.drop_connections()
            for _ in range(200):
                if not manager.is_connected():
                    break
                await asyncio.sleep(0.01)
            assert not state.is_synced
            with pytest.raises(amiasync.ActionTimeout):
                await state.synced(timeout=0.2)
            await manager.connect(server.host, server.port)
            await manager.login(USER, SECRET)
            await state.synced(timeout=5)
            assert set(state.channels) == {"1.2"}
    finally:
        await manager.close()


async def test_closing_leaves_no_callback_on_the_manager(server, truth, manager):
    # The manager's own handlers (reconnect bookkeeping, tracking) stay;
    # each LiveState's event and state callbacks go when it closes.
    state_handlers = list(manager._state_handlers)
    for _ in range(3):
        async with LiveState(manager) as state:
            await state.synced(timeout=5)
            assert len(manager._state_handlers) == len(state_handlers) + 1
    assert manager._state_handlers == state_handlers
    assert not manager.unregister_callback("", state._on_event)
