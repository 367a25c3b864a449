"""Checked by tests/test_typing.py under ``mypy --strict``; never run.

What the typed catalogue promises a type checker: typed streams and callbacks,
accessors typed ``str | None``, documented parameters only.
"""

from __future__ import annotations

import asyncio

from typing_extensions import assert_type

from amiasync import Event, Manager, Response, actions, core, events
from amiasync.stream import EventStream


async def streams(manager: Manager) -> None:
    assert_type(manager.events(events.Hangup), EventStream[events.Hangup])
    assert_type(manager.events("Hangup", "Newchannel"), EventStream[Event])
    async with manager.events(events.Hangup) as hangups:
        async for hangup in hangups:
            assert_type(hangup, events.Hangup)
            assert_type(hangup.cause_txt, "str | None")
            assert_type(hangup.channel_state_desc, "str | None")
    # A stream of one class is a stream of events.
    generic: EventStream[Event] = manager.events(events.Newchannel)
    del generic


def on_hangup(event: events.Hangup, manager: Manager) -> None:
    print(event.cause_txt, event.caller_id_num)


async def on_any(event: Event, manager: Manager) -> None:
    print(event.event_name)


def callbacks(manager: Manager) -> None:
    manager.register_callback(events.Hangup, on_hangup)
    manager.register_callback(events.Hangup, on_any)  # a handler for any event fits
    manager.register_callback("Hangup", on_hangup)  # names are not checked
    manager.register_callback("", on_any)
    manager.register_callback(None, lambda response, m: None)


def actions_typed() -> None:
    actions.Originate(
        "PJSIP/100",
        exten="200",
        context="default",
        priority=1,
        caller_id='"Me" <100>',
        variable={"A": "1"},
        timeout=30000,
        extra_headers={"X-Custom": "1"},
        action_id="a-1",
    )
    actions.Login("admin", "secret", "challenge-1", events=["call", "system"])
    actions.Login("admin", "secret", auth_type="MD5")
    assert core.Login is actions.Login


async def action_calls(manager: Manager) -> None:
    # send_action's answer is awaited, gathered or made a task, typed alike.
    assert_type(await manager.send_action(core.Ping()), Response)
    assert_type(await manager.ping(), Response)
    assert_type(asyncio.create_task(manager.ping()), "asyncio.Task[Response]")
    assert_type(await asyncio.gather(manager.ping(), manager.ping()), "tuple[Response, Response]")
    assert_type(await asyncio.wait_for(manager.ping(), 1), Response)
