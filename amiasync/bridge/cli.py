"""``amiasync bridge``: run the Redis bridge from the shell.

::

    AMI_USERNAME=admin AMI_SECRET=... amiasync bridge --redis redis://127.0.0.1:6379/0 \\
        --pbx pbx1=10.0.0.1 --pbx pbx2=10.0.0.2:5039

or ``amiasync bridge --config bridge.toml`` for per-PBX credentials::

    redis = "redis://127.0.0.1:6379/0"
    maxlen = 1000000            # MAXLEN ~ per stream (optional)

    [pbx.pbx1]
    host = "10.0.0.1"
    username = "admin"
    secret_env = "PBX1_SECRET"  # or secret = "..." (a file only you can read)

    [pbx.pbx2]
    host = "10.0.0.2"
    port = 5039

A PBX without ``username`` / ``secret`` takes ``--username`` / ``AMI_USERNAME``
and ``AMI_SECRET``. Prints ``bridge ready`` on stdout once started, a status
line per PBX on stderr every ``--status-interval`` seconds, and stops on
SIGINT or SIGTERM after writing what it buffered (exit status 0; 1 if some
of it could not be written).

This module imports nothing from redis-py until the command runs, so the
rest of the command line works without it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from ..cli import stop_on_signals

__all__ = ["add_subcommand", "run_bridge", "load_config", "parse_pbx"]

log = logging.getLogger("amiasync.bridge")


def add_subcommand(commands: Any, parent: argparse.ArgumentParser) -> None:
    """Add the ``bridge`` subcommand to the CLI's subparsers (see ``cli.SUBCOMMAND_MODULES``).

    ``parent`` (one PBX's connection options) is not used: the bridge takes
    many PBXs, from ``--pbx`` or ``--config``.
    """
    bridge = commands.add_parser(
        "bridge",
        help="every event of every PBX into Redis streams; actions from Redis (needs redis-py)",
        description="Append every event of every PBX to the Redis stream ami:events:NAME and "
        "serve action requests from ami:actions. See the README's 'Redis Streams bridge'.",
    )
    bridge.add_argument("--redis", help="Redis URL (default redis://127.0.0.1:6379/0)")
    bridge.add_argument(
        "--pbx",
        action="append",
        default=[],
        metavar="NAME=HOST[:PORT]",
        help="a PBX to bridge (repeat for more)",
    )
    bridge.add_argument("--config", metavar="FILE", help="a TOML file (see the module docs)")
    bridge.add_argument("--username", "-u", help="the manager.conf user (env AMI_USERNAME)")
    bridge.add_argument("--secret", help="its secret; prefer the AMI_SECRET environment variable")
    bridge.add_argument("--plain-login", action="store_true", help="plain Login, not MD5")
    bridge.add_argument("--maxlen", type=int, help="trim each stream to about N entries")
    bridge.add_argument(
        "--buffer",
        type=int,
        default=100_000,
        metavar="N",
        help="events per PBX held while Redis is down or slow (default 100000)",
    )
    bridge.add_argument(
        "--buffer-mib",
        type=int,
        default=256,
        metavar="MIB",
        help="MiB of events per PBX held while Redis is down or slow (default 256)",
    )
    bridge.add_argument("--no-actions", action="store_true", help="do not serve ami:actions")
    bridge.add_argument(
        "--status-interval",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="print events/s per PBX on stderr every SECONDS (default 10; 0 for never)",
    )
    bridge.add_argument(
        "--heartbeat",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="a bridge silent this long counts as dead for its in-flight actions (default 10)",
    )
    bridge.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="log to stderr"
    )
    bridge.set_defaults(run=run_bridge, client=False)


def parse_pbx(text: str) -> tuple[str, str, int]:
    """Parse ``NAME=HOST[:PORT]``.

    Raises:
        ValueError: Not of that form.
    """
    name, sep, address = text.partition("=")
    if not sep or not name or not address:
        raise ValueError(f"--pbx takes NAME=HOST[:PORT], not {text!r}")
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit():
        host, port = address, "5038"
    return name, host.strip("[]"), int(port)


def load_config(path: str) -> dict[str, Any]:
    """Read a TOML configuration file.

    Raises:
        ValueError: The file is not valid TOML or has no ``[pbx.NAME]`` table.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - depends on the Python version
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    with open(path, "rb") as file:
        try:
            config = tomllib.load(file)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: {exc}") from exc
    if not isinstance(config.get("pbx"), dict) or not config["pbx"]:
        raise ValueError(f"{path}: no [pbx.NAME] table")
    return dict(config)


def _servers(args: argparse.Namespace, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    username = args.username or os.environ.get("AMI_USERNAME")
    secret = args.secret if args.secret is not None else os.environ.get("AMI_SECRET")
    servers: dict[str, dict[str, Any]] = {}
    for name, table in config.get("pbx", {}).items():
        entry = {k: v for k, v in table.items() if k != "secret_env"}
        if "secret_env" in table:
            entry["secret"] = os.environ.get(table["secret_env"])
        servers[name] = entry
    for text in args.pbx:
        name, host, port = parse_pbx(text)
        servers[name] = {"host": host, "port": port}
    for name, entry in servers.items():
        entry.setdefault("username", username)
        if entry.get("secret") is None:
            entry["secret"] = secret
        if not entry.get("username") or entry.get("secret") is None:
            raise ValueError(f"{name}: no username or secret (AMI_USERNAME, AMI_SECRET)")
        if args.plain_login:
            entry.setdefault("auth", "plain")
    if not servers:
        raise ValueError("no PBX: give --pbx NAME=HOST[:PORT] or --config FILE")
    return servers


async def run_bridge(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Run the bridge until SIGINT or SIGTERM; return the exit status."""
    try:
        config = load_config(args.config) if args.config else {}
        servers = _servers(args, config)
    except (OSError, ValueError) as exc:
        print(f"amiasync bridge: {exc}", file=sys.stderr)
        return 2
    # The CLI has set up the "amiasync" logger; a long-running bridge shows
    # its warnings (links lost, Redis errors) by default.
    verbose = getattr(args, "verbose", 0)
    logging.getLogger("amiasync").setLevel(logging.WARNING if verbose <= 0 else logging.INFO)
    return await _serve(args, config, servers)


async def _serve(
    args: argparse.Namespace, config: Mapping[str, Any], servers: dict[str, dict[str, Any]]
) -> int:
    from .service import Bridge

    url = args.redis or config.get("redis") or "redis://127.0.0.1:6379/0"
    maxlen = args.maxlen if args.maxlen is not None else config.get("maxlen")
    bridge = Bridge(
        servers,
        url,
        maxlen=maxlen,
        buffer_size=args.buffer,
        buffer_bytes=args.buffer_mib << 20,
        actions=not args.no_actions,
        executor_options={"heartbeat": args.heartbeat},
    )
    stop = asyncio.Event()
    with stop_on_signals(stop):
        await bridge.start()
        print("bridge ready: " + ", ".join(servers), flush=True)
        reporter = asyncio.ensure_future(_report(bridge, args.status_interval))
        await stop.wait()
        reporter.cancel()
        flushed = await bridge.stop()
    totals = bridge.stats()
    for name, stats in totals.items():
        print(
            f"bridge: {name}: {stats.accepted} events, {stats.written} entries written, "
            f"{stats.dropped} dropped, {stats.buffered} not written",
            file=sys.stderr,
        )
    return 0 if flushed else 1


async def _report(bridge: Any, interval: float) -> None:
    if interval <= 0:
        return
    last = {name: s.accepted for name, s in bridge.stats().items()}
    then = time.monotonic()
    while True:
        await asyncio.sleep(interval)
        now = time.monotonic()
        parts = []
        for name, stats in bridge.stats().items():
            rate = (stats.accepted - last[name]) / (now - then)
            last[name] = stats.accepted
            state = "up" if stats.connected else "DOWN"
            redis = f" redis error: {stats.redis_error}" if stats.redis_error else ""
            parts.append(
                f"{name} {state} {rate:.0f} ev/s buffered {stats.buffered} "
                f"dropped {stats.dropped}{redis}"
            )
        then = now
        print("bridge: " + "; ".join(parts), file=sys.stderr, flush=True)
