"""Every example in ``examples/``, run against the embedded fake Asterisk.

The scripts run as child processes (asyncio subprocesses, so the fake server
in this event loop keeps serving), pointed at the fake server through
``AMI_*`` variables, or with no ``AMI_HOST`` to use their own embedded one.
The web apps run in-process: FastAPI through its lifespan (asgi-lifespan)
and httpx's ASGI transport, plus a real uvicorn on loopback for the
Server-Sent Events stream (the ASGI transport buffers whole responses);
aiohttp through its test server and client.

The web examples need the ``examples`` extra (FastAPI, uvicorn, aiohttp,
httpx, asgi-lifespan). Without it their tests skip, unless
``AMI_REQUIRE_EXAMPLES`` is set (CI), in which case they fail.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from amiasync.testing import FakeAsterisk

from .conftest import finish

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
USER, SECRET = "admin", "examples-s3cret"
TIMEOUT = 30.0

WEB_PACKAGES = ("fastapi", "uvicorn", "aiohttp", "httpx", "asgi_lifespan")
_missing = [name for name in WEB_PACKAGES if importlib.util.find_spec(name) is None]
needs_web = pytest.mark.skipif(
    bool(_missing) and not os.environ.get("AMI_REQUIRE_EXAMPLES"),
    reason=f"needs the examples extra (pip install 'amiasync[examples]'); missing: {_missing}",
)


def load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` under a private module name."""
    module_name = f"_amiasync_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def script_env(server: FakeAsterisk | None = None, **extra: str) -> dict[str, str]:
    """The environment less AMI_* (CI exports the real sandbox's), then the fake server's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMI_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if server is not None:
        env.update(
            AMI_HOST=server.host, AMI_PORT=str(server.port), AMI_USERNAME=USER, AMI_SECRET=SECRET
        )
    env.update(extra)
    return env


async def start_script(
    name: str, args: Sequence[str], env: dict[str, str]
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / f"{name}.py"),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=str(REPO),
    )


async def run_script(name: str, args: Sequence[str], env: dict[str, str]) -> tuple[int, str, str]:
    return await finish(await start_script(name, args, env))


async def read_line_until(stream: asyncio.StreamReader | None, needle: str) -> list[str]:
    assert stream is not None
    seen: list[str] = []
    while True:
        line = (await asyncio.wait_for(stream.readline(), TIMEOUT)).decode()
        if not line:
            pytest.fail(f"output ended before {needle!r}: {''.join(seen)!r}")
        seen.append(line)
        if needle in line:
            return seen


@pytest.fixture
async def server() -> AsyncIterator[FakeAsterisk]:
    async with FakeAsterisk(users={USER: SECRET}, call_duration=0.05) as fake:
        yield fake


@pytest.fixture
async def long_calls() -> AsyncIterator[FakeAsterisk]:
    """Calls that stay up long enough to be listed."""
    async with FakeAsterisk(users={USER: SECRET}, call_duration=30) as fake:
        yield fake


# -- ami_core.py: the seed, ported ----------------------------------------------


async def test_ami_core_runs_by_itself_against_the_embedded_fake_server():
    status, out, err = await run_script("ami_core", [], script_env())
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("No AMI_HOST: using the embedded fake Asterisk")
    # By name first, then by class, then the catch-all, in registration order.
    booted = lines.index("Received string event: FullyBooted")
    assert lines[booted + 1] == "Received class event: FullyBooted (Fully Booted)"
    assert lines[booted + 2] == "Received event: FullyBooted"
    assert "Received event: Shutdown" in lines
    assert lines[-1] == "Stopped"


async def test_ami_core_uses_challenge_and_md5_login(server):
    proc = await start_script("ami_core", [], script_env(server))
    await read_line_until(proc.stdout, "Received string event: FullyBooted")
    login = await server.wait_for_action("Login")
    assert login.get("AuthType") == "MD5" and login.get("Key") and login.get("Secret") is None
    assert server.received[0].get("Action") == "Challenge"
    server.shutdown()
    status, out, err = await finish(proc)
    assert status == 0, err
    assert "Received event: Shutdown" in out


async def test_ami_core_refused_login_exits_1(server):
    status, _, err = await run_script("ami_core", [], script_env(server, AMI_SECRET="wrong"))
    assert status == 1
    assert "Unable to authenticate to Asterisk server" in err


# -- click_to_call.py ------------------------------------------------------------


async def test_click_to_call_reports_the_tracked_result(server):
    status, out, err = await run_script(
        "click_to_call",
        ["Local/101@amitest", "0612345678", "--context", "amitest", "--follow"],
        script_env(server),
    )
    assert status == 0, err
    assert "Local/101@amitest: answered on Local/101@amitest-" in out
    assert "Call ended: Normal Clearing (cause 16)" in out
    originate = await server.wait_for_action("Originate")
    assert originate.get("Channel") == "Local/101@amitest"
    assert originate.get("Exten") == "0612345678"
    assert originate.get("Context") == "amitest"
    assert originate.get("Async") == "true"
    assert originate.get("Variable") == "CLICK_TO_CALL=0612345678"
    assert originate.get("CallerID") == '"Call to 0612345678" <0612345678>'


async def test_click_to_call_failure_exits_1(server):
    status, out, _ = await run_script(
        "click_to_call", ["Local/fail@amitest", "123", "--context", "x"], script_env(server)
    )
    assert status == 1
    assert "not connected: failed" in out and "(reason 0)" in out


async def test_click_to_call_without_a_pbx():
    status, out, err = await run_script("click_to_call", [], script_env())
    assert status == 0, err
    assert "answered" in out


async def test_click_to_call_functions_in_process(server):
    import amiasync

    example = load("click_to_call")
    async with amiasync.connect(
        server.host, server.port, username=USER, secret=SECRET, events=["call"]
    ) as manager:
        result = await example.click_to_call(manager, "Local/100@amitest", "42", context="c")
    assert result.success and result.reason == 4
    assert example.describe(result).startswith("answered on Local/100@amitest-")


# -- queue_monitor.py --------------------------------------------------------------


def _list(complete: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An event list the way Asterisk writes it: start response, items, Complete event."""
    return [
        {"Response": "Success", "EventList": "start", "Message": "Queue status will follow"},
        *items,
        {"Event": complete, "EventList": "Complete", "ListItems": str(len(items))},
    ]


