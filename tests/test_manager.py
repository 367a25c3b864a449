"""The Manager against the embedded fake Asterisk, over real loopback sockets."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys

import pytest

import amiasync
from amiasync import Action, core, core_events
from amiasync._compat import select_timeout
from amiasync.testing import FakeAsterisk

from .conftest import SECRET, USER


async def test_connect_reads_the_banner(server):
    manager = amiasync.Manager()
    banner = await manager.connect(server.host, server.port)
    assert banner == "Asterisk Call Manager/11.0.0" and manager.ami_version == "11.0.0"
    assert manager.is_connected() and not manager.logged_in
    await manager.close()
    assert not manager.is_connected()


async def test_md5_login_sends_a_key_never_the_secret(server, caplog):
    caplog.set_level(logging.DEBUG, logger="amiasync")
    async with amiasync.connect(server.host, server.port, username=USER, secret=SECRET) as manager:
        assert manager.logged_in
        login = await server.wait_for_action("Login")
        assert login["AuthType"] == "MD5" and login["Key"] == core.md5_key(
            server.sessions[0].challenge or "", SECRET
        )
        assert "Secret" not in login
    assert SECRET not in caplog.text and login["Key"] not in caplog.text


async def test_plain_login(server):
    async with amiasync.connect(
        server.host, server.port, username=USER, secret=SECRET, auth="plain"
    ) as manager:
        assert manager.logged_in
        login = await server.wait_for_action("Login")
        assert login["Secret"] == SECRET and "Key" not in login


async def test_refused_login_raises_with_asterisks_message_and_closes(server):
    with pytest.raises(amiasync.ManagerAuthError) as info:
        await amiasync.connect(server.host, server.port, username=USER, secret="wrong")
    assert info.value.response.message == "Authentication failed"
    assert "Authentication failed" in str(info.value) and "wrong" not in str(info.value)
    assert isinstance(info.value, amiasync.ActionFailed)
    # One attempt only: no retry storm.
    assert [a["Action"] for a in server.received] == ["Challenge", "Login"]


async def test_seed_style_challenge_then_login(server):
    manager = amiasync.Manager()
    await manager.connect(server.host, server.port)
    challenge = await manager.send_action(core.Challenge())
    assert challenge.success
    response = await manager.send_action(
        core.Login(USER, SECRET, challenge=challenge.result["Challenge"])
    )
    assert response.success and response.message == "Authentication accepted"
    await manager.close()


async def test_actions_before_login_are_refused_by_the_server(server):
    manager = amiasync.Manager()
    await manager.connect(server.host, server.port)
    response = await manager.send_action(core.Ping())
    assert not response.success and response.message == "Permission denied"
    with pytest.raises(amiasync.ActionFailed) as info:
        await manager.send_action(core.Ping(), check=True)
    assert info.value.response.message == "Permission denied"
    await manager.close()


async def test_many_concurrent_actions_each_get_their_own_response(manager, server):
    responses = await asyncio.gather(*(manager.send_action(core.Ping()) for _ in range(500)))
    ids = [r.action_id for r in responses]
    assert len(set(ids)) == 500 and all(r.get("Ping") == "Pong" for r in responses)
    sent_ids = [a["ActionID"] for a in server.received if a["Action"] == "Ping"]
    assert sorted(ids) == sorted(sent_ids)


async def test_timeout_then_late_reply_goes_to_the_orphan_handler(manager, server):
    release = asyncio.Event()

    async def slow(session, action):
        await release.wait()
        return {"Response": "Success", "Message": "late"}

    server.on_action("Slow", slow)
    orphans: asyncio.Queue[amiasync.Response] = asyncio.Queue()
    manager.register_callback(None, lambda response, m: orphans.put_nowait(response))
    with pytest.raises(amiasync.ActionTimeout) as info:
        await manager.send_action(Action("Slow"), timeout=0.05)
    assert isinstance(info.value, TimeoutError)
    release.set()
    orphan = await asyncio.wait_for(orphans.get(), 5)
    assert orphan.message == "late"
    assert orphan.action_id == (await server.wait_for_action("Slow"))["ActionID"]
    assert (await manager.ping()).success  # the connection is still fine


async def test_cancelled_action_late_reply_goes_to_the_orphan_handler(manager, server):
    release = asyncio.Event()

    async def slow(session, action):
        await release.wait()
        return {"Response": "Success", "Message": "after cancel"}

    server.on_action("Slow", slow)
    orphans: asyncio.Queue[amiasync.Response] = asyncio.Queue()
    manager.register_callback(None, lambda response, m: orphans.put_nowait(response))
    task = asyncio.ensure_future(manager.send_action(Action("Slow"), timeout=None))
    await server.wait_for_action("Slow")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    assert (await asyncio.wait_for(orphans.get(), 5)).message == "after cancel"


async def test_callbacks_run_in_registration_order_plain_ones_first_and_survive_errors(
    manager, server, caplog
):
    seen: list[str] = []
    done = asyncio.Event()

    def by_name(event, m):
        seen.append(f"name:{event['Tag']}")

    async def by_class(event, m):
        await asyncio.sleep(0)
        seen.append(f"class:{event['Tag']}")

    def broken(event, m):
        raise RuntimeError("handler bug")

    def by_glob(event, m):
        seen.append(f"glob:{event['Tag']}")

    async def catch_all(event, m):
        if event.event_name == "UserEvent":
            seen.append(f"all:{event['Tag']}")
            if event["Tag"] == "2":
                done.set()

    manager.register_callback("UserEvent", by_name)
    # The generic Event class means "every event"; registering and removing it leaves nothing.
    manager.register_callback(amiasync.Event, catch_all)
    assert manager.unregister_callback(amiasync.Event, catch_all)
    manager.register_callback(core_events.UserEvent, by_class)
    manager.register_callback("User*", broken)
    manager.register_callback("user*", by_glob)
    manager.register_callback("", catch_all)
    for tag in ("1", "2"):
        await manager.send_action(core.UserEvent("Probe", extra_headers={"Tag": tag}), check=True)
    await asyncio.wait_for(done.wait(), 5)
    # Plain handlers run at once, in registration order; coroutine handlers
    # after them, one at a time, also in registration order.
    plain = [s for s in seen if s.split(":")[0] in ("name", "glob")]
    coros = [s for s in seen if s.split(":")[0] in ("class", "all")]
    assert plain == [f"{kind}:{tag}" for tag in "12" for kind in ("name", "glob")]
    assert coros == [f"{kind}:{tag}" for tag in "12" for kind in ("class", "all")]
    for tag in "12":
        assert seen.index(f"glob:{tag}") < seen.index(f"class:{tag}")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and "handler bug" in caplog.text


async def test_connection_lost_fails_every_pending_action_at_once(server):
    server.on_action("Hold", lambda session, action: None)  # never answered
    manager = amiasync.Manager(action_timeout=60)
    await manager.connect(server.host, server.port)
    tasks = [asyncio.ensure_future(manager.send_action(Action("Hold"))) for _ in range(5)]
    await server.wait_for_action("Hold")
    server.drop_connections()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert all(isinstance(r, amiasync.ManagerSocketError) for r in results), results
    assert "connection lost" in str(results[0])
    assert not manager.is_connected()
    with pytest.raises(amiasync.ManagerSocketError):
        await manager.send_action(core.Ping())


async def test_shutdown_event_reaches_its_handler_and_pending_actions_fail(manager, server):
    server.on_action("Hold", lambda session, action: None)
    shutdown: asyncio.Future[amiasync.Event] = asyncio.get_running_loop().create_future()
    manager.register_callback(core_events.Shutdown, lambda e, m: shutdown.set_result(e))
    pending = asyncio.ensure_future(manager.send_action(Action("Hold"), timeout=60))
    await server.wait_for_action("Hold")
    server.shutdown()
    event = await asyncio.wait_for(shutdown, 5)
    assert isinstance(event, core_events.Shutdown) and event.shutdown == "Cleanly"
    with pytest.raises(amiasync.ManagerSocketError):
        await asyncio.wait_for(pending, 5)


async def test_refused_header_injection_writes_nothing(manager, server):
    with pytest.raises(amiasync.InvalidAction):
        await manager.send_action(Action("UserEvent", UserEvent="x\r\n\r\nAction: Originate"))
    await manager.ping()
    assert [a["Action"] for a in server.received][-1] == "Ping"
    assert not any(a.get("Action") == "Originate" for a in server.received)


async def test_event_list_collects_items_until_complete(manager, server):
    hung_up = asyncio.Event()
    manager.register_callback("Hangup", lambda e, m: hung_up.set())
    server.call_duration = 30
    await manager.send_action(
        core.Originate(
            "Local/100@amitest",
            application="Wait",
            data="1",
            async_=True,
            caller_id='"Łukasz Żółć" <4100>',
        ),
        check=True,
    )
    response = await manager.send_action(core.CoreShowChannels(), check=True)
    assert response.is_event_list and response.complete is not None
    assert [e.event_name for e in response.events] == ["CoreShowChannel"] * 2
    assert response.complete["ListItems"] == "2"
    assert response.events[0]["CallerIDName"] == "Łukasz Żółć"
    status = await manager.send_action(core.Status(), check=True)
    assert len(status.events) == 2 and status.complete["Items"] == "2"


async def test_command_output_lines(manager):
    lines = await manager.command("core show uptime")
    assert len(lines) == 2 and lines[0].startswith("System uptime:")
    with pytest.raises(amiasync.ActionFailed) as info:
        await manager.command("no such thing")
    assert "No such command" in str(info.value)


async def test_legacy_command_form_over_a_socket():
    async with FakeAsterisk(users={USER: SECRET}, legacy_command=True) as server:
        async with amiasync.connect(server.host, server.port, username=USER, secret=SECRET) as m:
            lines = await m.command("core show channels")
    assert lines[-2:] == ["0 active channels", "0 active calls"]


async def test_close_logs_off(server):
    manager = await amiasync.connect(server.host, server.port, username=USER, secret=SECRET)
    await manager.close()
    logoff = await server.wait_for_action("Logoff")
    assert logoff["ActionID"]
    assert not manager.is_connected()


async def test_connection_refused_is_a_socket_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(amiasync.ManagerSocketError) as info:
        await amiasync.Manager().connect("127.0.0.1", port, timeout=5)
    assert isinstance(info.value, ConnectionError) and str(port) in str(info.value)


async def test_no_banner_times_out_clearly():
    async def silent(reader, writer):
        await reader.read()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    with pytest.raises(amiasync.ManagerSocketError, match="no AMI banner"):
        await amiasync.Manager().connect("127.0.0.1", port, timeout=0.2)
    listener.close()


@pytest.mark.parametrize("version", [(3, 10), (3, 11)])
async def test_timeout_compat_both_paths(version):
    if version >= (3, 11) > sys.version_info:
        pytest.skip("asyncio.timeout exists from Python 3.11")
    factory = select_timeout(version)
    assert factory.__module__.startswith("async_timeout" if version < (3, 11) else "asyncio")
    with pytest.raises(asyncio.TimeoutError):
        async with factory(0.01):
            await asyncio.Event().wait()


async def test_login_times_out_by_default_when_asterisk_never_answers(server):
    server.on_action("Challenge", lambda session, action: None)
    with pytest.raises(amiasync.ActionTimeout):
        await asyncio.wait_for(
            amiasync.connect(
                server.host, server.port, username=USER, secret=SECRET, action_timeout=0.2
            ),
            5,
        )
