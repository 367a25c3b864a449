"""FastAGIServer over loopback, driven by a fake Asterisk side that speaks res_agi.c's protocol."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from amiasync.agi import (
    AGI,
    AGICommandFailed,
    AGIConnectionLost,
    AGIHangup,
    AGIResult,
    AGITimeout,
    FastAGIServer,
    InvalidAGICommand,
)

ENV = {
    "agi_network": "yes",
    "agi_network_script": "ivr?lang=de&x=a%20b&empty=",
    "agi_request": "agi://127.0.0.1/ivr?lang=de&x=a%20b&empty=",
    "agi_channel": "Local/fast@agitest-00000001;2",
    "agi_uniqueid": "1.2",
    "agi_accountcode": "",
    "agi_callerid": "sip:1@h:5060",
    "agi_arg_1": "a",
    "agi_arg_2": "b:c",
    "agi_arg_10": "ten",
}


class Channel:
    """Asterisk's side of one FastAGI connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, env: dict[str, str] | None = None) -> Channel:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        channel = cls(reader, writer)
        text = "".join(f"{k}: {v}\n" for k, v in (env or ENV).items()) + "\n"
        writer.write(text.encode())
        return channel

    async def command(self) -> str:
        line = await asyncio.wait_for(self.reader.readline(), 10)
        return line.decode().removesuffix("\n")

    def say(self, *lines: str) -> None:
        self.writer.write("".join(f"{line}\n" for line in lines).encode())

    async def closed(self) -> bytes:
        """Everything until the server closes (b"" or b"FAILURE\\n")."""
        return await asyncio.wait_for(self.reader.read(), 10)


class Counter:
    """Awaitable: set once ``add()`` was called ``target`` times."""

    def __init__(self, target: int) -> None:
        self.count, self.target, self.event = 0, target, asyncio.Event()

    def add(self) -> None:
        self.count += 1
        if self.count >= self.target:
            self.event.set()

    async def reached(self) -> None:
        await asyncio.wait_for(self.event.wait(), 10)


@pytest.fixture
async def app() -> AsyncIterator[FastAGIServer]:
    server = FastAGIServer(hangup_grace=0.2, stop_grace=2)
    yield server
    await server.stop()


async def start(app: FastAGIServer) -> int:
    await app.start("127.0.0.1", 0)
    return app.port


async def test_environment_query_args_and_commands(app: FastAGIServer) -> None:
    seen: dict[str, object] = {}

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        seen.update(env=agi.env, script=agi.script, query=agi.query, args=agi.args)
        seen["answer"] = await agi.answer()
        seen["foo"] = await agi.get_variable("FOO")
        seen["unset"] = await agi.get_variable("UNSET")
        await agi.set_variable("RESULT", 'o"k')
        seen["raw"] = await agi.command("VERBOSE hello 1")
        seen["digit"] = await agi.wait_for_digit(100)

    channel = await Channel.open(await start(app))
    assert await channel.command() == "ANSWER"
    channel.say("200 result=0")
    assert await channel.command() == 'GET VARIABLE "FOO"'
    channel.say("200 result=1 (bar (baz))")
    assert await channel.command() == 'GET VARIABLE "UNSET"'
    channel.say("200 result=0")
    assert await channel.command() == 'SET VARIABLE "RESULT" "o\\"k"'
    channel.say("200 result=1")
    assert await channel.command() == "VERBOSE hello 1"
    channel.say("200 result=1")
    assert await channel.command() == 'WAIT FOR DIGIT "100"'
    channel.say("200 result=0 (timeout)")
    assert await channel.closed() == b""  # returned normally: AGISTATUS=SUCCESS
    assert seen["env"] == ENV
    assert seen["script"] == "ivr"
    assert seen["query"] == {"lang": "de", "x": "a b", "empty": ""}
    assert seen["args"] == ["a", "b:c", "ten"]
    assert seen["answer"] == AGIResult(200, "0")
    assert (seen["foo"], seen["unset"]) == ("bar (baz)", None)
    assert seen["digit"] == AGIResult(200, "0", "timeout")


async def test_glob_routes_and_exact_wins(app: FastAGIServer) -> None:
    hits: list[str] = []

    @app.route("ivr/*")
    async def any_ivr(agi: AGI) -> None:
        hits.append(f"glob:{agi.script}")

    @app.route("ivr/main")
    async def main(agi: AGI) -> None:
        hits.append("exact")

    port = await start(app)
    for script in ("ivr/main", "ivr/sales?x=1"):
        channel = await Channel.open(port, {"agi_network_script": script})
        assert await channel.closed() == b""
    assert hits == ["exact", "glob:ivr/sales"]


