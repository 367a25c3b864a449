"""The AGI protocol without I/O: bytes in, environment and results out.

Asterisk's side of the protocol lives in ``res/res_agi.c``:

* ``setup_env()`` writes the environment, one ``agi_<name>: <value>`` line per
  variable and then an empty line; ``launch_netscript()`` first writes
  ``agi_network: yes`` and ``agi_network_script: <path?query>`` for FastAGI.
  Empty values are sent as ``agi_accountcode: `` and kept.
* ``agi_handle_command()`` answers every command with one line,
  ``200 result=<n> [(<data>)] [endpos=<n>]``, or ``510 Invalid or unknown
  command``, ``511 Command Not Permitted on a dead channel or intercept
  routine``, or a ``520-`` block: the usage text, then ``520 End of proper
  usage.``.
* ``run_agi()`` writes an unsolicited ``HANGUP`` line when the channel hangs up
  (unless ``AGISIGHUP=no``), after the answer to a command that was running.
  It reads commands with ``fgets`` into a 2048-byte buffer and strips only the
  ``\\n``: a ``\\r`` would become part of the last argument, so lines end with
  ``\\n`` alone. A line starting with ``failure`` ends the script with
  ``AGISTATUS=FAILURE``.
* ``parse_args()`` splits a command on blanks; a double quote starts or ends a
  quoted argument (``""`` is an empty one) and a backslash makes the next
  character literal, inside quotes or not.

:class:`AGIDecoder` is the reading half; :func:`encode_command` the writing
half. Neither raises on what Asterisk sends: problems are collected in
``errors`` and decoding goes on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Union
from urllib.parse import unquote_to_bytes

from .errors import InvalidAGICommand

__all__ = [
    "AGIResult",
    "Environment",
    "Hangup",
    "AGIDecoder",
    "AGIProblem",
    "encode_command",
    "quote_argument",
    "parse_result",
    "parse_answer",
    "url_decode",
    "parse_environment",
    "decode_line",
    "MAX_COMMAND_BYTES",
]

#: Longest command line Asterisk reads whole (``AGI_BUF_LEN`` in res_agi.c,
#: 2048 bytes with the terminating NUL).
MAX_COMMAND_BYTES = 2047

_RESULT = re.compile(r"result=(\S*)\s*(.*)\Z", re.DOTALL)
_ENDPOS = re.compile(r"(?:^|\s)endpos=(-?[0-9]+)\Z")


@dataclass(frozen=True)
class AGIResult:
    """One answer of Asterisk to one command.

    Attributes:
        code: The status code: 200 (done), 510 (unknown command), 511 (not
            allowed on a dead channel), 520 (wrong usage).
        result: What follows ``result=``, as a string (``"1"``, ``"-1"``,
            ``""`` for ``200 result= (timeout)``); ``""`` for other codes.
        data: The text in parentheses (``"timeout"``, a variable's value), or
            for a 520 the usage text; ``""`` when there is none.
        endpos: The ``endpos=`` sample offset of playback and recording
            commands, or None.
        text: Everything Asterisk wrote for this answer, lines joined by ``\\n``.
    """

    code: int
    result: str = ""
    data: str = ""
    endpos: int | None = None
    text: str = field(default="", compare=False)

    @property
    def ok(self) -> bool:
        """True for a ``200`` answer."""
        return self.code == 200

    def __int__(self) -> int:
        """``result`` as an int (``int(await agi.wait_for_digit(1000))``).

        Raises:
            ValueError: ``result`` is not a number.
        """
        return int(self.result)


@dataclass(frozen=True)
class Environment:
    """The ``agi_*`` variables Asterisk sent before the first command.

    Attributes:
        variables: Every key and value, in order, empty values included.
    """

    variables: dict[str, str]


@dataclass(frozen=True)
class Hangup:
    """The unsolicited ``HANGUP`` line: the channel hung up."""


@dataclass(frozen=True)
class AGIProblem:
    """Something Asterisk sent that is not AGI; it was skipped.

    Attributes:
        message: What was wrong (with at most 80 characters of the input).
    """

    message: str


AGIEvent = Union[Environment, AGIResult, Hangup]


def decode_line(raw: bytes) -> str:
    """Decode one line: UTF-8, else Latin-1 (lossless: ``.encode("latin-1")``)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_result(line: str) -> AGIResult | None:
    """Parse one answer line (not a 520 block); None if it is not AGI.

    ``200 result=1 (a (b) c) endpos=5`` gives ``result="1"``,
    ``data="a (b) c"``, ``endpos=5``.
    """
    code_text, _, rest = line.partition(" ")
    if len(code_text) != 3 or not (code_text.isascii() and code_text.isdigit()):
        return None
    code = int(code_text)
    if code != 200:
        return AGIResult(code, text=line)
    match = _RESULT.match(rest)
    if match is None:
        return None
    result, tail = match.groups()
    endpos = None
    found = _ENDPOS.search(tail) if "endpos=" in tail else None
    if found is not None:
        endpos = int(found.group(1))
        tail = tail[: found.start()].rstrip()
    if tail.startswith("(") and tail.endswith(")"):
        tail = tail[1:-1]
    return AGIResult(code, result, tail, endpos, line)


def parse_answer(text: str) -> AGIResult | None:
    """Parse one whole answer, a 520 block included (AsyncAGIExec's decoded ``Result``)."""
    lines = text.rstrip("\n").split("\n")
    if lines[0].startswith("520-"):
        if len(lines) < 2 or not lines[-1].startswith("520 "):
            return None
        return AGIResult(520, data="\n".join(lines[1:-1]), text="\n".join(lines))
    return parse_result(lines[0]) if len(lines) == 1 else None


def _split_variable(line: str) -> tuple[str, str]:
    # The value is everything after the first ": "; a ':' in it is kept.
    key, sep, value = line.partition(": ")
    if not sep and key.endswith(":"):
        key = key[:-1]
    return key, value


def parse_environment(text: str) -> dict[str, str]:
    """Parse environment lines (``AsyncAGIStart``'s decoded ``Env``, for example).

    Args:
        text: ``agi_x: value`` lines separated by ``\\n``; stops at an empty line.

    Returns:
        Every variable, in order, empty values included.
    """
    variables: dict[str, str] = {}
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if not line:
            break
        key, value = _split_variable(line)
        variables[key] = value
    return variables


def url_decode(text: str) -> str:
    """Undo ``ast_uri_encode()`` (AsyncAGI's ``Env`` and ``Result``), losslessly."""
    return decode_line(unquote_to_bytes(text))


class AGIDecoder:
    """Turns the bytes Asterisk writes on a FastAGI socket into AGI events.

    ``feed()`` returns, in order, one :class:`Environment`, then an
    :class:`AGIResult` per answer and a :class:`Hangup` wherever the
    ``HANGUP`` line arrives. Bytes are kept until a line is complete; a
    ``520-`` block is returned whole. Nothing raises: what is not AGI lands in
    :attr:`errors` and is skipped.

    Args:
        max_line: Longest line kept, in bytes; a longer one is reported and
            skipped up to its end.
    """

    def __init__(self, *, max_line: int = 1 << 20) -> None:
        self.max_line = max_line
        self.errors: list[AGIProblem] = []
        self._buffer = bytearray()
        self._scanned = 0
        self._skipping = False
        self._environment: dict[str, str] | None = {}
        self._usage: list[str] | None = None

    @property
    def in_environment(self) -> bool:
        """True until the environment's empty line has been read."""
        return self._environment is not None

    def feed(self, data: bytes) -> list[AGIEvent]:
        """Add bytes; return the events they complete."""
        events: list[AGIEvent] = []
        buffer = self._buffer
        if buffer or self._skipping:
            buffer += data
            end = buffer.find(b"\n", self._scanned)
            if end < 0:
                self._scanned = len(buffer)
                self._check_size()
                return events
            # The line that was waiting for its end; the rest goes the fast way.
            raw = bytes(buffer[:end])
            data = bytes(buffer[end + 1 :])
            buffer.clear()
            self._scanned = 0
            if self._skipping:
                self._skipping = False
            else:
                self._line(decode_line(raw.removesuffix(b"\r")), events)
        end = data.rfind(b"\n")
        if end < 0:
            buffer += data
        else:
            # Every complete line at once: one decode and one split per chunk.
            try:
                lines = data[:end].decode("utf-8").split("\n")
            except UnicodeDecodeError:
                lines = [decode_line(raw) for raw in data[:end].split(b"\n")]
            for line in lines:
                self._line(line.removesuffix("\r"), events)
            buffer += data[end + 1 :]
        self._scanned = len(buffer)
        self._check_size()
        return events

    def _check_size(self) -> None:
        if not self._skipping and len(self._buffer) > self.max_line:
            self.errors.append(AGIProblem(f"line longer than {self.max_line} bytes skipped"))
            self._skipping = True
        if self._skipping:
            # Keep nothing of a line being skipped; its end is all that matters.
            self._buffer.clear()
            self._scanned = 0

    def feed_eof(self) -> list[AGIProblem]:
        """The peer closed; report an unfinished line or 520 block."""
        problems = []
        if self._buffer:
            problems.append(
                AGIProblem(f"connection closed inside a line: {bytes(self._buffer)[:80]!r}")
            )
        if self._usage is not None:
            problems.append(AGIProblem("connection closed inside a 520 usage block"))
        self.errors.extend(problems)
        self._buffer.clear()
        return problems

    def _line(self, line: str, events: list[AGIEvent]) -> None:
        environment = self._environment
        if environment is not None:
            if line:
                key, value = _split_variable(line)
                environment[key] = value
            else:
                events.append(Environment(environment))
                self._environment = None
            return
        if line == "HANGUP":
            events.append(Hangup())
            return
        usage = self._usage
        if usage is not None:
            usage.append(line)
            if line.startswith("520 "):
                self._usage = None
                events.append(AGIResult(520, data="\n".join(usage[1:-1]), text="\n".join(usage)))
            return
        if line.startswith("520-"):
            self._usage = [line]
            return
        result = parse_result(line)
        if result is None:
            self.errors.append(AGIProblem(f"not an AGI answer, skipped: {line[:80]!r}"))
        else:
            events.append(result)


def quote_argument(value: str) -> str:
    """Quote one argument the way ``parse_args()`` in res_agi.c reads it back."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_command(command: str, args: Iterable[str | int | None] = ()) -> str:
    """Build one command line (without its ``\\n``).

    Args:
        command: The command words, sent as they are (``"SET VARIABLE"``, or a
            whole line such as ``"VERBOSE hello 1"``).
        args: Arguments, each quoted and escaped; None ends the list (so an
            optional argument left out also leaves out every later one).

    Returns:
        The line.

    Raises:
        InvalidAGICommand: CR, LF or NUL anywhere, or longer than Asterisk's
            buffer (:data:`MAX_COMMAND_BYTES`); nothing may be sent.
    """
    parts = [command]
    for arg in args:
        if arg is None:
            break
        parts.append(quote_argument(str(arg)))
    line = " ".join(parts)
    if "\r" in line or "\n" in line or "\0" in line:
        raise InvalidAGICommand(f"CR, LF or NUL in AGI command {command!r}")
    if not command.strip():
        raise InvalidAGICommand("empty AGI command")
    if len(line.encode("utf-8", "surrogateescape")) > MAX_COMMAND_BYTES:
        raise InvalidAGICommand(
            f"AGI command {command!r} is longer than the {MAX_COMMAND_BYTES} bytes Asterisk reads"
        )
    return line
