"""FastAGI: Asterisk connects to us (``AGI(agi://host:port/script?query,args)``).

:class:`FastAGIServer` accepts the connections on ``loop.create_server``,
reads each call's environment, picks the route and runs its handler with an
:class:`~amiasync.agi.AGI` object. Each connection's protocol feeds the bytes
to the sans-IO :class:`~amiasync.agi.codec.AGIDecoder` as they arrive, so the
unsolicited ``HANGUP`` line is seen at once, even while no command is pending.

How a call ends, as Asterisk's ``AGISTATUS`` shows it (``res/res_agi.c``,
``run_agi()``): the handler returned, we close the socket: ``SUCCESS``; no
route, the handler raised, or the server is full: we write ``FAILURE`` first,
which ``run_agi()`` takes as the script's failure: ``FAILURE``; the channel hung
up: ``HANGUP`` (and the dialplan stops there).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

from .codec import AGIDecoder, AGIResult, Environment, Hangup
from .errors import AGIConnectionLost, AGIError, AGIHangup, AGITimeout
from .routing import CallServer, Outcome, run_handler
from .session import (
    AGI,
    DEFAULT_COMMAND_TIMEOUT,
    PendingCommand,
    arguments,
    split_request,
)

__all__ = ["FastAGIServer", "FastAGILink", "DEFAULT_FASTAGI_PORT"]

log = logging.getLogger("amiasync.agi")

#: The port ``agi://host/...`` means (``AGI_PORT`` in res_agi.c).
DEFAULT_FASTAGI_PORT = 4573


class FastAGILink(asyncio.Protocol):
    """One FastAGI socket: writes command lines, reads answers and ``HANGUP``.

    An ``asyncio.Protocol``: the bytes go from the socket callback
    straight into the decoder, and an answer resolves the pending command at
    once, with no reader task in between.

    Args:
        hangup_grace: Seconds a ``-1`` answer waits for a ``HANGUP`` line
            (see :class:`~amiasync.agi.session.PendingCommand`).
    """

    def __init__(self, *, hangup_grace: float = 0.5) -> None:
        self.hangup_grace = hangup_grace
        self._decoder = AGIDecoder()
        loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._environment: asyncio.Future[dict[str, str]] = loop.create_future()
        self._lost: asyncio.Future[None] = loop.create_future()
        self._pending: PendingCommand | None = None
        self._hung_up = False
        self._closed = False
        # The pending command's (deadline, line, timeout), and the timer that checks it.
        self._deadline: tuple[float, str, float] | None = None
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._peer = "?"

    @property
    def hung_up(self) -> bool:
        """True once Asterisk wrote ``HANGUP``."""
        return self._hung_up

    @property
    def peer(self) -> str:
        """The remote address, for logs."""
        return self._peer

    async def environment(self, timeout: float | None) -> dict[str, str]:
        """Wait for the ``agi_*`` variables.

        Raises:
            AGITimeout: They did not come in time.
            AGIConnectionLost: Asterisk closed first.
        """
        future = self._environment
        timer = None
        if timeout is not None and not future.done():
            timer = asyncio.get_running_loop().call_later(
                timeout, self._time_out, future, None, timeout
            )
        try:
            return await future
        finally:
            if timer is not None:
                timer.cancel()

    async def send(self, line: str, timeout: float | None) -> AGIResult:
        """Write one command line and wait for its answer (see ``session.Link``)."""
        transport = self._transport
        if self._closed or transport is None:
            raise self._gone(line)
        loop = asyncio.get_running_loop()
        # After HANGUP nothing is held: the answer is all that will come.
        pending = PendingCommand(0 if self._hung_up else self.hangup_grace)
        self._pending = pending
        # No drain: a call has one command line in flight at a time, so the
        # write buffer never holds more than that, and a peer that stops
        # reading is ended by the deadline like one that never answers.
        if timeout is not None:
            due = loop.time() + timeout
            self._deadline = (due, line, timeout)
            timer = self._deadline_timer
            if timer is None or timer.when() > due:
                if timer is not None:
                    timer.cancel()
                self._deadline_timer = loop.call_at(due, self._check_deadline)
        try:
            transport.write(line.encode("utf-8", "surrogateescape") + b"\n")
            return await pending.future
        finally:
            self._deadline = None
            self._pending = None
            pending.finish()

    def _check_deadline(self) -> None:
        # One timer per link, re-armed when it fires, rather than one per
        # command: commands follow one another quickly and their timeouts are
        # long, so scheduling and cancelling a timer each time (as
        # asyncio.timeout does) would cost more than the command itself.
        self._deadline_timer = None
        deadline, pending = self._deadline, self._pending
        if deadline is None or pending is None or self._closed:
            return
        loop = asyncio.get_running_loop()
        if loop.time() >= deadline[0]:
            self._time_out(pending.future, deadline[1], deadline[2])
        else:
            self._deadline_timer = loop.call_at(deadline[0], self._check_deadline)

    def _time_out(self, future: asyncio.Future[Any], line: str | None, timeout: float) -> None:
        # A late answer would be taken for the next command's: close the call.
        if not future.done():
            what = "AGI environment" if line is None else f"answer to {line[:80]!r}"
            future.set_exception(AGITimeout(f"no {what} within {timeout} s"))
            self.abort()

    def fail(self) -> None:
        """Tell Asterisk the script failed (``AGISTATUS=FAILURE``); then close."""
        if not self._closed and self._transport is not None:
            self._transport.write(b"FAILURE\n")

    def abort(self) -> None:
        """Close the socket now (what was written is still sent)."""
        self._closed = True
        if self._transport is not None:
            self._transport.close()

    async def close(self, timeout: float = 5.0) -> None:
        """Close the socket and wait until it is closed (reset after ``timeout``)."""
        self.abort()
        transport = self._transport
        if transport is None or self._lost.done():
            return
        # A peer that does not read what is left is dropped after the timeout.
        timer = asyncio.get_running_loop().call_later(timeout, transport.abort)
        try:
            await self._lost
        finally:
            timer.cancel()

    # -- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    def data_received(self, data: bytes) -> None:
        decoder = self._decoder
        for event in decoder.feed(data):
            self._on_event(event)
        if decoder.errors:
            self._report()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            log.debug("FastAGI %s: connection lost: %s", self.peer, exc)
        self._decoder.feed_eof()
        self._report()
        self._closed = True
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None
        pending = self._pending
        if pending is not None:
            pending.flush()  # a held -1 answer stands: no HANGUP came
            pending.fail(self._gone(None))
        if not self._environment.done():
            self._environment.set_exception(
                AGIConnectionLost("Asterisk closed before sending the AGI environment")
            )
        if not self._lost.done():
            self._lost.set_result(None)

    def _report(self) -> None:
        for problem in self._decoder.errors:
            log.warning("FastAGI %s: %s", self.peer, problem.message)
        self._decoder.errors.clear()

    def _on_event(self, event: Environment | AGIResult | Hangup) -> None:
        if isinstance(event, AGIResult):
            if self._pending is None:
                log.debug("FastAGI %s: answer with no command pending: %r", self.peer, event.text)
            else:
                self._pending.answer(event)
        elif isinstance(event, Hangup):
            self._hung_up = True
            if self._pending is not None:
                self._pending.fail(AGIHangup("the channel hung up during the command"))
        elif not self._environment.done():
            self._environment.set_result(event.variables)

    def _gone(self, line: str | None) -> AGIError:
        if self._hung_up:
            return AGIHangup(command=line)
        return AGIConnectionLost("Asterisk closed the FastAGI connection")


class FastAGIServer(CallServer):
    """A FastAGI server: ``@app.route("ivr")`` handlers, one task per call.

    ``route()``, ``add_route()`` and ``active_calls`` come from
    :class:`~amiasync.agi.routing.CallServer`.

    Args:
        max_calls: Calls served at once; one more is answered ``FAILURE``
            (the dialplan goes on with ``AGISTATUS=FAILURE``) and logged.
        command_timeout: Seconds each command may take (None: no limit); a
            handler can change ``agi.command_timeout`` for its call.
        environment_timeout: Seconds Asterisk has to send the environment.
        hangup_grace: Seconds a ``-1`` answer waits for ``HANGUP`` (see
            :class:`FastAGILink`).
        stop_grace: Default seconds :meth:`stop` lets running calls finish.
    """

    def __init__(
        self,
        *,
        max_calls: int = 500,
        command_timeout: float | None = DEFAULT_COMMAND_TIMEOUT,
        environment_timeout: float = 10.0,
        hangup_grace: float = 0.5,
        stop_grace: float = 10.0,
    ) -> None:
        if max_calls < 1:
            raise ValueError("max_calls must be at least 1")
        super().__init__(stop_grace)
        self.max_calls = max_calls
        self.command_timeout = command_timeout
        self.environment_timeout = environment_timeout
        self.hangup_grace = hangup_grace
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port listened on (useful after ``start(port=0)``).

        Raises:
            RuntimeError: The server is not started.
        """
        if self._server is None or not self._server.sockets:
            raise RuntimeError("FastAGIServer is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self, host: str = "127.0.0.1", port: int = DEFAULT_FASTAGI_PORT) -> None:
        """Listen for Asterisk's connections.

        Raises:
            RuntimeError: Already started.
            OSError: The address cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError("FastAGIServer is already started")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._accept, host, port)
        log.info("FastAGI server listening on %s:%s", host, self.port)

    async def stop(self, grace: float | None = None) -> None:
        """Stop listening; let running calls finish for ``grace`` seconds, then close them.

        Args:
            grace: Seconds to wait (``stop_grace`` by default).
        """
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        await self.finish_calls(grace)
        await server.wait_closed()

    @asynccontextmanager
    async def serve(
        self, host: str = "127.0.0.1", port: int = DEFAULT_FASTAGI_PORT
    ) -> AsyncIterator[FastAGIServer]:
        """``async with app.serve(host, port):`` start, and stop on the way out."""
        await self.start(host, port)
        try:
            yield self
        finally:
            await self.stop()

    async def serve_forever(
        self, host: str = "127.0.0.1", port: int = DEFAULT_FASTAGI_PORT
    ) -> None:
        """Serve until cancelled, then stop gracefully."""
        async with self.serve(host, port):
            await asyncio.Event().wait()

    async def __aenter__(self) -> FastAGIServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _accept(self) -> FastAGILink:
        # The protocol factory: one link and one task per connection.
        link = FastAGILink(hangup_grace=self.hangup_grace)
        self.spawn_call(self._serve_call(link))
        return link

    async def _serve_call(self, link: FastAGILink) -> None:
        try:
            # The environment is read even to refuse the call: closing a socket
            # with unread bytes resets it, and Asterisk might never see FAILURE.
            env = await link.environment(self.environment_timeout)
            if len(self._calls) > self.max_calls:
                log.warning(
                    "FastAGI: %d calls already running (max_calls); answering FAILURE to %s",
                    self.max_calls,
                    env.get("agi_channel"),
                )
                link.fail()
                return
            script, query = split_request(env.get("agi_network_script", ""))
            handler = self.router.find(script)
            if handler is None:
                log.warning(
                    "FastAGI: no route for %r (channel %s); answering FAILURE",
                    script,
                    env.get("agi_channel"),
                )
                link.fail()
                return
            agi = AGI(
                env,
                link,
                script=script,
                query=query,
                args=arguments(env),
                command_timeout=self.command_timeout,
            )
            if await run_handler(handler, agi) is Outcome.FAILED:
                link.fail()
        except AGIError as exc:
            log.warning("FastAGI connection from %s ended early: %s", link.peer, exc)
        finally:
            await link.close()
