"""The sans-IO live model, on transcripts recorded from the real Asterisk 22.

``09-live-10-calls``: ten sipp calls (sipp UAC -> Dial -> sipp UAS) at 5 calls/s,
with CoreShowChannels, BridgeList and QueueStatus asked during the traffic.
``10-live-queue-hold``: queue member paused (QueuePause), a caller waiting,
the member unpaused, rung and connected; meanwhile a call held and unheld by
re-INVITE. ``11-live-attended-transfer``: AMI Atxfer on Local/atxfer@live;2
(Dial(PJSIP/uas,10,T) to the sipp UAS), target 800, completed by hanging up
the transferer; Asterisk left the TransferTarget headers out of this one's
AttendedTransfer (the transferer had left the second bridge). All start with
Asterisk idle, so a model fed from the first byte is the reference.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amiasync.events import EVENT_CLASSES
from amiasync.frames import FrameDecoder
from amiasync.live import Channel, LiveModel, SyncOverflow
from amiasync.message import Event, Message, Response

from .conftest import FIXTURES

CALLS = "09-live-10-calls"
QUEUE = "10-live-queue-hold"
ATXFER = "11-live-attended-transfer"


def transcript(name: str) -> list[Message]:
    decoder = FrameDecoder(event_classes=EVENT_CLASSES)
    messages = decoder.feed((FIXTURES / f"{name}.ami").read_bytes())
    assert not decoder.errors
    return messages


def live_events(messages: list[Message]) -> list[Event]:
    """The events every session gets (list items carry an ActionID)."""
    return [m for m in messages if isinstance(m, Event) and "ActionID" not in m]


def reported(channel: Channel) -> tuple[str, ...]:
    """What CoreShowChannels reports of a channel (the rest only events tell)."""
    return (
        channel.uniqueid,
        channel.name,
        channel.state,
        channel.caller_id_num,
        channel.caller_id_name,
        channel.linkedid,
        channel.context,
        channel.exten,
        channel.priority,
        str(channel.bridge_id),
    )


def view(model: LiveModel) -> tuple[object, ...]:
    return (
        sorted(reported(c) for c in model.channels.values()),
        # Not the technology: Asterisk moves a two-party bridge from
        # simple_bridge to native_rtp without an event, so only a snapshot
        # knows it (a model synced later is right, the reference is behind).
        {b.bridge_id: (b.type, b.channels) for b in model.bridges.values()},
        model.calls,
        {name: (q.members, [c.uniqueid for c in q.callers]) for name, q in model.queues.items()},
    )


def full(model: LiveModel) -> tuple[object, ...]:
    return (model.channels, model.bridges, model.calls, model.queues)


class Replay:
    """Walks a transcript the way LiveState sees the wire.

    ``sync_at`` names a group of list actions by their ActionID suffix
    (``"-2.2"``); the model begins its sync at the first response of that
    group (Asterisk answers the action before it reads its containers,
    ``astman_send_listack`` in main/manager.c) and finishes it when the last
    list of the group completes.
    """

    def __init__(self, name: str, sync_at: str | None) -> None:
        self.messages = transcript(name)
        self.sync_at = sync_at
        self.model = LiveModel(clock=lambda: 1000.0)
        sent = (FIXTURES / f"{name}.sent").read_text().splitlines()
        self.group = {
            line.split(": ", 1)[1]
            for line in sent
            if line.startswith("ActionID: ") and sync_at and line.endswith(sync_at)
        }
        self.group -= {g for g in self.group if g.startswith("queuepause")}

    def run(self, each=None) -> None:
        model, group = self.model, self.sync_at
        if group is None:
            model.begin_sync()
            model.finish_sync([])
        open_lists = set(self.group)
        items: list[Event] = []
        finished = group is None
        for message in self.messages:
            action_id = message.get("ActionID") or ""
            in_group = group is not None and action_id.endswith(group)
            if isinstance(message, Response):
                started = in_group and message.get("EventList") == "start"
                if started and not model.syncing and not finished:
                    model.begin_sync()
                continue
            assert isinstance(message, Event)
            if action_id:
                if in_group and model.syncing:
                    if message.get("EventList") == "Complete":
                        open_lists.discard(action_id)
                        if not open_lists:
                            model.finish_sync(items)
                            finished = True
                            if each is not None:
                                each(self, "synced")
                    else:
                        items.append(message)
                continue
            model.apply(message)
            if each is not None:
                each(self, message)


@pytest.mark.parametrize("group", ["-1.0", "-2.2", "-4.0"])
def test_a_model_synced_mid_traffic_equals_one_that_saw_everything(group):
    reference = Replay(CALLS, None)
    reference.run()
    late = Replay(CALLS, group)
    compared = []

    # Step both in lockstep: from the moment the late one is synced, it must
    # equal the reference at every event.
    ref_model = LiveModel(clock=lambda: 1000.0)
    ref_model.begin_sync()
    ref_model.finish_sync([])

    def each(replay: Replay, message: object) -> None:
        if message == "synced":
            compared.append(len(replay.model.channels))
        elif isinstance(message, Event):
            ref_model.apply(message)
        if replay.model.synced and not replay.model.syncing:
            assert view(replay.model)[:3] == view(ref_model)[:3]

    late.run(each)
    # Synced while calls were up (at 4.0 s the ten calls were over).
    assert compared and (compared[0] > 0) == (group != "-4.0")
    assert not late.model.channels and not late.model.bridges and not late.model.calls
    assert view(reference.model)[:3] == view(late.model)[:3]


def test_ten_real_calls_two_channels_and_a_bridge_each():
    messages = transcript(CALLS)
    model = LiveModel()
    peak_bridges = 0
    states: set[str] = set()
    for event in live_events(messages):
        for change in model.apply(event):
            if change.entity == "channel" and change.new is not None:
                states.add(change.new.state)
        peak_bridges = max(peak_bridges, len(model.bridges))
        for bridge in model.bridges.values():
            assert len(bridge.channels) <= 2
            for uniqueid in bridge.channels:
                assert model.channels[uniqueid].bridge_id == bridge.bridge_id
        for call in model.calls.values():
            assert len(call.channels) <= 2
            assert all(model.channels[u].linkedid == call.linkedid for u in call.channels)
    assert {"Ring", "Up"} <= states
    assert peak_bridges >= 2
    assert model.channels == {} and model.bridges == {} and model.calls == {}


def test_queue_pause_caller_waiting_agent_in_call_and_hold():
    seen: dict[str, object] = {}

    def each(replay: Replay, message: object) -> None:
        model = replay.model
        queue = model.queues.get("support")
        if message == "synced":
            member = queue.members["PJSIP/agent"]
            seen["synced"] = (member.paused, member.paused_reason, len(queue.callers))
            return
        name = getattr(message, "event_name", "")
        if name in ("Hold", "Unhold"):
            channel = model.channels[message["Uniqueid"]]
            seen.setdefault(name, channel.on_hold)
        if name == "AgentConnect":
            seen["connected"] = queue.members["PJSIP/agent"].in_call
            seen["callers after connect"] = len(queue.callers)

    replay = Replay(QUEUE, "-3.0")
    replay.run(each)
    assert seen["synced"] == (True, "lunch", 1)
    assert seen["Hold"] is True and seen["Unhold"] is False
    assert seen["connected"] is True and seen["callers after connect"] == 0
    member = replay.model.queues["support"].members["PJSIP/agent"]
    assert (member.in_call, member.paused, member.calls_taken) == (False, False, 2)
    assert member.status_name == "Not in use"
    assert replay.model.queues["amitest"].members == {}


def test_queue_status_during_the_agent_call_agrees_with_the_model():
    messages = transcript(QUEUE)
    model = LiveModel()
    model.begin_sync()
    model.finish_sync(
        [m for m in messages if isinstance(m, Event) and m.get("ActionID") == "queuestatus-0.5"]
    )
    compared = 0
    for message in messages:
        if not isinstance(message, Event):
            continue
        if message.get("ActionID") in ("queuestatus-3.0", "queuestatus-5.0"):
            if message.event_name == "QueueMember" and message["Queue"] == "support":
                member = model.queues["support"].members[message["Location"]]
                assert member.paused == (message["Paused"] == "1")
                assert member.in_call == (message["InCall"] == "1")
                assert member.status == int(message["Status"])
                compared += 1
            if message.event_name == "QueueEntry":
                queue = model.queues["support"]
                assert queue.position(message["Uniqueid"]) == int(message["Position"])
                compared += 1
        elif "ActionID" not in message:
            model.apply(message)
    assert compared == 3


def test_hangup_is_final_and_late_news_does_not_resurrect():
    model = LiveModel()
    new = Event.from_headers(Event="Newchannel", Uniqueid="1.1", Channel="PJSIP/a-1")
    model.apply(new)
    model.apply(Event.from_headers(Event="Hangup", Uniqueid="1.1", Channel="PJSIP/a-1"))
    for late in (
        Event.from_headers(Event="Newstate", Uniqueid="1.1", ChannelStateDesc="Up"),
        Event.from_headers(Event="VarSet", Uniqueid="1.1", Variable="X", Value="1"),
        Event.from_headers(Event="CoreShowChannel", Uniqueid="1.1", Channel="PJSIP/a-1"),
    ):
        assert model.apply(late) == []
    assert model.channels == {} and model.calls == {}


def test_a_global_variable_is_no_channel():
    model = LiveModel()
    event = Event.from_headers(
        Event="VarSet", Channel="none", Uniqueid="none", Variable="G", Value="1"
    )
    assert model.apply(event) == [] and model.channels == {}


def test_sync_reports_only_differences_and_removes_what_vanished():
    model = LiveModel()
    for uniqueid in ("1.1", "1.2"):
        model.apply(Event.from_headers(Event="Newchannel", Uniqueid=uniqueid, Linkedid="1.1"))
    model.begin_sync()
    assert model.syncing and not model.synced
    item = Event.from_headers(
        Event="CoreShowChannel", Uniqueid="1.2", Linkedid="1.1", ChannelStateDesc="Up"
    )
    changes = model.finish_sync([item])
    kinds = [(c.kind, c.entity, c.key) for c in changes]
    assert ("removed", "channel", "1.1") in kinds
    assert ("updated", "channel", "1.2") in kinds
    assert ("updated", "call", "1.1") in kinds
    assert ("added", "channel", "1.2") not in kinds
    assert model.synced and set(model.channels) == {"1.2"}
    assert model.channels["1.2"].state == "Up"


def test_sync_buffer_is_bounded():
    model = LiveModel(max_sync_buffer=3)
    model.begin_sync()
    for n in range(5):
        model.apply(Event.from_headers(Event="Newchannel", Uniqueid=f"1.{n}"))
    with pytest.raises(SyncOverflow):
        model.finish_sync([])
    assert not model.syncing and not model.synced
    assert len(model.channels) == 5  # still applied as they came


def test_odd_input_never_raises():
    model = LiveModel()
    for headers in (
        {"Event": "Newchannel"},
        {"Event": "BridgeEnter", "BridgeUniqueid": "b"},
        {"Event": "QueueMemberStatus", "Queue": "q"},
        {"Event": "QueueCallerJoin", "Queue": "q", "Uniqueid": "1.1", "Position": "x"},
        {"Event": "QueueEntry", "Queue": "q", "Uniqueid": "1.2", "Wait": "-"},
        {"Event": "DialBegin", "DestUniqueid": "1.3"},
        {"Event": "BridgeMerge", "FromBridgeUniqueid": "nope"},
        {"Event": "QueueParams", "Queue": "q", "Max": "lots"},
        {"Event": "AgentConnect", "Queue": "nope", "Interface": "x"},
    ):
        model.apply(Event.from_headers(headers))


# -- properties ---------------------------------------------------------------


def calls_of(events: list[Event]) -> dict[str, list[Event]]:
    """Each call's own events, in order: by Linkedid, bridge events by their members."""
    bridge_call: dict[str, str] = {}
    for event in events:
        if event.event_name == "BridgeEnter":
            bridge_call.setdefault(event["BridgeUniqueid"], event["Linkedid"])
    per_call: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        key = event.get("Linkedid") or event.get("DestLinkedid")
        if key is None and "BridgeUniqueid" in event:
            key = bridge_call.get(event["BridgeUniqueid"])
        if key is not None:
            per_call[key].append(event)
    return per_call


