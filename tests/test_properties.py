"""Property-based tests of the codec: any bytes, any chunking, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amiasync.exceptions import ProtocolError
from amiasync.message import Action, Event

from .conftest import DECODERS, decoder_name

MAX_FRAME = 512

keys = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters=":"),
    min_size=1,
    max_size=20,
)
values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
    max_size=40,
)
headers = st.lists(st.tuples(keys, values), max_size=12)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:])]


@pytest.mark.parametrize("decoder_class", DECODERS, ids=decoder_name)
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.lists(st.integers(min_value=0), max_size=30), st.booleans())
def test_any_bytes_any_chunking_only_protocol_errors(decoder_class, data, cuts, banner):
    decoder = decoder_class(max_frame_size=MAX_FRAME, expect_banner=banner)
    for chunk in chunked(data, cuts):
        decoder.feed(chunk)
        # The buffer never grows past the cap (plus a straddling terminator).
        assert decoder.buffered <= MAX_FRAME + 4
    assert all(isinstance(e, ProtocolError) for e in decoder.take_errors())


@pytest.mark.parametrize("decoder_class", DECODERS, ids=decoder_name)
@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_chunking_gives_the_same_messages(decoder_class, data):
    frames = data.draw(st.lists(headers.filter(bool), min_size=1, max_size=6))
    stream = b"".join(
        Event.from_headers([("Event", f"E{i}"), *pairs]).encode() for i, pairs in enumerate(frames)
    )
    cuts = data.draw(st.lists(st.integers(min_value=0), max_size=40))
    decoder = decoder_class(expect_banner=False)
    messages = [m for chunk in chunked(stream, cuts) for m in decoder.feed(chunk)]
    assert [m.headers for m in messages] == [
        [("Event", f"E{i}"), *pairs] for i, pairs in enumerate(frames)
    ]
    assert decoder.errors == []


@pytest.mark.parametrize("decoder_class", DECODERS, ids=decoder_name)
@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=65, max_codepoint=90), min_size=1),
    headers.map(lambda pairs: [(k, v) for k, v in pairs if k.lower() != "actionid"]),
)
def test_actions_round_trip_through_the_server_side_decoder(decoder_class, name, pairs):
    action = Action(name, pairs)
    decoder = decoder_class(expect_banner=False, classify=False)
    [message] = decoder.feed(action.encode("id-1"))
    assert message.headers == [("Action", name), *pairs, ("ActionID", "id-1")]
