"""Reconnect, keepalive, TLS and fault injection, against the fake server."""

from __future__ import annotations

import asyncio
import logging
import ssl
import subprocess

import pytest

import amiasync
from amiasync import Action
from amiasync.connection import ConnectionState
from amiasync.testing import FakeAsterisk

from .conftest import SECRET, USER


def state_queue(manager: amiasync.Manager) -> asyncio.Queue[ConnectionState]:
    states: asyncio.Queue[ConnectionState] = asyncio.Queue()
    manager.register_state_callback(lambda state, m: states.put_nowait(state))
    return states


async def next_state(states, wanted, timeout=5.0):
    while True:
        state = await asyncio.wait_for(states.get(), timeout)
        if state is wanted:
            return state


async def test_reconnect_logs_in_again_and_restores_mask_filters_and_callbacks(server):
    manager = amiasync.Manager(reconnect=True)
    states = state_queue(manager)
    await manager.connect(server.host, server.port)
    await manager.login(USER, SECRET)
    await manager.set_events(["user", "system"])
    await manager.add_filter("UserEvent")
    got: asyncio.Queue[amiasync.Event] = asyncio.Queue()
    manager.register_callback("UserEvent", lambda e, m: got.put_nowait(e))

    server.drop_connections()
    await next_state(states, ConnectionState.DISCONNECTED)
    await next_state(states, ConnectionState.RECONNECTED)
    await manager.wait_ready(5)
    assert manager.logged_in
    session = server.sessions[-1]
    assert session.event_classes == frozenset({"user", "system"})
    assert [p.pattern for _, p in session.filters] == ["UserEvent"]
    logins = [a for a in server.received if a["Action"] == "Login"]
    assert len(logins) == 2 and all("Key" in a for a in logins)
    server.emit({"Event": "UserEvent", "Privilege": "user,all", "UserEvent": "Back"})
    assert (await asyncio.wait_for(got.get(), 5))["UserEvent"] == "Back"
    await manager.close()


async def test_an_unregistered_state_callback_is_told_nothing_more(server):
    manager = amiasync.Manager(reconnect=True)
    heard: list[tuple[str, ConnectionState]] = []

    def once(state: ConnectionState, m: amiasync.Manager) -> None:
        heard.append(("once", state))
        assert m.unregister_state_callback(once)  # from inside its own call

    def never(state: ConnectionState, m: amiasync.Manager) -> None:
        heard.append(("never", state))

    manager.register_state_callback(once)
    manager.register_state_callback(never)
    assert manager.unregister_state_callback(never)
    assert not manager.unregister_state_callback(never)
    # Registered after ``once``: still told of the state ``once`` left on.
    states = state_queue(manager)
    await manager.connect(server.host, server.port)
    await manager.login(USER, SECRET)
    await next_state(states, ConnectionState.CONNECTED)
    server.drop_connections()
    await next_state(states, ConnectionState.DISCONNECTED)
    await next_state(states, ConnectionState.RECONNECTED)
    assert heard == [("once", ConnectionState.CONNECTED)]
    assert not manager.unregister_state_callback(once)
    await manager.close()


async def test_pending_actions_are_failed_not_resent_on_reconnect(server):
    server.on_action("Hold", lambda s, a: None)
    manager = await amiasync.connect(
        server.host, server.port, username=USER, secret=SECRET, reconnect=True
    )
    task = asyncio.ensure_future(manager.send_action(Action("Hold"), timeout=60))
    await server.wait_for_action("Hold")
    server.drop_connections()
    with pytest.raises(amiasync.ManagerSocketError):
        await asyncio.wait_for(task, 5)
    await manager.wait_ready(5)
    await manager.ping()
    assert [a["Action"] for a in server.received].count("Hold") == 1
    await manager.close()


async def test_shutdown_then_server_back_reconnects(server):
    manager = await amiasync.connect(
        server.host, server.port, username=USER, secret=SECRET, reconnect=True
    )
    states = state_queue(manager)
    server.shutdown(restart=True)
    await next_state(states, ConnectionState.RECONNECTED)
    assert (await manager.ping()).success
    await manager.close()


async def test_refused_login_on_reconnect_is_final(server):
    manager = await amiasync.connect(
        server.host, server.port, username=USER, secret=SECRET, reconnect=True
    )
    states = state_queue(manager)
    server.users[USER] = "changed"
    server.drop_connections()
    await next_state(states, ConnectionState.FAILED)
    assert isinstance(manager.last_error, amiasync.ManagerAuthError)
    with pytest.raises(amiasync.ManagerSocketError):
        await manager.wait_ready(1)
    assert [a["Action"] for a in server.received].count("Login") == 2  # one retry, no storm
    await manager.close()


