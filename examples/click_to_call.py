#!/usr/bin/env python3
"""Click to call: ring an agent's phone, and once it answers, dial a number.

``Manager.originate`` sends the Originate with ``Async: true`` and waits for
the ``OriginateResponse`` event that carries the same ActionID, so the result
is the outcome of *this* call: answered, busy, no answer, or failed. With
``--follow`` the script then waits for the call's Hangup and prints its cause.

Usage::

    AMI_HOST=pbx AMI_USERNAME=admin AMI_SECRET=... \\
        python examples/click_to_call.py PJSIP/101 0612345678 --context from-internal

With no ``AMI_HOST`` it runs against the embedded fake Asterisk (which
answers ``Local/...`` channels), so ``python examples/click_to_call.py`` works
anywhere. Exit status: 0 when the agent answered, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import amiasync
from amiasync import events
from amiasync.actions import Originate
from amiasync.connection import OriginateResult
from amiasync.stream import EventStream

#: Asterisk's ``Reason`` codes in OriginateResponse (the AST_CONTROL values).
REASONS = {
    0: "failed (no such channel or extension, or it could not be dialled)",
    1: "hung up before answering",
    3: "no answer (ringing timed out)",
    4: "answered",
    5: "busy",
    8: "congested or unavailable",
}


def describe(result: OriginateResult) -> str:
    """Say what happened to the call, in words."""
    reason = REASONS.get(result.reason if result.reason is not None else -1, "unknown reason")
    if result.success:
        return f"answered on {result.channel} (uniqueid {result.uniqueid})"
    return f"not connected: {reason} (reason {result.reason})"


async def click_to_call(
    manager: amiasync.Manager,
    agent: str,
    number: str,
    *,
    context: str,
    caller_id: str | None = None,
    ring_seconds: float = 30.0,
) -> OriginateResult:
    """Ring ``agent``; when it answers, send it to ``number`` in ``context``.

    Args:
        manager: A logged-in manager that receives ``call`` events.
        agent: The agent's phone, e.g. ``PJSIP/101``.
        number: The number to dial once the agent answers.
        context: The dialplan context that dials numbers.
        caller_id: What the agent's phone shows; by default the number called.
        ring_seconds: How long the agent's phone rings.

    Returns:
        The tracked result (see :class:`amiasync.connection.OriginateResult`).

    Raises:
        ActionFailed: Asterisk refused to queue the call.
        ActionTimeout: No outcome in time.
    """
    action = Originate(
        agent,
        exten=number,
        context=context,
        priority=1,
        timeout=int(ring_seconds * 1000),  # Asterisk wants milliseconds
        caller_id=caller_id or f'"Call to {number}" <{number}>',
        variable={"CLICK_TO_CALL": number},
    )
    # Allow a little more than the ringing time for Asterisk to report.
    return await manager.originate(action, timeout=ring_seconds + 10)


async def follow(stream: EventStream[events.Hangup], uniqueid: str) -> events.Hangup:
    """Wait for the Hangup of the channel ``uniqueid`` on a Hangup stream."""
    async for event in stream:
        # The stream is typed: event is a Hangup, its accessors need no cast.
        if event.uniqueid == uniqueid:
            return event
    raise amiasync.ManagerSocketError("the connection closed before the call ended")


async def run(args: argparse.Namespace) -> int:
    host = os.environ.get("AMI_HOST")
    username = os.environ.get("AMI_USERNAME", "admin")
    secret = os.environ.get("AMI_SECRET", "secret")
    server = None
    if host is None:
        from amiasync.testing import FakeAsterisk

        server = await FakeAsterisk(users={username: secret}, call_duration=0.5).start()
        host, port = server.host, server.port
        print(f"No AMI_HOST: using the embedded fake Asterisk on {host}:{port}", flush=True)
    else:
        port = int(os.environ.get("AMI_PORT", "5038"))
    try:
        # Only call events are needed: OriginateResponse and Hangup are in that class.
        # The Hangup stream is subscribed before originating, so a short call's
        # Hangup is not missed.
        async with (
            amiasync.connect(
                host, port, username=username, secret=secret, events=["call"]
            ) as manager,
            manager.events(events.Hangup) as hangups,
        ):
            print(f"Calling {args.agent}, then {args.number}...", flush=True)
            result = await click_to_call(
                manager,
                args.agent,
                args.number,
                context=args.context,
                caller_id=args.callerid,
                ring_seconds=args.ring,
            )
            print(f"{args.agent}: {describe(result)}", flush=True)
            if result.success and args.follow and result.uniqueid:
                hangup = await follow(hangups, result.uniqueid)
                print(
                    f"Call ended: {hangup.cause_txt} (cause {hangup.cause})",
                    flush=True,
                )
    except amiasync.AMIError as exc:
        print(f"click_to_call: {exc}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            await server.stop()
    return 0 if result.success else 1


def main(argv: list[str] | None = None) -> int:
    fake = "AMI_HOST" not in os.environ
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "agent",
        nargs="?" if fake else None,
        default="Local/100@amitest",
        help="the agent's phone (e.g. PJSIP/101)",
    )
    parser.add_argument(
        "number", nargs="?" if fake else None, default="0612345678", help="the number to dial"
    )
    parser.add_argument("--context", default="from-internal", help="the context that dials numbers")
    parser.add_argument("--callerid", help="what the agent's phone shows")
    parser.add_argument(
        "--ring", type=float, default=30.0, help="seconds the agent's phone rings (30)"
    )
    parser.add_argument(
        "--follow", action="store_true", help="wait for the call to end and print the cause"
    )
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
