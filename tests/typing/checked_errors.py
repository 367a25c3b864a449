"""Checked by tests/test_typing.py under ``mypy --strict``: each marked line must fail.

A line ending in ``# error: CODE`` must get a mypy error with that code; no other
line may get one.
"""

from __future__ import annotations

from amiasync import Manager, actions, events


def on_newchannel(event: events.Newchannel, manager: Manager) -> None:
    print(event.channel)


def mistakes(manager: Manager) -> None:
    actions.Originate("PJSIP/1", caller_id="x", extension="200")  # error: call-arg
    actions.Originate("PJSIP/1", callerid="x")  # error: call-arg
    actions.Originate()  # error: call-arg
    actions.Login("admin", "secret", auth_type="sha1")  # error: arg-type
    manager.register_callback(events.Hangup, on_newchannel)  # error: arg-type


def squashed_names(hangup: events.Hangup) -> None:
    print(hangup.callerid)  # error: attr-defined