async def test_reconnect_waits_for_a_stopped_server_to_come_back():
    server = await FakeAsterisk(users={USER: SECRET}).start()
    port = server.port
    manager = await amiasync.connect(
        server.host, port, username=USER, secret=SECRET, reconnect=True
    )
    states = state_queue(manager)
    await server.stop()
    await next_state(states, ConnectionState.DISCONNECTED)
    async with FakeAsterisk(users={USER: SECRET}, port=port) as again:
        await next_state(states, ConnectionState.RECONNECTED)
        assert again.sessions and again.sessions[0].authenticated
    await manager.close()


async def test_keepalive_detects_a_stalled_server_and_reconnects(server):
    manager = await amiasync.connect(
        server.host,
        server.port,
        username=USER,
        secret=SECRET,
        reconnect=True,
        keepalive=0.05,
        keepalive_timeout=0.2,
    )
    states = state_queue(manager)
    await server.wait_for_action("Ping")  # keepalive pings flow
    server.stalled = True
    await next_state(states, ConnectionState.DISCONNECTED)
    server.stalled = False
    await next_state(states, ConnectionState.RECONNECTED)
    assert all(a["Action"] for a in server.received)  # never a bare CRLF
    await manager.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_tls_connection_with_a_verified_certificate(certificate):
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    async with FakeAsterisk(users={USER: SECRET}, ssl=server_context) as server:
        async with amiasync.connect(
            server.host, server.port, username=USER, secret=SECRET, ssl=client_context
        ) as manager:
            assert (await manager.ping()).success
        with pytest.raises(amiasync.ManagerSocketError):
            await amiasync.Manager().connect(server.host, server.port, ssl=True)  # untrusted


# -- fault injection --------------------------------------------------------------


async def test_drop_mid_frame_fails_pending_and_keeps_complete_events(manager, server):
    server.on_action("Hold", lambda s, a: None)
    seen: list[str] = []
    manager.register_callback("UserEvent", lambda e, m: seen.append(e["UserEvent"]))
    task = asyncio.ensure_future(manager.send_action(Action("Hold"), timeout=60))
    await server.wait_for_action("Hold")
    server.send_raw(
        b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: Whole\r\n\r\n"
        b"Event: UserEvent\r\nUserEvent: Half"
    )
    server.drop_connections()
    with pytest.raises(amiasync.ManagerSocketError):
        await asyncio.wait_for(task, 5)
    assert seen == ["Whole"]


async def test_garbage_unknown_ids_and_latin1_keep_the_connection_going(manager, server, caplog):
    orphans: list[amiasync.Response] = []
    manager.register_callback(None, lambda r, m: orphans.append(r))
    names: list[str] = []
    manager.register_callback("Newchannel", lambda e, m: names.append(e["CallerIDName"]))
    server.send_raw(
        b"complete garbage\r\n\r\n"
        b"Response: Success\r\nActionID: nobody-asked\r\n\r\n"
        b"Response: Error\r\nMessage: Missing action in request\r\n\r\n"
        b"\r\n"
        b"Event: Newchannel\r\nPrivilege: call,all\r\nCallerIDName: Jos\xe9\r\n\r\n"
    )
    assert (await manager.ping()).success
    assert [o.action_id for o in orphans] == ["nobody-asked", None]
    assert names == ["José"]
    assert "neither an event nor a response" in caplog.text


async def test_oversized_frame_is_skipped_and_the_stream_goes_on(server):
    async with amiasync.connect(
        server.host, server.port, username=USER, secret=SECRET, max_frame_size=4096
    ) as manager:
        server.send_raw(b"Event: Huge\r\nData: " + b"x" * 100_000 + b"\r\n\r\n")
        assert (await manager.ping()).success


