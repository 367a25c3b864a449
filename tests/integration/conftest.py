"""Integration fixtures: a real Asterisk, found through environment variables.

``scripts/asterisk-sandbox.sh up`` starts one (as root) and
``eval "$(scripts/asterisk-sandbox.sh env)"`` sets the variables. Without
them these tests skip, unless ``AMI_REQUIRE_INTEGRATION=1`` (set by CI), which
turns every such skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import amiasync

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "scripts" / "asterisk-sandbox.sh"
HOW = (
    "no real Asterisk: run `sudo bash scripts/asterisk-sandbox.sh up` and "
    '`eval "$(bash scripts/asterisk-sandbox.sh env)"` (or point AMI_HOST, AMI_PORT, '
    "AMI_USERNAME, AMI_SECRET at any Asterisk 18+)"
)


def require(condition: bool, why: str) -> None:
    """Skip, or fail when CI demands the integration suite."""
    if condition:
        return
    if os.environ.get("AMI_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"integration test could not run: {why}")
    pytest.skip(why)


class Target:
    def __init__(self) -> None:
        self.host = os.environ.get("AMI_HOST", "")
        self.port = int(os.environ.get("AMI_PORT", "5038"))
        self.username = os.environ.get("AMI_USERNAME", "")
        self.secret = os.environ.get("AMI_SECRET", "")
        self.tls_port = int(os.environ.get("AMI_TLS_PORT", "0") or 0)
        self.cafile = os.environ.get("AMI_TLS_CAFILE", "")
        self.has_sandbox = bool(os.environ.get("AMI_SANDBOX_ROOT"))

    def connect(self, **options) -> amiasync.connect:
        return amiasync.connect(
            self.host, self.port, username=self.username, secret=self.secret, **options
        )

    async def sandbox(self, *args: str) -> str:
        """Run ``scripts/asterisk-sandbox.sh ARGS`` (rx, pid, start-bg...) and return its output."""
        require(self.has_sandbox, "needs the project's sandbox (AMI_SANDBOX_ROOT) to control it")
        process = await asyncio.create_subprocess_exec(
            "bash", str(SANDBOX), *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()
        return out.decode().strip()


@pytest.fixture
def asterisk() -> Target:
    target = Target()
    require(bool(target.host and target.username), HOW)
    return target


@pytest.fixture
async def manager(asterisk: Target) -> AsyncIterator[amiasync.Manager]:
    async with asterisk.connect() as m:
        yield m
