"""AsyncAGI: AGI commands over an existing AMI ``Manager``.

A channel enters ``AGI(agi:async,ivr,a,b)``; Asterisk (``res/res_agi.c``,
``launch_asyncagi()``) raises ``AsyncAGIStart`` with the URL-encoded
environment in ``Env``, runs each command queued with the ``AGI`` action
(``Channel``, ``Command``, ``CommandID``) and reports its answer in
``AsyncAGIExec`` (the same ``CommandID``; Asterisk 22 spells the header
``CommandId``), URL-encoded in ``Result``. ``AsyncAGIEnd`` says the channel
left AsyncAGI: it hung up, or a command ``ASYNCAGI BREAK`` returned control to
the dialplan. These events are of the ``agi`` class: the Manager's login must
receive it (``events=True`` does).

The first AGI argument picks the route (``ivr``, or ``ivr?lang=de``); the
others are ``agi.args``. A handler that returns, or raises, ends with
``ASYNCAGI BREAK``: the dialplan goes on (``AGISTATUS=SUCCESS``).

Only the public ``Manager`` API is used: ``send_action``,
``register_callback``/``unregister_callback`` and ``register_state_callback``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._compat import timeout as timeout_after
from ..exceptions import AMIError, ManagerSocketError
from ..message import Action, Message
from .codec import AGIResult, parse_answer, parse_environment, url_decode
from .errors import AGIConnectionLost, AGIError, AGIHangup, AGITimeout
from .routing import CallServer, run_handler
from .session import (
    AGI,
    DEFAULT_COMMAND_TIMEOUT,
    Handler,
    PendingCommand,
    arguments,
    split_request,
)

if TYPE_CHECKING:
    from .. import Manager

__all__ = ["AsyncAGI", "AsyncAGILink"]

log = logging.getLogger("amiasync.agi")

_ids = itertools.count(1)


class AsyncAGILink:
    """One channel's AsyncAGI session, seen through AMI.

    A ``-1`` answer waits ``hangup_grace`` seconds for ``AsyncAGIEnd`` (see
    :class:`~amiasync.agi.session.PendingCommand`).
    """

    def __init__(self, owner: AsyncAGI, channel: str) -> None:
        self._owner = owner
        self.channel = channel
        self._ended = False
        self._pending: PendingCommand | None = None

    @property
    def hung_up(self) -> bool:
        """True once the channel left AsyncAGI (hangup or ``ASYNCAGI BREAK``)."""
        return self._ended

    async def send(self, line: str, timeout: float | None) -> AGIResult:
        """Queue one command with the ``AGI`` action and wait for its ``AsyncAGIExec``."""
        if self._ended:
            raise AGIHangup(command=line)
        owner = self._owner
        command_id = f"amiasync-agi-{next(_ids)}"
        pending = PendingCommand(owner.hangup_grace)
        self._pending = pending
        owner._waiting[command_id] = self
        action = Action("AGI", Channel=self.channel, Command=line, CommandID=command_id)
        try:
            async with timeout_after(timeout):
                try:
                    response = await owner.manager.send_action(action, timeout=None)
                except ManagerSocketError as exc:
                    raise AGIConnectionLost(f"{line[:80]!r} not sent: {exc}") from exc
                if not response.success:
                    # "Channel ... does not exist." or "Failed to add AGI command
                    # to channel ... queue": the channel is no longer in AsyncAGI.
                    self._ended = True
                    raise AGIHangup(f"Asterisk refused the AGI action: {response.message}", line)
                return await pending.future
        except asyncio.TimeoutError as exc:
            if isinstance(exc, AGIError):
                raise
            raise AGITimeout(f"no AsyncAGIExec for {line[:80]!r} within {timeout} s") from exc
        finally:
            owner._waiting.pop(command_id, None)
            self._pending = None
            pending.finish()

    def answer(self, result: AGIResult) -> None:
        """``AsyncAGIExec`` arrived for the pending command."""
        if self._pending is not None:
            self._pending.answer(result)

    def end(self, error: AGIError) -> None:
        """``AsyncAGIEnd`` (or the AMI link dropped): fail what is pending."""
        self._ended = True
        if self._pending is not None:
            self._pending.fail(error)


def _ignore_result(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, so asyncio does not log it


class AsyncAGI(CallServer):
    """Serve ``AGI(agi:async,<route>,...)`` channels with ``@route`` handlers.

    ``route()``, ``add_route()`` and ``active_calls`` come from
    :class:`~amiasync.agi.routing.CallServer`.

    Args:
        manager: A connected, logged-in :class:`~amiasync.Manager` that
            receives ``agi`` events.
        command_timeout: Seconds each command may take (None: no limit).
        hangup_grace: Seconds a ``-1`` answer waits for ``AsyncAGIEnd``.
        max_calls: Calls served at once; a channel beyond it gets
            ``ASYNCAGI BREAK`` at once, and a warning is logged.
        stop_grace: Default seconds :meth:`stop` lets running calls finish.
    """

    def __init__(
        self,
        manager: Manager,
        *,
        command_timeout: float | None = DEFAULT_COMMAND_TIMEOUT,
        hangup_grace: float = 0.5,
        max_calls: int = 500,
        stop_grace: float = 10.0,
    ) -> None:
        super().__init__(stop_grace)
        self.manager = manager
        self.command_timeout = command_timeout
        self.hangup_grace = hangup_grace
        self.max_calls = max_calls
        self._links: dict[str, AsyncAGILink] = {}
        self._waiting: dict[str, AsyncAGILink] = {}
        self._started = False
        self._state_registered = False

    def start(self) -> None:
        """Listen for ``AsyncAGIStart``/``Exec``/``End`` events on the manager."""
        if self._started:
            return
        self._started = True
        self.manager.register_callback("AsyncAGIStart", self._on_start)
        self.manager.register_callback("AsyncAGIExec", self._on_exec)
        self.manager.register_callback("AsyncAGIEnd", self._on_end)
        if not self._state_registered:
            # The Manager has no way to remove a state callback; it stays and
            # does nothing while stopped.
            self._state_registered = True
            self.manager.register_state_callback(self._on_state)

    async def stop(self, grace: float | None = None) -> None:
        """Stop taking channels; let running calls finish for ``grace`` s, then cancel them."""
        if not self._started:
            return
        self._started = False
        self.manager.unregister_callback("AsyncAGIStart", self._on_start)
        await self.finish_calls(grace)
        self.manager.unregister_callback("AsyncAGIExec", self._on_exec)
        self.manager.unregister_callback("AsyncAGIEnd", self._on_end)

    async def __aenter__(self) -> AsyncAGI:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- events -------------------------------------------------------------

    def _on_start(self, event: Message, manager: Any) -> None:
        channel = event.get("Channel") or ""
        env = parse_environment(url_decode(event.get("Env") or ""))
        args = arguments(env)
        script, query = split_request(args[0] if args else "")
        handler = self.router.find(script)
        link = AsyncAGILink(self, channel)
        self._links[channel] = link
        agi = AGI(
            env,
            link,
            script=script,
            query=query,
            args=args[1:],
            command_timeout=self.command_timeout,
        )
        if handler is None:
            log.warning("AsyncAGI: no route for %r (channel %s); ASYNCAGI BREAK", script, channel)
        elif len(self._calls) >= self.max_calls:
            log.warning("AsyncAGI: %d calls running (max_calls); ASYNCAGI BREAK", self.max_calls)
            handler = None
        self.spawn_call(self._serve_call(handler, agi, link))

    async def _serve_call(self, handler: Handler | None, agi: AGI, link: AsyncAGILink) -> None:
        try:
            if handler is not None:
                await run_handler(handler, agi)
            if not link.hung_up:
                await agi.asyncagi_break()
        except AMIError as exc:
            log.debug("AsyncAGI %s: ASYNCAGI BREAK not sent: %s", link.channel, exc)
        except asyncio.CancelledError:
            # stop() gave up on this call: hand the channel back to the dialplan
            # without waiting (Asterisk would otherwise keep it in AsyncAGI).
            if not link.hung_up:
                action = Action("AGI", Channel=link.channel, Command="ASYNCAGI BREAK")
                sent = asyncio.ensure_future(self.manager.send_action(action))
                sent.add_done_callback(_ignore_result)
            raise
        finally:
            if self._links.get(link.channel) is link:
                del self._links[link.channel]

    def _on_exec(self, event: Message, manager: Any) -> None:
        link = self._waiting.get(event.get("CommandID") or "")
        if link is None:
            return  # Another client's command, or one that timed out.
        result = parse_answer(url_decode(event.get("Result") or ""))
        if result is None:
            log.warning("AsyncAGI %s: unreadable Result %r", link.channel, event.get("Result"))
            result = AGIResult(0, text=url_decode(event.get("Result") or ""))
        link.answer(result)

    def _on_end(self, event: Message, manager: Any) -> None:
        link = self._links.get(event.get("Channel") or "")
        if link is not None:
            link.end(AGIHangup("the channel left AsyncAGI (hangup or ASYNCAGI BREAK)"))

    def _on_state(self, state: Any, manager: Any) -> None:
        if getattr(state, "value", state) != "disconnected":
            return
        for link in list(self._links.values()):
            link.end(AGIConnectionLost("the AMI connection was lost"))
