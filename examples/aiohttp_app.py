#!/usr/bin/env python3
"""A small web API over AMI with aiohttp: originate calls, list channels, a WebSocket feed.

One :class:`amiasync.Manager` is owned by the application through
``cleanup_ctx``: connected (and logged in) at start-up, shared by every
request, logged off at cleanup. The routes:

``POST /calls``
    JSON body ``{"channel": "PJSIP/101", "exten": "200", "context": "default"}``
    (or ``"application"``/``"data"``), with optional ``callerid``,
    ``variables`` and ``timeout``; answers with the tracked outcome
    ``{"success": ..., "uniqueid": ..., "channel": ..., "reason": ...}``.
``GET /channels``
    The active channels (CoreShowChannels items) as a JSON list.
``GET /ws?name=Newchannel&name=Hangup``
    A WebSocket: first ``{"type": "subscribed"}``, then one
    ``{"type": "event", "name": ..., "headers": {...}}`` message per AMI event
    (all events without ``name``; globs such as ``Queue*`` work).

Settings come from the environment (``AMI_HOST``, ``AMI_PORT``,
``AMI_USERNAME``, ``AMI_SECRET``, ``AMI_TLS=1``, ``AMI_TLS_CAFILE``); with no
``AMI_HOST`` the app starts the embedded fake Asterisk. Run it with::

    pip install "amiasync[examples]"
    python examples/aiohttp_app.py                 # on 127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Union

from aiohttp import WSMsgType, web

import amiasync
from amiasync.actions import CoreShowChannels, Originate
from amiasync.stream import EventStream

log = logging.getLogger("aiohttp_app")

MANAGER = web.AppKey("manager", amiasync.Manager)
SOCKETS = web.AppKey("sockets", weakref.WeakSet)


@dataclass(frozen=True)
class Settings:
    """Where the app's manager connects; ``host=None`` means the embedded fake Asterisk."""

    host: str | None = None
    port: int = 5038
    username: str = "admin"
    secret: str = "secret"
    tls: bool = False
    cafile: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            host=os.environ.get("AMI_HOST") or None,
            port=int(os.environ.get("AMI_PORT", "5038")),
            username=os.environ.get("AMI_USERNAME", "admin"),
            secret=os.environ.get("AMI_SECRET", "secret"),
            tls=os.environ.get("AMI_TLS", "").lower() in ("1", "yes", "true"),
            cafile=os.environ.get("AMI_TLS_CAFILE") or None,
        )


def headers(message: amiasync.Message) -> dict[str, Union[str, list[str]]]:
    """A message's headers as a JSON object; repeated headers become lists; no ActionID."""
    return {k: v for k, v in message.to_dict().items() if k.lower() != "actionid"}


def create_app(settings: Settings | None = None) -> web.Application:
    """Build the app; ``settings`` default to the environment, read at start-up."""
    app = web.Application()
    app[SOCKETS] = weakref.WeakSet()

    async def ami(app: web.Application) -> AsyncIterator[None]:
        config = settings or Settings.from_env()
        async with contextlib.AsyncExitStack() as stack:
            host, port = config.host, config.port
            if host is None:
                from amiasync.testing import FakeAsterisk

                fake = FakeAsterisk(users={config.username: config.secret}, call_duration=2.0)
                server = await stack.enter_async_context(fake)
                host, port = server.host, server.port
                log.warning("no AMI_HOST: using the embedded fake Asterisk on %s:%s", host, port)
            context = ssl.create_default_context(cafile=config.cafile) if config.tls else None
            app[MANAGER] = await stack.enter_async_context(
                amiasync.connect(
                    host,
                    port,
                    username=config.username,
                    secret=config.secret,
                    ssl=context,
                    reconnect=True,
                )
            )
            yield

    async def close_sockets(app: web.Application) -> None:
        # Open WebSockets would hold the shutdown up: close them first.
        for socket in list(app[SOCKETS]):
            await socket.close(code=1001, message=b"server shutdown")

    app.cleanup_ctx.append(ami)
    app.on_shutdown.append(close_sockets)
    app.router.add_post("/calls", originate)
    app.router.add_get("/channels", channels)
    app.router.add_get("/ws", feed)
    return app


REASONS = {0: "failed", 1: "hung up", 3: "no answer", 4: "answered", 5: "busy", 8: "congestion"}


async def originate(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="expected a JSON body") from None
    if not isinstance(body, dict) or not isinstance(body.get("channel"), str):
        raise web.HTTPUnprocessableEntity(text="'channel' is required")
    if bool(body.get("exten") and body.get("context")) == bool(body.get("application")):
        raise web.HTTPUnprocessableEntity(text="give either exten and context, or application")
    timeout = float(body.get("timeout", 30))
    try:
        action = Originate(
            body["channel"],
            exten=body.get("exten"),
            context=body.get("context"),
            priority=body.get("priority", 1) if body.get("exten") else None,
            application=body.get("application"),
            data=body.get("data"),
            callerid=body.get("callerid"),
            variable=body.get("variables") or None,
            timeout=int(timeout * 1000),
        )
        result = await request.app[MANAGER].originate(action, timeout=timeout + 10)
    except amiasync.InvalidAction as exc:  # CR/LF in a value: refused before sending
        raise web.HTTPUnprocessableEntity(text=str(exc)) from exc
    except amiasync.ActionTimeout as exc:
        raise web.HTTPGatewayTimeout(text=str(exc)) from exc
    except amiasync.ManagerSocketError as exc:
        raise web.HTTPServiceUnavailable(text=f"Asterisk is not connected: {exc}") from exc
    except amiasync.ActionFailed as exc:
        raise web.HTTPBadGateway(text=f"Asterisk refused the call: {exc.response.message}") from exc
    return web.json_response(
        {
            "success": result.success,
            "uniqueid": result.uniqueid,
            "channel": result.channel,
            "reason": result.reason,
            "reason_text": REASONS.get(result.reason, "unknown")
            if result.reason is not None
            else "unknown",
        }
    )


async def channels(request: web.Request) -> web.Response:
    try:
        response = await request.app[MANAGER].send_action(CoreShowChannels(), check=True)
    except amiasync.AMIError as exc:
        raise web.HTTPServiceUnavailable(text=str(exc)) from exc
    return web.json_response([headers(item) for item in response.events])


async def feed(request: web.Request) -> web.WebSocketResponse:
    """Forward AMI events to a WebSocket until either side closes."""
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    request.app[SOCKETS].add(socket)
    names = request.query.getall("name", [])
    manager = request.app[MANAGER]

    async def forward(stream: EventStream) -> None:
        async for event in stream:
            await socket.send_json(
                {"type": "event", "name": event.event_name, "headers": headers(event)}
            )

    async with manager.events(*names, maxsize=1000) as stream:
        await socket.send_json({"type": "subscribed", "names": names})
        forwarding = asyncio.ensure_future(forward(stream))
        try:
            # Read what the client sends (nothing is expected) until it closes.
            async for message in socket:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            forwarding.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await forwarding
    return socket


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    web.run_app(create_app(), host="127.0.0.1", port=8080)
