"""A consumer process for the kill -9 test: records what it handled, then hangs.

    python -m tests.bridge.consumer_child REDIS_URL GROUP NAME HANG_AFTER

Each handled entry's id goes into the Redis set ``handled:NAME`` before the
handler returns; after HANG_AFTER entries the handler never returns, so the
entries this consumer read stay pending for it until it is killed.
"""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as redis_asyncio

from amiasync.bridge import EventConsumer


async def main(url: str, group: str, name: str, hang_after: int) -> None:
    client = redis_asyncio.from_url(url)
    count = 0

    async def handle(event, delivery) -> None:
        nonlocal count
        if count >= hang_after:
            await asyncio.Event().wait()
        count += 1
        await client.sadd(f"handled:{name}", delivery.id)

    consumer = EventConsumer(
        client, group, handle, consumer=name, servers=["pbx1"], start="0", batch=50
    )
    print("consumer ready", flush=True)
    await consumer.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
