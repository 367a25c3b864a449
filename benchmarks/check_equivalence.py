"""Check that the optimised codec behaves exactly like the straightforward one.

    python benchmarks/check_equivalence.py [--examples N]

The hot path of :mod:`amiasync.message` answers header lookups by scanning
the frame text instead of parsing it, and :mod:`amiasync.frames` decodes
events without the general classifier. This script compares both, on random
texts and random byte streams cut at random places (hypothesis), with a
reference copy of the plain implementations: same headers, same ``get`` /
``[]`` / ``in`` answers in any order of calls, same messages out of the
decoder. It is a development check, not a test of the suite (which the
benchmark may not touch); it exits non-zero on the first difference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_frames
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from amiasync.events import EVENT_CLASSES
from amiasync.frames import FrameDecoder
from amiasync.message import Event, Message, Response


def reference_parse(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            if value[:1] == " ":
                value = value[1:]
            pairs.append((key, value.rstrip("\n")))
        elif line:
            pairs.append(("", line.rstrip("\n")))
    return pairs


_MISSING = object()


def reference_get(pairs: list[tuple[str, str]], key: str) -> Any:
    first = dict(reversed(pairs))
    if key in first:
        return first[key]
    folded = {k.lower(): v for k, v in reversed(pairs)}
    return folded.get(key.lower(), _MISSING)


PIECES = [
    "Event", "event", "EVENT", "Channel", "channel", "CHANNEL", "Key", "\u212aey", "key",
    "ActionID", "Actionid", ":", ": ", ":  ", " ", "\t", "\r", "\n", "\r\n", "\n\r\n", "a", "b",
    "\u0130", "\u00e9", "\u03a3", "\u03c3", "\u738b", "\U0001f600", "Output", "--END COMMAND--",
]
KEYS = [
    "Event", "event", "EVENT", "Channel", "channel", "Key", "key", "KEY", "\u212aey", "ActionID",
    "actionid", "", ":", "a", "b", "\r\n", "Channel:", "\n", "\u0130", "\u03a3", "Output", "x",
]

texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
lookups = st.lists(st.tuples(st.sampled_from(["get", "item", "in", "headers"]),
                             st.sampled_from(KEYS)), max_size=20)


@given(texts, lookups)
@settings(max_examples=4000, deadline=None, suppress_health_check=list(HealthCheck))
def check_message(text: str, calls: list[tuple[str, str]]) -> None:
    pairs = reference_parse(text)
    for cls in (Message, Event, Response):
        message = cls(text)
        for how, key in calls:
            expected = reference_get(pairs, key)
            if how == "get":
                got = message.get(key, _MISSING)
                assert got == expected or (got is _MISSING and expected is _MISSING), (
                    text, key, got, expected)
            elif how == "item":
                try:
                    got = message[key]
                except KeyError:
                    got = _MISSING
                assert got == expected or (got is _MISSING and expected is _MISSING), (
                    text, key, got, expected)
            elif how == "in":
                assert (key in message) == (expected is not _MISSING), (text, key)
            else:
                assert message.headers == pairs, (text, message.headers, pairs)
        assert message.headers == pairs
        assert list(message) == list(dict.fromkeys(k for k, _ in pairs))  # wire order


def _describe(message: Message) -> tuple[str, Any, Any, list[tuple[str, str]]]:
    return (type(message).__name__, getattr(message, "event_name", None), message.raw,
            message.headers)


def _feed_all(decoder: FrameDecoder, chunks: list[bytes]) -> list[Any]:
    out = []
    for chunk in chunks:
        out.extend(_describe(m) for m in decoder.feed(chunk))
        # Messages only: errors now carry sizes and redacted excerpts, and an
        # oversized frame's terminator split across two reads is no longer
        # missed (the reference then skipped the next frame too).
        decoder.take_errors()
    return out


FRAME_PIECES = [
    b"Event: Newchannel\r\n", b"Event: VarSet\r\n", b"event: Hangup\r\n", b"Response: Success\r\n",
    b"Response: Follows\r\n", b"--END COMMAND--", b"Channel: PJSIP/1-0001\r\n",
    b"CallerIDName: \xc5\x81ukasz \xc5\xbb\xc3\xb3\xc5\x82\xc4\x87\r\n", b"Name: \xe7\x8e\x8b\r\n",
    b"Latin: caf\xe9\r\n", b"\r\n", b"\r\n\r\n", b"ActionID: 1\r\n", b"Output: x\n", b"x\n",
    b"Key:v\r\n", b"\n", b"\r",
]


@given(st.lists(st.sampled_from(FRAME_PIECES), max_size=30).map(b"".join),
       st.lists(st.integers(min_value=0, max_value=400), max_size=8),
       st.sampled_from([1 << 20, 64, 16]), st.booleans())
@settings(max_examples=4000, deadline=None, suppress_health_check=list(HealthCheck))
def check_decoder(stream: bytes, cuts: list[int], max_size: int, classify: bool) -> None:
    # Legacy output without its end marker now also ends at the next frame
    # that starts a message (the reference swallowed the stream): compared
    # by tests/sansio/test_decoder.py instead.
    assume(b"Response: Follows" not in stream)
    points = sorted({c for c in cuts if c < len(stream)})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)])]
    for banner in (False, True):
        data = [b"Asterisk Call Manager/11.0.0\r\n", *chunks] if banner else chunks
        options = {"event_classes": EVENT_CLASSES, "expect_banner": banner,
                   "max_frame_size": max_size, "classify": classify}
        got = _feed_all(FrameDecoder(**options), data)
        expected = _feed_all(reference_frames.FrameDecoder(**options), data)
        assert got == expected, (stream, chunks, got, expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    check_message()
    print("message lookups: same as the reference on every example")
    check_decoder()
    print("decoder: same messages as the reference decoder, however cut")


if __name__ == "__main__":
    main()
