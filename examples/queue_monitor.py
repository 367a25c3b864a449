#!/usr/bin/env python3
"""Queue monitor: a snapshot of the call queues, then their events as they happen.

The snapshot comes from two event-list actions: ``QueueSummary`` (one
``QueueSummary`` item per queue: agents logged in and available, callers
waiting, hold and talk times) and ``QueueStatus`` (``QueueParams`` per queue,
then a ``QueueMember`` per agent and a ``QueueEntry`` per waiting caller).
Then ``manager.events("Queue*", "AgentCalled", ...)`` follows callers joining
and leaving, agents being rung, answering and finishing.

The event stream is opened *before* the snapshot is taken, so an event that
happens in between is not lost (it is printed after the snapshot).

Usage::

    AMI_HOST=pbx AMI_USERNAME=admin AMI_SECRET=... python examples/queue_monitor.py [QUEUE]
    python examples/queue_monitor.py --once      # the snapshot only

With no ``AMI_HOST`` it runs against the embedded fake Asterisk, scripted
(at the bottom of this file) to answer the queue actions and play one
queued call, and stops after that call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any, Callable

import amiasync
from amiasync import Event
from amiasync.actions import QueueStatus, QueueSummary

#: The events the monitor follows: every Queue* event, and the agent events of app_queue.
QUEUE_EVENTS = (
    "Queue*",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
    "AgentDump",
)

#: QueueMember ``Status``: the device state of the agent's phone.
DEVICE_STATES = {
    "0": "unknown",
    "1": "not in use",
    "2": "in use",
    "3": "busy",
    "4": "invalid",
    "5": "unavailable",
    "6": "ringing",
    "7": "ringing, in use",
    "8": "on hold",
}

Say = Callable[[str], None]


def _say(text: str) -> None:
    print(text, flush=True)


async def snapshot(
    manager: amiasync.Manager, queue: str | None = None
) -> tuple[list[Event], list[Event]]:
    """Return the QueueSummary items and the QueueStatus items (for one queue, or all)."""
    summary = await manager.send_action(QueueSummary(queue=queue), check=True)
    status = await manager.send_action(QueueStatus(queue=queue), check=True)
    return summary.events, status.events


def print_snapshot(summary: Sequence[Event], status: Sequence[Event], say: Say = _say) -> None:
    """Print one paragraph per queue: its figures, its agents, its waiting callers."""
    if not summary and not status:
        say("No queues.")
    for item in summary:
        queue = item.get("Queue", "?")
        say(
            f"{queue}: {item.get('Callers', '0')} waiting, {item.get('LoggedIn', '0')} agents "
            f"logged in, {item.get('Available', '0')} available; hold {item.get('HoldTime', '0')}"
            f" s, talk {item.get('TalkTime', '0')} s, longest wait "
            f"{item.get('LongestHoldTime', '0')} s"
        )
        for entry in status:
            if entry.get("Queue") != queue:
                continue
            if entry.event_name == "QueueMember":
                # QueueStatus says Name/Location; the QueueMember* events say
                # MemberName/Interface.
                name = entry.get("Name") or entry.get("MemberName", "?")
                where = entry.get("Location") or entry.get("Interface", "?")
                state = DEVICE_STATES.get(entry.get("Status", ""), entry.get("Status", "?"))
                paused = ", paused" if entry.get("Paused") == "1" else ""
                say(
                    f"  agent {name} ({where}): {state}{paused}, "
                    f"{entry.get('CallsTaken', '0')} calls taken"
                )
            elif entry.event_name == "QueueEntry":
                say(
                    f"  caller {entry.get('Position', '?')}: {entry.get('CallerIDNum', '?')} "
                    f"on {entry.get('Channel', '?')}, waiting {entry.get('Wait', '?')} s"
                )


def describe(event: Event) -> str:
    """One line for a queue event."""
    name = event.event_name
    queue = event.get("Queue", "?")
    caller = event.get("CallerIDNum", "?")
    agent = event.get("MemberName") or event.get("Interface", "?")
    if name == "QueueCallerJoin":
        position, waiting = event.get("Position"), event.get("Count")
        return f"{queue}: {caller} joined at position {position} ({waiting} waiting)"
    if name == "QueueCallerLeave":
        return f"{queue}: {caller} left the queue ({event.get('Count')} waiting)"
    if name == "QueueCallerAbandon":
        return f"{queue}: {caller} hung up after waiting {event.get('HoldTime')} s"
    if name == "AgentCalled":
        return f"{queue}: ringing {agent} for {caller}"
    if name == "AgentRingNoAnswer":
        return f"{queue}: {agent} did not answer ({event.get('RingTime')} s)"
    if name == "AgentConnect":
        return f"{queue}: {agent} answered {caller} after {event.get('HoldTime')} s on hold"
    if name == "AgentComplete":
        return (
            f"{queue}: {agent} finished with {caller}: talked {event.get('TalkTime')} s "
            f"({event.get('Reason')} hung up)"
        )
    if name == "AgentDump":
        return f"{queue}: {caller} hung up while {agent} was being connected"
    if name == "QueueMemberStatus":
        state = DEVICE_STATES.get(event.get("Status", ""), "?")
        return f"{queue}: {agent} is now {state}"
    if name == "QueueMemberPause":
        verb = "paused" if event.get("Paused") == "1" else "unpaused"
        return f"{queue}: {agent} {verb} {event.get('PausedReason') or ''}".rstrip()
    return f"{queue}: {name} {agent if agent != '?' else ''}".rstrip()


async def monitor(
    manager: amiasync.Manager,
    queue: str | None = None,
    *,
    once: bool = False,
    count: int | None = None,
    say: Say = _say,
) -> int:
    """Print the snapshot, then queue events (``count`` of them, or until the stream ends).

    Returns:
        How many events were printed.
    """
    seen = 0
    async with manager.events(*QUEUE_EVENTS) as stream:
        print_snapshot(*await snapshot(manager, queue), say=say)
        if once:
            return 0
        say("Watching queue events; Ctrl-C to stop.")
        async for event in stream:
            if queue is not None and event.get("Queue") != queue:
                continue
            say(describe(event))
            seen += 1
            if count is not None and seen >= count:
                break
        if stream.dropped:
            say(f"({stream.dropped} events dropped: too slow)")
    return seen


async def run(args: argparse.Namespace) -> int:
    host = os.environ.get("AMI_HOST")
    username = os.environ.get("AMI_USERNAME", "admin")
    secret = os.environ.get("AMI_SECRET", "secret")
    port = int(os.environ.get("AMI_PORT", "5038"))
    server = None
    count = args.count
    if host is None:
        server = await start_fake_queue_server(username, secret)
        host, port = server.host, server.port
        print(f"No AMI_HOST: using the embedded fake Asterisk on {host}:{port}", flush=True)
        count = count or len(FAKE_CALL)
    try:
        # Queue events are in the "agent" class; "call" for QueueCaller* on older versions.
        async with amiasync.connect(
            host, port, username=username, secret=secret, events=["agent", "call"]
        ) as manager:
            if server is not None and not args.once:
                # Played at once: the stream, opened before the snapshot, keeps the
                # events until the snapshot is printed.
                asyncio.get_running_loop().call_soon(play_fake_call, server)
            await monitor(manager, args.queue, once=args.once, count=count)
    except amiasync.AMIError as exc:
        print(f"queue_monitor: {exc}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("queue", nargs="?", help="one queue (default: all)")
    parser.add_argument("--once", action="store_true", help="print the snapshot and exit")
    parser.add_argument("--count", type=int, help="exit after this many events")
    try:
        return asyncio.run(run(parser.parse_args(argv)))
    except KeyboardInterrupt:
        return 0


# -- only for trying this without a PBX: a fake queue --------------------------------

#: One queued call, as app_queue reports it (abridged: no channel snapshots).
FAKE_CALL: list[dict[str, Any]] = [
    {"Event": "QueueCallerJoin", "Queue": "support", "Position": "1", "Count": "1"},
    {"Event": "AgentCalled", "Queue": "support", "MemberName": "Alice"},
    {"Event": "AgentConnect", "Queue": "support", "MemberName": "Alice", "HoldTime": "4"},
    {"Event": "QueueCallerLeave", "Queue": "support", "Position": "1", "Count": "0"},
    {
        "Event": "AgentComplete",
        "Queue": "support",
        "MemberName": "Alice",
        "TalkTime": "42",
        "Reason": "caller",
    },
]


def _fake_list(complete: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"Response": "Success", "EventList": "start", "Message": "Queue status will follow"},
        *items,
        {"Event": complete, "EventList": "Complete", "ListItems": str(len(items))},
    ]


async def start_fake_queue_server(username: str, secret: str) -> Any:
    """Start the embedded fake Asterisk, scripted to answer the queue actions."""
    from amiasync.testing import FakeAsterisk

    server = await FakeAsterisk(users={username: secret}).start()
    server.on_action(
        "QueueSummary",
        lambda session, action: _fake_list(
            "QueueSummaryComplete",
            [
                {
                    "Event": "QueueSummary",
                    "Queue": "support",
                    "LoggedIn": "2",
                    "Available": "1",
                    "Callers": "0",
                    "HoldTime": "12",
                    "TalkTime": "95",
                    "LongestHoldTime": "0",
                }
            ],
        ),
    )
    server.on_action(
        "QueueStatus",
        lambda session, action: _fake_list(
            "QueueStatusComplete",
            [
                {"Event": "QueueParams", "Queue": "support", "Strategy": "ringall", "Calls": "0"},
                {
                    "Event": "QueueMember",
                    "Queue": "support",
                    "Name": "Alice",
                    "Location": "PJSIP/101",
                    "Status": "1",
                    "Paused": "0",
                    "CallsTaken": "7",
                },
                {
                    "Event": "QueueMember",
                    "Queue": "support",
                    "Name": "Bob",
                    "Location": "PJSIP/102",
                    "Status": "2",
                    "Paused": "1",
                    "CallsTaken": "3",
                },
            ],
        ),
    )
    return server


def play_fake_call(server: Any) -> None:
    """Emit one queued call's events, with the caller's number on each."""
    for event in FAKE_CALL:
        server.emit({**event, "Privilege": "agent,all", "CallerIDNum": "0612345678"})


if __name__ == "__main__":
    sys.exit(main())
