"""The ``amiasync`` command line (also ``python -m amiasync``).

Subcommands:

``events [PATTERN ...]``
    Tail events live, filtered by name or glob (``Newchannel``, ``Queue*``).
``action NAME [Key=Value ...]``
    Send any action and print its response and event list.
``command CLI-COMMAND``
    Run an Asterisk CLI command and print its output.
``fake-server``
    Run the embedded fake Asterisk, with generated call traffic, on
    127.0.0.1:15038 (not Asterisk's port) by default.
``demo``
    A guided tour of the library (embedded fake Asterisk unless ``--host`` or
    ``--from-env`` is given).
``agi-serve MODULE[:APP]``
    Serve a :class:`~amiasync.agi.FastAGIServer` (from :mod:`amiasync.agi.cli`).
``top``
    A live view of channels, bridges, calls and queues (:mod:`amiasync.live.top`).
``bridge --redis URL --pbx NAME=HOST[:PORT] ...``
    Every event of every PBX into Redis streams, actions from Redis
    (:mod:`amiasync.bridge.cli`).

More subcommands come from the modules listed in :data:`SUBCOMMAND_MODULES`.

The connection options (and ``-v``) work before or after the subcommand:
``amiasync -vv action Ping`` is ``amiasync action Ping -vv``. The connection
comes from flags or from the environment: ``AMI_HOST``,
``AMI_PORT`` (``AMI_TLS_PORT`` with ``--tls``), ``AMI_USERNAME``,
``AMI_SECRET`` and ``AMI_TLS_CAFILE``. The secret is best given in
``AMI_SECRET``; without it, and with standard input on a terminal, it is asked
for. ``--secret`` exists, but a secret on a command line is visible to every
user of the machine (``ps``) and lands in shell histories.

Exit status: 0 on success (also when ``events`` or ``fake-server`` is stopped
with Ctrl-C or SIGTERM), 1 on an error (refused login, connection refused or
lost, timeout, a failed action or command), 2 on a usage error, 130 when
another command is interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import importlib
import json
import logging
import os
import shutil
import signal
import ssl as ssl_module
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO, TypeVar, Union

from . import __version__, core
from .connection import ConnectionState, Manager, connect
from .exceptions import (
    ActionFailed,
    ActionTimeout,
    AMIError,
    ManagerSocketError,
    ProtocolError,
)
from .message import Action, Message, Response

__all__ = [
    "main",
    "build_parser",
    "resolve_target",
    "message_to_json",
    "format_table",
    "table_width",
    "add_connection_options",
    "SUBCOMMAND_MODULES",
    "stop_on_signals",
    "FAKE_SERVER_PORT",
    "format_event",
    "use_colour",
    "generate_traffic",
]

log = logging.getLogger("amiasync")

#: A header value in JSON output: the text, or a list when the header repeats.
JSONValue = Union[str, list[str]]

_PLAIN_PORT, _TLS_PORT = 5038, 5039
#: ``fake-server``'s default port: not Asterisk's 5038 or 5039.
FAKE_SERVER_PORT = 15038
_N = TypeVar("_N", int, float)
_R = TypeVar("_R")
_HIDDEN_COLUMNS = frozenset({"actionid", "eventlist"})
#: The widest a table cell gets when the table must fit a width.
MAX_CELL = 40


class CLIError(Exception):
    """An error to report on one line and exit 1 (bad settings, not an AMI error)."""


# -- settings ------------------------------------------------------------------


@dataclass
class Target:
    """Where to connect and how to log in, resolved from flags and environment."""

    host: str
    port: int
    username: str
    #: Never in the repr: targets end up in logs and tracebacks.
    secret: str = field(repr=False)
    ssl: ssl_module.SSLContext | None
    auth: str
    timeout: float

    def describe(self) -> str:
        """Return ``host:port`` (with ``tls`` when encrypted), for messages."""
        return f"{self.host}:{self.port}{' (TLS)' if self.ssl else ''}"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "yes", "true", "on")


def _checked(
    convert: Callable[[str], _N], valid: Callable[[_N], bool], what: str, rule: str
) -> Callable[[str], _N]:
    """Return an argparse type that converts the text and refuses values failing ``valid``."""

    def parse(text: str) -> _N:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not valid(value):
            raise argparse.ArgumentTypeError(f"{rule}: {text!r}")
        return value

    return parse


_positive_float = _checked(float, lambda v: v > 0, "a number", "must be more than 0")
_non_negative_float = _checked(float, lambda v: v >= 0, "a number", "must be 0 or more")
_positive_int = _checked(int, lambda v: v >= 1, "a whole number", "must be 1 or more")
_non_negative_int = _checked(int, lambda v: v >= 0, "a whole number", "must be 0 or more")
_port = _checked(int, lambda v: 0 <= v <= 65535, "a port number", "not a port number")


def add_connection_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """Add the options every client subcommand takes.

    They are added twice, so they work before and after the subcommand
    (``amiasync -vv action Ping`` and ``amiasync action Ping -vv``): once on
    the top-level parser with the defaults, once on each subcommand with no
    default at all (``argparse.SUPPRESS``), so an option not repeated after
    the subcommand keeps the value given before it.

    Args:
        parser: The top-level parser or a subcommand's.
        top_level: True for the top-level parser (the one holding the defaults).
    """

    def default(value: Any) -> Any:
        return value if top_level else argparse.SUPPRESS

    group = parser.add_argument_group(
        "connection (before or after the subcommand)",
        "Each option falls back to an environment variable. Put the secret in\n"
        "AMI_SECRET (or type it when asked): a --secret on the command line is\n"
        "visible to other users of the machine and lands in shell histories.",
    )
    group.add_argument(
        "--host", default=default(None), help="Asterisk's address (env AMI_HOST; default 127.0.0.1)"
    )
    group.add_argument(
        "--port",
        type=_port,
        default=default(None),
        help="the manager port (env AMI_PORT, default 5038; with --tls: env AMI_TLS_PORT, "
        "default 5039)",
    )
    group.add_argument(
        "--username", "-u", default=default(None), help="the manager.conf user (env AMI_USERNAME)"
    )
    group.add_argument(
        "--secret",
        default=default(None),
        help="the user's secret; prefer the AMI_SECRET environment variable",
    )
    group.add_argument(
        "--plain-login",
        action="store_true",
        default=default(False),
        help="send the secret in a plain Login instead of the default Challenge/MD5 key",
    )
    group.add_argument(
        "--tls",
        action="store_true",
        default=default(_env_flag("AMI_TLS")),
        help="connect with TLS (env AMI_TLS=1); implied by --tls-cafile and --tls-insecure",
    )
    group.add_argument(
        "--tls-cafile",
        metavar="PATH",
        default=default(None),
        help="CA certificates to verify the server with (env AMI_TLS_CAFILE, used with --tls)",
    )
    group.add_argument(
        "--tls-insecure",
        action="store_true",
        default=default(False),
        help="do not verify the server's certificate or name (testing only)",
    )
    group.add_argument(
        "--timeout",
        type=_positive_float,
        default=default(10.0),
        metavar="SECONDS",
        help="seconds allowed for connecting, logging in and each action (default 10)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="log what the client does to stderr (-vv for every message sent)",
    )


def _ssl_context(args: argparse.Namespace) -> ssl_module.SSLContext | None:
    if not (args.tls or args.tls_cafile or args.tls_insecure):
        return None
    cafile = args.tls_cafile or os.environ.get("AMI_TLS_CAFILE") or None
    if args.tls_insecure:
        cafile = None  # nothing is verified: no CA file to load
    try:
        context = ssl_module.create_default_context(cafile=cafile)
    except (OSError, ssl_module.SSLError) as exc:
        raise CLIError(f"cannot load the CA file {cafile}: {exc}") from exc
    if args.tls_insecure:
        context.check_hostname = False
        context.verify_mode = ssl_module.CERT_NONE
    return context


def resolve_target(args: argparse.Namespace, *, stdin: TextIO | None = None) -> Target:
    """Turn flags and environment into a :class:`Target`; ask for the secret if need be.

    Args:
        args: The parsed arguments of a client subcommand.
        stdin: Standard input (to tell whether it is a terminal).

    Returns:
        The target.

    Raises:
        CLIError: No username, or no secret and no terminal to ask on.
    """
    context = _ssl_context(args)
    host = args.host or os.environ.get("AMI_HOST") or "127.0.0.1"
    if args.port is not None:
        port = args.port
    else:
        name = "AMI_TLS_PORT" if context else "AMI_PORT"
        text = os.environ.get(name)
        try:
            port = _port(text) if text else (_TLS_PORT if context else _PLAIN_PORT)
        except argparse.ArgumentTypeError as exc:
            raise CLIError(f"{name}: {exc}") from None
    username = args.username or os.environ.get("AMI_USERNAME")
    if not username:
        raise CLIError("no username: set AMI_USERNAME or pass --username")
    secret = args.secret if args.secret is not None else os.environ.get("AMI_SECRET")
    if secret is None:
        stream = stdin if stdin is not None else sys.stdin
        if stream is None or not stream.isatty():
            raise CLIError("no secret: set AMI_SECRET (standard input is not a terminal to ask on)")
        try:
            secret = getpass.getpass(f"AMI secret for {username}@{host}: ")
        except EOFError:
            raise CLIError("no secret given") from None
    return Target(
        host=host,
        port=port,
        username=username,
        secret=secret,
        ssl=context,
        auth="plain" if args.plain_login else "md5",
        timeout=args.timeout,
    )


# -- output --------------------------------------------------------------------


def message_to_json(message: Message) -> dict[str, JSONValue]:
    """Return a message's headers as a JSON-ready object.

    Keys keep the spelling of their first occurrence and the order Asterisk
    sent them in; a header that occurs once maps to its text, a header that
    repeats (``ChanVariable``, ``Output``, ``Variable``) maps to the list of
    its values, in order. Keys are compared case-insensitively, as AMI does.

    Args:
        message: A response or an event.

    Returns:
        The object.
    """
    return message.to_dict()


class Style:
    """ANSI styles, or none when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, text: str, *codes: str) -> str:
        """Wrap ``text`` in SGR ``codes`` when colour is on."""
        if not self.enabled or not codes:
            return text
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"


