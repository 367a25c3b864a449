"""A worker of a fleet behind the Redis bridge: counts hangups per PBX, originates on demand.

    amiasync bridge --redis redis://127.0.0.1:6379/0 --pbx pbx1=10.0.0.1 &
    python examples/worker.py --redis redis://127.0.0.1:6379/0 --group hangups

Run as many as you like with the same ``--group``: each event is handled by
one of them, at least once (a worker killed mid-event leaves it pending, and
another claims it after ``--claim-idle`` seconds). Every ``--every`` hangups
on a PBX, the worker originates a call there through the bridge
(``RemoteManager``), without an AMI connection of its own; ``--originate``
sets where it calls. A ``__gap__`` entry is reported: events of that PBX
may be missing in that window (AMI cannot replay them).

Prints one line per hangup (``pbx1 hangups=3``) and per originate; stops on
Ctrl-C / SIGTERM, or after ``--count`` hangups.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal

from amiasync import Action, AMIError
from amiasync.bridge import Delivery, EventConsumer, Gap, RemoteManager


async def run(args: argparse.Namespace) -> int:
    counts: collections.Counter[str] = collections.Counter()
    remotes: dict[str, RemoteManager] = {}
    done = asyncio.Event()

    async def handle(event, delivery: Delivery) -> None:
        server = event.server or "?"
        if isinstance(event, Gap):  # not the name: a PBX may send one named __gap__
            print(
                f"{server} gap since={event['since']} until={event['until']} "
                f"dropped={event['dropped']}",
                flush=True,
            )
            return
        if event.event_name != "Hangup":
            return
        counts[server] += 1
        print(f"{server} hangups={counts[server]}", flush=True)
        if args.every and counts[server] % args.every == 0 and args.originate:
            remote = remotes.get(server) or remotes.setdefault(
                server, RemoteManager(consumer.redis, server=server)
            )
            action = Action(
                "Originate",
                Channel=args.originate,
                Context=args.context,
                Exten=args.exten,
                Priority=1,
                Async="true",
            )
            try:
                response = await remote.send_action(action, timeout=10)
                print(f"{server} originate {'ok' if response.success else 'refused'}", flush=True)
            except AMIError as exc:
                # Raising would retry the entry (at least once); an originate
                # must not be repeated, so report and go on.
                print(f"{server} originate failed: {exc}", flush=True)
        if args.count and sum(counts.values()) >= args.count:
            done.set()

    consumer = EventConsumer(
        args.redis,
        args.group,
        handle,
        consumer=args.name,
        start=args.start,
        claim_idle=args.claim_idle,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    task = asyncio.ensure_future(consumer.run())
    await done.wait()
    consumer.stop()
    await task
    for remote in remotes.values():
        await remote.close()
    await consumer.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--group", default="hangups", help="the consumer group (default hangups)")
    parser.add_argument("--name", help="this worker's name in the group (random by default)")
    parser.add_argument("--start", default="$", help="a new group starts at $ (new) or 0 (all)")
    parser.add_argument("--claim-idle", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument(
        "--every",
        type=int,
        default=0,
        metavar="N",
        help="originate after every N hangups on a PBX (0: never)",
    )
    parser.add_argument(
        "--originate", metavar="CHANNEL", help="the channel to call, e.g. Local/100@amitest"
    )
    parser.add_argument("--context", default="default", help="where the call goes (default)")
    parser.add_argument("--exten", default="s", help="the extension there (s)")
    parser.add_argument("--count", type=int, default=0, help="stop after N hangups")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