CALL_EVENTS = calls_of(live_events(transcript(CALLS)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_interleaving_independent_calls_gives_the_same_state(data):
    # Any prefix of each call, merged in any order that keeps each call's own
    # order (what Asterisk may put on the wire for concurrent calls), gives
    # the state the calls reach one after the other.
    prefixes = {
        key: events[: data.draw(st.integers(0, len(events)), label=key)]
        for key, events in CALL_EVENTS.items()
    }
    sequential = LiveModel(clock=lambda: 0.0)
    for events in prefixes.values():
        for event in events:
            sequential.apply(event)
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    queues = [list(events) for events in prefixes.values() if events]
    merged = LiveModel(clock=lambda: 0.0)
    while queues:
        chosen = rng.randrange(len(queues))
        merged.apply(queues[chosen].pop(0))
        if not queues[chosen]:
            queues.pop(chosen)
    assert full(merged) == full(sequential)


def snapshot_of(model: LiveModel) -> list[Event]:
    """The model as CoreShowChannels, BridgeList and QueueStatus would list it."""
    items = []
    for channel in model.channels.values():
        items.append(
            Event.from_headers(
                Event="CoreShowChannel",
                Channel=channel.name,
                ChannelStateDesc=channel.state,
                CallerIDNum=channel.caller_id_num,
                CallerIDName=channel.caller_id_name,
                ConnectedLineNum=channel.connected_line_num,
                ConnectedLineName=channel.connected_line_name,
                Language=channel.language,
                AccountCode=channel.account_code,
                Context=channel.context,
                Exten=channel.exten,
                Priority=channel.priority,
                Uniqueid=channel.uniqueid,
                Linkedid=channel.linkedid,
                Application=channel.application,
                ApplicationData=channel.application_data,
                BridgeId=channel.bridge_id or "",
            )
        )
    for bridge in model.bridges.values():
        items.append(
            Event.from_headers(
                Event="BridgeListItem",
                BridgeUniqueid=bridge.bridge_id,
                BridgeType=bridge.type,
                BridgeTechnology=bridge.technology,
                BridgeCreator=bridge.creator,
                BridgeName=bridge.name,
            )
        )
    return items


ALL_CALL_EVENTS = live_events(transcript(CALLS))
QUEUE_EVENTS = live_events(transcript(QUEUE))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_snapshot_anywhere_plus_replay_equals_the_events_alone(data):
    # Asterisk takes its snapshot at some point k; the sync began buffering at
    # some j <= k and finishes at some m >= k. Whatever j, k and m are, the
    # synced model equals one that saw every event.
    events = ALL_CALL_EVENTS
    n = len(events)
    k = data.draw(st.integers(0, n), label="snapshot at")
    j = data.draw(st.integers(0, k), label="buffer from")
    m = data.draw(st.integers(k, n), label="finished at")
    truth = LiveModel(clock=lambda: 0.0)
    for event in events[:k]:
        truth.apply(event)
    items = snapshot_of(truth)
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    rng.shuffle(items)  # the three lists may come in any order
    for event in events[k:]:
        truth.apply(event)

    late = LiveModel(clock=lambda: 0.0)
    late.begin_sync()
    for event in events[j:m]:
        late.apply(event)
    late.finish_sync(items)
    for event in events[m:]:
        late.apply(event)
    assert view(late)[:3] == view(truth)[:3]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["calls", "queue"]), st.data())
