"""The manager's internal mechanisms: shared timeout timers, coalesced writes,
the protocol-driven reader and its backpressure."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

import amiasync
from amiasync import Action
from amiasync.link import TIMER_GRANULARITY
from amiasync.testing import FakeAsterisk

from .conftest import SECRET, USER


def _never(session: object, action: object) -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()  # never answers


async def test_timeouts_share_one_timer_per_slot_and_never_fire_early(manager, server):
    server.on_action("Slow", _never)
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks = [
        asyncio.ensure_future(manager.send_action(Action("Slow"), timeout=0.1)) for _ in range(50)
    ]
    await asyncio.sleep(0)
    # Fifty actions with the same timeout, sent together: one or two slots.
    assert 1 <= len(manager._link._deadline_timers) <= 2
    assert sum(len(due) for due in manager._link._deadlines.values()) == 50
    results = await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = loop.time() - started
    assert all(isinstance(r, amiasync.ActionTimeout) for r in results)
    assert "no answer in 0.1 s" in str(results[0])
    assert elapsed >= 0.1
    assert elapsed < 0.1 + TIMER_GRANULARITY + 0.5  # the slot, plus scheduling slack
    # Only the login's slots are left, empty until their own timers fire.
    assert all(not due for due in manager._link._deadlines.values())


async def test_answered_actions_leave_their_slot(manager):
    for _ in range(20):
        await manager.ping()
    assert sum(len(due) for due in manager._link._deadlines.values()) == 0


async def test_a_reused_action_id_is_not_expired_by_an_older_slot(manager, server):
    # The first action with this ID is answered; a second one with the same
    # ID and a long timeout must not be expired by the first one's slot.
    server.on_action("Slow", _never)
    assert (await manager.send_action(Action("Ping", action_id="same"), timeout=0.05)).success
    task = asyncio.ensure_future(manager.send_action(Action("Slow", action_id="same"), timeout=5))
    await asyncio.sleep(0.05 + 2 * TIMER_GRANULARITY)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_concurrent_actions_are_written_together(manager, server, monkeypatch):
    writes: list[bytes] = []
    transport = manager._link._transport
    real_write = transport.write

    def counting_write(data: bytes) -> None:
        writes.append(bytes(data))
        real_write(data)

    monkeypatch.setattr(transport, "write", counting_write)
    replies = await asyncio.gather(*(manager.ping() for _ in range(100)))
    assert all(r.success for r in replies)
    assert sum(w.count(b"Action: Ping\r\n") for w in writes) == 100
    assert len(writes) <= 3  # the first at once, the rest in one piece
    # One at a time: written at once, nothing queued.
    writes.clear()
    await manager.ping()
    assert len(writes) == 1 and manager._link._out is None


async def test_invalid_action_is_refused_before_anything_is_queued(manager, server):
    pings = [asyncio.ensure_future(manager.ping()) for _ in range(3)]
    await asyncio.sleep(0)
    with pytest.raises(amiasync.InvalidAction):
        await manager.send_action(Action("Ping", action_id="bad\r\nAction: Hangup"))
    assert all(r.success for r in await asyncio.gather(*pings))
    assert not any(m.get("Action") == "Hangup" for m in server.received)


async def test_queued_actions_fail_at_once_when_the_link_drops(manager, server):
    server.on_action("Slow", _never)
    first = asyncio.ensure_future(manager.send_action(Action("Slow"), timeout=30))
    await asyncio.sleep(0.01)
    # These two are queued (an action is in flight), not yet written.
    queued = [
        asyncio.ensure_future(manager.send_action(Action("Slow"), timeout=30)) for _ in range(2)
    ]
    await asyncio.sleep(0)
    started = time.monotonic()
    server.drop_connections()
    results = await asyncio.wait_for(asyncio.gather(first, *queued, return_exceptions=True), 5)
    assert all(isinstance(r, amiasync.ManagerSocketError) for r in results)
    assert time.monotonic() - started < 2


async def test_reader_pauses_when_the_backlog_is_full_and_resumes(server, caplog):
    caplog.set_level(logging.WARNING, logger="amiasync")
    async with amiasync.connect(
        server.host, server.port, username=USER, secret=SECRET, max_event_backlog=10
    ) as manager:
        release = asyncio.Event()
        handled: list[str] = []

        async def slow(event, m):
            await release.wait()
            handled.append(event["N"])

        manager.register_callback("UserEvent", slow)
        for i in range(200):
            server.emit({"Event": "UserEvent", "Privilege": "user,all", "N": i})
        for _ in range(100):
            if manager._link._read_paused:
                break
            await asyncio.sleep(0.01)
        assert manager._link._read_paused
        assert "pausing the reader" in caplog.text
        release.set()
        for _ in range(500):
            if len(handled) == 200:
                break
            await asyncio.sleep(0.01)
        assert handled == [str(i) for i in range(200)]
        assert not manager._link._read_paused


async def test_a_replaced_link_does_not_report_for_the_new_one():
    async with FakeAsterisk(users={USER: SECRET}) as fake:
        manager = amiasync.Manager()
        await manager.connect(fake.host, fake.port)
        old = manager._link
        await manager.close()
        await manager.connect(fake.host, fake.port)
        await manager.login(USER, SECRET)
        assert old is not None and old is not manager._link
        manager._link_lost(old, None)  # a late report from the old link
        assert manager.is_connected()
        assert (await manager.ping()).success
        await manager.close()
