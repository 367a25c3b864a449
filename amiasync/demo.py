"""A guided tour of the library, as ``amiasync demo`` runs it.

Each step prints one line saying what it shows, then what came back, with the
headers Asterisk sent. In order: :func:`amiasync.connect` (banner, Challenge,
MD5 login), callbacks by name, by class, ``""`` for every event and ``None``
for orphan responses, a plain action, a tracked :meth:`~amiasync.Manager.originate`
and its outcome, an event list (``CoreShowChannels``) while the call is up,
:meth:`~amiasync.Manager.events` until the call has hung up, an orphan
response, and a clean shutdown.

With no host it starts the embedded fake Asterisk in-process (on a free port),
which also lets it show an orphan response and a ``Shutdown`` event. Against a
real Asterisk it places one call to ``channel`` (``Local/100@amitest``, the
sandbox's test extension, by default), then logs off; the PBX is left running.

The demo uses only the public API, and reads headers by their Asterisk names
(``event["CallerIDNum"]``), which never change.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterable
from typing import Callable, TextIO

from . import core, events
from .connection import Manager, connect
from .exceptions import ActionTimeout
from .message import Action, Event, Message, Response
from .testing import FakeAsterisk, FakeSession

__all__ = ["run_demo", "DEMO_CHANNEL"]

#: The channel the demo calls: the fake server's and the sandbox's test extension.
DEMO_CHANNEL = "Local/100@amitest"


def _headers(message: Message, names: Iterable[str]) -> str:
    """``Key: value`` for each header present, on one line."""
    return ", ".join(f"{name}: {message[name]}" for name in names if name in message)


async def run_demo(
    host: str | None = None,
    port: int = 5038,
    username: str = "admin",
    secret: str = "secret",  # noqa: S107 - the embedded fake server's demo user
    *,
    out: TextIO | None = None,
    timeout: float = 10.0,
    channel: str = DEMO_CHANNEL,
) -> int:
    """Run the tour; return 0 on a clean stop.

    Args:
        host: A real Asterisk to talk to; None starts the embedded fake server.
        port: Its manager port.
        username: The manager user.
        secret: Its secret.
        out: Where to print (stdout by default).
        timeout: Seconds allowed for each step.
        channel: The channel to originate a call to.

    Returns:
        The exit status: 0 after a clean stop.

    Raises:
        ManagerSocketError: The connection failed.
        ManagerAuthError: The login was refused.
        ActionTimeout: A step took longer than ``timeout``.
    """

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    def step(number: int, text: str) -> None:
        say(f"\n{number}. {text}")

    server: FakeAsterisk | None = None
    if host is None:
        server = await FakeAsterisk(users={username: secret}, call_duration=0.5).start()
        host, port = server.host, server.port
        say(f"started the embedded fake Asterisk on {host}:{port} (no PBX is touched)")
    try:
        step(1, "amiasync.connect(): open the socket, read the banner, Challenge + MD5 Login.")
        async with connect(host, port, username=username, secret=secret) as manager:
            say(f"   connected to {host}:{port}: {manager.banner}, logged in as {username}")
            await _tour(manager, server, channel, timeout, say, step)
        say("\nclean stop")
    finally:
        if server is not None:
            await server.stop()
    return 0


async def _tour(
    manager: Manager,
    server: FakeAsterisk | None,
    channel: str,
    timeout: float,
    say: Callable[[str], None],
    step: Callable[[int, str], None],
) -> None:
    step(2, "register_callback(): by name, by class, '' for every event, None for orphans.")
    counted: dict[str, int] = {}
    channels: set[str] = set()  # the call's channels, from Newchannel until Hangup
    shutdown = asyncio.Event()
    orphaned = asyncio.Event()

    def on_hangup(event: Event, manager: Manager) -> None:
        say(f"   [by name 'Hangup'] {_headers(event, ('Channel', 'Cause', 'Cause-txt'))}")

    def on_newchannel(event: events.Newchannel, manager: Manager) -> None:
        channels.add(event["Channel"])
        names = ("Channel", "CallerIDNum", "CallerIDName")
        say(f"   [by class events.Newchannel] {_headers(event, names)}")

    def on_every_event(event: Event, manager: Manager) -> None:
        counted[event.event_name] = counted.get(event.event_name, 0) + 1
        if event.event_name == "Shutdown":
            shutdown.set()

    async def on_orphan(response: Response, manager: Manager) -> None:
        # A coroutine function works as well as a plain one.
        say(f"   [None: orphan response] {_headers(response, ('Response', 'ActionID', 'Message'))}")
        orphaned.set()

    manager.register_callback("Hangup", on_hangup)
    manager.register_callback(events.Newchannel, on_newchannel)
    manager.register_callback("", on_every_event)
    manager.register_callback(None, on_orphan)
    say("   four callbacks registered; they run as messages arrive, in registration order")

    step(3, "send_action(core.Ping()): one future per ActionID; the Response has the headers.")
    pong = await manager.send_action(core.Ping())
    say(f"   {_headers(pong, ('Response', 'Ping', 'Timestamp', 'ActionID'))}")

    # Opened before the call, so none of its events is missed.
    async with manager.events("Newstate", "Hangup") as stream:
        step(4, f"originate(): call {channel}, wait for the OriginateResponse of that ActionID.")
        # The typed form is core.Originate(...); any action can also be built
        # from its Asterisk header names, as here.
        call = Action(
            "Originate",
            Channel=channel,
            Application="Wait",
            Data="1",
            CallerID='"amiasync demo" <100>',
        )
        result = await manager.originate(call, timeout=timeout)
        outcome = "placed" if result.success else f"failed, reason {result.reason}"
        say(f"   {outcome}: Channel {result.channel}, Uniqueid {result.uniqueid}")

        step(5, "An event list: CoreShowChannels resolves once CoreShowChannelsComplete comes.")
        listing = await manager.send_action(core.CoreShowChannels(), timeout=timeout)
        say(f"   {len(listing.events)} channel(s) up:")
        columns = ("Channel", "ChannelStateDesc", "Application", "Duration")
        for item in listing.events:
            say(f"   - {_headers(item, columns)}")
        complete = listing.complete
        if complete is not None:
            say(f"   ended by {complete.event_name}, {_headers(complete, ('ListItems',))}")

        step(
            6, "manager.events('Newstate', 'Hangup'): an async iterator; here until the call ends."
        )

        async def until_hung_up() -> None:
            async for event in stream:
                say(f"   {event.event_name}: {_headers(event, ('Channel', 'ChannelStateDesc'))}")
                if event.event_name == "Hangup":
                    channels.discard(event["Channel"])
                    if not channels:
                        return

        if result.success:
            await asyncio.wait_for(until_hung_up(), timeout)

    step(7, "An orphan: a response that comes after its action timed out goes to None.")
    if server is not None:

        async def answer_late(session: FakeSession, action: Message) -> dict[str, str]:
            await asyncio.sleep(0.3)
            return {"Response": "Success", "Message": "late, but here"}

        server.on_action("DemoSlow", answer_late)
        try:
            await manager.send_action(Action("DemoSlow"), timeout=0.1)
        except ActionTimeout as exc:
            say(f"   ActionTimeout: {exc}")
        await asyncio.wait_for(orphaned.wait(), timeout)
    else:
        say("   (shown against the embedded fake Asterisk only)")

    step(8, "The '' callback saw these events, by name:")
    seen = ", ".join(f"{name} x{count}" for name, count in sorted(counted.items()))
    say(textwrap.fill(seen, 88, initial_indent="   ", subsequent_indent="   "))

    if server is not None:
        step(9, "Shutdown: Asterisk sends Event: Shutdown, then closes every session.")
        server.shutdown()
        await asyncio.wait_for(shutdown.wait(), timeout)
        await manager.wait_closed()
        say("   Shutdown received; the link closed as expected (no warning)")
    else:
        step(9, "Leaving 'async with connect(...)': Logoff, then close the socket.")