async def test_unknown_route_answers_failure_and_logs(app: FastAGIServer, caplog) -> None:
    caplog.set_level(logging.WARNING, "amiasync")
    channel = await Channel.open(await start(app), {"agi_network_script": "nothing/here"})
    assert await channel.closed() == b"FAILURE\n"
    assert "no route for 'nothing/here'" in caplog.text
    assert all(r.name.startswith("amiasync") for r in caplog.records)


async def test_raising_handler_is_logged_and_answers_failure(app: FastAGIServer, caplog) -> None:
    @app.route("ivr")
    async def broken(agi: AGI) -> None:
        raise RuntimeError("boom")

    channel = await Channel.open(await start(app))
    assert await channel.closed() == b"FAILURE\n"
    assert "boom" in caplog.text and "raised" in caplog.text


def test_sync_handler_refused_at_route_time() -> None:
    app = FastAGIServer()
    with pytest.raises(TypeError, match="async function"):

        @app.route("ivr")
        def sync(agi):  # type: ignore[no-untyped-def]
            pass

    with pytest.raises(TypeError):
        app.add_route("x", lambda agi: None)  # type: ignore[arg-type,return-value]


async def test_usage_error_then_a_good_command(app: FastAGIServer) -> None:
    outcome: list[object] = []

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        outcome.append(await agi.command("GET VARIABLE"))
        try:
            await agi.set_variable("X", None)  # type: ignore[arg-type]
        except AGICommandFailed as exc:
            outcome.append(exc.result.code)
        outcome.append(await agi.get_variable("X"))

    channel = await Channel.open(await start(app))
    assert await channel.command() == "GET VARIABLE"
    channel.say("520-Invalid command syntax.  Proper usage follows:", "Usage one", "520 End.")
    assert await channel.command() == 'SET VARIABLE "X"'
    channel.say("520-Invalid command syntax.  Proper usage follows:", "two", "", "520 End.")
    assert await channel.command() == 'GET VARIABLE "X"'
    channel.say("200 result=1 (fine)")
    await channel.closed()
    assert outcome[0] == AGIResult(520, data="Usage one")
    assert outcome[1:] == [520, "fine"]


async def test_hangup_fails_the_pending_command_and_every_later_one(app: FastAGIServer) -> None:
    errors: list[BaseException] = []
    done = asyncio.Event()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        try:
            await agi.wait_for_digit(30000)
        except AGIHangup as exc:
            errors.append(exc)
        try:
            await agi.answer()
        except AGIHangup as exc:
            errors.append(exc)
        assert agi.hung_up
        done.set()

    channel = await Channel.open(await start(app))
    assert await channel.command() == 'WAIT FOR DIGIT "30000"'
    # res_agi.c answers the interrupted command first, then writes HANGUP.
    channel.say("200 result=-1", "HANGUP")
    await asyncio.wait_for(done.wait(), 5)
    assert len(errors) == 2
    assert await channel.closed() == b""


async def test_hangup_while_idle_and_511(app: FastAGIServer) -> None:
    results: list[object] = []
    go = asyncio.Event()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        await go.wait()
        with pytest.raises(AGIHangup):
            await agi.command("ANSWER")
        results.append("ok")

    @app.route("dead")
    async def dead(agi: AGI) -> None:
        with pytest.raises(AGIHangup, match="511"):
            await agi.answer()
        results.append("511")

    port = await start(app)
    channel = await Channel.open(port)
    # Whether the reader sees HANGUP before or after ANSWER is written, ANSWER raises.
    channel.say("HANGUP")
    go.set()
    assert await channel.closed() == b""
    second = await Channel.open(port, {"agi_network_script": "dead"})
    assert await second.command() == "ANSWER"
    second.say("511 Command Not Permitted on a dead channel or intercept routine")
    await second.closed()
    assert results == ["ok", "511"]


async def test_minus_one_without_hangup_is_returned(app: FastAGIServer) -> None:
    got: list[AGIResult] = []

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        got.append(await agi.stream_file("no-such-file", ""))

    channel = await Channel.open(await start(app))
    assert await channel.command() == 'STREAM FILE "no-such-file" ""'
    channel.say("200 result=-1 endpos=0")
    await channel.closed()
    assert got == [AGIResult(200, "-1", "", 0)]


async def test_command_timeout_closes_the_call(app: FastAGIServer) -> None:
    app.command_timeout = 0.2
    errors: list[BaseException] = []
    done = asyncio.Event()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        try:
            await agi.answer()
        except AGITimeout as exc:
            errors.append(exc)
        try:
            await agi.answer()
        except (AGIConnectionLost, AGIHangup) as exc:
            errors.append(exc)
        done.set()

    channel = await Channel.open(await start(app))
    assert await channel.command() == "ANSWER"
    assert await channel.closed() == b""  # never answered: the server gives up and closes
    await asyncio.wait_for(done.wait(), 5)
    assert isinstance(errors[0], AGITimeout) and isinstance(errors[0], TimeoutError)
    assert isinstance(errors[1], AGIConnectionLost)


