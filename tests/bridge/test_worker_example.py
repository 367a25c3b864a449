"""examples/worker.py against a bridge, a fake PBX and a real redis-server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from amiasync.bridge import Bridge

from ..conftest import finish
from .conftest import config

REPO = Path(__file__).resolve().parents[2]


async def test_worker_counts_hangups_and_originates_through_the_bridge(fakes, redis, redis_server):
    fake = fakes[0]
    async with Bridge({"pbx1": config(fake)}, redis_server.url, reconnect_delay=0.05):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            str(REPO / "examples" / "worker.py"),
            "--redis",
            redis_server.url,
            "--start",
            "0",
            "--count",
            "2",
            "--every",
            "2",
            "--originate",
            "Local/100@amitest",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for n in range(2):
            fake.emit(
                {"Event": "Hangup", "Channel": f"PJSIP/{n}", "Uniqueid": str(n), "Cause": "16"}
            )
        status, out, err = await finish(worker, 60)
    assert status == 0, err
    assert "pbx1 hangups=1" in out and "pbx1 hangups=2" in out
    assert "pbx1 originate ok" in out
    assert [a.get("Channel") for a in fake.received if a.get("Action") == "Originate"] == [
        "Local/100@amitest"
    ]