async def test_server_closing_right_after_the_banner():
    async def banner_then_close(reader, writer):
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(banner_then_close, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    with pytest.raises(amiasync.ManagerSocketError):
        await amiasync.connect("127.0.0.1", port, username=USER, secret=SECRET)
    listener.close()


async def test_server_closing_during_login(server):
    server.on_action("Login", lambda session, action: session.abort())
    with pytest.raises(amiasync.ManagerSocketError):
        await asyncio.wait_for(
            amiasync.connect(server.host, server.port, username=USER, secret=SECRET), 5
        )


async def test_slow_async_handler_does_not_stall_the_reader(manager, server, caplog):
    caplog.set_level(logging.WARNING, logger="amiasync")
    release = asyncio.Event()
    handled: list[str] = []

    async def slow(event, m):
        await release.wait()
        handled.append(event["N"])

    manager.register_callback("UserEvent", slow)
    for i in range(50):
        server.emit({"Event": "UserEvent", "Privilege": "user,all", "UserEvent": "T", "N": i})
    # Actions still complete while the handler is stuck: the reader is not blocked.
    assert (await manager.ping()).success
    assert handled == []
    release.set()
    await manager.close()  # drains the backlog before closing
    assert handled == [str(i) for i in range(50)]


async def test_a_link_lost_mid_login_is_reconnected_and_logged_in(server):
    # The first Challenge loses its link. With reconnect on, the manager
    # reconnects and logs in with the credentials of the login that was cut
    # off (it used to reconnect without logging in).
    challenges: list[int] = []

    async def flaky_challenge(session, action):
        challenges.append(1)
        if len(challenges) == 1:
            session.abort()
            return None
        await session.action_challenge(action, action.get("ActionID"))
        return None

    server.on_action("Challenge", flaky_challenge)
    manager = amiasync.Manager(reconnect=True, reconnect_delay=0.05, reconnect_max_delay=0.2)
    states = state_queue(manager)
    await manager.connect(server.host, server.port)
    try:
        with pytest.raises(amiasync.ManagerSocketError):
            await manager.login(USER, SECRET)
        await next_state(states, ConnectionState.RECONNECTED)
        assert manager.logged_in and len(challenges) == 2
        assert (await manager.ping()).success
    finally:
        await manager.close()


async def test_a_login_answered_too_late_drops_the_link_and_logs_in_again(server):
    # A busy Asterisk may answer a Login after action_timeout: the session is
    # then logged in on its side while the manager gave up waiting, and
    # nothing would ever log that link in (before login Asterisk answers a
    # keepalive Ping with "Permission denied", which still counts as alive).
    # With reconnect on, the manager drops the link and logs in on a new one;
    # the late Success goes to the dropped link, never to the new one.
    release = asyncio.Event()
    answered = asyncio.Event()
    held: list[object] = []

    async def late_login(session, action):
        if not held:
            held.append(session)
            await release.wait()
            await session.action_login(action, action.get("ActionID"))
            answered.set()
            return None
        await session.action_login(action, action.get("ActionID"))
        return None

    server.on_action("Login", late_login)
    manager = amiasync.Manager(
        reconnect=True, action_timeout=0.3, reconnect_delay=0.05, reconnect_max_delay=0.2
    )
    orphans: list[amiasync.Message] = []
    manager.register_callback(None, lambda response, m: orphans.append(response))
    states = state_queue(manager)
    await manager.connect(server.host, server.port)
    try:
        with pytest.raises(amiasync.ActionTimeout):
            await manager.login(USER, SECRET)
        await next_state(states, ConnectionState.RECONNECTED)
        await manager.wait_ready(5)
        release.set()
        await asyncio.wait_for(answered.wait(), 5)
        assert held[0].authenticated  # the PBX did log the dropped session in
        assert manager.logged_in and (await manager.ping()).success
        assert server.sessions[-1] is not held[0] and server.sessions[-1].authenticated
        assert orphans == []
        assert [a["Action"] for a in server.received].count("Login") == 2
    finally:
        release.set()
        await manager.close()


async def test_retry_auth_failures_retries_a_refused_first_login(server):
    # With retry_auth_failures=True even the first login's refusal is not
    # final: the reconnect loop keeps trying (with backoff), and a PBX whose
    # manager.conf is fixed later is logged in to.
    server.auth_failure_delay = 0.01
    refused = asyncio.Event()
    logins: list[int] = []

    async def counted_login(session, action):
        logins.append(1)
        if len(logins) == 3:
            refused.set()
        await session.action_login(action, action.get("ActionID"))
        return None

    server.on_action("Login", counted_login)
    manager = amiasync.Manager(
        reconnect=True, retry_auth_failures=True, reconnect_delay=0.05, reconnect_max_delay=0.2
    )
    await manager.connect(server.host, server.port)
    try:
        with pytest.raises(amiasync.ManagerAuthError):
            await manager.login(USER, "not-yet-valid")
        await asyncio.wait_for(refused.wait(), 5)  # retried twice more, still refused
        assert not manager.logged_in
        server.users[USER] = "not-yet-valid"  # manager.conf fixed and reloaded
        await manager.wait_ready(5)
        assert manager.logged_in and (await manager.ping()).success
    finally:
        await manager.close()


async def test_credentials_refused_before_sending_are_not_used_on_reconnect(server):
    # A CR in the username is refused before anything is written; the
    # reconnect loop must not then try that login after every lost link.
    manager = amiasync.Manager(reconnect=True, reconnect_delay=0.05, reconnect_max_delay=0.2)
    states = state_queue(manager)
    await manager.connect(server.host, server.port)
    try:
        with pytest.raises(amiasync.InvalidAction):
            await manager.login("admin\r\nAction: Ping", SECRET)
        assert manager.is_connected()  # nothing was sent: the link stays
        server.drop_connections()
        # Bounded as a whole: a loop that keeps trying the login reports
        # CONNECTED and DISCONNECTED over and over, never RECONNECTED.
        await asyncio.wait_for(next_state(states, ConnectionState.RECONNECTED), 5)
        with pytest.raises(amiasync.ActionFailed, match="Permission denied"):
            await manager.ping()  # connected, not logged in
        assert "Login" not in [a["Action"] for a in server.received]
    finally:
        await manager.close()