def _colour_for(name: str) -> str:
    lower = name.lower()
    if "hangup" in lower or "failure" in lower or lower.endswith("fail") or "shutdown" in lower:
        return "31"  # red
    if lower.startswith("new") or "connect" in lower or lower in ("dialbegin", "bridgeenter"):
        return "32"  # green
    if "state" in lower or lower.startswith("dial") or lower.startswith("bridge"):
        return "33"  # yellow
    if lower.startswith(("queue", "agent")):
        return "35"  # magenta
    return "36"  # cyan


def format_event(event: Message, style: Style, when: float | None = None) -> str:
    """Format an event as a readable block: a title line, then one header a line.

    Args:
        event: The event.
        style: Colours to use (or none).
        when: The receive time (``time.time()``), shown on the title line.

    Returns:
        The block, ending with a blank line.
    """
    name = getattr(event, "event_name", "") or event.get("Event", "?")
    stamp = time.strftime("%H:%M:%S", time.localtime(when)) if when is not None else ""
    if when is not None:
        stamp += f".{int(when % 1 * 1000):03d} "
    lines = [style.paint(stamp, "2") + style.paint(name, "1", _colour_for(name))]
    for key, value in event.headers:
        if key.lower() == "event":
            continue
        label = f"{key}:" if key else "  |"
        lines.append(f"  {style.paint(label, '2')} {value}")
    return "\n".join(lines) + "\n\n"


