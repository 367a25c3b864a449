"""Shared fixtures: the embedded fake Asterisk on a real loopback socket."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import amiasync
from amiasync import frames, protocol
from amiasync.testing import FakeAsterisk

FIXTURES = Path(__file__).parent / "fixtures"
USER, SECRET = "admin", "s3cret-wordpass"

#: The decoders the codec tests run against: the pure-Python reference, and
#: its compiled twin when it is built and not disabled (AMIASYNC_NO_EXTENSIONS).
DECODERS: list[type[frames.FrameDecoder]] = [frames.FrameDecoder]
if protocol.FrameDecoder is not frames.FrameDecoder:
    DECODERS.append(protocol.FrameDecoder)


def decoder_name(cls: type[frames.FrameDecoder]) -> str:
    return "python" if cls is frames.FrameDecoder else "compiled"


@pytest.fixture(params=DECODERS, ids=decoder_name)
def decoder_class(request: pytest.FixtureRequest) -> type[frames.FrameDecoder]:
    """Each decoder implementation in turn."""
    return request.param  # type: ignore[no-any-return]


async def finish(proc: asyncio.subprocess.Process, timeout: float = 30.0) -> tuple[int, str, str]:
    """Wait for a subprocess to end (killing it after ``timeout`` s); return (status, out, err)."""
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture(autouse=True)
def _restore_amiasync_logger() -> Iterator[None]:
    """Undo what an in-process CLI run does to the "amiasync" logger.

    The CLI sets the logger's level, adds a stderr handler and stops
    propagation; left in place, later tests' ``caplog`` would see nothing.
    """
    logger = logging.getLogger("amiasync")
    state = (logger.level, list(logger.handlers), logger.propagate)
    yield
    logger.setLevel(state[0])
    logger.handlers[:] = state[1]
    logger.propagate = state[2]


@pytest.fixture
async def server() -> AsyncIterator[FakeAsterisk]:
    async with FakeAsterisk(users={USER: SECRET}, call_duration=0.05) as fake:
        yield fake


@pytest.fixture
async def manager(server: FakeAsterisk) -> AsyncIterator[amiasync.Manager]:
    async with amiasync.connect(server.host, server.port, username=USER, secret=SECRET) as m:
        yield m
