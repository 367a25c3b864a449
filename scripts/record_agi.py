"""Record real FastAGI and AsyncAGI exchanges from the sandbox into tests/fixtures/.

Needs the sandbox running (scripts/asterisk-sandbox.sh up) and its variables
(``eval "$(bash scripts/asterisk-sandbox.sh env)"``). For each scenario it
listens on a free port, points the global ``AGI_PORT`` at it, originates a
Local channel into ``agitest,fast`` and writes two files: ``agi-NN-name.agi``
(every byte Asterisk sent) and ``agi-NN-name.sent`` (every byte the script
wrote). The AsyncAGI scenario writes the raw AMI session as ``.ami`` and
``.sent``.

    python scripts/record_agi.py [--out tests/fixtures]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import amiasync
from amiasync import Action

ROOT = Path(__file__).resolve().parent.parent

Script = Callable[
    [asyncio.StreamReader, asyncio.StreamWriter, amiasync.Manager, list[bytes]], Awaitable[None]
]


async def read_env(reader: asyncio.StreamReader, got: list[bytes]) -> dict[str, str]:
    env = {}
    while True:
        line = await reader.readline()
        got.append(line)
        if line in (b"\n", b""):
            return env
        key, _, value = line.decode().rstrip("\n").partition(": ")
        env[key] = value


async def ask(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, got: list[bytes], line: str
) -> bytes:
    writer.write(line.encode() + b"\n")
    await writer.drain()
    answer = await reader.readline()
    got.append(answer)
    if answer.startswith(b"520-"):
        while not answer.startswith(b"520 "):
            answer = await reader.readline()
            got.append(answer)
    return answer


async def basic(reader, writer, manager, got) -> None:
    await read_env(reader, got)
    for line in (
        "ANSWER",
        'SET VARIABLE "AGI_RESULT" "ok: \\"quoted\\" and \\\\ and spaces"',
        "GET VARIABLE AGI_RESULT",
        "GET VARIABLE NO_SUCH_VARIABLE",
        'GET FULL VARIABLE "${CHANNEL(language)}"',
        "WAIT FOR DIGIT 10",
        'STREAM FILE no-such-file ""',
        "GET DATA no-such-file 10 2",
        "NO SUCH COMMAND",
        "GET VARIABLE",
        "SET VARIABLE",
        'VERBOSE "Łukasz hello" 1',
        'SET VARIABLE "UTF" "Łukasz Żółć"',
        "GET VARIABLE UTF",
        "CHANNEL STATUS",
    ):
        await ask(reader, writer, got, line)


async def hangup(reader, writer, manager, got) -> None:
    env = await read_env(reader, got)
    writer.write(b"WAIT FOR DIGIT 30000\n")
    await writer.drain()
    await asyncio.sleep(0.3)
    await manager.send_action(Action("Hangup", Channel=env["agi_channel"]))
    # Everything until Asterisk closes (the result, HANGUP, then 511s).
    got.append(await reader.readline())
    got.append(await reader.readline())
    for line in ("ANSWER", "GET VARIABLE AGI_TAG"):
        await ask(reader, writer, got, line)


async def failure(reader, writer, manager, got) -> None:
    await read_env(reader, got)
    writer.write(b"FAILURE\n")
    await writer.drain()


SCENARIOS: dict[str, tuple[Script, str]] = {
    "01-commands": (basic, "ivr?lang=de&x=a%20b&empty="),
    "02-hangup": (hangup, "hangup"),
    "03-failure": (failure, "nothing/here"),
}


async def record_one(
    manager: amiasync.Manager, name: str, script: Script, path: str, out: Path
) -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    finished: asyncio.Future[amiasync.Event] = loop.create_future()
    got: list[bytes] = []
    sent: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        write = writer.write

        def spy(data: bytes) -> None:
            sent.append(data)
            write(data)

        writer.write = spy  # type: ignore[method-assign]
        try:
            await script(reader, writer, manager, got)
            writer.close()
        finally:
            if not done.done():
                done.set_result(None)

    def on_user_event(event: amiasync.Event, _manager: amiasync.Manager) -> None:
        if event.get("UserEvent") == "AGIDone" and not finished.done():
            finished.set_result(event)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    setvar = Action("Setvar", Variable="AGI_PORT", Value=str(port))
    await manager.send_action(setvar, check=True)
    manager.register_callback("UserEvent", on_user_event)
    variables = [f"AGI_PATH={path}", "AGI_ARG1=first arg", "AGI_ARG2=b:c", f"AGI_TAG={name}"]
    originate = Action(
        "Originate",
        [
            ("Channel", "Local/fast@agitest"),
            ("Application", "Wait"),
            ("Data", "30"),
            ("Async", "true"),
            *(("Variable", v) for v in variables),
            ("CallerID", '"Łukasz Żółć" <100>'),
        ],
    )
    await manager.send_action(originate, check=True)
    await asyncio.wait_for(done, 30)
    try:
        status = await asyncio.wait_for(finished, 5)
        print(name, "AGISTATUS", status.get("Status"))
    except asyncio.TimeoutError:
        print(name, "no AGIDone (hung up)")
    manager.unregister_callback("UserEvent", on_user_event)
    server.close()
    await server.wait_closed()
    (out / f"agi-{name}.agi").write_bytes(b"".join(got))
    (out / f"agi-{name}.sent").write_bytes(b"".join(sent))


async def record_async(out: Path, name: str = "04-async") -> None:
    """AsyncAGI on a raw AMI socket: the AsyncAGIStart/Exec/End events as Asterisk writes them."""
    env = os.environ
    reader, writer = await asyncio.open_connection(env["AMI_HOST"], int(env["AMI_PORT"]))
    got = bytearray()
    sent = bytearray()

    def send(text: str) -> None:
        data = text.replace("\n", "\r\n").encode() + b"\r\n"
        sent.extend(data)
        writer.write(data)

    def agi(channel: str, n: int, command: str) -> None:
        head = f"Action: AGI\nActionID: a{n}\nChannel: {channel}\n"
        send(f"{head}Command: {command}\nCommandID: c{n}\n")

    send(f"Action: Login\nUsername: {env['AMI_USERNAME']}\nSecret: {env['AMI_SECRET']}\n")
    send("Action: Events\nEventMask: call,user,agi\n")
    send(
        "Action: Originate\nActionID: o1\nChannel: Local/async@agitest\nApplication: Wait\n"
        "Data: 30\nAsync: true\nVariable: AGI_PATH=ivr\nVariable: AGI_ARG1=a\n"
        "Variable: AGI_ARG2=b c\nVariable: AGI_TAG=async1\n"
    )
    buffer = b""
    channel = ""
    while True:
        data = await asyncio.wait_for(reader.read(65536), 20)
        if not data:
            break
        got.extend(data)
        buffer += data
        while b"\r\n\r\n" in buffer:
            frame, buffer = buffer.split(b"\r\n\r\n", 1)
            text = frame.decode()
            if "Event: AsyncAGIStart" in text:
                channel = text.split("\r\nChannel: ", 1)[1].split("\r\n", 1)[0]
                agi(channel, 1, "GET VARIABLE AGI_TAG")
                agi(channel, 2, 'SET VARIABLE AGI_RESULT "x y"')
                agi(channel, 3, "GET VARIABLE")
                agi(channel, 4, "NO SUCH")
                agi(channel, 5, "ASYNCAGI BREAK")
            if "UserEvent: AGIDone" in text:
                agi(channel, 6, "ANSWER")  # after the end: Asterisk refuses it
                send("Action: Logoff\nActionID: l\n")
    writer.close()
    (out / f"agi-{name}.ami").write_bytes(bytes(got))
    (out / f"agi-{name}.sent").write_bytes(bytes(sent))
    print(name, "recorded")


async def record(out: Path) -> None:
    env = os.environ
    async with amiasync.connect(
        env["AMI_HOST"],
        int(env["AMI_PORT"]),
        username=env["AMI_USERNAME"],
        secret=env["AMI_SECRET"],
    ) as manager:
        for name, (script, path) in SCENARIOS.items():
            await record_one(manager, name, script, path, out)
    await record_async(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures")
    asyncio.run(record(parser.parse_args().out))


if __name__ == "__main__":
    main()
