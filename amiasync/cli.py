"""The ``amiasync`` command line (also ``python -m amiasync``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from .exceptions import AMIError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="amiasync", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="run the seed scenario (embedded fake Asterisk unless --host is given)",
        description="Challenge, MD5 login, callbacks by name and class, catch-all, orphan "
        "and Shutdown handlers, then a clean stop. With no --host, against the embedded "
        "fake Asterisk.",
    )
    demo.add_argument("--host", default=os.environ.get("AMI_HOST"))
    demo.add_argument("--port", type=int, default=int(os.environ.get("AMI_PORT", "5038")))
    demo.add_argument("--username", default=os.environ.get("AMI_USERNAME", "admin"))
    demo.add_argument(
        "--secret",
        default=os.environ.get("AMI_SECRET", "secret"),
        help="the secret (prefer the AMI_SECRET environment variable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Args:
        argv: The arguments (``sys.argv[1:]`` by default).

    Returns:
        0 on success, 1 on an AMI error, 130 on Ctrl-C.
    """
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from .demo import run_demo

            return asyncio.run(run_demo(args.host, args.port, args.username, args.secret))
    except AMIError as exc:
        print(f"amiasync: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2
