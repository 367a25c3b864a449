#!/usr/bin/env python3
"""A small web API over AMI with FastAPI: originate calls, list channels, stream events.

One :class:`amiasync.Manager` is owned by the application's lifespan: it
connects (and logs in) at start-up, is shared by every request, and logs off
at shutdown. The routes:

``POST /calls``
    JSON body ``{"channel": "PJSIP/101", "exten": "200", "context": "default"}``
    (or ``"application"``/``"data"`` instead of exten/context), with optional
    ``callerid``, ``variables`` (an object) and ``timeout`` (seconds of
    ringing). Originates the call and answers once Asterisk reports the
    outcome: ``{"success": true, "uniqueid": ..., "channel": ..., "reason": 4,
    "reason_text": "answered"}``.
``GET /channels``
    The active channels (CoreShowChannels items) as a JSON list.
``GET /events?name=Newchannel&name=Hangup``
    Server-Sent Events: one ``event: <Name>`` / ``data: <JSON headers>`` per
    AMI event (all events without ``name``; globs such as ``Queue*`` work).

Settings come from the environment: ``AMI_HOST``, ``AMI_PORT``,
``AMI_USERNAME``, ``AMI_SECRET``, ``AMI_TLS=1`` (with ``AMI_TLS_CAFILE``).
With no ``AMI_HOST`` the app starts the embedded fake Asterisk, to try it
without a PBX. Run it with::

    pip install "amiasync[examples]"
    uvicorn examples.fastapi_app:app --timeout-graceful-shutdown 2   # from the repository
    python examples/fastapi_app.py              # the same, on 127.0.0.1:8000

(An open event stream keeps its connection busy, and uvicorn waits for busy
connections before it shuts down: ``--timeout-graceful-shutdown`` bounds that.)

    curl -N localhost:8000/events &
    curl -X POST localhost:8000/calls -H 'content-type: application/json' \\
        -d '{"channel": "Local/100@amitest", "application": "Wait", "data": "1"}'
"""

import json
import logging
import os
import ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Optional, Union

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, model_validator

import amiasync
from amiasync.actions import CoreShowChannels, Originate

log = logging.getLogger("fastapi_app")

#: Asterisk's ``Reason`` codes in OriginateResponse.
REASONS = {0: "failed", 1: "hung up", 3: "no answer", 4: "answered", 5: "busy", 8: "congestion"}


@dataclass(frozen=True)
class Settings:
    """Where the app's manager connects; ``host=None`` means the embedded fake Asterisk."""

    host: Optional[str] = None
    port: int = 5038
    username: str = "admin"
    secret: str = "secret"
    tls: bool = False
    cafile: Optional[str] = None

    @classmethod
    def from_env(cls) -> "Settings":
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


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """Build the app; ``settings`` default to the environment, read at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config = settings or Settings.from_env()
        async with AsyncExitStack() as stack:
            host, port = config.host, config.port
            if host is None:
                from amiasync.testing import FakeAsterisk

                fake = FakeAsterisk(users={config.username: config.secret}, call_duration=2.0)
                server = await stack.enter_async_context(fake)
                host, port = server.host, server.port
                log.warning("no AMI_HOST: using the embedded fake Asterisk on %s:%s", host, port)
            context = ssl.create_default_context(cafile=config.cafile) if config.tls else None
            # Closing the manager logs off and ends every open event stream.
            app.state.manager = await stack.enter_async_context(
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

    app = FastAPI(title="amiasync FastAPI example", lifespan=lifespan)
    app.include_router(router)
    return app


class CallRequest(BaseModel):
    """What ``POST /calls`` takes."""

    channel: str = Field(description="the channel to call first, e.g. PJSIP/101")
    exten: Optional[str] = Field(None, description="then this extension...")
    context: Optional[str] = Field(None, description="...in this context")
    priority: int = 1
    application: Optional[str] = Field(None, description="or this application")
    data: Optional[str] = Field(None, description="with these arguments")
    callerid: Optional[str] = None
    variables: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(30.0, gt=0, le=600, description="seconds to ring the channel")

    @model_validator(mode="after")
    def _one_destination(self) -> "CallRequest":
        if bool(self.exten and self.context) == bool(self.application):
            raise ValueError("give either exten and context, or application")
        return self


class CallResult(BaseModel):
    """What ``POST /calls`` answers."""

    success: bool
    uniqueid: Optional[str]
    channel: Optional[str]
    reason: Optional[int]
    reason_text: str


router = APIRouter()


def manager_of(request: Request) -> amiasync.Manager:
    """The app's manager (set by the lifespan)."""
    manager: amiasync.Manager = request.app.state.manager
    return manager


@router.post("/calls", response_model=CallResult)
async def originate(call: CallRequest, request: Request) -> CallResult:
    manager = manager_of(request)
    try:
        action = Originate(
            call.channel,
            exten=call.exten,
            context=call.context,
            priority=call.priority if call.exten else None,
            application=call.application,
            data=call.data,
            callerid=call.callerid,
            variable=call.variables or None,
            timeout=int(call.timeout * 1000),
        )
        result = await manager.originate(action, timeout=call.timeout + 10)
    except amiasync.InvalidAction as exc:  # CR/LF in a value: refused before sending
        raise HTTPException(422, str(exc)) from exc
    except amiasync.ActionTimeout as exc:
        raise HTTPException(504, str(exc)) from exc
    except amiasync.ManagerSocketError as exc:
        raise HTTPException(503, f"Asterisk is not connected: {exc}") from exc
    except amiasync.ActionFailed as exc:
        raise HTTPException(502, f"Asterisk refused the call: {exc.response.message}") from exc
    reason = result.reason
    return CallResult(
        success=result.success,
        uniqueid=result.uniqueid,
        channel=result.channel,
        reason=reason,
        reason_text=REASONS.get(reason, "unknown") if reason is not None else "unknown",
    )


@router.get("/channels")
async def channels(request: Request) -> list[dict[str, Union[str, list[str]]]]:
    try:
        response = await manager_of(request).send_action(CoreShowChannels(), check=True)
    except amiasync.AMIError as exc:
        raise HTTPException(503, str(exc)) from exc
    return [headers(item) for item in response.events]


@router.get("/events")
async def events(
    request: Request,
    name: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies it
) -> StreamingResponse:
    manager = manager_of(request)

    async def stream() -> AsyncIterator[str]:
        # Subscribed before the first byte goes out: a client that has read
        # the opening comment misses nothing after it.
        async with manager.events(*name, maxsize=1000) as subscription:
            yield "retry: 3000\n: subscribed\n\n"
            async for event in subscription:
                data = json.dumps(headers(event), ensure_ascii=False)
                yield f"event: {event.event_name}\ndata: {data}\n\n"
        # The stream ends when the client goes away (Starlette cancels this
        # generator) or when the manager is closed at shutdown.

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


app = create_app()

if __name__ == "__main__":
    import uvicorn

    # An open event stream keeps a connection busy: give up on it after 2 s at shutdown.
    uvicorn.run(app, host="127.0.0.1", port=8000, timeout_graceful_shutdown=2)
