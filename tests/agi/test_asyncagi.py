"""AsyncAGI over a real Manager connected to the embedded fake Asterisk (loopback)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from urllib.parse import quote

import pytest

import amiasync
from amiasync.agi import AGI, AGIConnectionLost, AGIHangup, AGIResult, AsyncAGI
from amiasync.message import Message
from amiasync.testing import FakeAsterisk, FakeSession

from ..conftest import SECRET, USER


def env_header(channel: str, *args: str) -> str:
    lines = [
        "agi_request: async",
        f"agi_channel: {channel}",
        "agi_accountcode: ",
        "agi_callerid: sip:100@example.org:5060",
        *(f"agi_arg_{n}: {a}" for n, a in enumerate(args, 1)),
    ]
    return quote("\n".join(lines) + "\n\n", safe="")


class FakeAsyncAGI:
    """The AsyncAGI side of the fake Asterisk: answers AGI actions with AsyncAGIExec."""

    def __init__(self, fake: FakeAsterisk) -> None:
        self.fake = fake
        self.commands: list[tuple[str, str]] = []
        self.answers: dict[str, Callable[[str], str | None]] = {}
        fake.on_action("AGI", self._on_agi)

    def start(self, channel: str, *args: str) -> None:
        self.fake.emit(
            {
                "Event": "AsyncAGIStart",
                "Privilege": "agi,all",
                "Channel": channel,
                "Env": env_header(channel, *args),
            }
        )

    def end(self, channel: str) -> None:
        self.fake.emit({"Event": "AsyncAGIEnd", "Privilege": "agi,all", "Channel": channel})

    def exec(self, channel: str, command_id: str, answer: str) -> None:
        self.fake.emit(
            {
                "Event": "AsyncAGIExec",
                "Privilege": "agi,all",
                "Channel": channel,
                "Result": quote(answer + "\n", safe=""),
                "CommandId": command_id,  # Asterisk 22's spelling
            }
        )

    def _on_agi(self, session: FakeSession, action: Message) -> object:
        channel, command = action.get("Channel") or "", action.get("Command") or ""
        self.commands.append((channel, command))
        answer = self.answers.get(channel, default_answer)(command)
        if answer is not None:
            asyncio.get_running_loop().call_soon(
                self.exec, channel, action.get("CommandID") or "", answer
            )
        return {"Response": "Success", "Message": "Added AGI command to queue"}


def default_answer(command: str) -> str | None:
    if command == "ASYNCAGI BREAK":
        return "200 result=0"
    if command == 'GET VARIABLE "FOO"':
        return "200 result=1 (bar: baz)"
    if command == "GET VARIABLE":
        return "520-Invalid command syntax.\nUsage.\n520 End of proper usage."
    return "200 result=1"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAsterisk]:
    async with FakeAsterisk(users={USER: SECRET}) as server:
        yield server


@pytest.fixture
async def manager(fake: FakeAsterisk) -> AsyncIterator[amiasync.Manager]:
    async with amiasync.connect(fake.host, fake.port, username=USER, secret=SECRET) as m:
        yield m


@pytest.fixture
async def app(manager: amiasync.Manager) -> AsyncIterator[AsyncAGI]:
    async with AsyncAGI(manager, hangup_grace=0.2, stop_grace=2) as agi_app:
        yield agi_app


async def test_route_env_args_commands_and_break(app, fake) -> None:
    side = FakeAsyncAGI(fake)
    done: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        seen: dict[str, object] = dict(env=agi.env, script=agi.script, query=agi.query)
        seen["args"] = agi.args
        seen["foo"] = await agi.get_variable("FOO")
        seen["usage"] = await agi.command("GET VARIABLE")
        await agi.set_variable("X", "y z")
        done.set_result(seen)

    side.start("PJSIP/1-01", "ivr?lang=de", "a", "b:c")
    seen = await asyncio.wait_for(done, 5)
    await app.stop()
    env = seen["env"]
    assert isinstance(env, dict)
    assert env["agi_accountcode"] == "" and env["agi_callerid"] == "sip:100@example.org:5060"
    assert (seen["script"], seen["query"], seen["args"]) == ("ivr", {"lang": "de"}, ["a", "b:c"])
    assert seen["foo"] == "bar: baz"
    assert seen["usage"] == AGIResult(520, data="Usage.")
    assert [c for _, c in side.commands] == [
        'GET VARIABLE "FOO"',
        "GET VARIABLE",
        'SET VARIABLE "X" "y z"',
        "ASYNCAGI BREAK",  # returning leaves AGISTATUS=SUCCESS
    ]


async def test_unknown_route_breaks_and_logs(app, fake, caplog) -> None:
    caplog.set_level(logging.WARNING, "amiasync")
    side = FakeAsyncAGI(fake)
    side.start("PJSIP/2-01", "nowhere")
    await asyncio.wait_for(fake.wait_for_action("AGI"), 5)
    assert side.commands == [("PJSIP/2-01", "ASYNCAGI BREAK")]
    assert "no route for 'nowhere'" in caplog.text


async def test_async_end_fails_the_pending_command_and_later_ones(app, fake) -> None:
    side = FakeAsyncAGI(fake)
    side.answers["PJSIP/3-01"] = lambda command: None  # the command "runs" until hangup
    outcome: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        errors = []
        try:
            await agi.wait_for_digit(30000)
        except AGIHangup:
            errors.append("pending")
        try:
            await agi.answer()
        except AGIHangup:
            errors.append("later")
        outcome.set_result(errors)

    side.start("PJSIP/3-01", "ivr")
    await asyncio.wait_for(fake.wait_for_action("AGI"), 5)
    # Asterisk answers the interrupted command (-1), then ends AsyncAGI.
    side.exec("PJSIP/3-01", "x", "200 result=-1")
    side.end("PJSIP/3-01")
    assert await asyncio.wait_for(outcome, 5) == ["pending", "later"]


async def test_commands_are_matched_by_command_id(app, fake) -> None:
    side = FakeAsyncAGI(fake)
    held: list[tuple[str, str]] = []
    for channel in ("PJSIP/a-01", "PJSIP/b-01"):
        side.answers[channel] = lambda command: None
    original = side._on_agi

    def hold(session: FakeSession, action: Message) -> object:
        held.append((action.get("Channel") or "", action.get("CommandID") or ""))
        return original(session, action)

    fake.on_action("AGI", hold)
    results: dict[str, str | None] = {}
    both = asyncio.Event()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        results[agi.channel] = await agi.get_variable("WHO")
        if len(results) == 2:
            both.set()

    side.start("PJSIP/a-01", "ivr")
    side.start("PJSIP/b-01", "ivr")
    while len(held) < 2:
        await fake.wait_for_action("AGI")
    # Answer in the opposite order, each by its CommandID.
    (chan_a, id_a), (chan_b, id_b) = sorted(held)
    side.exec(chan_b, id_b, "200 result=1 (b)")
    side.exec(chan_a, id_a, "200 result=1 (a)")
    side.exec(chan_a, "someone-elses-id", "200 result=1 (not mine)")
    await asyncio.wait_for(both.wait(), 5)
    assert results == {"PJSIP/a-01": "a", "PJSIP/b-01": "b"}


async def test_refused_agi_action_is_a_hangup(app, fake) -> None:
    fake.on_action(
        "AGI",
        lambda session, action: {
            "Response": "Error",
            "Message": f"Channel {action.get('Channel')} does not exist.",
        },
    )
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        try:
            await agi.answer()
        except AGIHangup as exc:
            outcome.set_result(exc)

    fake.emit(
        {"Event": "AsyncAGIStart", "Channel": "PJSIP/4-01", "Env": env_header("PJSIP/4-01", "ivr")}
    )
    assert "does not exist" in str(await asyncio.wait_for(outcome, 5))


async def test_lost_ami_link_fails_the_pending_command(app, fake) -> None:
    side = FakeAsyncAGI(fake)
    side.answers["PJSIP/5-01"] = lambda command: None
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        try:
            await agi.answer()
        except (AGIConnectionLost, AGIHangup) as exc:
            outcome.set_result(exc)

    side.start("PJSIP/5-01", "ivr")
    await asyncio.wait_for(fake.wait_for_action("AGI"), 5)
    fake.drop_connections()
    assert isinstance(await asyncio.wait_for(outcome, 5), AGIConnectionLost)


async def test_stop_cancels_a_stuck_call_and_hands_the_channel_back(manager, fake) -> None:
    side = FakeAsyncAGI(fake)
    app = AsyncAGI(manager, stop_grace=0.1)
    started = asyncio.Event()

    @app.route("stuck")
    async def stuck(agi: AGI) -> None:
        started.set()
        await asyncio.Event().wait()

    app.start()
    side.start("PJSIP/6-01", "stuck")
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(app.stop(), 5)
    assert app.active_calls == 0
    action = await asyncio.wait_for(fake.wait_for_action("AGI"), 5)
    assert (action.get("Channel"), action.get("Command")) == ("PJSIP/6-01", "ASYNCAGI BREAK")
