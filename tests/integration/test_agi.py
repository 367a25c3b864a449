"""amiasync.agi against a real Asterisk 22: FastAGI and AsyncAGI from the sandbox dialplan.

The sandbox (scripts/asterisk-sandbox.sh, the AGI block) has ``agitest,fast``:
``AGI(agi://127.0.0.1:${AGI_PORT}/${AGI_PATH},${AGI_ARG1},${AGI_ARG2})`` and
``agitest,async``: ``AGI(agi:async,${AGI_PATH},...)``, each followed by a
``UserEvent(AGIDone)`` carrying AGISTATUS and the AGI_RESULT variable. Each test
points the global AGI_PORT at its own server on a free port.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import amiasync
from amiasync import Action
from amiasync.agi import AGI, AGICommandFailed, AGIHangup, AsyncAGI, FastAGIServer

pytestmark = pytest.mark.integration

_tags = itertools.count(1)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastagi_ivr.py"


class Dialplan:
    """Originates Local channels into agitest and collects their AGIDone events."""

    def __init__(self, manager: amiasync.Manager) -> None:
        self.manager = manager
        self.done: dict[str, asyncio.Future[amiasync.Event]] = {}
        manager.register_callback("UserEvent", self._on_user_event)

    def _on_user_event(self, event: amiasync.Event, manager: amiasync.Manager) -> None:
        future = self.done.get(event.get("Tag") or "")
        if event.get("UserEvent") == "AGIDone" and future is not None and not future.done():
            future.set_result(event)

    async def call(self, exten: str, path: str, arg1: str = "", arg2: str = "") -> str:
        """Start a call; return its tag (AGI_TAG, also the AGIDone event's Tag)."""
        tag = f"t{next(_tags)}-{time.monotonic_ns()}"
        self.done[tag] = asyncio.get_running_loop().create_future()
        variables = [f"AGI_PATH={path}", f"AGI_ARG1={arg1}", f"AGI_ARG2={arg2}", f"AGI_TAG={tag}"]
        await self.manager.send_action(
            Action(
                "Originate",
                [
                    ("Channel", f"Local/{exten}@agitest"),
                    ("Application", "Wait"),
                    ("Data", "60"),
                    ("Async", "true"),
                    *(("Variable", v) for v in variables),
                ],
            ),
            check=True,
        )
        return tag

    async def finished(self, tag: str, timeout: float = 30) -> amiasync.Event:
        """The AGIDone event of a call: ``Status`` (AGISTATUS) and ``Result`` (AGI_RESULT)."""
        return await asyncio.wait_for(self.done[tag], timeout)


@pytest.fixture
async def dialplan(manager: amiasync.Manager) -> Dialplan:
    return Dialplan(manager)


@pytest.fixture
async def app(manager: amiasync.Manager) -> AsyncIterator[FastAGIServer]:
    server = FastAGIServer(stop_grace=5)
    await server.start("127.0.0.1", 0)
    await manager.send_action(
        Action("Setvar", Variable="AGI_PORT", Value=str(server.port)), check=True
    )
    yield server
    await server.stop()


async def getvar(manager: amiasync.Manager, channel: str, name: str) -> str | None:
    response = await manager.send_action(
        Action("Getvar", Channel=channel, Variable=name), check=True
    )
    return response.get("Value")


# -- FastAGI ----------------------------------------------------------------------


async def test_fastagi_environment_query_and_args(app, dialplan):
    seen: dict[str, object] = {}

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        seen.update(env=agi.env, script=agi.script, query=agi.query, args=agi.args)

    tag = await dialplan.call("fast", "ivr?lang=de&x=a%20b&empty=", "first arg", "b:c")
    done = await dialplan.finished(tag)
    assert done.get("Status") == "SUCCESS"
    env = seen["env"]
    assert isinstance(env, dict)
    assert env["agi_network_script"] == "ivr?lang=de&x=a%20b&empty="
    assert env["agi_channel"].startswith("Local/fast@agitest-")
    assert env["agi_context"] == "agitest" and env["agi_extension"] == "fast"
    assert env["agi_accountcode"] == ""  # empty values are kept
    assert seen["script"] == "ivr"
    assert seen["query"] == {"lang": "de", "x": "a b", "empty": ""}
    assert seen["args"] == ["first arg", "b:c"]


async def test_fastagi_get_and_set_variable_seen_by_asterisk(app, dialplan, manager):
    checked = asyncio.Event()
    values: dict[str, object] = {}
    value = 'ok: "Łukasz" \\ a,b'

    @app.route("vars")
    async def handler(agi: AGI) -> None:
        values["tag"] = await agi.get_variable("AGI_TAG")
        values["unset"] = await agi.get_variable("NO_SUCH_VARIABLE")
        await agi.set_variable("AGI_RESULT", value)
        values["channel"] = agi.channel
        values["ami"] = await getvar(manager, agi.channel, "AGI_RESULT")
        values["full"] = await agi.get_full_variable("${AGI_RESULT}")
        # The dialplan's UserEvent() would split a value with commas or quotes.
        await agi.set_variable("AGI_RESULT", "plain value")
        checked.set()

    tag = await dialplan.call("fast", "vars")
    done = await dialplan.finished(tag)
    assert checked.is_set()
    assert values["tag"] == tag
    assert values["unset"] is None
    assert values["ami"] == value  # Asterisk itself holds the value AGI set
    assert values["full"] == value
    assert done.get("Result") == "plain value" and done.get("Status") == "SUCCESS"


async def test_fastagi_hangup_mid_command_raises_within_a_second(app, dialplan, manager):
    raised: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    channel: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    later: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    def on_exec_start(event: amiasync.Event, _m: amiasync.Manager) -> None:
        if (event.get("Command") or "").startswith("WAIT FOR DIGIT") and not channel.done():
            channel.set_result(event.get("Channel") or "")

    manager.register_callback("AGIExecStart", on_exec_start)

    @app.route("hangup")
    async def handler(agi: AGI) -> None:
        try:
            await agi.wait_for_digit(30000)
        except AGIHangup:
            raised.set_result(time.monotonic())
        try:
            await agi.answer()
        except AGIHangup as exc:
            later.set_result(exc)

    await dialplan.call("fast", "hangup")
    name = await asyncio.wait_for(channel, 20)
    hung_up_at = time.monotonic()
    await manager.send_action(Action("Hangup", Channel=name), check=True)
    when = await asyncio.wait_for(raised, 10)
    assert when - hung_up_at < 1.0
    # Every later command raises too.
    assert isinstance(await asyncio.wait_for(later, 10), AGIHangup)


async def test_fastagi_usage_error_then_a_good_command(app, dialplan):
    outcome: list[object] = []

    @app.route("usage")
    async def handler(agi: AGI) -> None:
        result = await agi.command("GET VARIABLE")
        outcome.append(result)
        with pytest.raises(AGICommandFailed) as info:
            await agi.set_variable("AGI_RESULT", None)  # type: ignore[arg-type]
        outcome.append(info.value.result.code)
        outcome.append((await agi.command("NO SUCH COMMAND")).code)
        outcome.append(await agi.get_variable("AGI_TAG"))
        await agi.set_variable("AGI_RESULT", "after-520")

    tag = await dialplan.call("fast", "usage")
    done = await dialplan.finished(tag)
    usage = outcome[0]
    assert getattr(usage, "code", None) == 520
    assert "Returns <literal>0</literal>" in getattr(usage, "data", "")
    assert outcome[1:] == [520, 510, tag]
    assert done.get("Result") == "after-520" and done.get("Status") == "SUCCESS"


async def test_fastagi_unknown_route_and_raising_handler_fail_cleanly(app, dialplan, caplog):
    caplog.set_level(logging.WARNING, "amiasync")

    @app.route("broken")
    async def broken(agi: AGI) -> None:
        await agi.set_variable("AGI_RESULT", "before-the-error")
        raise RuntimeError("handler bug")

    unknown = await dialplan.call("fast", "no/such/route?x=1")
    raising = await dialplan.call("fast", "broken")
    done_unknown = await dialplan.finished(unknown)
    done_raising = await dialplan.finished(raising)
    # The dialplan went on after AGI() in both cases, with AGISTATUS=FAILURE.
    assert done_unknown.get("Status") == "FAILURE"
    assert done_raising.get("Status") == "FAILURE"
    assert done_raising.get("Result") == "before-the-error"
    assert "no route for 'no/such/route'" in caplog.text
    assert "handler bug" in caplog.text


async def test_fastagi_fifty_concurrent_calls(app, dialplan):
    running = 0
    peak = 0

    @app.route("many")
    async def handler(agi: AGI) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            tag = await agi.get_variable("AGI_TAG")
            await agi.set_variable("AGI_RESULT", f"{tag}:{agi.args[0]}")
            await agi.wait_for_digit(300)  # keeps the calls overlapping
        finally:
            running -= 1

    tags = await asyncio.gather(*(dialplan.call("fast", "many", str(n)) for n in range(50)))
    done = await asyncio.gather(*(dialplan.finished(tag, 60) for tag in tags))
    assert [d.get("Result") for d in done] == [f"{tag}:{n}" for n, tag in enumerate(tags)]
    assert all(d.get("Status") == "SUCCESS" for d in done)
    assert peak > 1


# -- AsyncAGI ---------------------------------------------------------------------


@pytest.fixture
async def async_agi(manager: amiasync.Manager) -> AsyncIterator[AsyncAGI]:
    async with AsyncAGI(manager, stop_grace=5) as app:
        yield app


async def test_async_agi_route_args_variables_and_usage(async_agi, dialplan, manager):
    seen: dict[str, object] = {}

    @async_agi.route("ivr")
    async def ivr(agi: AGI) -> None:
        seen.update(env=agi.env, script=agi.script, query=agi.query, args=agi.args)
        seen["tag"] = await agi.get_variable("AGI_TAG")
        seen["usage"] = (await agi.command("GET VARIABLE")).code
        await agi.set_variable("AGI_RESULT", "async: ok")
        seen["ami"] = await getvar(manager, agi.channel, "AGI_RESULT")

    tag = await dialplan.call("async", "ivr?lang=fr", "a", "b c")
    done = await dialplan.finished(tag)
    env = seen["env"]
    assert isinstance(env, dict) and env["agi_request"] == "async"
    assert seen["script"] == "ivr" and seen["query"] == {"lang": "fr"}
    assert seen["args"] == ["a", "b c"]
    assert seen["tag"] == tag
    assert seen["usage"] == 520
    assert seen["ami"] == "async: ok"
    # Returning ends with ASYNCAGI BREAK: the dialplan goes on.
    assert done.get("Status") == "SUCCESS" and done.get("Result") == "async: ok"


async def test_async_agi_hangup_mid_command(async_agi, dialplan, manager):
    raised: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    channel: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_exec_start(event: amiasync.Event, _m: amiasync.Manager) -> None:
        if (event.get("Command") or "").startswith("WAIT FOR DIGIT") and not channel.done():
            channel.set_result(event.get("Channel") or "")

    manager.register_callback("AGIExecStart", on_exec_start)

    @async_agi.route("hangup")
    async def handler(agi: AGI) -> None:
        try:
            await agi.wait_for_digit(30000)
        except AGIHangup:
            raised.set_result(time.monotonic())
        with pytest.raises(AGIHangup):
            await agi.answer()

    await dialplan.call("async", "hangup")
    name = await asyncio.wait_for(channel, 20)
    hung_up_at = time.monotonic()
    await manager.send_action(Action("Hangup", Channel=name), check=True)
    when = await asyncio.wait_for(raised, 10)
    assert when - hung_up_at < 1.0


async def test_async_agi_unknown_route_and_raising_handler(async_agi, dialplan, caplog):
    @async_agi.route("broken")
    async def broken(agi: AGI) -> None:
        raise RuntimeError("async handler bug")

    unknown = await dialplan.call("async", "nowhere")
    raising = await dialplan.call("async", "broken")
    for tag in (unknown, raising):
        assert (await dialplan.finished(tag)).get("Status") == "SUCCESS"
    assert "no route for 'nowhere'" in caplog.text
    assert "async handler bug" in caplog.text


async def test_example_ivr_on_real_asterisk(manager, dialplan):
    spec = importlib.util.spec_from_file_location("_fastagi_ivr_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    async with example.app.serve("127.0.0.1", 0) as app:
        await manager.send_action(
            Action("Setvar", Variable="AGI_PORT", Value=str(app.port)), check=True
        )
        tag = await dialplan.call("fast", "ivr?lang=de", "100")
        done = await dialplan.finished(tag)
    # No digit on a Local channel: WAIT FOR DIGIT times out, the operator is chosen.
    assert done.get("Status") == "SUCCESS"
    assert done.get("Result") == "operator:de:-"


async def test_async_agi_fifty_concurrent_calls(async_agi, dialplan):
    @async_agi.route("many")
    async def handler(agi: AGI) -> None:
        tag = await agi.get_variable("AGI_TAG")
        await agi.set_variable("AGI_RESULT", f"{tag}:{agi.args[0]}")

    tags = await asyncio.gather(*(dialplan.call("async", "many", str(n)) for n in range(50)))
    done = await asyncio.gather(*(dialplan.finished(tag, 60) for tag in tags))
    assert [d.get("Result") for d in done] == [f"{tag}:{n}" for n, tag in enumerate(tags)]
    assert all(d.get("Status") == "SUCCESS" for d in done)
