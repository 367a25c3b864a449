"""``amiasync top``: the rendering (pure), and ``--once`` / ``--json`` against the fake server.

The live terminal view is tested as a person sees it, under tmux against the
real Asterisk with real calls, in tests/integration/test_live_top.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys

import pytest

from amiasync.live import LiveModel, LiveState
from amiasync.live.top import render, snapshot_json
from amiasync.message import Event

from .conftest import SECRET, USER, finish

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Frozen(LiveState):
    """A LiveState over a hand-fed model, no manager."""

    def __init__(self, model: LiveModel, synced: bool = True) -> None:
        self.model = model
        self._synced_flag = synced

    @property
    def is_synced(self) -> bool:
        return self._synced_flag


def model_with_calls(n: int) -> LiveModel:
    model = LiveModel(clock=lambda: 100.0)
    model.begin_sync()
    model.finish_sync([])
    for i in range(n):
        for leg, state in (("a", "Up"), ("b", "Ringing")):
            model.apply(
                Event.from_headers(
                    Event="Newchannel",
                    Channel=f"PJSIP/{leg}{i}-{'x' * 30}",
                    ChannelStateDesc=state,
                    Uniqueid=f"1.{i}{leg}",
                    Linkedid=f"1.{i}a",
                    CallerIDNum=f"10{i}",
                    CallerIDName="A rather long caller name " * 2,
                )
            )
        model.apply(
            Event.from_headers(
                Event="BridgeEnter", BridgeUniqueid=f"b{i}", BridgeType="basic", Uniqueid=f"1.{i}a"
            )
        )
    model.apply(
        Event.from_headers(
            Event="QueueMemberPause",
            Queue="support",
            Interface="PJSIP/agent",
            Paused="1",
            PausedReason="lunch",
            Status="1",
        )
    )
    return model


@pytest.mark.parametrize("width", [80, 120, 200])
def test_every_line_fits_the_width(width):
    lines = render(Frozen(model_with_calls(3)), width=width, colour=True)
    for line in lines:
        assert len(ANSI.sub("", line)) <= width, line
    text = "\n".join(ANSI.sub("", line) for line in lines)
    assert text.startswith("SYNCED")
    assert "PJSIP/agent" in text and "paused (lunch)" in text
    assert "Bridges" in text and "Calls" in text


def test_states_are_coloured_and_not_synced_is_loud():
    lines = render(Frozen(model_with_calls(1), synced=False), width=150, colour=True)
    assert lines[0].startswith("\x1b[1;41;97mNOT SYNCED")
    joined = "\n".join(lines)
    assert "\x1b[32mUp" in joined and "\x1b[33mRinging" in joined
    plain = render(Frozen(model_with_calls(1)), width=150, colour=False)
    assert not any(ANSI.search(line) for line in plain)


def test_sort_orders_and_height():
    live = Frozen(model_with_calls(4))
    by_state = [ANSI.sub("", line) for line in render(live, width=200, sort="state")]
    rows = [line for line in by_state if line.startswith("PJSIP/")]
    assert [r.split()[1] for r in rows] == ["Ringing"] * 4 + ["Up"] * 4
    short = render(live, width=200, height=10)
    assert len(short) == 10 and short[-1].startswith("…")


def test_json_snapshot_is_plain_data():
    data = snapshot_json(Frozen(model_with_calls(2)))
    text = json.dumps(data)
    assert json.loads(text)["bridges"][0]["channels"] == ["1.0a"]
    assert data["queues"][0]["members"]["PJSIP/agent"]["paused"] is True


async def test_once_and_json_against_the_fake_server(server):
    server.on_action(
        "CoreShowChannels",
        lambda session, action: [
            {"Response": "Success", "EventList": "start"},
            {
                "Event": "CoreShowChannel",
                "Channel": "PJSIP/101-1",
                "ChannelStateDesc": "Up",
                "Uniqueid": "9.1",
                "Linkedid": "9.1",
            },
            {"Event": "CoreShowChannelsComplete", "EventList": "Complete", "ListItems": "1"},
        ],
    )
    env = {
        **os.environ,
        "AMI_HOST": server.host,
        "AMI_PORT": str(server.port),
        "AMI_USERNAME": USER,
        "AMI_SECRET": SECRET,
        "COLUMNS": "100",
    }
    for extra in ([], ["--json"]):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "amiasync",
            "top",
            "--timeout",
            "5",
            *extra,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        status, out, err = await finish(process)
        assert status == 0, err
        if extra:
            data = json.loads(out)
            assert data["synced"] is True
            assert [c["uniqueid"] for c in data["channels"]] == ["9.1"]
        else:
            assert out.startswith("SYNCED")
            assert "PJSIP/101-1" in out and "\x1b[" not in out  # not a terminal: no colour
            assert all(len(line) <= 100 for line in out.splitlines())
