"""``amiasync agi-serve module:app`` and examples/fastagi_ivr.py, as a child process on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from ..conftest import finish
from .test_fastagi import Channel

REPO = Path(__file__).resolve().parents[2]


async def spawn(*args: str) -> tuple[asyncio.subprocess.Process, int]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    assert line.startswith("listening on 127.0.0.1:"), line
    return proc, int(line.rsplit(":", 1)[1])


async def drive_ivr(port: int, digit: str) -> list[str]:
    """Play the caller: ACCOUNT is 42, the digit is pressed at once."""
    env = {"agi_network_script": "ivr?lang=de", "agi_arg_1": "100", "agi_callerid": "100"}
    channel = await Channel.open(port, env)
    sent = []
    for answer in ("200 result=0", "200 result=1 (42)", f"200 result={ord(digit)}"):
        sent.append(await channel.command())
        channel.say(answer)
    for _ in range(3):  # two SET VARIABLE and VERBOSE
        sent.append(await channel.command())
        channel.say("200 result=1")
    assert await channel.closed() == b""
    return sent


@pytest.mark.parametrize(
    "argv",
    [
        ("-m", "amiasync", "agi-serve", "examples.fastagi_ivr:app", "--port", "0"),
        ("examples/fastagi_ivr.py",),
    ],
    ids=["agi-serve", "script"],
)
async def test_ivr_served_from_the_cli_and_as_a_script(argv: tuple[str, ...]) -> None:
    if argv[0].endswith(".py"):
        os.environ["AGI_PORT"] = "0"
    try:
        proc, port = await spawn(*argv)
    finally:
        os.environ.pop("AGI_PORT", None)
    try:
        sent = await drive_ivr(port, "2")
    finally:
        proc.send_signal(signal.SIGINT if argv[0].endswith(".py") else signal.SIGTERM)
    status, _, err = await finish(proc)
    assert status == 0, err
    assert sent == [
        "ANSWER",
        'GET VARIABLE "ACCOUNT"',
        'WAIT FOR DIGIT "3000"',
        'SET VARIABLE "IVR_CHOICE" "support"',
        'SET VARIABLE "AGI_RESULT" "support:de:42"',
        'VERBOSE "IVR: 100 chose support" "1"',
    ]


async def test_agi_serve_refuses_what_is_not_an_app() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "amiasync",
        "agi-serve",
        "amiasync.agi:Router",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    status, _, err = await finish(proc)
    assert status == 1 and "is not a FastAGIServer" in err
