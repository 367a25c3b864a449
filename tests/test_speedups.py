"""The compiled codec behaves exactly like the pure-Python reference.

A differential property test feeds the same random byte streams, cut at
random, to both decoders and requires the same messages (class, headers,
event name, ``raw`` bytes), the same errors and the same state after every
read. A second one checks ``Message.get`` (compiled or not) against the
message's own index and a plain model of the headers. Where the twin is not
built (or ``AMIASYNC_NO_EXTENSIONS`` is set) the decoder test is skipped and
the ``get`` test checks the reference alone; ``AMIASYNC_REQUIRE_COMPILED=1``
(set by ``.ci/run``) makes a missing twin a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import amiasync
from amiasync import frames, protocol
from amiasync.events import EVENT_CLASSES
from amiasync.message import Event, Message, Response

COMPILED = protocol.FrameDecoder is not frames.FrameDecoder
needs_twin = pytest.mark.skipif(not COMPILED, reason="the compiled codec is not in use")


def test_compiled_codec_in_use_when_ci_requires_it():
    if os.environ.get("AMIASYNC_REQUIRE_COMPILED") == "1":
        assert amiasync.__compiled__ and COMPILED
    assert amiasync.__compiled__ == COMPILED


def test_no_extensions_variable_forces_the_reference():
    code = (
        "import amiasync, amiasync.protocol as p, amiasync.frames as f, amiasync.message as m;"
        "print(amiasync.__compiled__, p.FrameDecoder is f.FrameDecoder,"
        " m.Message.get.__module__)"
    )
    env = {**os.environ, "AMIASYNC_NO_EXTENSIONS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["False", "True", "amiasync.message"], done.stderr


# -- the decoder ---------------------------------------------------------------

names = st.sampled_from(["Newchannel", "Hangup", "VarSet", "FullyBooted", "Odd", "Ünï", ""])
texts = st.text(
    alphabet=st.sampled_from("aZ09 :-_=/Łż王\n\t"), max_size=24
)  # no CR: lines are cut on CRLF
latin1 = st.binary(max_size=8).map(lambda b: b"\xe9" + b)


@st.composite
def frame(draw: Any) -> bytes:
    """One frame: mostly what Asterisk sends, sometimes what a broken peer sends."""
    kind = draw(
        st.sampled_from(
            ["event", "event", "event", "response", "follows", "latin1", "blank", "junk", "big"]
        )
    )
    body = b"".join(
        draw(texts).encode() + b": " + draw(texts).encode() + b"\r\n"
        for _ in range(draw(st.integers(0, 4)))
    )
    if kind == "event":
        return b"Event: " + draw(names).encode() + b"\r\n" + body
    if kind == "response":
        status = draw(st.sampled_from([b"Success", b"Error", b"Goodbye"]))
        return b"Response: " + status + b"\r\n" + body
    if kind == "follows":
        end = draw(st.sampled_from([b"--END COMMAND--", b""]))
        return b"Response: Follows\r\nActionID: 1\r\n" + body + b"out\n\r\n" + end
    if kind == "latin1":
        return b"Event: Newchannel\r\nCallerIDName: " + draw(latin1) + b"\r\n" + body
    if kind == "blank":
        return b"\r\n" + body
    if kind == "big":
        return b"Event: Big\r\nData: " + b"x" * draw(st.integers(250, 700))
    return draw(st.binary(max_size=30))


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = [0, *sorted({p % (len(data) + 1) for p in points}), len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:])]


def summary(message: Message) -> tuple[Any, ...]:
    return (
        type(message),
        message.headers,
        message.raw,
        getattr(message, "event_name", None),
        message.get("ActionID"),
        message.get("event"),
    )


def errors(decoder: frames.FrameDecoder) -> list[tuple[Any, ...]]:
    return [(type(e), str(e), getattr(e, "size", None)) for e in decoder.take_errors()]


@needs_twin
@settings(max_examples=400, deadline=None)
@given(
    banner=st.booleans(),
    classify=st.booleans(),
    prefix=st.sampled_from([b"", b"Asterisk Call Manager/11.0.0\r\n", b"junk\r\n"]),
    body=st.lists(frame(), max_size=12),
    ending=st.sampled_from([b"\r\n\r\n", b"\r\n", b""]),
    points=st.lists(st.integers(min_value=0), max_size=20),
)
def test_same_bytes_same_messages_errors_and_raw(banner, classify, prefix, body, ending, points):
    data = prefix + b"\r\n\r\n".join(body) + ending
    options = {
        "max_frame_size": 300,
        "event_classes": EVENT_CLASSES,
        "expect_banner": banner,
        "classify": classify,
    }
    reference = frames.FrameDecoder(**options)
    twin = protocol.FrameDecoder(**options)
    for chunk in cut(data, points):
        expected = [summary(m) for m in reference.feed(chunk)]
        assert [summary(m) for m in twin.feed(chunk)] == expected
        assert errors(twin) == errors(reference)
        assert (twin.buffered, twin.banner, twin.error_count) == (
            reference.buffered,
            reference.banner,
            reference.error_count,
        )
        assert str(twin.failed) == str(reference.failed)


@needs_twin
def test_the_compiled_decoder_is_the_reference_with_the_compiled_builder():
    # One decoder, one message-building path: only the hot loop differs.
    assert protocol.FrameDecoder.__bases__ == (frames.FrameDecoder,)
    own = {k for k in vars(protocol.FrameDecoder) if k not in ("__module__", "__dict__")}
    assert own <= {"build_messages", "__doc__", "__qualname__", "__weakref__"}
    assert protocol.FrameDecoder.build_messages is not frames.FrameDecoder.build_messages


def slots(message: Message) -> dict[str, Any]:
    """Every slot of a message, as set (events, complete and the rest)."""
    names = {name for cls in type(message).__mro__ for name in getattr(cls, "__slots__", ())}
    return {name: getattr(message, name) for name in sorted(names)}


@pytest.mark.parametrize(
    "text", ["Response: Success\r\nActionID: 1\r\nPing: Pong", "Response: Error", "Response: X"]
)
def test_fast_built_responses_are_exactly_what_the_constructor_builds(text):
    from amiasync import message

    assert slots(message.new_response(text)) == slots(Response(text))
    for build in {frames.FrameDecoder.build_messages, protocol.FrameDecoder.build_messages}:
        (built,) = build([text], EVENT_CLASSES.get)
        assert type(built) is Response and slots(built) == slots(Response(text))
    event_text = "Event: Hangup\r\nChannel: PJSIP/1"
    for build in {frames.FrameDecoder.build_messages, protocol.FrameDecoder.build_messages}:
        (event,) = build([event_text], EVENT_CLASSES.get)
        assert slots(event) == slots(EVENT_CLASSES["Hangup"](event_text, None, "Hangup"))


@needs_twin
def test_twin_builds_the_same_classes_for_a_real_transcript():
    from .conftest import FIXTURES

    for path in sorted(FIXTURES.glob("*.ami")):
        data = path.read_bytes()
        expected = [summary(m) for m in frames.FrameDecoder(event_classes=EVENT_CLASSES).feed(data)]
        got = [summary(m) for m in protocol.FrameDecoder(event_classes=EVENT_CLASSES).feed(data)]
        assert got == expected, path.name


# -- header lookup -------------------------------------------------------------

line_keys = st.sampled_from(["Channel", "channel", "CHANNEL", "Chan", "Uniqueid", "Ünï", "k", ""])
line_values = st.text(alphabet=st.sampled_from("ab Ł\n:"), max_size=6)


@st.composite
def message_text(draw: Any) -> str:
    lines = [draw(st.sampled_from(["Event: X", "Response: Success", "Channel: first"]))]
    for _ in range(draw(st.integers(0, 6))):
        key = draw(line_keys)
        sep = draw(st.sampled_from([": ", ":", ":  ", ""]))
        lines.append(f"{key}{sep}{draw(line_values)}")
    return "\r\n".join(lines)


def model_get(pairs: list[tuple[str, str]], key: str) -> str | None:
    """First exact match, else first case-insensitive match (as Asterisk)."""
    for k, v in pairs:
        if k == key:
            return v
    for k, v in pairs:
        if k.lower() == key.lower():
            return v
    return None


@settings(max_examples=500, deadline=None)
@given(
    text=message_text(),
    keys=st.lists(
        st.sampled_from(["Channel", "channel", "CHAN", "Uniqueid", "ünï", "Ünï", "", "a:b", "k"]),
        min_size=1,
        max_size=10,
    ),
    cls=st.sampled_from([Message, Response, Event]),
)
def test_get_scans_as_the_index_answers(text, keys, cls):
    scanned = cls(text)
    indexed = cls(text)
    pairs = indexed.headers  # parsed up front: every lookup goes to the index
    for key in keys:  # more lookups than the scan budget: both paths are taken
        expected = model_get(pairs, key)
        assert indexed.get(key) == expected
        assert scanned.get(key, None) == expected, (text, key)
        assert scanned.get(key, "dflt") == ("dflt" if expected is None else expected)
