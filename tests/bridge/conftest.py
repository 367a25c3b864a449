"""Bridge fixtures: a real redis-server per test, fake PBXs, and a bridge between them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

redis_asyncio = pytest.importorskip("redis.asyncio")

from amiasync.testing import FakeAsterisk  # noqa: E402

from ..conftest import SECRET, USER  # noqa: E402
from ..integration.conftest import asterisk  # noqa: E402, F401 - the real-Asterisk fixture
from .redis_server import RedisServer  # noqa: E402


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[object]:
    client = redis_asyncio.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def fakes() -> AsyncIterator[list[FakeAsterisk]]:
    servers = [FakeAsterisk(users={USER: SECRET}) for _ in range(2)]
    for server in servers:
        await server.start()
    yield servers
    for server in servers:
        await server.stop()


def config(server: FakeAsterisk) -> dict[str, object]:
    return dict(host=server.host, port=server.port, username=USER, secret=SECRET)
