"""One AGI call: the :class:`AGI` object handlers receive, over any link.

A link carries command lines to Asterisk and answers back: a FastAGI socket
(:mod:`amiasync.agi.fastagi`) or AMI's ``AGI`` action and ``AsyncAGIExec``
events (:mod:`amiasync.agi.asyncagi`). The :class:`AGI` object is the same
over both; it checks and encodes commands, runs them one at a time, and turns
a hangup into :class:`~amiasync.agi.AGIHangup`.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Mapping, Sequence
from typing import Callable, Protocol
from urllib.parse import parse_qsl

from .codec import AGIResult, encode_command
from .commands import AGIArgument, AGICommands
from .errors import AGICommandFailed, AGIHangup

__all__ = [
    "AGI",
    "Link",
    "PendingCommand",
    "Handler",
    "split_request",
    "arguments",
    "DEFAULT",
    "UseDefault",
    "DEFAULT_COMMAND_TIMEOUT",
]

log = logging.getLogger("amiasync.agi")

#: Seconds a command may take unless told otherwise: long enough for prompts
#: and recordings, short enough that a wedged call ends.
DEFAULT_COMMAND_TIMEOUT = 300.0


class UseDefault(enum.Enum):
    """The type of :data:`DEFAULT` ("use the configured value", unlike None)."""

    DEFAULT = "DEFAULT"


#: Passed as a timeout: the configured one (None means no limit).
DEFAULT = UseDefault.DEFAULT


class Link(Protocol):
    """What carries one call's commands (a FastAGI socket, or AMI)."""

    @property
    def hung_up(self) -> bool:
        """True once Asterisk reported the hangup."""

    async def send(self, line: str, timeout: float | None) -> AGIResult:
        """Send one encoded command line and return Asterisk's answer.

        Raises:
            AGIHangup: The channel hung up before or while the command ran.
            AGITimeout: No answer within ``timeout``.
            AGIConnectionLost: The link closed first.
        """


class PendingCommand:
    """The one command in flight on a link, as the link's reader resolves it.

    Asterisk answers a command that the hangup interrupted (``200
    result=-1``) *before* it reports the hangup (the ``HANGUP`` line, or
    ``AsyncAGIEnd``): see ``run_agi()`` and ``launch_asyncagi()`` in
    res_agi.c. So a ``-1`` answer is held for ``grace`` seconds: if the hangup
    follows, the command raises :class:`AGIHangup` instead; if not, the answer
    stands.

    Args:
        grace: Seconds a ``-1`` answer waits for the hangup; 0 returns it at once.
    """

    __slots__ = ("_grace", "_held", "future")

    def __init__(self, grace: float) -> None:
        self.future: asyncio.Future[AGIResult] = asyncio.get_running_loop().create_future()
        self._grace = grace
        self._held: tuple[asyncio.TimerHandle, AGIResult] | None = None

    def answer(self, result: AGIResult) -> None:
        """Asterisk answered (a -1 waits for the hangup first)."""
        if self.future.done() or self._held is not None:
            return
        if result.result == "-1" and self._grace > 0:
            timer = asyncio.get_running_loop().call_later(self._grace, self.flush)
            self._held = (timer, result)
        else:
            self.future.set_result(result)

    def fail(self, error: BaseException) -> None:
        """The command cannot get its answer (hangup, link lost); a held -1 is dropped."""
        self.finish()
        if not self.future.done():
            self.future.set_exception(error)

    def flush(self) -> None:
        """Return a held answer now (no hangup came in time, or the link closed)."""
        held, self._held = self._held, None
        if held is not None:
            held[0].cancel()
            if not self.future.done():
                self.future.set_result(held[1])

    def finish(self) -> None:
        """Forget a held answer (the command is over)."""
        held, self._held = self._held, None
        if held is not None:
            held[0].cancel()


def split_request(request: str) -> tuple[str, dict[str, str]]:
    """Split ``ivr/menu?lang=de&x=1`` into the script and its flat query.

    A repeated query key keeps its last value; keys without a value map to ``""``.
    """
    script, _, query = request.partition("?")
    return script, dict(parse_qsl(query, keep_blank_values=True))