def script_queues(server: FakeAsterisk) -> None:
    summary = {
        "Event": "QueueSummary",
        "Queue": "sales",
        "LoggedIn": "1",
        "Available": "0",
        "Callers": "1",
        "HoldTime": "7",
        "TalkTime": "60",
        "LongestHoldTime": "15",
    }
    status = [
        {"Event": "QueueParams", "Queue": "sales", "Strategy": "rrmemory", "Calls": "1"},
        {
            "Event": "QueueMember",
            "Queue": "sales",
            "Name": "Carol",
            "Location": "PJSIP/201",
            "StateInterface": "PJSIP/201",
            "Membership": "dynamic",
            "Penalty": "0",
            "CallsTaken": "12",
            "LastCall": "0",
            "InCall": "1",
            "Status": "2",
            "Paused": "0",
            "PausedReason": "",
        },
        {
            "Event": "QueueEntry",
            "Queue": "sales",
            "Position": "1",
            "Channel": "PJSIP/trunk-00000001",
            "Uniqueid": "1700000000.1",
            "CallerIDNum": "0698765432",
            "CallerIDName": "Dave",
            "Wait": "15",
        },
    ]
    server.on_action(
        "QueueSummary", lambda session, action: _list("QueueSummaryComplete", [summary])
    )
    server.on_action("QueueStatus", lambda session, action: _list("QueueStatusComplete", status))


def queue_events() -> list[dict[str, str]]:
    base = {"Privilege": "agent,all", "Queue": "sales", "CallerIDNum": "0611111111"}
    return [
        {"Event": "QueueCallerJoin", **base, "Position": "2", "Count": "2"},
        {"Event": "Newchannel", "Privilege": "call,all", "Channel": "PJSIP/x"},  # not shown
        {"Event": "QueueCallerJoin", **base, "Queue": "other", "Position": "1", "Count": "1"},
        {"Event": "AgentCalled", **base, "MemberName": "Carol", "Interface": "PJSIP/201"},
        {"Event": "AgentConnect", **base, "MemberName": "Carol", "HoldTime": "9"},
        {"Event": "QueueCallerLeave", **base, "Position": "2", "Count": "1"},
        {
            "Event": "AgentComplete",
            **base,
            "MemberName": "Carol",
            "TalkTime": "33",
            "Reason": "agent",
        },
    ]


