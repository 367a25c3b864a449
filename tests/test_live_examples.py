"""The live-state examples, against the embedded fake Asterisk.

``examples/live_calls_api.py`` in-process (FastAPI lifespan + httpx's ASGI
transport); ``examples/live_queue_dashboard.py`` as a child process. The web
one needs the ``examples`` extra and skips without it (fails under CI's
``AMI_REQUIRE_EXAMPLES``), as in tests/test_examples.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

import amiasync
from amiasync.testing import FakeAsterisk

from .conftest import finish

REPO = Path(__file__).resolve().parents[1]
USER, SECRET = "admin", "live-examples-s3cret"
_missing = [n for n in ("fastapi", "httpx", "asgi_lifespan") if importlib.util.find_spec(n) is None]
needs_web = pytest.mark.skipif(
    bool(_missing) and not os.environ.get("AMI_REQUIRE_EXAMPLES"),
    reason=f"needs the examples extra; missing: {_missing}",
)


def load(name: str):
    spec = importlib.util.spec_from_file_location(
        f"_live_example_{name}", REPO / "examples" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_web
async def test_get_calls_is_served_from_the_live_model():
    import httpx
    from asgi_lifespan import LifespanManager

    async with FakeAsterisk(users={USER: SECRET}, call_duration=30) as server:
        app = load("live_calls_api").create_app(server.host, server.port, USER, SECRET)
        # (Not one parenthesised `async with`: the unit tests also run on Python 3.9.)
        async with contextlib.AsyncExitStack() as stack:
            lifespan = await stack.enter_async_context(LifespanManager(app))
            transport = httpx.ASGITransport(app=lifespan.app)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://app")
            )
            caller = await stack.enter_async_context(
                amiasync.connect(server.host, server.port, username=USER, secret=SECRET)
            )
            response = await client.get("/calls", params={"wait": 1})
            assert response.status_code == 200 and response.json() == {"synced": True, "calls": []}
            result = await caller.originate(
                amiasync.Action(
                    "Originate", Channel="Local/100@amitest", Application="Wait", Data="30"
                )
            )
            assert result.success
            for _ in range(200):
                calls = (await client.get("/calls")).json()["calls"]
                names = {c["name"] for call in calls for c in call["channels"]}
                if names == set(server.channels):
                    break
                await asyncio.sleep(0.02)
            assert names == set(server.channels) and names
            assert all(c["state"] == "Up" for call in calls for c in call["channels"])


async def test_queue_dashboard_prints_the_queues_then_each_change():
    async with FakeAsterisk(users={USER: SECRET}) as server:

        def queue_status(session, action):
            return [
                {"Response": "Success", "EventList": "start"},
                {"Event": "QueueParams", "Queue": "sales", "Strategy": "ringall"},
                {
                    "Event": "QueueMember",
                    "Queue": "sales",
                    "Location": "PJSIP/101",
                    "Status": "1",
                    "Paused": "0",
                    "InCall": "0",
                },
                {"Event": "QueueStatusComplete", "EventList": "Complete", "ListItems": "2"},
            ]

        server.on_action("QueueStatus", queue_status)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMI_")}
        env.update(
            AMI_HOST=server.host,
            AMI_PORT=str(server.port),
            AMI_USERNAME=USER,
            AMI_SECRET=SECRET,
            PYTHONPATH=str(REPO),
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(REPO / "examples" / "live_queue_dashboard.py"),
            "--count",
            "2",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), 30)
        assert first.decode().startswith("sales: 0 waiting; members: PJSIP/101 (Not in use)")
        member = {"Queue": "sales", "Interface": "PJSIP/101", "MemberName": "101", "Status": "1"}
        server.emit(
            {
                "Event": "QueueMemberPause",
                "Privilege": "agent,all",
                **member,
                "Paused": "1",
                "PausedReason": "lunch",
            }
        )
        server.emit(
            {
                "Event": "QueueCallerJoin",
                "Privilege": "agent,all",
                "Queue": "sales",
                "Channel": "PJSIP/200-1",
                "Uniqueid": "5.1",
                "Position": "1",
            }
        )
        status, out, err = await finish(process)
        assert status == 0, err
        assert out.splitlines() == [
            "sales: PJSIP/101 paused (lunch)",
            "sales: PJSIP/200-1 waiting at position 1",
        ]
