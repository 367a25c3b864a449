"""LiveState against the real Asterisk with real SIP calls (sipp on loopback).

How a checkpoint compares the model with the truth while calls come and go
(20+ new calls a second), in ``Truth.still``: one write sends a fence,
CoreShowChannels and BridgeList; Asterisk handles a session's actions one
after the other, so the lists are read after the fence. Then both lists
again, then a second fence. A fence is a global variable's VarSet (see
``Truth.fence``): when it reaches us, every channel and bridge event Asterisk
published before it has reached us too, and the test notes what the model
held at that moment and how many events that change the channel set or a
bridge's members it had seen. When both reads agree and no such event came
between the two fences, the truth did not move while it was read, so the
model must equal it exactly; otherwise (or while a bridge dissolves, see
``Truth.read``) the checkpoint is taken again, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import os
import re
import signal
import time
from collections.abc import Awaitable
from pathlib import Path

import pytest

import amiasync
from amiasync import Action
from amiasync._compat import timeout as async_timeout
from amiasync.connection import ConnectionState
from amiasync.live import LiveState

from .conftest import Target, require
from .sipp_traffic import Sipp

pytestmark = pytest.mark.integration

_fences = itertools.count(1)
SIP_CHANNEL = re.compile(r"(PJSIP/(uac|uas|agent)|Local/(call|atxfer|800)@live)-")


async def hang_up_sip_calls(asterisk: Target) -> None:
    """Hang up what an earlier, interrupted run left (RTP ports are few)."""
    async with asterisk.connect() as manager:
        for _ in range(100):
            listed = await manager.send_action(Action("CoreShowChannels"), timeout=30)
            left = [i["Channel"] for i in listed.events if SIP_CHANNEL.match(i["Channel"])]
            if not left:
                return
            for name in left:
                await manager.send_action(Action("Hangup", Channel=name))
            await asyncio.sleep(0.1)


@pytest.fixture
async def sipp(asterisk: Target):
    require(Sipp().binary is not None, "sipp is not installed (apt-get install sip-tester)")
    await hang_up_sip_calls(asterisk)
    traffic = Sipp()
    await traffic.start_uas()
    try:
        yield traffic
    finally:
        await traffic.stop()
        await hang_up_sip_calls(asterisk)


#: The events that change CoreShowChannels' Uniqueids or BridgeList's members.
MOVES = frozenset(
    {"Newchannel", "Hangup", "BridgeCreate", "BridgeDestroy", "BridgeEnter", "BridgeLeave"}
    | {"BridgeMerge"}
)

View = tuple[frozenset[str], dict[str, int]]


class Truth:
    """What Asterisk lists, and fences to line it up with the model of ``live``."""

    def __init__(self, manager: amiasync.Manager, live: LiveState) -> None:
        assert live.manager is manager  # fences order one connection's events only
        self.manager = manager
        self.live = live
        self.moves = 0
        self._fence: dict[str, asyncio.Future[tuple[View, int]]] = {}
        manager.register_callback("", self._on_event)

    def _on_event(self, event, manager) -> None:
        # Inline in the reader, like the LiveState's own callback: when the
        # fence arrives, the model has applied every event before it.
        name = event.event_name
        if name in MOVES:
            self.moves += 1
        elif name == "VarSet" and event.get("Variable") == "AMIASYNC_FENCE":
            waiter = self._fence.pop(event.get("Value", ""), None)
            if waiter is not None and not waiter.done():
                waiter.set_result((model_view(self.live), self.moves))

    async def fence(self) -> tuple[View, int]:
        """Every channel event Asterisk published before this call has been received.

        The fence is a global variable's VarSet: Asterisk publishes it on the
        all-channels topic (``ast_channel_publish_varset`` with no channel),
        which the manager receives in order with Newchannel, Hangup and the
        bridges' events. (A UserEvent travels another topic and can overtake
        them when Asterisk is busy.)

        Returns:
            The model's view when the fence arrived, and how many events that
            move the truth had arrived by then.
        """
        token = f"f{next(_fences)}"
        waiter = asyncio.get_running_loop().create_future()
        self._fence[token] = waiter
        await self.manager.send_action(
            Action("Setvar", Variable="AMIASYNC_FENCE", Value=token), check=True
        )
        return await asyncio.wait_for(waiter, 10)

    async def read(self) -> View | None:
        """CoreShowChannels' Uniqueids and BridgeList's bridges, or None when they disagree.

        They disagree while a bridge dissolves: Asterisk unlinks it from the
        list BridgeList walks at once (``main/bridge.c``,
        ``bridge_base_dissolving``), but the channel still in it reports its
        BridgeId until it has left (a Dial bridge whose caller hung up, while
        the callee's BYE is answered). The model follows the channels' events
        then, so such a moment is no checkpoint.
        """
        return self._lists(*await asyncio.gather(*self._send_lists()))

    def _send_lists(self) -> list[Awaitable[amiasync.Response]]:
        # Each send_action writes its action before its first await.
        return [
            self.manager.send_action(Action("CoreShowChannels"), timeout=30, check=True),
            self.manager.send_action(Action("BridgeList"), timeout=30, check=True),
        ]

    @staticmethod
    def _lists(channels: amiasync.Response, bridges: amiasync.Response) -> View | None:
        listed = {item["BridgeUniqueid"]: int(item["BridgeNumChannels"]) for item in bridges.events}
        if any(item["BridgeId"] not in listed for item in channels.events if item["BridgeId"]):
            return None
        return frozenset(item["Uniqueid"] for item in channels.events), listed

    async def still(self) -> tuple[View, View] | None:
        """(the model, Asterisk's lists) when the truth held still while read, else None."""
        # Written in this order, handled by Asterisk in this order.
        before, channels, bridges = await asyncio.gather(self.fence(), *self._send_lists())
        first = self._lists(channels, bridges)
        # Read twice, the closing fence sent once the second lists are in:
        # Asterisk lists a channel a moment before it publishes the event
        # that says so (it links the snapshot into the cache CoreShowChannels
        # walks, then publishes it: ast_channel_publish_snapshot in
        # main/stasis_channels.c), and on a busy machine that thread can be
        # held up in between. A truth that holds still across both reads
        # and every event up to the last fence is no such moment.
        second = await self.read()
        (seen, moves), (_, moves_after) = before, await self.fence()
        if first is None or first != second or moves != moves_after:
            return None
        return seen, first

    async def queue(self, name: str) -> tuple[dict[str, tuple[bool, bool, int]], list[str]]:
        response = await self.manager.send_action(
            Action("QueueStatus", Queue=name), timeout=30, check=True
        )
        members = {
            item["Location"]: (item["Paused"] == "1", item["InCall"] == "1", int(item["Status"]))
            for item in response.events
            if item.event_name == "QueueMember"
        }
        callers = [
            item["Uniqueid"]
            for item in sorted(
                (i for i in response.events if i.event_name == "QueueEntry"),
                key=lambda i: int(i["Position"]),
            )
        ]
        return members, callers


def model_view(live: LiveState) -> View:
    return (
        frozenset(live.channels),
        {bridge_id: len(bridge.channels) for bridge_id, bridge in live.bridges.items()},
    )


async def explain(truth: Truth, live: LiveState) -> str:
    """What Asterisk says of the channels in bridges it does not list (for a failure)."""
    read = await truth.read()
    bridges = read[1] if read is not None else {}
    listed = await truth.manager.send_action(Action("CoreShowChannels"), timeout=30)
    items = {item["Uniqueid"]: item for item in listed.events}
    lines = []
    for bridge in live.bridges.values():
        if bridge.bridge_id in bridges:
            continue
        for uniqueid in bridge.channels:
            item = items.get(uniqueid)
            lines.append(
                f"\n{bridge.bridge_id}: {live.channels[uniqueid]}"
                f"\n  Asterisk: {dict(item) if item is not None else None}"
            )
    return "".join(lines)


async def checkpoint(truth: Truth, live: LiveState, attempts: int = 200, while_running=None):
    """The model equals CoreShowChannels and BridgeList (see the module docstring).

    Args:
        attempts: How many times to try for a moment the truth holds still.
        while_running: A process; once it has exited, give up (return None).
    """
    for _ in range(attempts):
        if while_running is not None and while_running.returncode is not None:
            return None
        still = await truth.still()
        if still is None:
            continue
        seen, listed = still
        assert live.is_synced
        assert seen == listed, f"model {seen} != Asterisk {listed}" + await explain(truth, live)
        return listed
    raise AssertionError(f"Asterisk never held still for a checkpoint in {attempts} attempts")


def sipp_rate(stats: Path, count: int) -> float:
    """Calls per second sipp placed, from its statistics file (``-trace_stat``).

    The time from sipp's start to the first report (one a second) that counts
    ``count`` calls placed: up to a second more than it took, so the rate is,
    if anything, underestimated.
    """
    with stats.open(newline="") as lines:
        for row in csv.DictReader(lines, delimiter=";"):
            if int(row["OutgoingCall(C)"]) >= count:
                started = float(row["StartTime"].split()[-1])
                now = float(row["CurrentTime"].split()[-1])
                return count / (now - started)
    raise AssertionError(f"sipp never reported {count} calls placed: {stats.read_text()[-2000:]}")


async def test_200_calls_at_20_per_second_checkpoints_during_then_empty(asterisk, sipp, tmp_path):
    async with asterisk.connect() as manager, LiveState(manager) as live:
        truth = Truth(manager, live)
        await live.synced(timeout=30)
        await checkpoint(truth, live)
        # One steady run: 200 calls placed at 25 calls/s, each sipp ->
        # Asterisk -> Dial -> sipp, two channels and a bridge, up for 2 s;
        # about 50 calls (100 channels, 200 RTP ports) at once.
        stats = tmp_path / "sipp.csv"
        run = await sipp.calls("call", count=200, rate=25, hold_ms=2000, stats=stats)
        sizes: list[int] = []
        while run.returncode is None:
            listed = await checkpoint(truth, live, while_running=run)
            if listed is None:
                break
            channels, bridges = listed
            sizes.append(len(channels))
            for bridge in live.bridges.values():
                # 0 or 1 while a call's bridge is set up (BridgeList agrees).
                assert len(bridge.channels) <= 2
                assert all(live.channels[u].bridge_id == bridge.bridge_id for u in bridge.channels)
            for call in live.calls.values():
                assert all(live.channels[u].linkedid == call.linkedid for u in call.channels)
            await asyncio.sleep(0.1)  # pace: a checkpoint costs Asterisk two full lists
        assert await sipp.finish(run) == 0
        rate = sipp_rate(stats, 200)
        busy = [n for n in sizes if n >= 40]
        print(
            f"\n200 calls at {rate:.1f} calls/s (sipp): {len(sizes)} checkpoints during the run, "
            f"{len(busy)} with >= 40 channels, peak {max(sizes, default=0)}"
        )
        assert rate >= 20, rate
        assert len(busy) >= 5, sizes
        # Everything ends: once Asterisk has no channel left, neither has the model.
        for _ in range(100):
            channels, bridges = await checkpoint(truth, live)
            if not channels and not bridges:
                break
            await asyncio.sleep(0.1)
        assert not live.channels and not live.bridges and not live.calls


async def test_started_in_the_middle_of_traffic_it_converges(asterisk, sipp):
    wave = await sipp.calls("call", count=40, rate=25, hold_ms=3000)
    await asyncio.sleep(0.6)  # calls are being set up right now
    async with asterisk.connect() as manager, LiveState(manager) as live:
        truth = Truth(manager, live)
        await live.synced(timeout=30)
        channels, _ = await checkpoint(truth, live)
        assert len(channels) >= 10
        assert await sipp.finish(wave) == 0
        await checkpoint(truth, live)


async def test_kill_9_mid_call_and_restart_resyncs_within_2_s(asterisk, sipp):
    require(asterisk.has_sandbox, "needs the project's sandbox to kill Asterisk")
    manager = await asterisk.connect(reconnect=True)
    reconnected: asyncio.Queue[float] = asyncio.Queue()
    manager.register_state_callback(
        lambda state, m: (
            state is ConnectionState.RECONNECTED and reconnected.put_nowait(time.monotonic())
        )
    )
    try:
        async with LiveState(manager) as live:
            truth = Truth(manager, live)
            await live.synced(timeout=30)
            wave = await sipp.calls("call", count=10, rate=25, hold_ms=60_000)
            for _ in range(300):
                if len(live.bridges) == 10 and all(
                    len(b.channels) == 2 for b in live.bridges.values()
                ):
                    break
                await asyncio.sleep(0.05)
            channels, _ = await checkpoint(truth, live)
            assert len(channels) == 20
            before = set(live.channels)

            removed: set[str] = set()
            changes = live.changes()
            pid = int(await asterisk.sandbox("pid"))
            os.kill(pid, signal.SIGKILL)
            for _ in range(200):
                if not live.is_synced:
                    break
                await asyncio.sleep(0.01)
            assert not live.is_synced  # stale from the moment the link drops
            await asterisk.sandbox("start-bg")
            back_at = await asyncio.wait_for(reconnected.get(), 60)
            await live.synced(timeout=max(0.1, back_at + 2.0 - time.monotonic()))
            synced_after = time.monotonic() - back_at
            print(f"\nkill -9: synced {synced_after:.3f} s after RECONNECTED")
            assert synced_after < 2.0, synced_after
            while changes.qsize():
                change = await changes.__anext__()
                if change.kind == "removed" and change.entity == "channel":
                    removed.add(change.key)
            assert before <= removed  # every channel of the dead Asterisk went away
            await checkpoint(truth, live)
            assert not before & set(live.channels)
            wave.kill()

            # The new Asterisk's calls are tracked too.
            await asyncio.sleep(1.0)  # PJSIP and the dialplan load after AMI logins
            wave = await sipp.calls("call", count=5, rate=25, hold_ms=3000)
            for _ in range(200):
                if len(live.channels) >= 10:
                    break
                await asyncio.sleep(0.05)
            channels, _ = await checkpoint(truth, live)
            assert len(channels) == 10
            assert await sipp.finish(wave) == 0
    finally:
        await manager.close()


async def wait_queue(truth: Truth, live: LiveState, want) -> None:
    """Until QueueStatus shows ``want(members, callers)``; then the model must agree."""
    for _ in range(300):
        members, callers = await truth.queue("support")
        if want(members, callers):
            await truth.fence()
            again = await truth.queue("support")
            if again != (members, callers):
                continue
            queue = live.queues["support"]
            model = {
                interface: (m.paused, m.in_call, m.status) for interface, m in queue.members.items()
            }
            assert model == members
            assert [c.uniqueid for c in queue.callers] == callers
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"QueueStatus never showed what was expected: {members} {callers}")


async def test_queue_member_pause_waiting_caller_and_in_call(asterisk, sipp):
    agent = "PJSIP/agent"
    async with asterisk.connect() as manager, LiveState(manager) as live:
        truth = Truth(manager, live)
        await live.synced(timeout=30)
        pause = Action("QueuePause", Queue="support", Interface=agent, Paused="true", Reason="x")
        await manager.send_action(pause, check=True)
        try:
            await wait_queue(truth, live, lambda m, c: m[agent][0])
            assert live.queues["support"].members[agent].paused_reason == "x"
            call = await sipp.calls("queue", count=1, rate=1, hold_ms=4000)
            await wait_queue(truth, live, lambda m, c: len(c) == 1)
            waiting = live.queues["support"].callers[0]
            assert live.queues["support"].position(waiting.uniqueid) == 1
            unpause = Action("QueuePause", Queue="support", Interface=agent, Paused="false")
            await manager.send_action(unpause, check=True)
            await wait_queue(truth, live, lambda m, c: m[agent][1] and not c)
            assert await sipp.finish(call) == 0
            await wait_queue(truth, live, lambda m, c: not m[agent][1] and m[agent][2] == 1)
        finally:
            unpause = Action("QueuePause", Queue="support", Interface=agent, Paused="false")
            await manager.send_action(unpause)


async def test_hold_and_unhold_from_the_phone(asterisk, sipp):
    async with asterisk.connect() as manager, LiveState(manager) as live:
        await live.synced(timeout=30)
        changes = live.changes()
        call = await sipp.calls("call", count=1, rate=1, hold_ms=1500, scenario="uac-hold.xml")
        held: list[bool] = []
        async for change in changes:
            if change.kind != "updated" or change.entity != "channel":
                continue
            if change.old.on_hold != change.new.on_hold:
                held.append(change.new.on_hold)
                if len(held) == 2:
                    break
        assert held == [True, False]
        assert await sipp.finish(call) == 0


async def test_blind_transfer_of_a_real_call(asterisk, sipp):
    async with asterisk.connect() as manager, LiveState(manager) as live:
        truth = Truth(manager, live)
        await live.synced(timeout=30)
        # Local/call@live;2 dials the sipp UAS (a bridge with PJSIP/uas); ;1 waits.
        result = await manager.originate(
            Action(
                "Originate", Channel="Local/call@live", Context="live", Exten="wait", Priority="1"
            )
        )
        assert result.success
        for _ in range(200):
            bridged = [
                c for c in live.channels.values() if c.name.startswith("PJSIP/uas") and c.bridge_id
            ]
            if bridged:
                break
            await asyncio.sleep(0.05)
        (uas,) = bridged
        await checkpoint(truth, live)
        response = await manager.send_action(
            Action("BlindTransfer", Channel=uas.name, Context="live", Exten="wait")
        )
        assert response.success, response
        for _ in range(200):
            if live.model.transfers and uas.uniqueid not in live.channels:
                break
            await asyncio.sleep(0.05)
        transfer = live.model.transfers[-1]
        assert (transfer.kind, transfer.transferer, transfer.target) == (
            "blind",
            uas.uniqueid,
            "wait@live",
        )
        await checkpoint(truth, live)
        for channel in list(live.channels.values()):
            if channel.linkedid == uas.linkedid:
                await manager.send_action(Action("Hangup", Channel=channel.name))
        for _ in range(200):
            if not any(c.linkedid == uas.linkedid for c in live.channels.values()):
                break
            await asyncio.sleep(0.05)
        await checkpoint(truth, live)


async def wait_model(live: LiveState, condition, what: str) -> None:
    """Until ``condition()`` holds of the model (bounded: 10 s of events)."""
    changes = live.changes()
    try:
        async with async_timeout(10):
            while not condition():
                await changes.__anext__()
    except asyncio.TimeoutError:
        raise AssertionError(f"the model never showed {what}") from None
    finally:
        changes.close()


async def test_attended_transfer_of_a_real_call(asterisk, sipp):
    """AMI Atxfer on the caller of a Dial(..., T) bridge, completed by its hangup.

    Local/atxfer@live;2 dials the sipp UAS with Dial's T option (the caller
    may transfer); Atxfer types the sandbox's feature code (features.conf,
    ``atxfer => *2``) and 800 on it. Asterisk holds the UAS in the first
    bridge and bridges the transferer with Local/800@live;1 in a second one;
    when the transferer hangs up, the UAS and the target end up together.
    """
    async with asterisk.connect() as manager, LiveState(manager) as live:
        truth = Truth(manager, live)
        await live.synced(timeout=30)
        result = await manager.originate(
            Action(
                "Originate", Channel="Local/atxfer@live", Context="live", Exten="wait", Priority="1"
            )
        )
        assert result.success

        def named(prefix: str):
            return [c for c in live.channels.values() if c.name.startswith(prefix)]

        def dialled() -> bool:
            return any(len(b.channels) == 2 for b in live.bridges.values()) and bool(
                named("PJSIP/uas")
            )

        await wait_model(live, dialled, "the UAS bridged with Local/atxfer;2")
        (uas,) = named("PJSIP/uas")
        (transferer,) = [c for c in named("Local/atxfer@live") if c.name.endswith(";2")]
        assert live.bridges[uas.bridge_id].channels == {uas.uniqueid, transferer.uniqueid}
        await checkpoint(truth, live)

        response = await manager.send_action(
            Action("Atxfer", Channel=transferer.name, Context="live", Exten="800"), check=True
        )
        assert response.success

        def consulting() -> bool:
            targets = [c for c in named("Local/800@live") if c.name.endswith(";1")]
            return bool(targets) and targets[0].bridge_id == live.channels[
                transferer.uniqueid
            ].bridge_id not in (None, uas.bridge_id)

        await wait_model(live, consulting, "the transferer bridged with the target")
        (target,) = [c for c in named("Local/800@live") if c.name.endswith(";1")]
        # The transferee waits alone in the first bridge meanwhile.
        assert live.bridges[uas.bridge_id].channels == {uas.uniqueid}
        await checkpoint(truth, live)

        await manager.send_action(Action("Hangup", Channel=transferer.name), check=True)
        await wait_model(
            live,
            lambda: bool(live.model.transfers) and transferer.uniqueid not in live.channels,
            "the AttendedTransfer",
        )
        transfer = live.model.transfers[-1]
        assert (transfer.kind, transfer.result, transfer.transferer, transfer.target) == (
            "attended",
            "Success",
            transferer.uniqueid,
            target.uniqueid,
        )
        await wait_model(
            live,
            lambda: (
                live.channels[uas.uniqueid].bridge_id == live.channels[target.uniqueid].bridge_id
            ),
            "the transferee bridged with the target",
        )
        joined = live.channels[uas.uniqueid].bridge_id
        assert live.bridges[joined].channels == {uas.uniqueid, target.uniqueid}
        _, bridges = await checkpoint(truth, live)
        assert bridges[joined] == 2
        # One call: the target's Local channels kept the call's Linkedid.
        assert {uas.uniqueid, target.uniqueid} <= live.calls[uas.linkedid].channels

        for channel in list(live.channels.values()):
            if channel.linkedid == uas.linkedid:
                await manager.send_action(Action("Hangup", Channel=channel.name))
        await wait_model(
            live,
            lambda: uas.linkedid not in live.calls,
            "the call gone",
        )
        await checkpoint(truth, live)
