#!/usr/bin/env python3
"""``GET /calls`` served from the live model (FastAPI + amiasync.live.LiveState).

No AMI round trip per request: the app keeps a :class:`~amiasync.live.LiveState`
(CoreShowChannels, BridgeList and QueueStatus at start and after every
reconnect, events in between) and answers from it.

``GET /calls``
    ``{"synced": true, "calls": [{"linkedid": ..., "channels": [{"uniqueid",
    "name", "state", "caller_id_num", "caller_id_name", "bridge_id",
    "application"}, ...]}, ...]}``. ``synced`` is false while the link to
    Asterisk is down or a resync runs (the data may then be stale);
    ``?wait=1`` waits (up to 5 s) for the model to be synced, else 503.

Settings come from the environment: ``AMI_HOST``, ``AMI_PORT``,
``AMI_USERNAME``, ``AMI_SECRET``. With no ``AMI_HOST`` the app starts the
embedded fake Asterisk. Run it with::

    pip install "amiasync[examples]"
    uvicorn examples.live_calls_api:app          # from the repository
    curl localhost:8000/calls
"""

import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Optional

from fastapi import FastAPI, HTTPException, Request

import amiasync
from amiasync.live import LiveState

log = logging.getLogger("live_calls_api")


def call_json(live: LiveState, linkedid: str) -> dict[str, Any]:
    """One call and its channels, oldest Uniqueid first."""
    channels = []
    for uniqueid in sorted(live.calls[linkedid].channels):
        channel = live.channels[uniqueid]
        channels.append(
            {
                "uniqueid": channel.uniqueid,
                "name": channel.name,
                "state": channel.state,
                "caller_id_num": channel.caller_id_num,
                "caller_id_name": channel.caller_id_name,
                "bridge_id": channel.bridge_id,
                "application": channel.application,
            }
        )
    return {"linkedid": linkedid, "channels": channels}


def create_app(
    host: Optional[str] = None, port: int = 5038, username: str = "admin", secret: str = "secret"
) -> FastAPI:
    """Build the app; with no ``host`` the environment (or the embedded fake) is used."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            target_host = host or os.environ.get("AMI_HOST")
            target_port = port if host else int(os.environ.get("AMI_PORT", str(port)))
            user = username if host else os.environ.get("AMI_USERNAME", username)
            password = secret if host else os.environ.get("AMI_SECRET", secret)
            if not target_host:
                from amiasync.testing import FakeAsterisk

                fake = FakeAsterisk(users={user: password}, call_duration=5.0)
                server = await stack.enter_async_context(fake)
                target_host, target_port = server.host, server.port
                log.warning("no AMI_HOST: using the embedded fake Asterisk")
            manager = await stack.enter_async_context(
                amiasync.connect(
                    target_host, target_port, username=user, secret=password, reconnect=True
                )
            )
            app.state.manager = manager
            app.state.live = await stack.enter_async_context(LiveState(manager))
            yield

    app = FastAPI(title="amiasync live calls", lifespan=lifespan)

    @app.get("/calls")
    async def calls(request: Request, wait: bool = False) -> dict[str, Any]:
        live: LiveState = request.app.state.live
        if wait:
            try:
                await live.synced(timeout=5)
            except amiasync.ActionTimeout:
                raise HTTPException(503, "not synced with Asterisk") from None
        return {
            "synced": live.is_synced,
            "calls": [call_json(live, linkedid) for linkedid in sorted(live.calls)],
        }

    return app


app = create_app()

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