def test_a_repeated_event_changes_nothing(which, data):
    events = ALL_CALL_EVENTS if which == "calls" else QUEUE_EVENTS
    at = data.draw(st.integers(0, len(events) - 1))
    once, twice = LiveModel(clock=lambda: 0.0), LiveModel(clock=lambda: 0.0)
    for index, event in enumerate(events):
        once.apply(event)
        twice.apply(event)
        if index == at:
            assert twice.apply(event) == []
    assert full(once) == full(twice)


def test_values_are_immutable_and_changes_carry_before_and_after():
    model = LiveModel()
    added, _call = model.apply(
        Event.from_headers(Event="Newchannel", Uniqueid="1.1", Linkedid="1.1")
    )
    assert (added.kind, added.entity, added.old) == ("added", "channel", None)
    (updated,) = model.apply(
        Event.from_headers(Event="Newstate", Uniqueid="1.1", Linkedid="1.1", ChannelStateDesc="Up")
    )
    assert updated.old is added.new and updated.new.state == "Up"
    with pytest.raises(AttributeError):
        updated.new.state = "Down"


def snap(prefix: str, name: str, uniqueid: str, linkedid: str, state: str = "Up") -> dict:
    return {
        f"{prefix}Channel": name,
        f"{prefix}ChannelStateDesc": state,
        f"{prefix}Uniqueid": uniqueid,
        f"{prefix}Linkedid": linkedid,
    }