async def test_asterisk_closing_fails_the_pending_command(app: FastAGIServer) -> None:
    errors: list[BaseException] = []
    done = asyncio.Event()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        try:
            await agi.answer()
        except AGIConnectionLost as exc:
            errors.append(exc)
        done.set()

    channel = await Channel.open(await start(app))
    assert await channel.command() == "ANSWER"
    channel.writer.close()
    await asyncio.wait_for(done.wait(), 5)
    assert len(errors) == 1


async def test_invalid_command_refused_before_writing(app: FastAGIServer) -> None:
    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        with pytest.raises(InvalidAGICommand):
            await agi.set_variable("X", "a\nANSWER")
        await agi.noop()

    channel = await Channel.open(await start(app))
    assert await channel.command() == "NOOP"  # nothing of the bad command was written
    channel.say("200 result=0")
    await channel.closed()


async def test_concurrency_limit_answers_failure(caplog) -> None:
    app = FastAGIServer(max_calls=2)
    release = asyncio.Event()
    running = Counter(2)

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        running.add()
        await release.wait()

    await app.start("127.0.0.1", 0)
    try:
        first = [await Channel.open(app.port) for _ in range(2)]
        await running.reached()
        third = await Channel.open(app.port)
        assert await third.closed() == b"FAILURE\n"
        assert "max_calls" in caplog.text
        release.set()
        for channel in first:
            assert await channel.closed() == b""
    finally:
        await app.stop()


async def test_stop_lets_calls_finish_then_closes_them() -> None:
    app = FastAGIServer()
    finished: list[str] = []
    running = Counter(2)
    stopping = asyncio.Event()

    @app.route("quick")
    async def quick(agi: AGI) -> None:
        running.add()
        await stopping.wait()
        await asyncio.sleep(0)  # still running when stop() begins, done within the grace
        finished.append("quick")

    @app.route("slow")
    async def slow(agi: AGI) -> None:
        running.add()
        await asyncio.Event().wait()

    await app.start("127.0.0.1", 0)
    channels = [
        await Channel.open(app.port, {"agi_network_script": name}) for name in ("quick", "slow")
    ]
    await running.reached()
    stop = asyncio.ensure_future(app.stop(grace=1.0))
    stopping.set()
    await asyncio.wait_for(stop, 10)
    assert finished == ["quick"]
    assert app.active_calls == 0
    for channel in channels:
        assert await channel.closed() == b""
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", channels[0].writer.get_extra_info("peername")[1])


async def test_fifty_concurrent_calls(app: FastAGIServer) -> None:
    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        value = await agi.get_variable("N")
        await agi.set_variable("M", f"{value}!")

    port = await start(app)

    async def call(n: int) -> str:
        channel = await Channel.open(port)
        assert await channel.command() == 'GET VARIABLE "N"'
        channel.say(f"200 result=1 ({n})")
        line = await channel.command()
        channel.say("200 result=1")
        await channel.closed()
        return line

    lines = await asyncio.gather(*(call(n) for n in range(50)))
    assert lines == [f'SET VARIABLE "M" "{n}!"' for n in range(50)]


async def test_serve_context_manager() -> None:
    app = FastAGIServer()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        pass

    async with app.serve("127.0.0.1", 0) as running:
        channel = await Channel.open(running.port)
        assert await channel.closed() == b""
    with pytest.raises(RuntimeError):
        _ = app.port


async def test_silent_connection_is_closed_after_the_environment_timeout(caplog) -> None:
    app = FastAGIServer(environment_timeout=0.2)
    await app.start("127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
        writer.write(b"agi_network: yes\n")  # and never the empty line
        assert await asyncio.wait_for(reader.read(), 10) == b""
        assert "no AGI environment within 0.2 s" in caplog.text
        writer.close()
    finally:
        await app.stop()


async def test_a_shorter_timeout_after_a_long_one_still_applies(app: FastAGIServer) -> None:
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    @app.route("ivr")
    async def ivr(agi: AGI) -> None:
        await agi.command("NOOP", timeout=3600)
        try:
            await agi.command("NOOP", timeout=0.2)
        except AGITimeout as exc:
            outcome.set_result(exc)

    channel = await Channel.open(await start(app))
    assert await channel.command() == "NOOP"
    channel.say("200 result=0")
    assert await channel.command() == "NOOP"  # never answered
    assert isinstance(await asyncio.wait_for(outcome, 5), AGITimeout)
