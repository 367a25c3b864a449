"""The seed scenario, as ``amiasync demo`` runs it.

It mirrors pystrix's AMI example: Challenge, MD5 Login, FullyBooted handled
by a name callback and a class callback, a catch-all and an orphan handler,
and a Shutdown handler that ends the session. With no host it starts the
embedded fake Asterisk in-process, places one short call so events flow, and
asks the fake server to shut down, so the run ends by itself.
"""

from __future__ import annotations

import asyncio
from typing import Callable, TextIO

from . import core, core_events
from .connection import Manager
from .exceptions import ActionFailed
from .message import Event, Response
from .testing import FakeAsterisk

__all__ = ["run_demo"]


async def run_demo(
    host: str | None = None,
    port: int = 5038,
    username: str = "admin",
    secret: str = "secret",  # noqa: S107 - the embedded fake server's demo user
    *,
    out: TextIO | None = None,
    timeout: float = 10.0,
) -> int:
    """Run the seed scenario; return 0 on a clean stop.

    Args:
        host: A real Asterisk to talk to; None starts the embedded fake server.
        port: Its manager port.
        username: The manager user.
        secret: Its secret.
        out: Where to print (stdout by default).
        timeout: Seconds to wait for the Shutdown event against the fake server.

    Returns:
        The exit status: 0 after a clean stop.

    Raises:
        ManagerSocketError: The connection failed.
        ManagerAuthError: The login was refused.
    """
    say: Callable[[str], None] = lambda text: print(text, file=out, flush=True)  # noqa: E731
    server: FakeAsterisk | None = None
    if host is None:
        server = await FakeAsterisk(users={username: secret}, call_duration=0.1).start()
        host, port = server.host, server.port
        say(f"started the embedded fake Asterisk on {host}:{port}")

    manager = Manager()
    stopped = asyncio.Event()

    def handle_shutdown(event: Event, manager: Manager) -> None:
        say(f"Shutdown received ({event.get('Shutdown')}); stopping")
        stopped.set()

    def handle_event(event: Event, manager: Manager) -> None:
        say(f"event: {event.event_name}")

    def handle_orphan(response: Response, manager: Manager) -> None:
        say(f"orphan response: {response.get('Response')} {response.action_id}")

    def handle_booted_name(event: Event, manager: Manager) -> None:
        say("FullyBooted, by name: Asterisk is ready")

    async def handle_booted_class(event: core_events.FullyBooted, manager: Manager) -> None:
        say(f"FullyBooted, by class: status {event.status!r}")

    manager.register_callback("FullyBooted", handle_booted_name)
    manager.register_callback(core_events.FullyBooted, handle_booted_class)
    manager.register_callback("", handle_event)
    manager.register_callback(None, handle_orphan)
    manager.register_callback("Shutdown", handle_shutdown)
    try:
        banner = await manager.connect(host, port)
        say(f"connected: {banner}")
        challenge = await manager.send_action(core.Challenge())
        if not challenge.success:
            raise ActionFailed(challenge)
        login = core.Login(username, secret, challenge=challenge.result["Challenge"])
        response = await manager.send_action(login, check=True)
        say(f"logged in with MD5: {response.message}")
        pong = await manager.send_action(core.Ping())
        say(f"ping: {pong.get('Ping')}")
        if server is not None:
            await manager.send_action(
                core.Originate(
                    "Local/100@amitest",
                    application="Wait",
                    data="1",
                    async_=True,
                    caller_id='"Demo" <100>',
                )
            )
            hung_up = asyncio.Event()
            manager.register_callback("Hangup", lambda event, manager: hung_up.set())
            await asyncio.wait_for(hung_up.wait(), timeout)
            server.shutdown()
            await asyncio.wait_for(stopped.wait(), timeout)
        else:
            say("waiting for events; Ctrl-C to stop")
            await stopped.wait()
    finally:
        await manager.close()
        if server is not None:
            await server.stop()
    say("clean stop")
    return 0