def test_dial_peers_local_halves_merge_and_attended_transfer():
    model = LiveModel()
    apply = lambda **h: model.apply(Event.from_headers(h))  # noqa: E731
    apply(Event="Newchannel", **snap("", "PJSIP/a-1", "1.1", "1.1"))
    apply(
        Event="DialBegin",
        **snap("", "PJSIP/a-1", "1.1", "1.1"),
        **snap("Dest", "PJSIP/b-2", "1.2", "1.1", "Down"),
    )
    assert model.channels["1.1"].dial_peers == {"1.2"} and model.channels["1.2"].dial_peers == {
        "1.1"
    }
    apply(
        Event="DialEnd",
        **snap("", "PJSIP/a-1", "1.1", "1.1"),
        **snap("Dest", "PJSIP/b-2", "1.2", "1.1"),
        DialStatus="ANSWER",
    )
    assert not model.channels["1.1"].dial_peers and model.channels["1.2"].dial_status == "ANSWER"
    apply(
        Event="LocalBridge",
        **snap("LocalOne", "Local/x@c-1;1", "1.3", "1.3"),
        **snap("LocalTwo", "Local/x@c-1;2", "1.4", "1.3"),
    )
    assert model.channels["1.3"].local_peer == "1.4" and model.channels["1.4"].local_peer == "1.3"
    for bridge, uniqueid in (("b1", "1.1"), ("b1", "1.2"), ("b2", "1.3")):
        apply(Event="BridgeEnter", BridgeUniqueid=bridge, BridgeType="basic", Uniqueid=uniqueid)
    apply(Event="BridgeMerge", FromBridgeUniqueid="b2", ToBridgeUniqueid="b1")
    assert (
        model.bridges["b1"].channels == {"1.1", "1.2", "1.3"} and not model.bridges["b2"].channels
    )
    apply(
        Event="AttendedTransfer",
        Result="Success",
        **snap("OrigTransferer", "PJSIP/a-1", "1.1", "1.1"),
        **snap("SecondTransferer", "Local/x@c-1;1", "1.3", "1.3"),
        **snap("TransferTarget", "Local/x@c-1;2", "1.4", "1.3"),
        DestType="Bridge",
    )
    (transfer,) = model.transfers
    assert (transfer.kind, transfer.result, transfer.transferer, transfer.target) == (
        "attended",
        "Success",
        "1.1",
        "1.4",
    )
    apply(Event="Hangup", Uniqueid="1.4")
    assert model.channels["1.3"].local_peer is None


