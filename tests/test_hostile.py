"""Every promise of the README against a misbehaving loopback peer (or FakeAsterisk).

Bounds are generous (the machine is shared): they tell "returns" from
"hangs", not fast from slow. Speed lives in benchmarks/.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import weakref

import pytest

import amiasync
from amiasync import Action, ConnectionState, core
from amiasync.link import WRITE_LIMIT
from amiasync.testing import FakeAsterisk

from .conftest import SECRET, USER
from .peers import BANNER, RawPeer, deaf, login_then_deaf

BIG = "x" * 60_000


def _never(session: object, action: object) -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


# -- reading ---------------------------------------------------------------------


@pytest.mark.parametrize("listitems", ["²", "9" * 5000])
async def test_a_bad_listitems_neither_drops_the_link_nor_strands_the_action(
    manager, server, listitems
):
    def status(session, action):
        action_id = action.get("ActionID")
        return [
            {"Response": "Success", "ActionID": action_id, "EventList": "start"},
            {"Event": "Status", "ActionID": action_id, "Channel": "PJSIP/1"},
            {
                "Event": "StatusComplete",
                "ActionID": action_id,
                "EventList": "Complete",
                "ListItems": listitems,
            },
        ]

    server.on_action("Status", status)
    response = await asyncio.wait_for(manager.send_action(Action("Status"), timeout=1), 5)
    assert len(response.events) == 1
    assert (await manager.ping()).success and manager.is_connected()


async def test_a_bad_reason_in_originate_is_none_not_a_crash(manager, server):
    def originate(session, action):
        action_id = action.get("ActionID")
        return [
            {"Response": "Success", "ActionID": action_id, "Message": "queued"},
            {
                "Event": "OriginateResponse",
                "Privilege": "call,all",
                "ActionID": action_id,
                "Response": "Failure",
                "Reason": "²",
                "Channel": "PJSIP/9",
                "Uniqueid": "<null>",
            },
        ]

    server.on_action("Originate", originate)
    action = Action("Originate", Channel="PJSIP/9", Application="Wait", Data="1")
    result = await asyncio.wait_for(manager.originate(action, timeout=1), 5)
    assert result.reason is None and not result.success
    assert (await manager.ping()).success


async def test_legacy_output_without_end_marker_does_not_swallow_the_stream(manager, server):
    def command(session, action):
        session.send_raw(
            b"Response: Follows\r\nPrivilege: Command\r\nActionID: "
            + action.get("ActionID").encode()
            + b"\r\nsome output\n\r\n\r\n"
        )

    server.on_action("Command", command)
    seen: list[str] = []
    manager.register_callback("UserEvent", lambda e, m: seen.append(e["N"]))
    command = asyncio.ensure_future(manager.command("core show version", timeout=2))
    await server.wait_for_action("Command")
    # The output ends at the next frame that starts a message.
    for i in range(3):
        server.emit({"Event": "UserEvent", "Privilege": "user,all", "N": i})
    assert (await asyncio.wait_for(manager.ping(timeout=1), 5)).success
    assert await asyncio.wait_for(command, 5) == ["some output"]
    assert seen == ["0", "1", "2"]


async def test_garbage_before_the_banner_is_bounded(caplog):
    caplog.set_level(logging.WARNING, logger="amiasync")

    async def junk(reader, writer):
        for _ in range(64):
            writer.write(b"not a banner, just noise\r\n" * 600)
            await writer.drain()
        writer.write(BANNER)
        await asyncio.sleep(3600)

    async with RawPeer(junk) as peer:
        manager = amiasync.Manager()
        started = time.monotonic()
        with pytest.raises(amiasync.ProtocolError, match="no AMI banner"):
            await asyncio.wait_for(manager.connect(peer.host, peer.port, timeout=2), 10)
        assert time.monotonic() - started < 5
        await manager.close()
    assert len(caplog.records) <= 20
    assert manager.protocol_errors >= 1


async def test_protocol_errors_are_counted_kept_bounded_and_logged_a_few_times(
    manager, server, caplog
):
    caplog.set_level(logging.WARNING, logger="amiasync")
    for _ in range(500):
        server.send_raw(b"Garbage: not an event\r\n\r\n")
    assert (await manager.ping()).success
    assert manager.protocol_errors == 500
    assert len(manager.recent_protocol_errors) == 100
    assert sum("protocol error" in r.getMessage() for r in caplog.records) <= 11


async def test_sync_handlers_and_streams_see_wire_order_while_an_async_handler_waits(
    manager, server
):
    release = asyncio.Event()
    plain: list[str] = []

    async def slow(event, m):
        await release.wait()

    manager.register_callback("Newchannel", slow)  # registered first, on purpose
    manager.register_callback("", lambda e, m: plain.append(e.event_name))
    stream = manager.events("Newchannel", "Hangup")
    for name in ("Newchannel", "Hangup"):
        server.emit({"Event": name, "Privilege": "call,all", "Channel": "PJSIP/1"})
    streamed = [(await asyncio.wait_for(stream.__anext__(), 5)).event_name for _ in range(2)]
    assert streamed == ["Newchannel", "Hangup"]
    assert [n for n in plain if n in ("Newchannel", "Hangup")] == ["Newchannel", "Hangup"]
    release.set()
    stream.close()


# -- writing and timeouts ----------------------------------------------------------


async def test_a_peer_that_stops_reading_cannot_hang_actions_or_close():
    async with RawPeer(login_then_deaf) as peer:
        manager = amiasync.Manager()
        await manager.connect(peer.host, peer.port)
        await manager.login(USER, SECRET, auth="plain")
        started = time.monotonic()
        big = [
            asyncio.ensure_future(manager.send_action(Action("UserEvent", Data=BIG), timeout=0.5))
            for _ in range(300)
        ]
        results = await asyncio.wait_for(asyncio.gather(*big, return_exceptions=True), 10)
        assert all(isinstance(r, amiasync.ActionTimeout) for r in results), results[:3]
        assert manager._link is not None and manager._link.unsent <= WRITE_LIMIT + 4 * 65536
        with pytest.raises(amiasync.ActionTimeout) as info:
            await asyncio.wait_for(manager.send_action(Action("Ping"), timeout=0.5), 10)
        assert info.value.action_id is not None
        assert time.monotonic() - started < 6
        started = time.monotonic()
        await asyncio.wait_for(manager.close(timeout=0.5), 10)
        assert time.monotonic() - started < 4
        assert not manager.is_connected()


async def test_keepalive_declares_a_link_dead_when_the_peer_stops_reading():
    async with RawPeer(login_then_deaf) as peer:
        manager = amiasync.Manager(keepalive=0.2, keepalive_timeout=0.5)
        lost = asyncio.Event()
        manager.register_state_callback(
            lambda state, m: lost.set() if state is ConnectionState.DISCONNECTED else None
        )
        await manager.connect(peer.host, peer.port)
        await manager.login(USER, SECRET, auth="plain")
        # Fill the socket buffers so that even the keepalive's write stalls.
        fill = [
            asyncio.ensure_future(manager.send_action(Action("UserEvent", Data=BIG), timeout=30))
            for _ in range(300)
        ]
        await asyncio.wait_for(lost.wait(), 10)
        results = await asyncio.wait_for(asyncio.gather(*fill, return_exceptions=True), 5)
        assert all(isinstance(r, amiasync.ManagerSocketError) for r in results)
        await asyncio.wait_for(manager.close(), 5)


async def test_100k_concurrent_pings_all_resolve_against_a_deaf_peer():
    async with RawPeer(deaf) as peer:
        manager = amiasync.Manager()
        await manager.connect(peer.host, peer.port)
        started = time.monotonic()
        pings = [asyncio.ensure_future(manager.ping(timeout=1)) for _ in range(100_000)]
        results = await asyncio.wait_for(asyncio.gather(*pings, return_exceptions=True), 60)
        elapsed = time.monotonic() - started
        assert all(isinstance(r, amiasync.ActionTimeout) for r in results)
        assert elapsed < 30  # ~1 s plus scheduling 100k tasks on a shared machine
        assert manager._link is not None and manager._link.unsent <= WRITE_LIMIT + 4 * 65536
        await asyncio.wait_for(manager.close(timeout=0.5), 10)


@pytest.mark.parametrize(
    "action",
    [
        lambda: Action("Ping", Value="caf\udce9"),
        lambda: Action("Ping", **{"X\udc80": "1"}),
        lambda: Action("Ping\udc80"),
        lambda: Action("Ping", action_id="id\ud800"),
    ],
)
async def test_a_lone_surrogate_is_an_invalid_action_and_nothing_is_written(
    manager, server, action
):
    before = len(server.received)
    with pytest.raises(amiasync.InvalidAction):
        await manager.send_action(action())
    assert (await manager.ping()).success
    assert [m.get("Action") for m in server.received[before:]] == ["Ping"]


# -- lifecycle -------------------------------------------------------------------


async def test_events_iteration_raises_soon_after_the_link_drops_without_reconnect(manager, server):
    stream = manager.events()

    async def consume() -> None:
        async for _ in stream:
            pass

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.05)
    server.drop_connections()
    with pytest.raises(amiasync.ManagerSocketError):
        await asyncio.wait_for(task, 1.5)


async def test_events_iteration_goes_on_across_a_reconnect_and_counts_the_gap(server):
    manager = amiasync.Manager(reconnect=True, reconnect_delay=0.05)
    await manager.connect(server.host, server.port)
    await manager.login(USER, SECRET)
    stream = manager.events("UserEvent")
    back = asyncio.Event()
    manager.register_state_callback(
        lambda state, m: back.set() if state is ConnectionState.RECONNECTED else None
    )
    server.drop_connections()
    await asyncio.wait_for(back.wait(), 5)
    await manager.send_action(core.UserEvent("After"))
    event = await asyncio.wait_for(stream.__anext__(), 5)
    assert event["UserEvent"] == "After" and stream.gaps == 1
    await manager.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(stream.__anext__(), 2)


async def test_wait_ready_never_hangs_after_close_or_a_loss_without_reconnect(server):
    manager = amiasync.Manager()
    await manager.connect(server.host, server.port)
    await manager.wait_ready(timeout=2)
    server.drop_connections()
    await asyncio.wait_for(manager.wait_closed(), 5)
    with pytest.raises(amiasync.ManagerSocketError):
        await asyncio.wait_for(manager.wait_ready(), 2)
    await manager.connect(server.host, server.port)
    await manager.close()
    with pytest.raises(amiasync.AMIError):
        await asyncio.wait_for(manager.wait_ready(), 2)


async def test_with_reconnect_the_first_connect_is_retried(unused_tcp_port):
    manager = amiasync.Manager(reconnect=True, reconnect_delay=0.05, reconnect_max_delay=0.2)
    attempt = asyncio.ensure_future(manager.connect("127.0.0.1", unused_tcp_port, timeout=1))
    await asyncio.sleep(0.5)
    assert not attempt.done()  # refused, and retried
    async with FakeAsterisk(users={USER: SECRET}, port=unused_tcp_port):
        await asyncio.wait_for(attempt, 5)
        await manager.login(USER, SECRET)
        assert (await manager.ping()).success
        await manager.close()


async def test_with_reconnect_a_refused_first_login_stays_final(server):
    connections = 0
    original = server._accept

    async def counting(reader, writer):
        nonlocal connections
        connections += 1
        await original(reader, writer)

    server._server.close()
    await server._server.wait_closed()
    server._server = await asyncio.start_server(counting, server.host, server.port)
    with pytest.raises(amiasync.ManagerAuthError):
        await amiasync.connect(
            server.host, server.port, username=USER, secret="wrong", reconnect=True
        )
    await asyncio.sleep(0.5)
    assert connections == 1


async def test_backoff_keeps_growing_while_links_die_young():
    async def banner_then_close(reader, writer):
        writer.write(BANNER)
        await writer.drain()
        writer.close()

    async with RawPeer(banner_then_close) as peer:
        manager = amiasync.Manager(reconnect=True, reconnect_delay=0.1, reconnect_max_delay=1.0)
        await manager.connect(peer.host, peer.port)
        await asyncio.sleep(3.0)
        await manager.close()
        # 0.1 + 0.2 + 0.4 + 0.8 + 1 + ...: about 5 in 3 s; resetting each time, 30.
        assert 2 <= peer.connections <= 10, peer.connections


async def test_retry_auth_failures_keeps_retrying_until_it_gets_in(server):
    manager = amiasync.Manager(
        reconnect=True, reconnect_delay=0.05, reconnect_max_delay=0.1, retry_auth_failures=True
    )
    server.auth_failure_delay = 0.01
    await manager.connect(server.host, server.port)
    await manager.login(USER, SECRET)
    server.users[USER] = "changed"
    server.drop_connections()
    for _ in range(400):
        if sum(m.get("Action") == "Login" for m in server.received) >= 5:
            break
        await asyncio.sleep(0.02)
    assert sum(m.get("Action") == "Login" for m in server.received) >= 5
    server.users[USER] = SECRET
    await asyncio.wait_for(manager.wait_ready(), 5)
    assert (await manager.ping()).success
    await manager.close()


async def test_an_action_sent_while_a_reconnect_logs_in_fails_when_that_attempt_drops(server):
    manager = amiasync.Manager(reconnect=True, reconnect_delay=0.05, action_timeout=0.5)
    await manager.connect(server.host, server.port)
    await manager.login(USER, SECRET)
    connected = asyncio.Event()
    manager.register_state_callback(
        lambda state, m: connected.set() if state is ConnectionState.CONNECTED else None
    )
    # The reconnect's Challenge is never answered: the attempt times out and
    # drops its link, with our Hold still waiting behind it.
    server.on_action("Challenge", _never)
    server.drop_connections()
    await asyncio.wait_for(connected.wait(), 5)
    started = time.monotonic()
    with pytest.raises(amiasync.ManagerSocketError):
        await asyncio.wait_for(manager.send_action(Action("Hold"), timeout=None), 5)
    assert time.monotonic() - started < 3
    await manager.close()


async def test_a_handler_raising_cancelled_error_does_not_kill_the_dispatcher(
    manager, server, caplog
):
    handled: list[str] = []

    async def handler(event, m):
        if event["N"] == "0":
            raise asyncio.CancelledError
        handled.append(event["N"])

    manager.register_callback("UserEvent", handler)
    for i in range(3):
        server.emit({"Event": "UserEvent", "Privilege": "user,all", "N": i})
    for _ in range(200):
        if len(handled) == 2:
            break
        await asyncio.sleep(0.01)
    assert handled == ["1", "2"]
    assert (await manager.ping(timeout=2)).success


async def test_close_from_inside_a_coroutine_handler_returns_promptly(manager, server):
    took: list[float] = []

    async def handler(event, m):
        started = time.monotonic()
        await m.close(timeout=5)
        took.append(time.monotonic() - started)

    manager.register_callback("UserEvent", handler)
    server.emit({"Event": "UserEvent", "Privilege": "user,all"})
    for _ in range(600):
        if took:
            break
        await asyncio.sleep(0.01)
    assert took and took[0] < 2.5


async def test_two_consumers_of_one_stream_are_both_woken_and_both_end(manager, server):
    stream = manager.events("UserEvent")
    got: list[str] = []

    async def consume() -> None:
        async for event in stream:
            got.append(event["N"])

    tasks = [asyncio.ensure_future(consume()) for _ in range(2)]
    await asyncio.sleep(0.05)
    for i in range(2):
        server.emit({"Event": "UserEvent", "Privilege": "user,all", "N": i})
    await asyncio.sleep(0.2)
    assert sorted(got) == ["0", "1"]
    await manager.close()
    await asyncio.wait_for(asyncio.gather(*tasks), 2)


async def test_closed_event_streams_are_released(manager, server):
    refs = []
    for _ in range(100):
        stream = manager.events("UserEvent")
        refs.append(weakref.ref(stream))
        stream.close()
    del stream
    gc.collect()
    assert all(ref() is None for ref in refs)


async def test_close_after_a_lost_link_leaves_no_task_pending(server):
    manager = amiasync.Manager(keepalive=0.1)
    await manager.connect(server.host, server.port)
    await manager.login(USER, SECRET)
    handled = asyncio.Event()

    async def on_event(event, m):  # starts the dispatcher's task
        handled.set()

    manager.register_callback("UserEvent", on_event)
    server.emit({"Event": "UserEvent", "Privilege": "user,all"})
    await asyncio.wait_for(handled.wait(), 5)
    server.drop_connections()
    await asyncio.wait_for(manager.wait_closed(), 5)
    await manager.close()
    await asyncio.sleep(0.05)

    def ours(task: asyncio.Task[object]) -> bool:
        code = getattr(task.get_coro(), "cr_code", None)
        name = code.co_filename if code is not None else ""
        return "amiasync" in name and not name.endswith("testing.py")

    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and ours(t)]
    assert not left, left


# -- secrets and seed fidelity ---------------------------------------------------


async def test_a_peer_echoing_our_frames_gets_no_secret_into_any_log(caplog):
    caplog.set_level(logging.DEBUG, logger="amiasync")

    async def echo(reader, writer):
        writer.write(BANNER)
        data = b""
        while b"\r\n\r\n" not in data:
            data += await reader.read(4096)
        writer.write(data)  # our Login, echoed back
        action_id = data.split(b"ActionID: ")[1].split(b"\r\n")[0]
        writer.write(b"Response: Success\r\nActionID: " + action_id + b"\r\n\r\n")
        await asyncio.sleep(3600)

    async with RawPeer(echo) as peer:
        manager = amiasync.Manager()
        await manager.connect(peer.host, peer.port)
        await manager.login(USER, "plain-secret-xyz", auth="plain")
        await manager.close(timeout=0.2)
    assert "not an event" in caplog.text or "neither" in caplog.text
    assert "plain-secret-xyz" not in caplog.text


async def test_send_action_core_login_with_a_wrong_secret_raises_auth_error(server):
    manager = amiasync.Manager()
    await manager.connect(server.host, server.port)
    with pytest.raises(amiasync.ManagerAuthError, match="Authentication failed"):
        await manager.send_action(core.Login(USER, "wrong"))
    await manager.close()