async def test_queue_monitor_snapshot_then_events(server):
    script_queues(server)
    proc = await start_script("queue_monitor", ["sales", "--count", "5"], script_env(server))
    before = await read_line_until(proc.stdout, "Watching queue events")
    assert [line.rstrip("\n") for line in before] == [
        "sales: 1 waiting, 1 agents logged in, 0 available; hold 7 s, talk 60 s, longest wait 15 s",
        "  agent Carol (PJSIP/201): in use, 12 calls taken",
        "  caller 1: 0698765432 on PJSIP/trunk-00000001, waiting 15 s",
        "Watching queue events; Ctrl-C to stop.",
    ]
    for event in queue_events():
        server.emit(event)
    status, out, err = await finish(proc)
    assert status == 0, err
    assert out.splitlines() == [
        "sales: 0611111111 joined at position 2 (2 waiting)",
        "sales: ringing Carol for 0611111111",
        "sales: Carol answered 0611111111 after 9 s on hold",
        "sales: 0611111111 left the queue (1 waiting)",
        "sales: Carol finished with 0611111111: talked 33 s (agent hung up)",
    ]
    summary = await server.wait_for_action("QueueSummary")
    assert summary.get("Queue") == "sales"


async def test_queue_monitor_once(server):
    script_queues(server)
    status, out, err = await run_script("queue_monitor", ["--once"], script_env(server))
    assert status == 0, err
    assert out.startswith("sales: 1 waiting")
    assert "Watching" not in out
    assert (await server.wait_for_action("QueueStatus")).get("Queue") is None


async def test_queue_monitor_without_a_pbx():
    status, out, err = await run_script("queue_monitor", [], script_env())
    assert status == 0, err
    assert "agent Alice (PJSIP/101): not in use, 7 calls taken" in out
    assert out.rstrip().endswith("talked 42 s (caller hung up)")


async def test_queue_monitor_failing_action_exits_1(server):
    # The fake server does not know QueueSummary unless scripted.
    status, _, err = await run_script("queue_monitor", ["--once"], script_env(server))
    assert status == 1
    assert "QueueSummary failed" in err


# -- fastapi_app.py --------------------------------------------------------------


def fastapi_settings(server: FakeAsterisk) -> Any:
    example = load("fastapi_app")
    return example, example.Settings(
        host=server.host, port=server.port, username=USER, secret=SECRET
    )


@needs_web
async def test_fastapi_originate_and_channels(long_calls):
    import httpx
    from asgi_lifespan import LifespanManager

    example, settings = fastapi_settings(long_calls)
    app = example.create_app(settings)
    async with (
        LifespanManager(app) as lifespan,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=lifespan.app), base_url="http://app"
        ) as client,
    ):
        response = await client.post(
            "/calls",
            json={
                "channel": "Local/100@amitest",
                "application": "Wait",
                "data": "10",
                "callerid": '"Web" <200>',
                "variables": {"SOURCE": "web", "TICKET": "42"},
            },
        )
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["success"] is True
        assert result["reason"] == 4 and result["reason_text"] == "answered"
        assert result["channel"].startswith("Local/100@amitest-")
        assert result["uniqueid"]
        sent = await long_calls.wait_for_action("Originate")
        assert sent.get("Async") == "true"
        assert sent.get_all("Variable") == ["SOURCE=web", "TICKET=42"]
        assert sent.get("CallerID") == '"Web" <200>'

        response = await client.get("/channels")
        assert response.status_code == 200
        channels = response.json()
        assert len(channels) == 2
        assert {c["Channel"] for c in channels} == set(long_calls.channels)
        assert all(c["Event"] == "CoreShowChannel" and "ActionID" not in c for c in channels)
    assert app.state.manager.is_connected() is False  # closed by the lifespan


