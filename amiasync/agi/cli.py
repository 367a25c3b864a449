"""``amiasync agi-serve module:app``: serve a FastAGIServer from the shell.

Registered in :mod:`amiasync.cli` through :func:`add_subcommand` and :func:`run`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from typing import TextIO

from ..cli import stop_on_signals
from .fastagi import DEFAULT_FASTAGI_PORT, FastAGIServer

__all__ = ["add_subcommand", "run", "load_app", "COMMAND"]

#: The subcommand's name.
COMMAND = "agi-serve"

_EPILOG = """\
The module is imported from the current directory (or PYTHONPATH); APP is the
name of a FastAGIServer in it (default: app). Prints 'listening on HOST:PORT'
on stdout once ready; stops on Ctrl-C or SIGTERM, letting running calls finish
for --grace seconds, with exit status 0.

example:
  amiasync agi-serve examples.fastagi_ivr:app --port 4573
  ; extensions.conf:  exten => 500,1,AGI(agi://127.0.0.1:4573/ivr?lang=de)
"""


class LoadError(Exception):
    """The ``module:app`` argument does not name a FastAGIServer."""


def add_subcommand(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parent: argparse.ArgumentParser,
) -> None:
    """Add ``agi-serve`` to the CLI's subcommands.

    ``parent`` (the AMI connection options) is not used: the server listens
    for Asterisk, it does not connect to a manager port.
    """
    parser = commands.add_parser(
        COMMAND,
        help="serve a FastAGI app (module:app) for Asterisk's AGI(agi://...)",
        description="Run a FastAGIServer defined in a Python module.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="MODULE[:APP]", help="e.g. myivr:app")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_FASTAGI_PORT,
        help=f"port; 0 picks a free one ({DEFAULT_FASTAGI_PORT})",
    )
    parser.add_argument(
        "--grace", type=float, default=10.0, help="seconds calls may finish on stop (10)"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="log calls (-v) or every command (-vv)",
    )
    parser.set_defaults(run=run, client=False)


def load_app(target: str) -> FastAGIServer:
    """Import ``module:app`` and return the FastAGIServer it names.

    Raises:
        LoadError: The module or attribute is missing, or is not a FastAGIServer.
    """
    module_name, _, attribute = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LoadError(f"cannot import {module_name!r}: {exc}") from exc
    app = getattr(module, attribute or "app", None)
    if not isinstance(app, FastAGIServer):
        raise LoadError(f"{target!r} is not a FastAGIServer (got {type(app).__name__})")
    return app


async def _serve(app: FastAGIServer, args: argparse.Namespace, out: TextIO) -> int:
    stop = asyncio.Event()
    app.stop_grace = args.grace
    with stop_on_signals(stop):
        async with app.serve(args.host, args.port):
            print(f"listening on {args.host}:{app.port}", file=out, flush=True)
            await stop.wait()
    return 0


async def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Run ``agi-serve``; return the exit status (1 when the app cannot be loaded)."""
    # A server's warnings (unknown routes, raising handlers) are shown by
    # default, where the client subcommands show only errors.
    verbose = getattr(args, "verbose", 0)
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.getLogger("amiasync").setLevel(level)
    try:
        app = load_app(args.target)
    except LoadError as exc:
        print(f"amiasync: error: {exc}", file=sys.stderr)
        return 1
    return await _serve(app, args, out)
