#!/usr/bin/env python3
"""A queue dashboard built on ``LiveState.changes()``: one line per change of a queue.

Prints every queue once synced, then, as they happen, what changed: a member
paused or unpaused, rung, in a call or free again, added or removed, and
callers joining and leaving (with their position). Stops after ``--count``
change lines, on Ctrl-C, or at once with ``--once``.

Settings come from the environment: ``AMI_HOST``, ``AMI_PORT``,
``AMI_USERNAME``, ``AMI_SECRET``. Run it with::

    AMI_HOST=127.0.0.1 AMI_USERNAME=admin AMI_SECRET=... python examples/live_queue_dashboard.py
"""

import argparse
import asyncio
import os
import sys
from typing import Optional

import amiasync
from amiasync.live import LiveState, Queue, QueueMember


def describe_member(member: QueueMember) -> str:
    flags = [member.status_name]
    if member.paused:
        flags.append("paused")
    if member.in_call:
        flags.append("in call")
    return f"{member.interface} ({', '.join(flags)})"


def describe_queue(queue: Queue) -> str:
    members = ", ".join(
        describe_member(m) for m in sorted(queue.members.values(), key=lambda m: m.interface)
    )
    return f"{queue.name}: {len(queue.callers)} waiting; members: {members or 'none'}"


def describe_change(old: Optional[Queue], new: Optional[Queue]) -> list[str]:
    """What changed in one queue, as short sentences."""
    if new is None:
        return [f"{old.name}: removed"] if old is not None else []
    if old is None:
        return [f"{new.name}: added ({describe_queue(new)})"]
    lines = []
    for interface, member in new.members.items():
        before = old.members.get(interface)
        if before is None:
            lines.append(f"{new.name}: member {interface} added")
            continue
        if before.paused != member.paused:
            reason = f" ({member.paused_reason})" if member.paused and member.paused_reason else ""
            lines.append(
                f"{new.name}: {interface} {'paused' if member.paused else 'unpaused'}{reason}"
            )
        if before.in_call != member.in_call:
            lines.append(f"{new.name}: {interface} {'in a call' if member.in_call else 'free'}")
        elif before.status != member.status:
            lines.append(f"{new.name}: {interface} is {member.status_name}")
    for interface in old.members.keys() - new.members.keys():
        lines.append(f"{new.name}: member {interface} removed")
    waiting_before = {c.uniqueid for c in old.callers}
    waiting_now = {c.uniqueid for c in new.callers}
    for position, caller in enumerate(new.callers, 1):
        if caller.uniqueid not in waiting_before:
            lines.append(f"{new.name}: {caller.channel} waiting at position {position}")
    for caller in old.callers:
        if caller.uniqueid not in waiting_now:
            lines.append(f"{new.name}: {caller.channel} left the queue")
    return lines


async def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, help="exit after this many change lines")
    parser.add_argument("--once", action="store_true", help="print the queues and exit")
    args = parser.parse_args(argv)
    host = os.environ.get("AMI_HOST")
    if not host:
        print("set AMI_HOST, AMI_PORT, AMI_USERNAME and AMI_SECRET", file=sys.stderr)
        return 2
    try:
        manager = await amiasync.connect(
            host,
            int(os.environ.get("AMI_PORT", "5038")),
            username=os.environ.get("AMI_USERNAME", "admin"),
            secret=os.environ.get("AMI_SECRET", ""),
            reconnect=True,
        )
    except amiasync.AMIError as exc:
        print(f"cannot connect: {exc}", file=sys.stderr)
        return 1
    printed = 0
    try:
        async with LiveState(manager) as live:
            changes = live.changes()  # before the sync: nothing is missed
            await live.synced(timeout=10)
            # What is queued so far is in the state printed now.
            while changes.qsize():
                await changes.__anext__()
            for queue in sorted(live.queues.values(), key=lambda q: q.name):
                print(describe_queue(queue), flush=True)
            if args.once:
                return 0
            async for change in changes:
                if change.entity != "queue":
                    continue
                for line in describe_change(change.old, change.new):
                    print(line, flush=True)
                    printed += 1
                    if args.count is not None and printed >= args.count:
                        return 0
    finally:
        await manager.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(0)
