"""``amiasync top``: a live terminal view of channels, bridges, calls and queues.

On a terminal it takes the alternate screen and redraws a few times a second
from a :class:`~amiasync.live.LiveState`, fitting the terminal's width and
height, states in colour; ``s`` changes the sort order, ``q`` quits. It
reconnects on its own and says ``NOT SYNCED`` (in red) while it is stale.
With ``--once``, or when standard output is not a terminal, it prints one
synced snapshot as text (``--json`` for machines) and exits.

Plain ANSI escapes and ``termios``: no terminal library is needed for a view
this size, so none is a dependency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ..cli import stop_on_signals
from ..connection import Manager
from ..exceptions import AMIError, ManagerAuthError
from .state import LiveState

if TYPE_CHECKING:
    from ..cli import Target

__all__ = ["add_subcommand", "run_top", "render", "snapshot_json", "SORT_KEYS"]

#: ``--sort`` choices, in the order ``s`` cycles through them.
SORT_KEYS = ("name", "state", "caller", "call")

_STATE_COLOURS = {
    "Up": "32",
    "Ring": "33",
    "Ringing": "33",
    "Dialing": "33",
    "Down": "31",
    "Busy": "31",
    "Rsrvd": "31",
}
_RESET = "\x1b[0m"


def add_subcommand(commands: Any, parent: argparse.ArgumentParser) -> None:
    """Register ``top`` on the CLI's subcommand parsers (see ``cli.SUBCOMMAND_MODULES``)."""
    top = commands.add_parser(
        "top",
        parents=[parent],
        help="a live view of channels, bridges, calls and queues",
        description="Show Asterisk's channels, bridges, calls and queues live, kept true "
        "from AMI (amiasync.live.LiveState). Keys: s sort, q quit. With --once, or when "
        "stdout is not a terminal, print one snapshot and exit.",
    )
    top.add_argument("--once", action="store_true", help="print one snapshot and exit")
    top.add_argument("--json", action="store_true", help="the snapshot as JSON (implies --once)")
    top.add_argument("--sort", choices=SORT_KEYS, default="name", help="channel order (name)")
    top.add_argument(
        "--interval",
        type=float,
        default=0.25,
        metavar="SECONDS",
        help="seconds between redraws (default 0.25)",
    )
    top.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour: auto (a terminal without NO_COLOR), always or never",
    )
    top.set_defaults(run=run_top, client=True)


# -- rendering (pure: a LiveState in, lines out) ---------------------------------


def _paint(text: str, code: str | None, colour: bool) -> str:
    return f"\x1b[{code}m{text}{_RESET}" if colour and code else text


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _table(
    title: str, headers: Sequence[str], rows: list[list[str]], width: int
) -> list[list[str]]:
    """Rows of cells, each column cut so the line fits ``width``; the header first."""
    if not rows:
        return [[title + " (none)"]]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    # Shrink the widest column until the line fits (two spaces between columns).
    while sum(widths) + 2 * (len(widths) - 1) > width and max(widths) > 4:
        widths[widths.index(max(widths))] -= 1
    out = [[title], [_fit(h, w).ljust(w) for h, w in zip(headers, widths)]]
    for row in rows:
        out.append([_fit(cell, w).ljust(w) for cell, w in zip(row, widths)])
    return out


def _section(title: str, headers: Sequence[str], rows: list[list[str]], width: int) -> list[str]:
    """A blank line, then the table's lines."""
    return ["", *("  ".join(cells).rstrip() for cells in _table(title, headers, rows, width))]


def _sort_key(sort: str) -> Any:
    if sort == "state":
        return lambda c: (c.state, c.name)
    if sort == "caller":
        return lambda c: (c.caller_id_num, c.name)
    if sort == "call":
        return lambda c: (c.linkedid, c.name)
    return lambda c: c.name


