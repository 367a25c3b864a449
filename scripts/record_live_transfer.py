"""Record a real attended transfer from the sandbox into tests/fixtures/.

Needs the sandbox running (scripts/asterisk-sandbox.sh up), its variables
(``eval "$(bash scripts/asterisk-sandbox.sh env)"``) and sipp. It starts the
sipp UAS, then on one raw AMI session: lists (idle), originates
Local/atxfer@live (Dial(PJSIP/uas,10,T): the caller may transfer), sends
Atxfer to extension 800 on the Local channel's ;2 half, lists during the
consultation, hangs the transferer up (which completes the transfer), lists,
hangs up what is left, lists (idle). It writes
``11-live-attended-transfer.ami`` (every byte Asterisk sent) and ``.sent``
(what the script wrote, the secret removed).

    python scripts/record_live_transfer.py [--out tests/fixtures]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from sipp_traffic import Sipp  # noqa: E402

NAME = "11-live-attended-transfer"
LINE = r"(?:[^\r\n]+\r\n)*?"  # the headers between two that a pattern names


class Session:
    """One raw AMI connection: every byte kept, patterns awaited in what came."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.received = bytearray()
        self.sent: list[str] = []
        self._grew = asyncio.Event()

    async def pump(self) -> None:
        while chunk := await self.reader.read(65536):
            self.received.extend(chunk)
            self._grew.set()

    def send(self, action_id: str, secret: str = "", **headers: str) -> int:
        """Write one action; the position in the received bytes it was sent at."""
        raw = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        raw += f"ActionID: {action_id}\r\n\r\n"
        self.writer.write(raw.encode())
        shown = raw.replace(secret, "(the sandbox secret, removed)") if secret else raw
        self.sent.append(shown.replace("\r\n", "\n"))
        return len(self.received)

    async def until(self, pattern: str, start: int = 0) -> re.Match[str]:
        compiled = re.compile(pattern)
        while True:
            match = compiled.search(self.received.decode("utf-8", "replace"), start)
            if match:
                return match
            self._grew.clear()
            try:
                await asyncio.wait_for(self._grew.wait(), 10)
            except asyncio.TimeoutError:
                raise SystemExit(f"Asterisk sent nothing matching {pattern!r}") from None

    async def lists(self, suffix: str, *names: str) -> None:
        for name in names:
            self.send(f"{name.lower()}-{suffix}", Action=name)
        await self.until(rf"ActionID: {names[-1].lower()}-{suffix}\r\nEventList: Complete")


async def record(out: Path) -> None:
    env = os.environ
    reader, writer = await asyncio.open_connection(env["AMI_HOST"], int(env["AMI_PORT"]))
    session = Session(reader, writer)
    pump = asyncio.ensure_future(session.pump())
    secret = env["AMI_SECRET"]
    session.send("login-1", secret, Action="Login", Username=env["AMI_USERNAME"], Secret=secret)
    await session.until("Event: FullyBooted")
    await session.lists("1", "BridgeList", "CoreShowChannels", "QueueStatus")

    session.send(
        "originate-1",
        Action="Originate",
        Channel="Local/atxfer@live",
        Context="live",
        Exten="wait",
        Priority="1",
        Async="true",
    )
    entered = r"Event: BridgeEnter\r\n" + LINE + r"BridgeNumChannels: 2\r\n" + LINE
    found = await session.until(entered + r"Channel: (Local/atxfer@live-[0-9a-f]+;2)\r\n")
    transferer = found.group(1)
    mark = session.send(
        "atxfer-1", Action="Atxfer", Channel=transferer, Context="live", Exten="800"
    )
    # The transferer bridged with the target: the consultation.
    await session.until(entered + "Channel: " + re.escape(transferer), mark)
    await session.lists("2", "BridgeList", "CoreShowChannels")

    session.send("hangup-1", Action="Hangup", Channel=transferer)
    await session.until("Event: AttendedTransfer")
    await session.until(r"Event: Hangup\r\n" + LINE + r"Channel: Local/atxfer@live-[0-9a-f]+;1")
    await session.lists("3", "BridgeList", "CoreShowChannels")

    session.send("hangup-2", Action="Hangup", Channel="/^(PJSIP/uas|Local/800@live)-/")
    await session.until(r"Event: Hangup\r\n" + LINE + r"Channel: Local/800@live-[0-9a-f]+;2")
    await session.until(r"Event: Hangup\r\n" + LINE + r"Channel: PJSIP/uas-")
    await session.lists("4", "BridgeList", "CoreShowChannels")
    session.send("logoff-1", Action="Logoff")
    await asyncio.wait_for(pump, 10)
    writer.close()
    (out / f"{NAME}.ami").write_bytes(bytes(session.received))
    (out / f"{NAME}.sent").write_text("".join(session.sent))
    print(f"{out / NAME}.ami: {len(session.received)} bytes")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures")
    args = parser.parse_args()
    sipp = Sipp()
    await sipp.start_uas()
    try:
        await record(args.out)
    finally:
        await sipp.stop()


if __name__ == "__main__":
    asyncio.run(main())
