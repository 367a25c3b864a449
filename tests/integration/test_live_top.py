"""``amiasync top`` as a person sees it: in a real terminal (tmux), real calls, a killed Asterisk.

tmux runs on its own socket (``-L``), so no other tmux session is touched;
the screen is read with ``capture-pane``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pytest

import amiasync

from .conftest import ROOT, Target, require
from .sipp_traffic import Sipp

pytestmark = pytest.mark.integration

WIDTH, HEIGHT = 140, 45


class Tmux:
    def __init__(self) -> None:
        self.socket = f"amiasync-top-{os.getpid()}"
        self.session = "top"

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self, command: str) -> None:
        self.run(
            "new-session", "-d", "-s", self.session, "-x", str(WIDTH), "-y", str(HEIGHT), command
        )

    def screen(self, escapes: bool = False) -> str:
        return self.run("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.session)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def alive(self) -> bool:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "has-session", "-t", self.session],
            capture_output=True,
            timeout=30,
        )
        return result.returncode == 0

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)

    async def wait_for(self, predicate, timeout: float = 30, what: str = "") -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            await asyncio.sleep(0.05)
        raise AssertionError(f"screen never showed {what}:\n{screen}")


@pytest.fixture
def tmux():
    require(shutil.which("tmux") is not None, "tmux is not installed (apt-get install tmux)")
    terminal = Tmux()
    try:
        yield terminal
    finally:
        terminal.kill()


def synced(screen: str) -> bool:
    return screen.startswith("SYNCED")


def top_env(asterisk: Target, **extra: str) -> dict[str, str]:
    """The environment `amiasync top` reads the sandbox's address and login from."""
    return {
        "AMI_HOST": asterisk.host,
        "AMI_PORT": str(asterisk.port),
        "AMI_USERNAME": asterisk.username,
        "AMI_SECRET": asterisk.secret,
        "PYTHONPATH": str(ROOT),
        **extra,
    }


async def test_top_in_a_terminal_with_calls_and_a_restart(asterisk: Target, tmux: Tmux):
    require(asterisk.has_sandbox, "needs the project's sandbox to kill Asterisk")
    require(Sipp().binary is not None, "sipp is not installed (apt-get install sip-tester)")
    env = top_env(asterisk, TERM="xterm-256color")
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    tmux.start(f"env {assignments} {shlex.quote(sys.executable)} -m amiasync top --interval 0.2")
    sipp = Sipp()
    await sipp.start_uas()
    try:
        await tmux.wait_for(synced, what="SYNCED")
        assert tmux.run("display", "-p", "-t", tmux.session, "#{pane_width}x#{pane_height}") == (
            f"{WIDTH}x{HEIGHT}\n"
        )
        wave = await sipp.calls("call", count=3, rate=10, hold_ms=8000)

        def three_calls_up(screen: str) -> bool:
            rows = [line for line in screen.splitlines() if line.startswith("PJSIP/")]
            return len(rows) == 6 and all(" Up " in row for row in rows)

        screen = await tmux.wait_for(three_calls_up, what="six channels Up")
        assert "6 channels  3 bridges  3 calls" in screen
        assert all(len(line) <= WIDTH for line in screen.splitlines())
        coloured = tmux.screen(escapes=True)
        assert "\x1b[32mUp" in coloured  # green, on a terminal
        tmux.keys("s")
        await tmux.wait_for(lambda s: "sort: state" in s, what="the sort change")

        # Asterisk dies: the view says so, then catches up with the new one.
        pid = int(await asterisk.sandbox("pid"))
        os.kill(pid, signal.SIGKILL)
        await tmux.wait_for(lambda s: s.startswith("NOT SYNCED"), what="NOT SYNCED")
        await asterisk.sandbox("start-bg")
        screen = await tmux.wait_for(
            lambda s: synced(s) and "0 channels" in s, timeout=60, what="SYNCED, no channels"
        )
        wave.kill()
        tmux.keys("q")
        for _ in range(100):
            if not tmux.alive():
                break
            await asyncio.sleep(0.05)
        assert not tmux.alive()  # q quits
    finally:
        await sipp.stop()


async def test_once_json_and_plain_with_real_calls_up(asterisk: Target):
    """Not on a terminal, with real calls held up: one snapshot, equal to Asterisk's lists."""
    require(Sipp().binary is not None, "sipp is not installed (apt-get install sip-tester)")
    env = {**os.environ, **top_env(asterisk, COLUMNS="120")}

    async def top(*extra: str) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "amiasync", "top", "--timeout", "30", *extra,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        return out.decode()

    sipp = Sipp()
    await sipp.start_uas()
    try:
        async with asterisk.connect() as manager:
            wave = await sipp.calls("call", count=2, rate=10, hold_ms=30_000)
            for _ in range(200):
                listed = await manager.send_action(amiasync.Action("BridgeList"), check=True)
                if [i["BridgeNumChannels"] for i in listed.events] == ["2", "2"]:
                    break
                await asyncio.sleep(0.05)
            channels = await manager.send_action(amiasync.Action("CoreShowChannels"), check=True)
            truth = {i["Uniqueid"]: (i["Channel"], i["ChannelStateDesc"]) for i in channels.events}
            assert len(truth) == 4

            data = json.loads(await top("--once", "--json"))
            assert data["synced"] is True
            assert {c["uniqueid"]: (c["name"], c["state"]) for c in data["channels"]} == truth
            assert sorted(len(b["channels"]) for b in data["bridges"]) == [2, 2]
            assert len(data["calls"]) == 2

            plain = await top("--once")  # stdout is a pipe: no colour, fits COLUMNS
            assert plain.startswith("SYNCED") and "\x1b[" not in plain
            assert "4 channels  2 bridges  2 calls" in plain
            assert all(name in plain for name, _ in truth.values())
            assert all(len(line) <= 120 for line in plain.splitlines())
            wave.kill()
            for name, _ in truth.values():
                await manager.send_action(amiasync.Action("Hangup", Channel=name))
    finally:
        await sipp.stop()