def arguments(env: Mapping[str, str]) -> list[str]:
    """The ``agi_arg_1``, ``agi_arg_2``, ... values, in order."""
    found = []
    for key, value in env.items():
        suffix = key[8:] if key.startswith("agi_arg_") else ""
        if suffix.isascii() and suffix.isdigit():
            found.append((int(suffix), value))
    return [value for _, value in sorted(found)]


class AGI(AGICommands):
    """One call under AGI control; handlers get one per call.

    Every documented AGI command is a method (generated in
    :mod:`amiasync.agi.commands`); :meth:`command` sends anything else.
    Commands run one at a time, in the order they are awaited.

    Attributes:
        env: Every ``agi_*`` variable Asterisk sent, empty ones too.
        script: The route part of the request (``"ivr"`` for
            ``agi://host/ivr?lang=de``; the first argument for AsyncAGI).
        query: The request's query as a flat ``dict[str, str]``.
        args: The AGI application's further arguments (``agi_arg_N``), in order.
        command_timeout: Seconds each command may take, None for no limit.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        link: Link,
        *,
        script: str,
        query: Mapping[str, str],
        args: Sequence[str],
        command_timeout: float | None = DEFAULT_COMMAND_TIMEOUT,
    ) -> None:
        self.env: dict[str, str] = dict(env)
        self.script = script
        self.query: dict[str, str] = dict(query)
        self.args: list[str] = list(args)
        self.command_timeout = command_timeout
        self._link = link
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<AGI {self.script!r} channel={self.channel!r}>"

    @property
    def channel(self) -> str:
        """The channel's name (``agi_channel``)."""
        return self.env.get("agi_channel", "")

    @property
    def uniqueid(self) -> str:
        """The channel's unique id (``agi_uniqueid``)."""
        return self.env.get("agi_uniqueid", "")

    @property
    def hung_up(self) -> bool:
        """True once the channel hung up; every command then raises AGIHangup."""
        return self._link.hung_up

    async def command(
        self, command: str, *args: AGIArgument, timeout: float | UseDefault | None = DEFAULT
    ) -> AGIResult:
        """Send any command and return Asterisk's answer, whatever its code.

        Args:
            command: The command, as Asterisk reads it (``"VERBOSE hello 1"``),
                or its words alone when ``args`` follow.
            args: Arguments, each quoted and escaped for Asterisk's parser.
            timeout: Seconds for the answer; :attr:`command_timeout` by
                default, None for no limit.

        Returns:
            The answer: 200, or 510/520 (the call stays usable).

        Raises:
            InvalidAGICommand: CR, LF or NUL in it, or too long; nothing was sent.
            AGIHangup: The channel hung up (also on a ``511`` answer).
            AGITimeout: No answer in time; the call is closed.
            AGIConnectionLost: The link to Asterisk closed.
        """
        line = encode_command(command, args)
        delay = self.command_timeout if isinstance(timeout, UseDefault) else timeout
        async with self._lock:
            if self._link.hung_up:
                raise AGIHangup(command=line)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s >> %s", self.channel, line)
            result = await self._link.send(line, delay)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s << %s", self.channel, result.text)
        if result.code == 511:
            raise AGIHangup("the channel is dead (511)", command=line)
        return result

    async def _run(self, command: str, args: Sequence[AGIArgument]) -> AGIResult:
        # The typed methods: a refused command is an error there.
        result = await self.command(command, *args)
        if not result.ok:
            raise AGICommandFailed(command, result)
        return result

    async def _value(self, command: str, args: Sequence[AGIArgument]) -> str | None:
        # GET VARIABLE and friends: result=1 (value), or result=0 when unset.
        result = await self._run(command, args)
        return result.data if result.result == "1" else None


#: A route's handler: ``async def handler(agi): ...``.
Handler = Callable[[AGI], Awaitable[object]]
