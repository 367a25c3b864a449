"""EventBuffer: the bridge's ordering, bounding and gap policy, with no I/O at all."""

from __future__ import annotations

import pytest

from amiasync.bridge import EventBuffer
from amiasync.bridge.scripts import EVENT_ENTRY, GAP_ENTRY


def events(buffer: EventBuffer) -> list[tuple]:
    return list(buffer.entries)


def test_a_new_buffer_starts_with_a_restart_gap_closed_by_the_first_link():
    buffer = EventBuffer("pbx1", maxsize=10)
    assert buffer.gap_open
    buffer.link_up(100.0)
    buffer.add_event("FullyBooted", b"[]", 100.5)
    assert events(buffer) == [
        (GAP_ENTRY, "", "100.000000", "0", "restart"),
        (EVENT_ENTRY, "FullyBooted", b"[]", "100.500000"),
    ]


def test_a_lost_link_gives_a_gap_from_the_last_event_to_the_new_link():
    buffer = EventBuffer("pbx1", maxsize=10)
    buffer.link_up(1.0)
    buffer.add_event("A", b"[]", 2.0)
    buffer.link_lost()
    assert buffer.gap_open
    buffer.link_up(5.0)
    buffer.add_event("FullyBooted", b"[]", 5.1)
    assert events(buffer)[2:] == [
        (GAP_ENTRY, "2.000000", "5.000000", "0", "link"),
        (EVENT_ENTRY, "FullyBooted", b"[]", "5.100000"),
    ]


def test_overflow_drops_new_events_counts_them_and_keeps_the_order():
    buffer = EventBuffer("pbx1", maxsize=4)
    buffer.link_up(0.0)
    accepted = [buffer.add_event(str(n), b"[]", float(n)) for n in range(1, 7)]
    # The gap entry, 3 events; then full: 4, 5, 6 dropped.
    assert accepted == [True, True, True, False, False, False]
    assert buffer.dropped == 3 and buffer.gap_open
    # Redis took two entries: room again. The next event comes after a gap entry.
    buffer.remove(1)
    buffer.remove(1)
    assert buffer.add_event("7", b"[]", 7.0)
    assert events(buffer) == [
        (EVENT_ENTRY, "2", b"[]", "2.000000"),
        (EVENT_ENTRY, "3", b"[]", "3.000000"),
        (GAP_ENTRY, "3.000000", "7.000000", "3", "overflow"),
        (EVENT_ENTRY, "7", b"[]", "7.000000"),
    ]
    assert not buffer.gap_open and buffer.accepted == 4


def test_an_event_waits_for_room_for_its_gap_too():
    buffer = EventBuffer("pbx1", maxsize=3)
    buffer.link_up(0.0)
    buffer.add_event("1", b"[]", 1.0)
    buffer.add_event("2", b"[]", 2.0)
    assert not buffer.add_event("3", b"[]", 3.0)  # full
    buffer.remove(1)
    # One free slot: not enough for the gap and the event.
    assert not buffer.add_event("4", b"[]", 4.0)
    buffer.remove(1)
    assert buffer.add_event("5", b"[]", 5.0)
    assert events(buffer)[-2:] == [
        (GAP_ENTRY, "2.000000", "5.000000", "2", "overflow"),
        (EVENT_ENTRY, "5", b"[]", "5.000000"),
    ]


def test_a_link_lost_while_overflowing_is_one_gap_with_both_reasons():
    buffer = EventBuffer("pbx1", maxsize=3)
    buffer.link_up(0.0)
    buffer.add_event("1", b"[]", 1.0)
    buffer.add_event("2", b"[]", 2.0)
    buffer.add_event("3", b"[]", 3.0)
    buffer.link_lost()
    buffer.entries.clear()
    buffer.link_up(9.0)
    assert events(buffer) == [(GAP_ENTRY, "2.000000", "9.000000", "1", "overflow,link")]


def test_the_buffer_is_bounded():
    with pytest.raises(ValueError):
        EventBuffer("x", maxsize=1)
    buffer = EventBuffer("x", maxsize=100)
    buffer.link_up(0.0)
    for n in range(10_000):
        buffer.add_event("E", b"[]", float(n))
    assert len(buffer.entries) == 100 and buffer.dropped == 10_000 - 99


def test_room_made_closes_an_overflow_gap_but_not_a_link_gap():
    buffer = EventBuffer("pbx1", maxsize=2)
    buffer.link_up(0.0)
    buffer.add_event("1", b"[]", 1.0)
    assert not buffer.add_event("2", b"[]", 2.0)
    buffer.entries.clear()
    buffer.room_made(3.0)
    assert events(buffer) == [(GAP_ENTRY, "1.000000", "3.000000", "1", "overflow")]
    buffer.entries.clear()
    buffer.link_lost()
    buffer.room_made(4.0)
    assert buffer.gap_open and not buffer.entries