def test_attended_transfer_without_target_headers_finds_the_target_in_the_merged_bridge():
    # As Asterisk 22 reports it when the transferer hung up (completing the
    # transfer) before the message was built: no TransferTarget* headers.
    model = LiveModel()
    apply = lambda **h: model.apply(Event.from_headers(h))  # noqa: E731
    for name, uniqueid in (("Local/atxfer@live-1;2", "2.2"), ("PJSIP/uas-1", "2.3")):
        apply(Event="Newchannel", **snap("", name, uniqueid, "2.1"))
    apply(Event="Newchannel", **snap("", "Local/800@live-2;1", "2.4", "2.1"))
    for bridge, uniqueid in (("b1", "2.3"), ("b2", "2.4")):
        apply(Event="BridgeEnter", BridgeUniqueid=bridge, BridgeType="basic", Uniqueid=uniqueid)
    apply(Event="Hangup", **snap("", "Local/atxfer@live-1;2", "2.2", "2.1"))
    apply(Event="BridgeMerge", FromBridgeUniqueid="b2", ToBridgeUniqueid="b1")
    apply(
        Event="AttendedTransfer",
        Result="Success",
        **snap("OrigTransferer", "Local/atxfer@live-1;2", "2.2", "2.1"),
        **snap("SecondTransferer", "Local/atxfer@live-1;2", "2.2", "2.1"),
        **snap("Transferee", "PJSIP/uas-1", "2.3", "2.1"),
        DestType="Bridge",
        DestBridgeUniqueid="b1",
    )
    (transfer,) = model.transfers
    assert (transfer.transferer, transfer.target) == ("2.2", "2.4")
    assert model.bridges["b1"].channels == {"2.3", "2.4"}
    assert "2.2" not in model.channels  # a hung-up transferer is not brought back


