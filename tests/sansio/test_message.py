"""The message model, with no sockets: cheap isinstance, wire order, to_dict, names."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

import amiasync
from amiasync import Action, Event, InvalidAction, Message, Response
from amiasync.events import EVENT_CLASSES
from amiasync.frames import FrameDecoder

FRAMES = (
    b"Asterisk Call Manager/11.0.0\r\n"
    b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/1\r\nUniqueid: 1.1\r\n\r\n"
    b"Event: MadeUpByAModule\r\nZeta: 1\r\nAlpha: 2\r\nChanVariable: a=1\r\n"
    b"chanvariable: b=2\r\nMid: 3\r\n\r\n"
    b"Response: Success\r\nActionID: 7\r\nMessage: ok\r\n\r\n"
)


def decode() -> list[Message]:
    return FrameDecoder(event_classes=EVENT_CLASSES).feed(FRAMES)


def test_messages_are_mappings_by_registration_not_by_inheritance():
    typed, unknown, response = decode()
    for message in (typed, unknown, response):
        assert isinstance(message, Mapping)
    # Not an ABC subclass: isinstance(x, Event) is a plain class check.
    assert Mapping not in type(typed).__mro__
    assert type(type(typed)) is type  # no ABCMeta: no subclass hook to consult
    assert isinstance(typed, Event) and isinstance(response, Response)


def test_iteration_keys_items_and_dict_follow_wire_order():
    _, event, _ = decode()
    wire = ["Event", "Zeta", "Alpha", "ChanVariable", "chanvariable", "Mid"]
    assert list(event) == wire
    assert list(event.keys()) == wire
    assert [k for k, _ in event.items()] == wire
    assert list(dict(event)) == wire
    assert dict(event)["ChanVariable"] == "a=1"
    assert list(event.values())[:3] == ["MadeUpByAModule", "1", "2"]
    assert len(event) == len(wire)


def test_to_dict_keeps_wire_order_and_gathers_repeated_keys():
    _, event, response = decode()
    assert event.to_dict() == {
        "Event": "MadeUpByAModule",
        "Zeta": "1",
        "Alpha": "2",
        "ChanVariable": ["a=1", "b=2"],
        "Mid": "3",
    }
    assert list(event.to_dict()) == ["Event", "Zeta", "Alpha", "ChanVariable", "Mid"]
    assert response.to_dict() == {"Response": "Success", "ActionID": "7", "Message": "ok"}


def test_event_name_is_always_the_events_name():
    typed, unknown, _ = decode()
    assert typed.name == "Newchannel" and type(typed).name == "Newchannel"
    # Outside the catalogue: still its name (it used to be "").
    assert type(unknown) is Event
    assert unknown.name == "MadeUpByAModule" == unknown.event_name
    assert Event.from_headers({"Event": "Other"}).name == "Other"
    assert Event.name == ""  # the generic class itself names no event


def test_server_tag_is_settable_and_defaults_to_none():
    typed, unknown, response = decode()
    assert typed.server is None and unknown.server is None and response.server is None
    typed.server = "pbx-east"
    assert typed.server == "pbx-east"
    assert "pbx-east" not in repr(typed)  # a tag, not a header
    assert "server" in Message.__slots__


def test_only_message_py_builds_messages():
    # frames.py hands text to message.py's constructors; it writes no private slot.
    source = (Path(amiasync.__file__).parent / "frames.py").read_text()
    for slot in ("._text", "._pairs", "._scans", "._first", "._folded"):
        assert slot not in source


@pytest.mark.parametrize(
    "build",
    [
        lambda: Action("Ping\udc80"),
        lambda: Action("Ping", **{"X\udc80": "1"}),
        lambda: Action("Ping", Value="caf\udce9"),
        lambda: Action("Ping", action_id="id\ud800"),
    ],
)
def test_a_lone_surrogate_anywhere_is_an_invalid_action(build):
    with pytest.raises(InvalidAction) as info:
        action = build()
        action.encode(action.action_id or "1")
    assert not isinstance(info.value, UnicodeError)
    assert isinstance(info.value.__cause__, UnicodeEncodeError) or "surrogate" in str(info.value)


def test_a_lone_surrogate_in_the_given_action_id_is_refused_too():
    with pytest.raises(InvalidAction):
        Action("Ping").encode("bad\udc80")
