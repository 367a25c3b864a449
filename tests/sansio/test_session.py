"""The sans-IO session: tracker, list completion, checks, originate, login; no asyncio.

The last test drives it from a plain blocking socket against FakeAsterisk
(running in a thread), which proves it needs no event loop.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import weakref
from collections.abc import Iterator

import pytest

from amiasync import Action, Event, ManagerAuthError, Response, core
from amiasync.protocol import ClientSession, OriginateResult, PendingAction, parse_count
from amiasync.registry import CallbackRegistry
from amiasync.stream import EventStream
from amiasync.testing import FakeAsterisk

from ..conftest import SECRET, USER

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def frame(*pairs: tuple[str, str]) -> bytes:
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in pairs) + b"\r\n"


def started(session: ClientSession[str], action: Action, waiter: str = "w") -> PendingAction[str]:
    session.receive_data(BANNER) if session.banner is None else None
    pending, data = session.start(action, waiter)
    assert data.startswith(f"Action: {action.action_name}\r\n".encode())
    return pending


@pytest.mark.parametrize("count", ["²", "٣", "9" * 5000, "-1", "", "12abc"])
def test_parse_count_refuses_what_int_would_choke_on(count):
    assert parse_count(count) is None


def test_parse_count_reads_plain_numbers():
    assert parse_count("0") == 0 and parse_count("42") == 42 and parse_count(None) is None


@pytest.mark.parametrize("listitems", ["²", "9" * 5000])
def test_an_event_list_with_a_bad_listitems_completes(listitems):
    session: ClientSession[str] = ClientSession(action_id_prefix="t-")
    pending = started(session, Action("Status"))
    items = session.receive_data(
        frame(("Response", "Success"), ("ActionID", "t-1"), ("EventList", "start"))
        + frame(("Event", "Status"), ("ActionID", "t-1"), ("Channel", "a"))
        + frame(
            ("Event", "StatusComplete"),
            ("ActionID", "t-1"),
            ("EventList", "Complete"),
            ("ListItems", listitems),
        )
    )
    assert items == [pending]
    assert pending.response is not None and len(pending.response.events) == 1
    assert pending.error is None and not session.busy


def test_check_response_failures_go_to_the_caller_not_the_reader():
    class Picky(Action):
        name = "Picky"

        def check_response(self, response: Response) -> None:
            raise ValueError(f"refused {response.get('Message')}")

    session: ClientSession[str] = ClientSession(action_id_prefix="t-")
    pending = started(session, Picky())
    (done,) = session.receive_data(
        frame(("Response", "Success"), ("ActionID", "t-1"), ("Message", "no"))
    )
    assert done is pending and isinstance(pending.error, ValueError)


def test_core_login_checks_its_own_response():
    session: ClientSession[str] = ClientSession(action_id_prefix="t-")
    pending = started(session, core.Login(USER, "wrong"))
    session.receive_data(
        frame(("Response", "Error"), ("ActionID", "t-1"), ("Message", "Authentication failed"))
    )
    assert isinstance(pending.error, ManagerAuthError)
    assert "Authentication failed" in str(pending.error)
    assert "wrong" not in str(pending.error)


def test_originate_outcome_is_correlated_and_a_bad_reason_is_none():
    session: ClientSession[str] = ClientSession(action_id_prefix="t-")
    session.receive_data(BANNER)
    waiting = session.expect_originate("o-1", "outcome")
    event_bytes = frame(
        ("Event", "OriginateResponse"),
        ("ActionID", "o-1"),
        ("Response", "Success"),
        ("Reason", "²"),
        ("Uniqueid", "1.5"),
    )
    items = session.receive_data(event_bytes)
    assert items[0] is waiting and isinstance(items[1], Event)
    assert waiting.outcome is items[1]
    result = OriginateResult.from_event(items[1], Response.from_headers(Response="Success"))
    assert result.reason is None and result.success and result.uniqueid == "1.5"
    assert not session.busy


def test_connection_lost_hands_back_everything_in_flight():
    session: ClientSession[str] = ClientSession(action_id_prefix="t-")
    first = started(session, Action("Ping"))
    session.expect_originate("o-9", "x")
    lost = session.connection_lost()
    assert first in lost and len(lost) == 2 and not session.busy


def test_login_steps_send_challenge_then_the_md5_key():
    session: ClientSession[None] = ClientSession()
    steps = session.login_steps(USER, SECRET)
    challenge = next(steps)
    assert challenge.action_name == "Challenge"
    login = steps.send(Response.from_headers(Response="Success", Challenge="1234"))
    assert login.get("Key") == core.md5_key("1234", SECRET) and login.get("Secret") is None
    with pytest.raises(ManagerAuthError, match="Authentication failed"):
        steps.send(Response.from_headers(Response="Error", Message="Authentication failed"))


def test_stream_two_consumers_are_both_woken_and_both_end():
    async def scenario() -> None:
        registry = CallbackRegistry()
        stream = EventStream(registry, (), 10)
        got: list[str] = []

        async def consume() -> None:
            async for event in stream:
                got.append(event.event_name)

        tasks = [asyncio.ensure_future(consume()) for _ in range(2)]
        await asyncio.sleep(0)
        for name in ("A", "B"):
            for handler in registry.lookup(name)[0]:
                handler(Event.from_headers(Event=name), None)
        await asyncio.sleep(0)
        stream.close()
        await asyncio.wait_for(asyncio.gather(*tasks), 2)
        assert sorted(got) == ["A", "B"]

    asyncio.run(scenario())


def test_closed_streams_are_released():
    registry = CallbackRegistry()
    refs = []
    for _ in range(100):
        stream = EventStream(registry, ("UserEvent",), 1000)
        for handler in registry.lookup("UserEvent")[0]:
            for i in range(999):
                handler(Event.from_headers(Event="UserEvent", N=i), None)
        stream.close()
        refs.append(weakref.ref(stream))
    del stream, handler
    gc.collect()
    assert len(registry) == 0
    assert all(ref() is None for ref in refs)


def test_registry_public_lookup_splits_plain_and_coroutine_handlers():
    registry = CallbackRegistry()

    def plain(event: object, owner: object) -> None: ...

    async def coro(event: object, owner: object) -> None: ...

    registry.register("New*", plain)
    registry.register("", coro)
    assert registry.lookup("Newchannel") == ((plain,), (coro,))
    assert registry.lookup("Hangup") == ((), (coro,))


@pytest.fixture
def fake_in_a_thread() -> Iterator[FakeAsterisk]:
    loop = asyncio.new_event_loop()
    fake = FakeAsterisk(users={USER: SECRET})
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(fake.start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(fake.stop())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def test_the_session_runs_on_a_plain_blocking_socket(fake_in_a_thread):
    fake = fake_in_a_thread
    session: ClientSession[None] = ClientSession()
    with socket.create_connection((fake.host, fake.port), timeout=5) as sock:

        def until_done(action: Action) -> Response:
            sock.sendall(session.send(action))
            while True:
                data = sock.recv(65536)
                assert data, "closed"
                for item in session.receive_data(data):
                    if isinstance(item, PendingAction):
                        assert item.error is None
                        assert item.response is not None
                        return item.response

        while session.banner is None:
            session.receive_data(sock.recv(1024))
        steps = session.login_steps(USER, SECRET)
        action = next(steps)
        try:
            while True:
                action = steps.send(until_done(action))
        except StopIteration as done:
            assert done.value.success
        fake.emit({"Event": "UserEvent", "Privilege": "user,all", "UserEvent": "x"})
        channels = until_done(Action("CoreShowChannels"))
        assert channels.complete is not None
        assert channels.complete.event_name == "CoreShowChannelsComplete"
        pong = until_done(Action("Ping"))
        assert pong.get("Ping") == "Pong"