def test_a_real_attended_transfer_bridges_the_transferee_with_the_target():
    messages = transcript(ATXFER)
    model = LiveModel()
    lists: dict[str, list[Event]] = defaultdict(list)
    checked = []
    for message in messages:
        if not isinstance(message, Event):
            continue
        action_id = message.get("ActionID")
        if action_id is None:
            model.apply(message)
        elif message.get("EventList") != "Complete":
            lists[action_id].append(message)
        elif action_id.startswith("coreshowchannels-"):
            # Taken at quiet moments: the model then equals both lists.
            suffix = action_id.split("-", 1)[1]
            bridges = {
                i["BridgeUniqueid"]: int(i["BridgeNumChannels"])
                for i in lists[f"bridgelist-{suffix}"]
            }
            assert set(model.channels) == {i["Uniqueid"] for i in lists[action_id]}
            assert {b: len(m.channels) for b, m in model.bridges.items()} == bridges
            checked.append((suffix, len(model.channels), sorted(bridges.values())))
        if message.event_name == "AttendedTransfer":
            assert "TransferTargetUniqueid" not in message
            (transfer,) = model.transfers
            (uas,) = [c for c in model.channels.values() if c.name.startswith("PJSIP/uas-")]
            (target,) = [
                c
                for c in model.channels.values()
                if c.name.startswith("Local/800@live-") and c.name.endswith(";1")
            ]
            assert (transfer.kind, transfer.result) == ("attended", "Success")
            assert transfer.transferer == message["OrigTransfererUniqueid"]
            assert transfer.target == target.uniqueid
            assert uas.bridge_id == target.bridge_id == message["DestBridgeUniqueid"]
            assert model.bridges[uas.bridge_id].channels == {uas.uniqueid, target.uniqueid}
            assert model.calls[uas.linkedid].channels >= {uas.uniqueid, target.uniqueid}
    # Idle; the call up (3 Local halves, the UAS) with the consult bridge
    # beside the held one; transferee and target together; idle again.
    assert checked == [("1", 0, []), ("2", 5, [1, 2]), ("3", 3, [2]), ("4", 0, [])]
    assert not model.channels and not model.bridges and not model.calls


def test_queue_callers_keep_queue_order_and_renumber_on_leave():
    model = LiveModel(clock=lambda: 50.0)
    for position, uniqueid in enumerate(("1.1", "1.2", "1.3"), 1):
        model.apply(
            Event.from_headers(
                Event="QueueCallerJoin",
                Queue="q",
                Position=str(position),
                **snap("", f"PJSIP/{uniqueid}", uniqueid, uniqueid),
            )
        )
    # A priority caller goes in at position 1.
    model.apply(
        Event.from_headers(
            Event="QueueCallerJoin", Queue="q", Position="1", **snap("", "PJSIP/vip", "1.9", "1.9")
        )
    )
    assert [c.uniqueid for c in model.queues["q"].callers] == ["1.9", "1.1", "1.2", "1.3"]
    model.apply(
        Event.from_headers(Event="QueueCallerAbandon", Queue="q", Uniqueid="1.1", Position="2")
    )
    queue = model.queues["q"]
    assert queue.position("1.2") == 2 and queue.position("1.1") is None
    model.apply(Event.from_headers(Event="Hangup", Uniqueid="1.3"))
    assert [c.uniqueid for c in model.queues["q"].callers] == ["1.9", "1.2"]
    assert model.queues["q"].callers[0].joined == 50.0