def format_table(
    rows: Sequence[Message], columns: Sequence[str] | None = None, width: int | None = None
) -> list[str]:
    """Lay out messages as a text table, one row each.

    Args:
        rows: The messages (event-list items).
        columns: The headers to show; by default every header that appears,
            in order of first appearance, less ``ActionID`` and ``EventList``.
            A repeated header shows its values joined with ``, ``.
        width: The most characters a line may take, or None for no limit.
            Within a limit, a cell longer than :data:`MAX_CELL` is cut (ending
            in ``~``), the columns that still do not fit are left out, and a
            last line names them.

    Returns:
        The lines: a heading, a rule, then the rows (and the note, if any).
    """
    if columns is None:
        seen: dict[str, str] = {}
        for row in rows:
            for key, _ in row.headers:
                if key and key.lower() not in _HIDDEN_COLUMNS:
                    seen.setdefault(key.lower(), key)
        columns = list(seen.values())
    cells = [[", ".join(row.get_all(column)) for column in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    hidden: list[str] = []
    if width is not None:
        widths = [min(w, MAX_CELL) for w in widths]
        used, shown = 0, 0
        for w in widths:
            needed = w if shown == 0 else used + 2 + w
            if shown and needed > width:
                break
            used, shown = needed, shown + 1
        widths[0] = min(widths[0], width)
        hidden = list(columns[shown:])
        columns, widths = columns[:shown], widths[:shown]

    def cut(text: str, limit: int) -> str:
        return text if len(text) <= limit else text[: limit - 1] + "~"

    def line(values: Sequence[str]) -> str:
        return "  ".join(cut(v, w).ljust(w) for v, w in zip(values, widths)).rstrip()

    lines = [line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)]
    if hidden:
        note = (
            f"({len(hidden)} more column{'s' if len(hidden) > 1 else ''}: {', '.join(hidden)}; "
            "pick with --columns, "
            "or --width 0, or --json)"
        )
        lines.extend(textwrap.wrap(note, width) if width is not None else [note])
    return lines


def table_width(choice: int | None, stream: TextIO) -> int | None:
    """The width tables get: ``--width`` (0 for none), else the terminal's, else none.

    The terminal's width is ``COLUMNS`` when set, else the size of the
    terminal ``stream`` is on; output that is not a terminal (a pipe, a file)
    gets no limit unless ``COLUMNS`` or ``--width`` asks for one.
    """
    if choice is not None:
        return choice or None
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"]) or None
    isatty = getattr(stream, "isatty", None)
    if isatty and isatty():
        return shutil.get_terminal_size().columns
    return None


def use_colour(choice: str, stream: TextIO) -> bool:
    """Tell whether to colour: ``always``, ``never``, or ``auto`` (a terminal, no NO_COLOR)."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if "NO_COLOR" in os.environ:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _one_line(text: object) -> str:
    return " / ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _error(text: object) -> None:
    print(f"amiasync: {_one_line(text)}", file=sys.stderr, flush=True)


def _note(text: str) -> None:
    print(f"amiasync: {text}", file=sys.stderr, flush=True)


#: Seconds of connecting before the "connecting to ..." note is printed.
SLOW_CONNECT_NOTE = 1.0


@contextlib.contextmanager
def _note_if_slow(target: Target, after: float = SLOW_CONNECT_NOTE) -> Iterator[None]:
    """Print "connecting to HOST:PORT ..." on stderr if the block lasts over ``after`` s.

    A quick connection prints nothing; a slow or silent host is not ten
    seconds of nothing.
    """
    handle = asyncio.get_running_loop().call_later(
        after, _note, f"connecting to {target.describe()} ..."
    )
    try:
        yield
    finally:
        handle.cancel()


# -- stopping on signals -------------------------------------------------------


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT or SIGTERM while in the block (where the loop allows).

    The subcommand modules (``agi-serve``, ``top``, ``bridge``) use it too.

    Args:
        stop: The event to set.
    """
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # Windows, or not the main thread: Ctrl-C raises KeyboardInterrupt
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _unless_stopped(awaitable: Awaitable[_R], stop: asyncio.Event) -> _R:
    """Await ``awaitable``; on Ctrl-C (``stop`` set) cancel it and raise KeyboardInterrupt.

    While the signal handlers are installed Ctrl-C only sets ``stop``, so a
    connect or login in progress must watch it, or it would wait out its timeout.
    """
    task = asyncio.ensure_future(awaitable)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise KeyboardInterrupt
    return task.result()


# -- events --------------------------------------------------------------------


async def run_events(args: argparse.Namespace, target: Target, out: TextIO) -> int:
    """Tail events until ``--count`` is reached, Ctrl-C, or the connection ends."""
    manager = Manager(
        action_timeout=target.timeout,
        connect_timeout=target.timeout,
        reconnect=args.reconnect,
        reconnect_max_delay=5.0,
        keepalive=20.0 if args.reconnect else None,
    )
    stop = asyncio.Event()
    failed: list[str] = []
    closing = False

    def on_state(state: ConnectionState, manager: Manager) -> None:
        if closing:
            return
        if state is ConnectionState.DISCONNECTED:
            if args.reconnect:
                _note("connection lost; reconnecting")
            else:
                failed.append(f"connection to {target.describe()} lost")
                stop.set()
        elif state is ConnectionState.RECONNECTED:
            _note(f"reconnected to {target.describe()}")
        elif state is ConnectionState.FAILED:
            failed.append(f"reconnecting to {target.describe()} failed: {manager.last_error}")
            stop.set()

    colour = use_colour(args.color, out)
    style = Style(colour)
    printed = 0
    keys = tuple(args.patterns)
    try:
        with stop_on_signals(stop):
            with _note_if_slow(target):
                banner = await _unless_stopped(
                    manager.connect(target.host, target.port, ssl=target.ssl), stop
                )
            # Subscribed before the login, so the FullyBooted sent right after it is seen.
            async with manager.events(*keys, maxsize=args.buffer) as stream:
                with _note_if_slow(target):
                    await _unless_stopped(_log_in(manager, target, events=True), stop)
                manager.register_state_callback(on_state)
                if not args.quiet:
                    what = " ".join(keys) if keys else "all events"
                    _note(
                        f"connected to {target.describe()} ({banner}); showing {what}; "
                        "Ctrl-C to stop"
                    )

                async def pump() -> None:
                    nonlocal printed
                    async for event in stream:
                        if args.json:
                            text = json.dumps(message_to_json(event), ensure_ascii=False) + "\n"
                        else:
                            text = format_event(event, style, time.time())
                        out.write(text)
                        out.flush()
                        printed += 1
                        if args.count is not None and printed >= args.count:
                            return

                pumping = asyncio.ensure_future(pump())
                stopping = asyncio.ensure_future(stop.wait())
                try:
                    await asyncio.wait({pumping, stopping}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stopping.cancel()
                if not pumping.done():
                    # Stopped: print what already arrived (a Shutdown before the
                    # connection closed), then end.
                    stream.close()
                    await pumping
                pumping.result()
                if stream.dropped:
                    _note(f"{stream.dropped} events dropped: the output was too slow")
    except BrokenPipeError:
        # `amiasync events | head`: the reader went away; that is a normal end.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, out.fileno())
        return 0
    finally:
        closing = True
        await manager.close()
    if failed and (args.count is None or printed < args.count):
        _error(failed[0])
        return 1
    return 0


# -- action and command ----------------------------------------------------------


def _parse_fields(items: Iterable[str]) -> list[tuple[str, str]]:
    fields = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"expected Key=Value, got {item!r}")
        fields.append((key.strip(), value))
    return fields


async def _log_in(manager: Manager, target: Target, *, events: bool) -> None:
    """Log in as the target says, with an explicit timeout (``login`` has none by default)."""
    await manager.login(
        target.username, target.secret, auth=target.auth, events=events, timeout=target.timeout
    )


@contextlib.asynccontextmanager
async def _session(target: Target, *, events: bool = False) -> AsyncIterator[Manager]:
    """Connect and log in (events off by default); log off and close on exit."""
    manager = Manager(action_timeout=target.timeout, connect_timeout=target.timeout)
    try:
        with _note_if_slow(target):
            await manager.connect(target.host, target.port, ssl=target.ssl)
            await _log_in(manager, target, events=events)
        yield manager
    finally:
        await manager.close()


def _print_response(
    response: Response, columns: Sequence[str] | None, width: int | None, out: TextIO
) -> None:
    for key, value in response.headers:
        if key.lower() != "actionid":
            out.write(f"{key}: {value}\n" if key else f"{value}\n")
    if response.is_event_list or response.events or response.complete is not None:
        out.write("\n")
        if response.events:
            for line in format_table(response.events, columns, width):
                out.write(line + "\n")
        else:
            out.write("(no items)\n")
        complete = response.complete
        if complete is not None:
            extra = ", ".join(
                f"{k}: {v}"
                for k, v in complete.headers
                if k.lower() not in ("event", "actionid", "eventlist")
            )
            out.write(f"\n{complete.event_name}" + (f" ({extra})" if extra else "") + "\n")
    out.flush()


async def run_action(args: argparse.Namespace, target: Target, out: TextIO) -> int:
    """Send one action; print its response (and event list); 1 if it failed."""
    action = Action(args.name, _parse_fields(args.fields))
    async with _session(target) as manager:
        response = await manager.send_action(action)
    if args.json:
        document = {
            "response": message_to_json(response),
            "events": [message_to_json(event) for event in response.events],
            "complete": None if response.complete is None else message_to_json(response.complete),
        }
        out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        out.flush()
    else:
        columns = [c for c in args.columns.split(",") if c] if args.columns else None
        _print_response(response, columns, table_width(args.width, out), out)
    if not response.success:
        _error(ActionFailed(response))
        return 1
    return 0


async def run_command(args: argparse.Namespace, target: Target, out: TextIO) -> int:
    """Run a CLI command; print its output lines."""
    text = " ".join(args.cli_command)
    async with _session(target) as manager:
        lines = await manager.command(text)
    for line in lines:
        out.write(line + "\n")
    out.flush()
    return 0


# -- fake server -----------------------------------------------------------------


async def generate_traffic(
    host: str,
    port: int,
    username: str,
    secret: str,
    every: float,
    *,
    fail_every: int = 5,
) -> None:
    """Originate a short fake call every ``every`` seconds, until cancelled.

    Connects as a client like any other (events off) and sends ``Originate``
    with ``Async: true`` to ``Local/100@amitest``; every ``fail_every``-th call
    goes to ``Local/fail@amitest`` and fails, so a failed OriginateResponse
    shows up too. The calls' Newchannel, Newstate, VarSet, OriginateResponse
    and Hangup events reach every other session.
    """
    async with connect(host, port, username=username, secret=secret, events=False) as manager:
        number = 0
        while manager.is_connected():
            number += 1
            failing = fail_every > 0 and number % fail_every == 0
            await manager.send_action(
                core.Originate(
                    "Local/fail@amitest" if failing else "Local/100@amitest",
                    application="Wait",
                    data="1",
                    async_=True,
                    caller_id=f'"Caller {number}" <555{number % 10000:04d}>',
                    variable={"CALL_NUMBER": number},
                )
            )
            await asyncio.sleep(every)


async def run_fake_server(args: argparse.Namespace, out: TextIO) -> int:
    """Serve the fake Asterisk until Ctrl-C or SIGTERM.

    It never reads AMI_HOST or AMI_PORT: those name a real PBX. It listens on
    127.0.0.1:15038 by default, not on Asterisk's 5038, so a client pointed
    at it can never log in to a real Asterisk on the same machine by mistake.
    """
    from .testing import FakeAsterisk

    host = args.host or "127.0.0.1"
    port = FAKE_SERVER_PORT if args.port is None else args.port
    username = args.username or "admin"
    secret = args.secret if args.secret is not None else os.environ.get("AMI_SECRET", "secret")
    server = FakeAsterisk(
        users={username: secret}, host=host, port=port, call_duration=args.call_duration
    )
    try:
        await server.start()
    except OSError as exc:
        raise CLIError(f"cannot listen on {host}:{port}: {exc}") from exc
    stop = asyncio.Event()
    traffic: asyncio.Task[None] | None = None
    try:
        with stop_on_signals(stop):
            out.write(f"listening on {server.host}:{server.port}\n")
            out.flush()
            if not args.quiet:
                shown = (
                    "secret"
                    if args.secret is None and "AMI_SECRET" not in os.environ
                    else "<the secret>"
                )
                # Every setting on the command line: an AMI_HOST exported for a
                # real PBX must not take the client there.
                _note(
                    f"fake Asterisk ready; try: AMI_SECRET={shown} amiasync --host {server.host} "
                    f"--port {server.port} --username {username} events"
                )
            if args.traffic > 0:
                traffic = asyncio.ensure_future(
                    generate_traffic(server.host, server.port, username, secret, args.traffic)
                )
                traffic.add_done_callback(_report_traffic_end)
            await stop.wait()
    finally:
        if traffic is not None:
            traffic.cancel()
            with contextlib.suppress(asyncio.CancelledError, AMIError):
                await traffic
        await server.stop()
    return 0


async def run_demo_command(args: argparse.Namespace, out: TextIO) -> int:
    """Run the guided tour: on the embedded fake Asterisk unless a host is asked for."""
    from .demo import run_demo

    host, port, username, secret = args.host, args.port, args.username, args.secret
    if args.from_env:
        host = host or os.environ.get("AMI_HOST") or "127.0.0.1"
        if port is None and os.environ.get("AMI_PORT"):
            try:
                port = _port(os.environ["AMI_PORT"])
            except argparse.ArgumentTypeError as exc:
                raise CLIError(f"AMI_PORT: {exc}") from None
        username = username or os.environ.get("AMI_USERNAME")
        secret = secret if secret is not None else os.environ.get("AMI_SECRET")
    if host is not None and (not username or secret is None):
        raise CLIError(
            "a real Asterisk needs --username and a secret (AMI_SECRET with --from-env, "
            "or --secret)"
        )
    return await run_demo(
        host,
        _PLAIN_PORT if port is None else port,
        username or "admin",
        "secret" if secret is None else secret,
        out=out,
        timeout=args.timeout,
        channel=args.channel,
    )


def _report_traffic_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _error(f"call traffic stopped: {task.exception()}")


# -- the parser and main -----------------------------------------------------------

_EVENTS_EPILOG = """\
JSON output (--json): one object per line, the event's headers in the order
Asterisk sent them, e.g. {"Event": "Hangup", "Channel": "PJSIP/101-0000002a", ...};
a header that repeats (ChanVariable) becomes a list of its values. Without
--json each event is a block (coloured when stdout is a terminal and NO_COLOR
is not set). Ctrl-C (or SIGTERM) stops with exit status 0.

examples:
  amiasync events                      every event
  amiasync events Newchannel Hangup    just these
  amiasync events 'Queue*' --json      globs; quote them from the shell
  amiasync events --count 1 FullyBooted
"""

_ACTION_EPILOG = """\
Repeat a key to send the header more than once (Variable=A=1 Variable=B=2).
The exit status is 1 when Asterisk answers with an error.
With --json: {"response": {headers}, "events": [{headers}, ...], "complete": {headers} or null};
repeated headers are lists.

examples:
  amiasync action Ping
  amiasync action CoreShowChannels --columns Channel,ChannelStateDesc,Duration
  amiasync action Originate Channel=PJSIP/101 Exten=200 Context=default Priority=1 \\
      Variable=SOURCE=cli Variable=TAG=x Async=true
"""


#: A subcommand's runner: ``run(args, target, out)`` for a client subcommand
#: (``set_defaults(client=True)``), ``run(args, out)`` for one that makes its
#: own connections or none (``fake-server``, ``demo``).
Runner = Callable[..., Coroutine[Any, Any, int]]

#: Modules that add subcommands, imported when the parser is built. Each has
#: ``add_subcommand(commands, parent)``: ``commands`` is the subparsers object,
#: ``parent`` a parent parser holding the connection options (so they work
#: after the subcommand too). It calls ``commands.add_parser(NAME,
#: parents=[parent], ...)`` (or without ``parents`` if it makes no client
#: connection) and ``set_defaults(run=RUNNER, client=True or False)``. Add a
#: subcommand with one line here.
SUBCOMMAND_MODULES: list[str] = ["amiasync.agi.cli", "amiasync.live.top", "amiasync.bridge.cli"]


def _add_events(commands: Any, parent: argparse.ArgumentParser) -> None:
    events = commands.add_parser(
        "events",
        parents=[parent],
        help="tail events live, filtered by name or glob",
        description="Print events as they arrive, all of them or those matching a pattern.",
        epilog=_EVENTS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    events.add_argument(
        "patterns",
        nargs="*",
        metavar="PATTERN",
        help="event names or globs (case-insensitive); none for every event",
    )
    events.add_argument("--json", action="store_true", help="one JSON object per line")
    events.add_argument(
        "--count", type=_positive_int, metavar="N", help="exit (status 0) after N events"
    )
    events.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the blocks: auto (a terminal without NO_COLOR), always or never",
    )
    events.add_argument(
        "--reconnect",
        action="store_true",
        help="reconnect and go on when the connection is lost (instead of exit status 1)",
    )
    events.add_argument(
        "--buffer",
        type=_positive_int,
        default=10_000,
        metavar="N",
        help="events held while the output is slow; past it the oldest are dropped (default 10000)",
    )
    events.add_argument("-q", "--quiet", action="store_true", help="no 'connected' note on stderr")
    events.set_defaults(run=run_events, client=True)


def _add_action(commands: Any, parent: argparse.ArgumentParser) -> None:
    action = commands.add_parser(
        "action",
        parents=[parent],
        help="send any action and print the response",
        description="Send an action and print its response and, for an event list, its "
        "items as a table that fits the terminal.",
        epilog=_ACTION_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    action.add_argument("name", metavar="NAME", help="the action, e.g. Ping or QueueStatus")
    action.add_argument("fields", nargs="*", metavar="Key=Value", help="headers to send")
    action.add_argument("--json", action="store_true", help="print JSON instead")
    action.add_argument(
        "--columns", metavar="A,B,...", help="the event-list headers to show in the table"
    )
    action.add_argument(
        "--width",
        type=_non_negative_int,
        metavar="N",
        help="the table's width in characters; 0 for no limit (default: the terminal's, "
        "or COLUMNS; no limit when the output is not a terminal)",
    )
    action.set_defaults(run=run_action, client=True)


def _add_command(commands: Any, parent: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "command",
        parents=[parent],
        help="run an Asterisk CLI command and print its output",
        description="Run an Asterisk CLI command (the Command action) and print the lines "
        "it outputs. Exit status 1 when the command is unknown or fails.",
        epilog='example: amiasync command "core show channels"',
    )
    command.add_argument(
        "cli_command", nargs="+", metavar="CLI-COMMAND", help="the command (quoted or not)"
    )
    command.set_defaults(run=run_command, client=True)


def _add_fake_server(commands: Any, parent: argparse.ArgumentParser) -> None:
    fake = commands.add_parser(
        "fake-server",
        help="run the embedded fake Asterisk, with call traffic, to try things without a PBX",
        description="Serve the embedded fake Asterisk (amiasync.testing.FakeAsterisk) and "
        "originate a short fake call every --traffic seconds. Prints 'listening on HOST:PORT' "
        "on stdout once ready. Stops on Ctrl-C or SIGTERM with exit status 0. It reads no "
        "AMI_HOST or AMI_PORT, and its default port is not Asterisk's.",
    )
    suppress = argparse.SUPPRESS
    fake.add_argument("--host", default=suppress, help="address to listen on (127.0.0.1)")
    fake.add_argument(
        "--port",
        type=_port,
        default=suppress,
        help=f"port; 0 picks a free one ({FAKE_SERVER_PORT}, not Asterisk's 5038)",
    )
    fake.add_argument("--username", "-u", default=suppress, help="the user to accept (admin)")
    fake.add_argument(
        "--secret", default=suppress, help="its secret (default: env AMI_SECRET, else 'secret')"
    )
    fake.add_argument(
        "--traffic",
        type=_non_negative_float,
        default=2.0,
        metavar="SECONDS",
        help="originate a fake call every SECONDS (default 2); 0 for none",
    )
    fake.add_argument(
        "--call-duration",
        type=_non_negative_float,
        default=1.0,
        metavar="SECONDS",
        help="how long each fake call lasts (default 1)",
    )
    fake.add_argument("-q", "--quiet", action="store_true", help="no hint on stderr")
    fake.set_defaults(run=run_fake_server, client=False)


def _add_demo(commands: Any, parent: argparse.ArgumentParser) -> None:
    from .demo import DEMO_CHANNEL

    demo = commands.add_parser(
        "demo",
        help="a guided tour of the library (on the embedded fake Asterisk by default)",
        description="Walk through the library's main moves, each with a one-line "
        "explanation and the headers that came back: connect(), callbacks by name, class, "
        "'' and None, an action, a tracked originate(), an event list, events(), an orphan "
        "response and a clean shutdown. Without --host or --from-env it runs on the embedded "
        "fake Asterisk and reads nothing from the environment.",
    )
    suppress = argparse.SUPPRESS
    demo.add_argument(
        "--host", default=suppress, help="run against this real Asterisk instead of the fake one"
    )
    demo.add_argument("--port", type=_port, default=suppress, help="its manager port (5038)")
    demo.add_argument("--username", "-u", default=suppress, help="the manager.conf user")
    demo.add_argument(
        "--secret", default=suppress, help="its secret (prefer AMI_SECRET with --from-env)"
    )
    demo.add_argument(
        "--from-env",
        action="store_true",
        help="take the Asterisk to use from AMI_HOST, AMI_PORT, AMI_USERNAME and AMI_SECRET "
        "(as 'eval \"$(scripts/asterisk-sandbox.sh env)\"' sets them)",
    )
    demo.add_argument(
        "--channel",
        default=DEMO_CHANNEL,
        help=f"the channel to call (default {DEMO_CHANNEL}, the sandbox's test extension)",
    )
    demo.add_argument(
        "--timeout",
        type=_positive_float,
        default=suppress,
        metavar="SECONDS",
        help="seconds allowed for each step (default 10)",
    )
    demo.set_defaults(run=run_demo_command, client=False)


_BUILTIN_SUBCOMMANDS = (_add_events, _add_action, _add_command, _add_fake_server, _add_demo)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand.

    Returns:
        The parser: the built-in subcommands, then those of
        :data:`SUBCOMMAND_MODULES`.
    """
    parser = argparse.ArgumentParser(
        prog="amiasync",
        description="Talk to Asterisk's manager interface (AMI) from the shell.",
        epilog="Environment: AMI_HOST, AMI_PORT, AMI_TLS_PORT, AMI_USERNAME, AMI_SECRET, "
        "AMI_TLS, AMI_TLS_CAFILE, NO_COLOR, COLUMNS. Run 'amiasync COMMAND --help' for a "
        "command's options. Try it without a PBX: 'amiasync demo', or 'amiasync fake-server' "
        "in one shell and the command it suggests in another.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"amiasync {__version__} (Python {sys.version.split()[0]})",
    )
    add_connection_options(parser, top_level=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parent = argparse.ArgumentParser(add_help=False)
    add_connection_options(parent, top_level=False)
    adders: list[Callable[[Any, argparse.ArgumentParser], None]] = list(_BUILTIN_SUBCOMMANDS)
    for name in SUBCOMMAND_MODULES:
        adders.append(importlib.import_module(name).add_subcommand)
    for add in adders:
        add(commands, parent)
    return parser


def _setup_logging(verbose: int) -> None:
    level = logging.ERROR if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("amiasync: %(levelname)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


def _hint(exc: AMIError, target: Target) -> str | None:
    """A likely cause of a failed connection: TLS against a plain port, or the reverse."""
    text = str(exc)
    if target.ssl is not None and (
        isinstance(exc.__cause__, ssl_module.SSLError) or "WRONG_VERSION_NUMBER" in text
    ):
        return (
            f"hint: {target.host}:{target.port} does not speak TLS; is it the plain AMI port? "
            f"Drop --tls, or use the TLS port (AMI_TLS_PORT, often {_TLS_PORT})"
        )
    if target.ssl is None and ("no AMI banner" in text or "did not send an AMI banner" in text):
        return f"hint: if {target.host}:{target.port} is a TLS port (often {_TLS_PORT}), add --tls"
    return None


def _run(args: argparse.Namespace) -> int:
    out = sys.stdout
    run: Runner = args.run
    if not args.client:
        _setup_logging(args.verbose)
        return asyncio.run(run(args, out))
    _setup_logging(args.verbose)
    target = resolve_target(args)
    try:
        return asyncio.run(run(args, target, out))
    except (ManagerSocketError, ProtocolError) as exc:
        hint = _hint(exc, target)
        if hint is None:
            raise
        raise CLIError(f"{exc}; {hint}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Args:
        argv: The arguments (``sys.argv[1:]`` by default).

    Returns:
        0 on success (also ``events`` and ``fake-server`` stopped with Ctrl-C),
        1 on an error, 2 on a usage error, 130 when another command is
        interrupted with Ctrl-C.
    """
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ActionTimeout as exc:
        _error(f"timed out: {exc}")
    except (AMIError, CLIError) as exc:
        _error(exc)
    except KeyboardInterrupt:
        return 0 if args.command in ("events", "fake-server") else 130
    return 1