@needs_web
async def test_fastapi_call_failures_and_validation(server):
    import httpx
    from asgi_lifespan import LifespanManager

    example, settings = fastapi_settings(server)
    app = example.create_app(settings)
    async with (
        LifespanManager(app) as lifespan,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=lifespan.app), base_url="http://app"
        ) as client,
    ):
        failed = await client.post(
            "/calls", json={"channel": "Local/fail@amitest", "exten": "1", "context": "c"}
        )
        assert failed.status_code == 200
        assert failed.json()["success"] is False
        assert failed.json()["reason_text"] == "failed"

        neither = await client.post("/calls", json={"channel": "Local/100@amitest"})
        assert neither.status_code == 422

        injected = await client.post(
            "/calls",
            json={"channel": "Local/100@amitest\r\nAction: Hangup", "application": "Wait"},
        )
        assert injected.status_code == 422
        assert "refused before sending" in injected.json()["detail"]

        refused = await client.post("/calls", json={"channel": "", "application": "Wait"})
        assert refused.status_code == 502
        assert "Channel not specified" in refused.json()["detail"]


@needs_web
async def test_fastapi_server_sent_events_over_uvicorn(server):
    import httpx
    import uvicorn

    example, settings = fastapi_settings(server)
    app = example.create_app(settings)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    web = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    serving = asyncio.ensure_future(web.serve(sockets=[listener]))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            async with client.stream(
                "GET", "/events", params={"name": ["Newchannel", "hang*"]}
            ) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                lines = response.aiter_lines()
                while await asyncio.wait_for(lines.__anext__(), TIMEOUT) != ": subscribed":
                    pass
                call = await client.post(
                    "/calls",
                    json={"channel": "Local/100@amitest", "application": "Wait", "data": "1"},
                )
                assert call.json()["success"] is True
                received = []
                name = None
                while len(received) < 4:
                    line = await asyncio.wait_for(lines.__anext__(), TIMEOUT)
                    if line.startswith("event: "):
                        name = line[len("event: ") :]
                    elif line.startswith("data: "):
                        received.append((name, json.loads(line[len("data: ") :])))
        assert [n for n, _ in received] == ["Newchannel", "Newchannel", "Hangup", "Hangup"]
        assert all(data["Event"] == n for n, data in received)
        assert received[0][1]["Channel"].startswith("Local/100@amitest-")
    finally:
        web.should_exit = True
        await asyncio.wait_for(serving, TIMEOUT)
        listener.close()


# -- aiohttp_app.py --------------------------------------------------------------


@needs_web
async def test_aiohttp_originate_channels_and_websocket(long_calls):
    from aiohttp.test_utils import TestClient, TestServer

    example = load("aiohttp_app")
    settings = example.Settings(
        host=long_calls.host, port=long_calls.port, username=USER, secret=SECRET
    )
    async with TestClient(TestServer(example.create_app(settings))) as client:
        socket_ = await client.ws_connect("/ws?name=Newchannel&name=OriginateResponse")
        hello = await asyncio.wait_for(socket_.receive_json(), TIMEOUT)
        assert hello == {"type": "subscribed", "names": ["Newchannel", "OriginateResponse"]}

        response = await client.post(
            "/calls",
            json={"channel": "Local/100@amitest", "exten": "100", "context": "amitest"},
        )
        assert response.status == 200, await response.text()
        result = await response.json()
        assert result["success"] is True and result["reason"] == 4

        names = []
        while len(names) < 3:
            message = await asyncio.wait_for(socket_.receive_json(), TIMEOUT)
            assert message["type"] == "event"
            assert message["headers"]["Event"] == message["name"]
            names.append(message["name"])
        assert names == ["Newchannel", "Newchannel", "OriginateResponse"]
        await socket_.close()

        response = await client.get("/channels")
        assert response.status == 200
        assert {c["Channel"] for c in await response.json()} == set(long_calls.channels)

        bad = await client.post("/calls", json={"channel": "Local/1@x"})
        assert bad.status == 422
        failed = await client.post(
            "/calls", json={"channel": "Local/fail@x", "application": "Wait"}
        )
        assert (await failed.json())["success"] is False


@needs_web
async def test_aiohttp_shutdown_closes_open_websockets(server):
    from aiohttp import WSMsgType
    from aiohttp.test_utils import TestClient, TestServer

    example = load("aiohttp_app")
    settings = example.Settings(host=server.host, port=server.port, username=USER, secret=SECRET)
    client = TestClient(TestServer(example.create_app(settings)))
    await client.start_server()
    try:
        socket_ = await client.ws_connect("/ws")
        assert (await socket_.receive_json())["type"] == "subscribed"
    finally:
        await asyncio.wait_for(client.close(), TIMEOUT)
    message = await asyncio.wait_for(socket_.receive(), TIMEOUT)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
