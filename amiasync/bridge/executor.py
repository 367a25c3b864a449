"""Actions through the bridge: requests from ``ami:actions``, sent at most once.

Each PBX the bridge serves has a consumer group on ``ami:actions``
(``bridge:<name>``); a request for another PBX is acknowledged and left
alone. For each request of its own the executor:

1. refuses it without sending when it is malformed (``error``, reason
   ``invalid``), past its ``expires`` (``expired``), or when the PBX is not
   connected within ``connect_wait`` seconds (``not_connected``);
2. *takes* it (:data:`~amiasync.bridge.scripts.TAKE_ACTION`): one atomic
   step acknowledges the entry and records it in the in-flight hash with
   this bridge's id. XACK succeeds for exactly one caller, so however many
   bridges were delivered or claimed the entry, one sends it;
3. sends it, and replies and forgets the record in one atomic step
   (:data:`~amiasync.bridge.scripts.FINISH_ACTION`): ``ok`` or ``error``
   with Asterisk's response, or ``unknown`` when the AMI link was lost or
   Asterisk did not answer in time (the action may have run).

A bridge that dies between 2 and 3 leaves the record behind; its liveness
key (refreshed every ``heartbeat`` / 3 seconds) expires, and any bridge's
recovery pass then answers ``unknown`` for it: never sent again. A bridge
that dies before 2 leaves the entry pending in its group; after
``claim_idle`` seconds a recovery pass claims it (XAUTOCLAIM) and handles it
as new, since it was never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Mapping
from typing import Any, Union

from ..backoff import backoff
from ..connection import Manager
from ..exceptions import ActionTimeout, InvalidAction, ManagerSocketError
from ..message import Action, Response
from .format import ACTIONS_STREAM, as_text, decode_pairs, encode_pairs, redis_errors, text_fields
from .scripts import ABANDON_ACTION, FINISH_ACTION, TAKE_ACTION

__all__ = ["ActionExecutor", "INFLIGHT_KEY", "ALIVE_PREFIX", "group_name", "new_bridge_id"]

log = logging.getLogger("amiasync.bridge")

#: A reply's fields: text, or JSON (bytes) from :func:`~amiasync.bridge.format.encode_pairs`.
_Fields = dict[str, Union[str, bytes]]

#: The hash of taken actions whose reply is not written yet.
INFLIGHT_KEY = "ami:actions:inflight"
#: ``ami:bridge:alive:<bridge id>`` exists while that bridge runs.
ALIVE_PREFIX = "ami:bridge:alive:"


def group_name(server: str) -> str:
    """Return the consumer group on ``ami:actions`` of the bridges serving a PBX."""
    return f"bridge:{server}"


def new_bridge_id() -> str:
    """Return an id for one bridge process: host, pid and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class ActionExecutor:
    """Run the action requests of some PBXs, each at most once.

    Args:
        redis: A ``redis.asyncio.Redis`` client.
        managers: PBX name to its :class:`Manager` (a :class:`ManagerPool` works).
        bridge_id: This bridge's id (the consumer name in every group).
        action_timeout: Seconds an action may take when the request has no ``expires``.
        connect_wait: Seconds to wait for a PBX that is not connected.
        heartbeat: Seconds after which a silent bridge counts as dead.
        claim_idle: Seconds after which a request delivered but never taken is claimed.
        reply_ttl: Seconds a reply stream lives after its last reply.
        max_in_flight: The most actions sent and not answered at once.

    Attributes:
        executed: Actions sent. refused: Requests answered without sending.
        unknown: Replies ``unknown`` written (by this bridge, for itself or others).
    """

    def __init__(
        self,
        redis: Any,
        managers: Mapping[str, Manager],
        *,
        bridge_id: str | None = None,
        action_timeout: float = 10.0,
        connect_wait: float = 5.0,
        heartbeat: float = 10.0,
        claim_idle: float = 30.0,
        reply_ttl: int = 300,
        max_in_flight: int = 100,
    ) -> None:
        self.redis = redis
        self.managers = managers
        self.bridge_id = bridge_id or new_bridge_id()
        self.action_timeout = action_timeout
        self.connect_wait = connect_wait
        self.heartbeat = heartbeat
        self.claim_idle = claim_idle
        self.reply_ttl = reply_ttl
        self.executed = 0
        self.refused = 0
        self.unknown = 0
        self._slots = asyncio.Semaphore(max_in_flight)
        self._take = redis.register_script(TAKE_ACTION)
        self._finish = redis.register_script(FINISH_ACTION)
        self._abandon = redis.register_script(ABANDON_ACTION)
        self._handling: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Read and run requests until :meth:`stop`."""
        loops = [self._heartbeat_loop(), self._recover_loop()]
        loops += [self._read_loop(server) for server in self.managers]
        for outcome in await asyncio.gather(*loops, return_exceptions=True):
            if isinstance(outcome, BaseException) and not self._stop.is_set():
                log.error("actions: a loop failed", exc_info=outcome)

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop reading requests; wait up to ``timeout`` s for the actions in flight.

        The read loops end within one XREADGROUP block (1 s); no Redis call is
        cancelled. An action still in flight after ``timeout`` is cancelled:
        its record stays, and a bridge's recovery answers ``unknown`` for it.
        """
        self._stop.set()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        for task in list(self._tasks):
            task.cancel()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _retrying(self, what: str, step: Any) -> Any:
        """Await ``step()`` until Redis answers, with capped backoff (not once stopping)."""
        delays = backoff(0.05, 2.0, jitter=0.0)
        while True:
            try:
                return await step()
            except redis_errors() as exc:
                if self._stop.is_set():
                    raise
                delay = next(delays)
                log.warning("actions: %s failed (%s); retrying in %.2f s", what, exc, delay)
                await self._pause(delay)

    async def _heartbeat_loop(self) -> None:
        key = ALIVE_PREFIX + self.bridge_id
        ttl = max(1, int(self.heartbeat * 1000))
        while not self._stop.is_set():
            with contextlib.suppress(*redis_errors()):
                await self._retrying("heartbeat", lambda: self.redis.set(key, "1", px=ttl))
            await self._pause(self.heartbeat / 3)

    async def prepare(self) -> None:
        """Create the consumer groups now (requests appended from then on are served).

        :meth:`run` creates them too, retrying while Redis is down; call this
        first to know that a request sent after it returns will be seen.

        Raises:
            redis.exceptions.RedisError: Redis is down or refused.
        """
        for server in self.managers:
            await self._create_group(server)

    async def _create_group(self, server: str) -> None:
        try:
            await self.redis.xgroup_create(
                ACTIONS_STREAM, group_name(server), id="$", mkstream=True
            )
        except redis_errors() as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _read_loop(self, server: str) -> None:
        group = group_name(server)
        with contextlib.suppress(*redis_errors()):
            await self._retrying("creating the group", lambda: self._create_group(server))
        while not self._stop.is_set():
            reply = await self._retrying(
                "reading requests",
                lambda: self.redis.xreadgroup(
                    group, self.bridge_id, {ACTIONS_STREAM: ">"}, count=100, block=1000
                ),
            )
            for _stream, entries in reply or ():
                for entry_id, fields in entries:
                    await self._dispatch(server, as_text(entry_id), text_fields(fields))

    async def _dispatch(self, server: str, entry_id: str, fields: dict[str, str]) -> None:
        group = group_name(server)
        if fields.get("server") != server:
            # Another PBX's request: this group has no business with it.
            await self._retrying("ack", lambda: self.redis.xack(ACTIONS_STREAM, group, entry_id))
            return
        if entry_id in self._handling:
            return
        await self._slots.acquire()
        self._handling.add(entry_id)
        task = asyncio.ensure_future(self._handle(server, entry_id, fields))
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, entry_id))

    def _done(self, task: asyncio.Task[None], entry_id: str) -> None:
        self._tasks.discard(task)
        self._handling.discard(entry_id)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("action %s failed", entry_id, exc_info=task.exception())

    async def _handle(self, server: str, entry_id: str, fields: dict[str, str]) -> None:
        group = group_name(server)
        request_id = fields.get("id", "")
        reply_to = fields.get("reply_to", "")
        if not reply_to:
            log.warning("action %s has no reply_to; dropped unsent", entry_id)
            await self._retrying("ack", lambda: self.redis.xack(ACTIONS_STREAM, group, entry_id))
            return
        refusal = {"id": request_id, "status": "error"}
        try:
            action = _action_from(fields.get("action", ""))
        except (ValueError, InvalidAction) as exc:
            await self._refuse(group, entry_id, reply_to, {**refusal, "reason": "invalid"}, exc)
            return
        now = time.time()
        expires = _float(fields.get("expires"), now + self.action_timeout)
        if expires <= now:
            await self._refuse(group, entry_id, reply_to, {**refusal, "reason": "expired"}, None)
            return
        manager = self.managers[server]
        if not manager.logged_in:
            with contextlib.suppress(ActionTimeout, ManagerSocketError):
                await manager.wait_ready(min(self.connect_wait, expires - time.time()))
        if not manager.logged_in:
            await self._refuse(
                group, entry_id, reply_to, {**refusal, "reason": "not_connected"}, None
            )
            return
        field = f"{group} {entry_id}"
        record = json.dumps(
            {"owner": self.bridge_id, "reply_to": reply_to, "id": request_id, "taken": now}
        )
        taken = await self._retrying(
            "take",
            lambda: self._take(keys=[ACTIONS_STREAM, INFLIGHT_KEY], args=[group, entry_id, record]),
        )
        if not taken:
            return  # another bridge took it
        reply: _Fields
        # No await between this check and send_action's own: "not connected"
        # is then certain to mean "not sent".
        if not manager.is_connected():
            reply = {**refusal, "reason": "not_connected", "error": f"{server} is not connected"}
        else:
            self.executed += 1
            try:
                # A little less than the requester waits, so that an
                # "unknown" reaches it before its own timeout.
                left = expires - time.time()
                response = await manager.send_action(
                    action, timeout=max(0.01, left - min(0.5, left * 0.2))
                )
            except InvalidAction as exc:
                reply = {**refusal, "reason": "invalid", "error": str(exc)}
            except (ActionTimeout, ManagerSocketError) as exc:
                self.unknown += 1
                reply = {"id": request_id, "status": "unknown", "error": str(exc)}
            else:
                reply = _response_fields(request_id, response)
        await self._reply(field, reply_to, reply)

    async def _refuse(
        self,
        group: str,
        entry_id: str,
        reply_to: str,
        reply: _Fields,
        exc: BaseException | None,
    ) -> None:
        self.refused += 1
        reply.setdefault("error", str(exc) if exc is not None else reply["reason"])
        args = [group, entry_id, str(self.reply_ttl), *_flat(reply)]
        await self._retrying(
            "refuse", lambda: self._abandon(keys=[ACTIONS_STREAM, reply_to], args=args)
        )

    async def _reply(self, field: str, reply_to: str, reply: _Fields) -> int:
        args = [field, str(self.reply_ttl), *_flat(reply)]
        result = await self._retrying(
            "reply", lambda: self._finish(keys=[INFLIGHT_KEY, reply_to], args=args)
        )
        return int(result)

    async def _recover_loop(self) -> None:
        while not self._stop.is_set():
            await self._pause(min(self.heartbeat, self.claim_idle) / 2)
            if not self._stop.is_set():
                with contextlib.suppress(*redis_errors()):
                    await self.recover()

    async def recover(self) -> None:
        """Answer ``unknown`` for dead bridges' taken actions; claim requests never taken.

        Runs every few seconds on its own; public so tests can run it at once.
        """
        records = await self.redis.hgetall(INFLIGHT_KEY)
        for raw_field, raw_record in records.items():
            field, record = as_text(raw_field), json.loads(as_text(raw_record))
            owner = record.get("owner", "")
            if owner == self.bridge_id or await self.redis.exists(ALIVE_PREFIX + owner):
                continue
            reply: _Fields = {
                "id": str(record.get("id", "")),
                "status": "unknown",
                "error": "the bridge sending this action stopped before the answer",
            }
            if await self._reply(field, str(record.get("reply_to", "")), reply):
                self.unknown += 1
                log.warning(
                    "action %s: its bridge %s died mid-action; answered unknown", field, owner
                )
        idle = int(self.claim_idle * 1000)
        for server in self.managers:
            group = group_name(server)
            start = "0-0"
            while True:
                claimed = await self.redis.xautoclaim(
                    ACTIONS_STREAM, group, self.bridge_id, idle, start_id=start, count=100
                )
                start = as_text(claimed[0])
                for entry_id, fields in claimed[1]:
                    if fields:
                        await self._dispatch(server, as_text(entry_id), text_fields(fields))
                if start == "0-0":
                    break


def _action_from(text: str) -> Action:
    pairs = decode_pairs(text)
    if not pairs or pairs[0][0].lower() != "action":
        raise ValueError("the first pair must be ['Action', name]")
    return Action(pairs[0][1], pairs[1:])


def _response_fields(request_id: str, response: Response) -> _Fields:
    complete = response.complete
    return {
        "id": request_id,
        "status": "ok" if response.success else "error",
        "response": encode_pairs(response.headers),
        "events": b"[" + b",".join(encode_pairs(e.headers) for e in response.events) + b"]",
        "complete": b"null" if complete is None else encode_pairs(complete.headers),
    }


def _flat(fields: _Fields) -> list[str | bytes]:
    return [item for pair in fields.items() for item in pair]


def _float(text: str | None, default: float) -> float:
    try:
        return float(text) if text else default
    except ValueError:
        return default
