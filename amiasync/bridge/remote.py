"""Send actions to a PBX through the bridge, without an AMI connection of one's own.

:class:`RemoteManager` appends each request to ``ami:actions`` and reads the
reply from a stream of its own (``ami:replies:<random>``), so many actions
may be in flight at once, matched by their request id. Requests carry
``expires`` (now + the timeout): a bridge that only gets to a request after
that refuses it without sending, so an action that timed out here is not
run later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from .._compat import timeout as async_timeout
from ..backoff import backoff
from ..exceptions import ActionFailed, ActionTimeout, InvalidAction, ManagerSocketError
from ..message import Action, Response
from .format import (
    ACTIONS_STREAM,
    as_text,
    build_event,
    check_pairs,
    client_from_url,
    decode_pairs,
    encode_pairs,
    redis_errors,
    text_fields,
)

__all__ = ["RemoteManager", "ActionOutcomeUnknown"]

log = logging.getLogger("amiasync.bridge")

_DEFAULT: Any = object()


class ActionOutcomeUnknown(ManagerSocketError):
    """The bridge sent the action but cannot know what it did.

    The AMI link was lost or Asterisk did not answer in time, or the bridge
    died while the action was in flight. The action ran once or not at all;
    it is never sent again.
    """


class RemoteManager:
    """Send actions to one PBX through the Redis bridge.

    Args:
        redis: A ``redis://`` URL, or a ``redis.asyncio.Redis`` client (not closed here).
        server: The PBX's name in the bridge's configuration.
        action_timeout: Seconds an action may take by default.

    Use as ``async with RemoteManager(url, server="pbx1") as remote:``, or
    call :meth:`close` at the end.
    """

    def __init__(self, redis: Any, server: str, *, action_timeout: float = 10.0) -> None:
        if isinstance(redis, str):
            self.redis = client_from_url(redis)
            self._owns_client = True
        else:
            self.redis = redis
            self._owns_client = False
        self.server = server
        self.action_timeout = action_timeout
        self.reply_to = f"ami:replies:{secrets.token_hex(8)}"
        self._waiting: dict[str, asyncio.Future[dict[str, str]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._last = "0-0"
        self._closed = False

    async def send_action(
        self, action: Action, timeout: float | None = _DEFAULT, *, check: bool = False
    ) -> Response:
        """Send an action through the bridge and wait for its response.

        Args:
            action: The action (its ActionID, if it has one, is kept).
            timeout: Seconds for the answer (``action_timeout`` by default; None
                waits for ever, and the request never expires).
            check: Raise :class:`ActionFailed` when Asterisk answers with an error.

        Returns:
            The response, with ``events`` and ``complete`` for event lists.

        Raises:
            ActionTimeout: No reply in time (the bridge will not send it later).
            ActionOutcomeUnknown: The bridge sent it but cannot tell the outcome.
            ManagerSocketError: Not sent: the PBX is not connected, or the
                request expired before a bridge got to it, or this remote is closed.
            InvalidAction: The bridge refused the action as malformed; nothing was sent.
            ActionFailed: With ``check=True``, Asterisk answered an error.
        """
        if self._closed:
            raise ManagerSocketError("remote manager is closed")
        delay = self.action_timeout if timeout is _DEFAULT else timeout
        request_id = secrets.token_hex(8)
        pairs = [("Action", action.action_name), *action.headers]
        if action.action_id is not None:
            pairs.append(("ActionID", action.action_id))
        fields = {
            "server": self.server,
            "id": request_id,
            "action": encode_pairs(pairs),
            "reply_to": self.reply_to,
        }
        if delay is not None:
            fields["expires"] = f"{time.time() + delay:.6f}"
        future: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        if self._reader is None or self._reader.done():
            self._reader = asyncio.ensure_future(self._read_replies())
        try:
            async with async_timeout(delay):
                await self.redis.xadd(ACTIONS_STREAM, fields)
                reply = await future
        except asyncio.TimeoutError as exc:
            raise ActionTimeout(
                f"{action.action_name} via the bridge to {self.server}: no reply in {delay} s"
            ) from exc
        finally:
            self._waiting.pop(request_id, None)
        return _outcome(action, reply, check)

    async def _read_replies(self) -> None:
        """Hand each reply to its waiter; ends when nothing waits (restarted on demand)."""
        delays: Iterator[float] | None = None  # while Redis fails
        while self._waiting:
            try:
                reply = await self.redis.xread({self.reply_to: self._last}, block=500, count=100)
            except redis_errors() as exc:
                # The waiters' own timeouts bound this; Redis may come back first.
                log.warning("remote %s: reading replies failed (%s); retrying", self.server, exc)
                if delays is None:
                    delays = backoff(0.05, 1.0, jitter=0.0)
                await asyncio.sleep(next(delays))
                continue
            delays = None
            for _stream, entries in reply or ():
                for entry_id, raw in entries:
                    self._last = as_text(entry_id)
                    fields = text_fields(raw)
                    waiter = self._waiting.get(fields.get("id", ""))
                    if waiter is not None and not waiter.done():
                        waiter.set_result(fields)

    async def close(self) -> None:
        """Stop reading replies and delete the reply stream."""
        self._closed = True
        waiting, self._waiting = self._waiting, {}
        for waiter in waiting.values():
            if not waiter.done():
                waiter.set_exception(ManagerSocketError("remote manager closed"))
        if self._reader is not None:
            # It ends within one XREAD block (0.5 s) once nothing waits.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._reader), 5)
        with contextlib.suppress(*redis_errors()):
            await self.redis.delete(self.reply_to)
        if self._owns_client:
            await self.redis.aclose()

    async def __aenter__(self) -> RemoteManager:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _outcome(action: Action, reply: dict[str, str], check: bool) -> Response:
    status = reply.get("status")
    error = reply.get("error", "")
    what = f"{action.action_name} via the bridge"
    if status == "unknown":
        raise ActionOutcomeUnknown(f"{what}: outcome unknown: {error}")
    if "response" not in reply:
        if reply.get("reason") == "invalid":
            raise InvalidAction(f"{what}: refused: {error}")
        raise ManagerSocketError(f"{what}: not sent: {error}")
    response = Response("", decode_pairs(reply["response"]))
    response.action_name = action.action_name
    response.events = [build_event(check_pairs(p)) for p in json.loads(reply.get("events", "[]"))]
    complete = json.loads(reply.get("complete", "null"))
    response.complete = None if complete is None else build_event(check_pairs(complete))
    if check and not response.success:
        raise ActionFailed(response)
    return response