def render(
    live: LiveState,
    *,
    width: int,
    height: int | None = None,
    colour: bool = False,
    sort: str = "name",
    target: str = "",
    now: float | None = None,
) -> list[str]:
    """The view as lines, at most ``width`` characters each (and ``height`` lines).

    Args:
        live: The state to show.
        width: The terminal's width.
        height: The terminal's height, or None for no limit.
        colour: Whether to add ANSI colours.
        sort: One of :data:`SORT_KEYS`.
        target: ``host:port`` for the title line.
        now: The time for waiting callers (``time.time()`` by default).

    Returns:
        The lines, without newlines.
    """
    now = time.time() if now is None else now
    synced = live.is_synced
    status = "SYNCED" if synced else "NOT SYNCED"
    title = (
        f"amiasync top {target}  {len(live.channels)} channels  {len(live.bridges)} bridges  "
        f"{len(live.calls)} calls  {len(live.queues)} queues  sort: {sort}  (s: sort, q: quit)"
    )
    lines = [
        _paint(status, "1;32" if synced else "1;41;97", colour)
        + " "
        + _fit(title, width - len(status) - 1)
    ]

    channels = sorted(live.channels.values(), key=_sort_key(sort))
    rows = [
        [
            c.name,
            c.state + (" (hold)" if c.on_hold else ""),
            f"{c.caller_id_num} {c.caller_id_name}".strip(),
            c.connected_line_num,
            c.application,
            (c.bridge_id or "")[:8],
            c.uniqueid,
        ]
        for c in channels
    ]
    headers = ["CHANNEL", "STATE", "CALLER", "CONNECTED", "APP", "BRIDGE", "UNIQUEID"]
    blocks: list[list[str]] = []
    for index, cells in enumerate(_table("Channels", headers, rows, width)):
        if index >= 2 and colour:
            state = channels[index - 2].state
            cells = list(cells)
            code = "35" if channels[index - 2].on_hold else _STATE_COLOURS.get(state)
            cells[1] = _paint(cells[1], code, colour)
        blocks.append(cells)
    lines.extend("  ".join(cells).rstrip() for cells in blocks)

    names = {u: c.name for u, c in live.channels.items()}
    bridge_rows = [
        [
            b.bridge_id[:8],
            b.type,
            b.technology,
            ", ".join(sorted(names.get(u, u) for u in b.channels)),
        ]
        for b in sorted(live.bridges.values(), key=lambda b: b.bridge_id)
    ]
    lines += _section("Bridges", ["BRIDGE", "TYPE", "TECHNOLOGY", "CHANNELS"], bridge_rows, width)
    call_rows = [
        [c.linkedid, str(len(c.channels)), ", ".join(sorted(names.get(u, u) for u in c.channels))]
        for c in sorted(live.calls.values(), key=lambda c: c.linkedid)
    ]
    lines += _section("Calls", ["LINKEDID", "N", "CHANNELS"], call_rows, width)
    queue_rows = []
    for queue in sorted(live.queues.values(), key=lambda q: q.name):
        waiting = ", ".join(f"{c.channel} {int(now - c.joined)}s" for c in queue.callers)
        queue_rows.append([queue.name, queue.strategy, str(len(queue.callers)), "", waiting])
        for member in sorted(queue.members.values(), key=lambda m: m.interface):
            flags = [member.status_name]
            if member.paused:
                flags.append(
                    "paused" + (f" ({member.paused_reason})" if member.paused_reason else "")
                )
            if member.in_call:
                flags.append("in call")
            queue_rows.append(["", "", "", member.interface, ", ".join(flags)])
    headers = ["QUEUE", "STRATEGY", "WAITING", "MEMBER", "STATE"]
    lines += _section("Queues", headers, queue_rows, width)
    if not colour:
        lines = [_fit(line, width) for line in lines]
    if height is not None and len(lines) > height:
        lines = [*lines[: height - 1], f"… {len(lines) - height + 1} more lines"]
    return lines


def _plain(value: Any) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {name: _plain(item) for name, item in value._asdict().items()}
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def snapshot_json(live: LiveState) -> dict[str, Any]:
    """The state as plain JSON-ready data (sets become sorted lists)."""
    return {
        "synced": live.is_synced,
        "channels": [_plain(c) for c in live.channels.values()],
        "bridges": [_plain(b) for b in live.bridges.values()],
        "calls": [_plain(c) for c in live.calls.values()],
        "queues": [_plain(q) for q in live.queues.values()],
    }


# -- running ---------------------------------------------------------------------------


