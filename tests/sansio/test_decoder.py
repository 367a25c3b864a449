"""The decoder against hostile input, with no sockets."""

from __future__ import annotations

import time

import pytest

from amiasync.exceptions import FrameTooLarge, ProtocolError
from amiasync.frames import MAX_BANNER_SEARCH, MAX_KEPT_ERRORS, FrameDecoder

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
PONG = b"Response: Success\r\nActionID: p\r\nPing: Pong\r\n\r\n"
EVENT = b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: up\r\n\r\n"


def test_legacy_follows_without_end_marker_does_not_swallow_the_stream():
    decoder = FrameDecoder()
    legacy = (
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: c\r\nline one\nline two\n\r\n\r\n"
    )
    messages = decoder.feed(BANNER + legacy + PONG + EVENT)
    assert [m.get("Response") or m.get("Event") for m in messages] == [
        "Follows",
        "Success",
        "FullyBooted",
    ]
    assert messages[0].output == ["line one", "line two"]
    assert decoder.buffered == 0


def test_legacy_follows_with_blank_lines_still_runs_to_the_marker():
    decoder = FrameDecoder()
    legacy = (
        b"Response: Follows\r\nActionID: c\r\nfirst\n\r\n\r\nafter a blank\n--END COMMAND--\r\n\r\n"
    )
    messages = decoder.feed(BANNER + legacy + PONG)
    assert len(messages) == 2
    assert "after a blank" in messages[0].output


def test_legacy_follows_without_marker_ends_at_a_frame_arriving_later():
    decoder = FrameDecoder()
    assert decoder.feed(BANNER + b"Response: Follows\r\nActionID: c\r\nout\n\r\n\r\n") == []
    messages = decoder.feed(PONG)
    assert [m.get("Response") for m in messages] == ["Follows", "Success"]


def test_garbage_before_the_banner_is_bounded():
    decoder = FrameDecoder()
    junk = b"junk line of noise\r\n" * (1 << 16)  # over 1 MB
    started = time.perf_counter()
    for start in range(0, len(junk), 4096):
        decoder.feed(junk[start : start + 4096])
    elapsed = time.perf_counter() - started
    assert decoder.failed is not None and "no AMI banner" in str(decoder.failed)
    assert len(decoder.errors) <= MAX_KEPT_ERRORS
    assert decoder.error_count <= MAX_BANNER_SEARCH // 20 + 2
    assert decoder.feed(BANNER + PONG) == []  # given up: nothing more is decoded
    assert elapsed < 5  # generous; the old decoder copied the buffer per line


def test_errors_kept_are_capped_and_counted_and_reported_to_a_hook():
    seen: list[ProtocolError] = []
    decoder = FrameDecoder(on_error=seen.append)
    decoder.feed(BANNER)
    for _ in range(1000):
        decoder.feed(b"garbage without a key\r\n\r\n")
    assert decoder.error_count == 1000 and len(seen) == 1000
    assert len(decoder.take_errors()) == MAX_KEPT_ERRORS
    assert decoder.feed(PONG)[0].get("Ping") == "Pong"


def test_frame_too_large_carries_size_and_limit_and_the_stream_goes_on():
    decoder = FrameDecoder(max_frame_size=1000)
    decoder.feed(BANNER)
    big = b"Event: Big\r\nData: " + b"x" * 5000 + b"\r\n\r\n"
    messages = []
    for start in range(0, len(big), 512):
        messages += decoder.feed(big[start : start + 512])
    messages += decoder.feed(EVENT)
    error = decoder.take_errors()[0]
    assert isinstance(error, FrameTooLarge)
    assert error.limit == 1000 and error.size > 1000
    assert [m.event_name for m in messages] == ["FullyBooted"]


def test_a_peer_echoing_our_login_gets_no_secret_into_the_error():
    decoder = FrameDecoder()
    decoder.feed(BANNER)
    decoder.feed(b"Action: Login\r\nUsername: admin\r\nSecret: hunter2\r\nKey: abc123\r\n\r\n")
    (error,) = decoder.take_errors()
    assert "hunter2" not in str(error) and "abc123" not in str(error)
    assert "Action: Login" in str(error)


@pytest.mark.parametrize("size", [1 << 22])
def test_one_big_frame_in_small_reads_costs_about_what_one_read_costs(size):
    frame = b"Event: Big\r\nData: " + b"x" * size + b"\r\n\r\n"

    def feed(step: int) -> float:
        decoder = FrameDecoder(max_frame_size=2 * size)
        decoder.feed(BANNER)
        started = time.perf_counter()
        out = []
        for start in range(0, len(frame), step):
            out += decoder.feed(frame[start : start + step])
        assert len(out) == 1
        return time.perf_counter() - started

    whole = min(feed(len(frame)) for _ in range(3))
    pieces = feed(4096)
    # Quadratic buffering (copy and search it all on each read) costs
    # hundreds of times one read here; linear buffering a few times.
    assert pieces < 40 * whole + 0.1
