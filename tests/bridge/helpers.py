"""Subprocesses for the fault tests: a bridge or a consumer that a test can kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from amiasync._compat import timeout as async_timeout

from ..conftest import SECRET, USER


class Child:
    """A Python subprocess that prints a ready line on stdout before it starts working."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, *args: str, ready: str, env: dict[str, str] | None = None) -> Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "AMI_USERNAME": USER, "AMI_SECRET": SECRET, **(env or {})},
        )
        child = cls(process)
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if ready not in line.decode():
            err = await child.stop()
            raise AssertionError(f"no {ready!r} from {args}: {line!r} {err}")
        return child

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> str:
        """Stop the child (if still running); return its stderr."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
        try:
            _out, err = await asyncio.wait_for(self.process.communicate(), timeout)
        except asyncio.TimeoutError:
            self.process.kill()
            _out, err = await self.process.communicate()
        return err.decode()


async def bridge_process(redis_url: str, *pbx: str, extra: tuple[str, ...] = ()) -> Child:
    args = ["-m", "amiasync", "bridge", "--redis", redis_url, "--status-interval", "0"]
    for item in pbx:
        args += ["--pbx", item]
    return await Child.start(*args, *extra, ready="bridge ready")


async def eventually(check, seconds: float = 20.0, every: float = 0.05) -> None:
    """Wait until ``await check()`` is true: for state in another process (Redis), which
    sends no notification to await; bounded by ``seconds``."""
    async with async_timeout(seconds):
        while not await check():  # noqa: ASYNC110 - the state lives in redis-server
            await asyncio.sleep(every)