def _terminal_size(out: TextIO) -> os.terminal_size:
    # The terminal itself first: COLUMNS/LINES in the environment (what
    # shutil.get_terminal_size prefers) go stale when the window is resized.
    try:
        return os.get_terminal_size(out.fileno())
    except (OSError, ValueError, AttributeError):
        return shutil.get_terminal_size()


def _use_colour(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    return "NO_COLOR" not in os.environ and stream.isatty()


@contextlib.contextmanager
def _screen(out: TextIO) -> Iterator[None]:
    """The alternate screen, no cursor, and keys without Enter (when stdin is a terminal)."""
    restore = None
    stdin = sys.stdin
    if stdin is not None and stdin.isatty():
        import termios
        import tty

        fd = stdin.fileno()
        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)

        def restore_terminal() -> None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)

        restore = restore_terminal
    out.write("\x1b[?1049h\x1b[?25l")
    out.flush()
    try:
        yield
    finally:
        out.write("\x1b[?25h\x1b[?1049l")
        out.flush()
        if restore is not None:
            restore()


async def _connect(target: Target, manager: Manager, stop: asyncio.Event, wait: bool) -> None:
    """Connect and log in; with ``wait``, keep trying until Asterisk answers (or stop)."""
    while True:
        try:
            await manager.connect(target.host, target.port, ssl=target.ssl)
            await manager.login(
                target.username, target.secret, auth=target.auth, timeout=target.timeout
            )
            return
        except ManagerAuthError:
            raise
        except AMIError:
            if manager.is_connected():
                await manager.close()
            if not wait or stop.is_set():
                raise
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        if stop.is_set():
            return


async def run_top(args: argparse.Namespace, target: Target, out: TextIO) -> int:
    """Run ``amiasync top``; return the exit status."""
    once = args.once or args.json or not out.isatty()
    manager = Manager(
        action_timeout=target.timeout,
        connect_timeout=target.timeout,
        reconnect=True,
        reconnect_max_delay=2.0,
        keepalive=5.0,
    )
    stop = asyncio.Event()
    with stop_on_signals(stop):
        try:
            if once:
                await _connect(target, manager, stop, wait=False)
                async with LiveState(manager) as live:
                    await live.synced(timeout=target.timeout)
                    if args.json:
                        json.dump(snapshot_json(live), out, indent=1)
                        out.write("\n")
                    else:
                        width = shutil.get_terminal_size((120, 40)).columns
                        for line in render(
                            live, width=width, sort=args.sort, target=target.describe()
                        ):
                            out.write(line + "\n")
                return 0
            return await _live_view(args, target, manager, stop, out)
        finally:
            await manager.close()


async def _live_view(
    args: argparse.Namespace, target: Target, manager: Manager, stop: asyncio.Event, out: TextIO
) -> int:
    colour = _use_colour(args.color, out)
    sort = [args.sort]
    loop = asyncio.get_running_loop()

    def on_key() -> None:
        key = sys.stdin.read(1)
        if key in ("q", "Q", "\x03"):
            stop.set()
        elif key in ("s", "S"):
            sort[0] = SORT_KEYS[(SORT_KEYS.index(sort[0]) + 1) % len(SORT_KEYS)]

    with _screen(out):
        reading = False
        if sys.stdin is not None and sys.stdin.isatty():
            loop.add_reader(sys.stdin.fileno(), on_key)
            reading = True
        try:
            connecting = asyncio.ensure_future(_connect(target, manager, stop, wait=True))
            while not connecting.done():
                out.write("\x1b[H\x1b[2J")
                out.write(
                    _paint("NOT SYNCED", "1;41;97", colour) + f" connecting to {target.describe()}…"
                )
                out.flush()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(connecting), args.interval)
            await connecting
            if stop.is_set():
                return 0
            async with LiveState(manager) as live:
                while not stop.is_set():
                    size = _terminal_size(out)
                    lines = render(
                        live,
                        width=size.columns,
                        height=size.lines,
                        colour=colour,
                        sort=sort[0],
                        target=target.describe(),
                    )
                    out.write("\x1b[H" + "\x1b[K\n".join(lines) + "\x1b[K\x1b[J")
                    out.flush()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), args.interval)
        finally:
            if reading:
                loop.remove_reader(sys.stdin.fileno())
    return 0
