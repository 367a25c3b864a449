"""ManagerPool: several fake PBXs on loopback, each connected and reconnected on its own."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator

import pytest

import amiasync
from amiasync import ManagerPool, core
from amiasync._compat import timeout
from amiasync.connection import ConnectionState
from amiasync.testing import FakeAsterisk

from .conftest import SECRET, USER

FAST = dict(reconnect_delay=0.05, reconnect_max_delay=0.2, action_timeout=5.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(server: FakeAsterisk) -> dict[str, object]:
    return dict(host=server.host, port=server.port, username=USER, secret=SECRET)


@pytest.fixture
async def fakes() -> AsyncIterator[list[FakeAsterisk]]:
    servers = [FakeAsterisk(users={USER: SECRET}) for _ in range(3)]
    for server in servers:
        await server.start()
    yield servers
    for server in servers:
        await server.stop()


class Seen(list):
    """A list that callbacks append to, and that a test can wait on."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = asyncio.Event()

    def add(self, item: object) -> None:
        self.append(item)
        self._changed.set()

    async def wait(self, predicate, seconds: float = 10.0) -> None:
        async with timeout(seconds):
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()


async def test_every_event_knows_its_server(fakes):
    pool = ManagerPool({f"pbx{i}": config(s) for i, s in enumerate(fakes)}, **FAST)
    seen = Seen()
    pool.register_callback(
        "UserEvent", lambda e, m: seen.add((e.server, e["N"], m is pool[e.server]))
    )
    async with pool:
        assert set(pool) == {"pbx0", "pbx1", "pbx2"} and len(pool) == 3
        assert all(s.connected for s in pool.status().values())
        for i, fake in enumerate(fakes):
            fake.emit({"Event": "UserEvent", "UserEvent": "t", "N": str(i)})
        await seen.wait(lambda s: len(s) == 3)
        assert sorted(seen) == [("pbx0", "0", True), ("pbx1", "1", True), ("pbx2", "2", True)]
        pong = await pool["pbx1"].send_action(core.Ping())
        assert pong.success


async def test_one_pbx_down_never_blocks_the_others(fakes):
    port = free_port()
    servers = {
        "up": config(fakes[0]),
        "down": dict(host="127.0.0.1", port=port, username=USER, secret=SECRET),
    }
    pool = ManagerPool(servers, **FAST)
    async with pool:
        status = pool.status()
        assert status["up"].connected
        assert not status["down"].connected and status["down"].error
        assert (await pool["up"].send_action(core.Ping())).success
        # The PBX comes up later: the pool's retry loop finds it.
        late = FakeAsterisk(users={USER: SECRET}, port=port)
        await late.start()
        try:
            await pool.wait_ready(timeout=10)
            assert pool.status()["down"].connected
            got = Seen()
            pool.register_callback("UserEvent", lambda e, m: got.add(e.server))
            late.emit({"Event": "UserEvent", "UserEvent": "late"})
            await got.wait(lambda s: s == ["down"])
        finally:
            await late.stop()


async def test_a_member_reconnects_alone(fakes):
    pool = ManagerPool({f"pbx{i}": config(s) for i, s in enumerate(fakes)}, **FAST)
    states = Seen()
    pool.register_state_callback(lambda state, m: states.add((pool.name_of(m), state)))
    async with pool:
        states.clear()
        fakes[1].drop_connections()
        await states.wait(lambda s: ("pbx1", ConnectionState.RECONNECTED) in s)
        assert {name for name, _ in states} == {"pbx1"}
        await pool.wait_ready(timeout=10)
        assert all(s.connected for s in pool.status().values())
        assert pool.status()["pbx1"].state is ConnectionState.RECONNECTED


async def test_merged_events_keep_each_pbx_in_order(fakes):
    pool = ManagerPool({f"pbx{i}": config(s) for i, s in enumerate(fakes)}, **FAST)
    async with pool:
        stream = pool.events("UserEvent")
        for n in range(200):
            for fake in fakes:
                fake.emit({"Event": "UserEvent", "UserEvent": "seq", "N": str(n)})
        got: dict[str, list[int]] = {"pbx0": [], "pbx1": [], "pbx2": []}
        async with timeout(10):
            async for event in stream:
                got[event.server].append(int(event["N"]))
                if sum(map(len, got.values())) == 600:
                    break
        assert all(seq == list(range(200)) for seq in got.values())
    # Closing the pool ends its streams.
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_refused_login_is_reported_not_retried(fakes):
    pool = ManagerPool(
        {"ok": config(fakes[0]), "bad": {**config(fakes[1]), "secret": "wrong"}}, **FAST
    )
    async with pool:
        status = pool.status()
        assert status["ok"].connected
        assert status["bad"].state is ConnectionState.FAILED and "refused" in status["bad"].error
        assert "ok" in repr(pool) and "1/2" in repr(pool)


def test_a_pool_needs_hosts():
    with pytest.raises(ValueError):
        ManagerPool({})
    with pytest.raises(ValueError):
        ManagerPool({"x": {"port": 5038}})


async def test_per_server_manager_options(fakes):
    pool = ManagerPool({"a": {**config(fakes[0]), "action_timeout": 1.5}}, action_timeout=7.0)
    assert isinstance(pool["a"], amiasync.Manager) and pool["a"].action_timeout == 1.5


async def test_a_link_lost_mid_login_is_retried_by_the_manager(fakes):
    # The first two logins lose their link at the Challenge (the pool's own
    # attempt, then the manager's first retry); the third goes through. The
    # manager logs in on its reconnect, with the credentials it was given.
    challenges: list[int] = []

    async def flaky_challenge(session, action):
        challenges.append(1)
        if len(challenges) <= 2:
            session.abort()
            return None
        await session.action_challenge(action, action.get("ActionID"))
        return None

    fakes[1].on_action("Challenge", flaky_challenge)
    pool = ManagerPool({"ok": config(fakes[0]), "flaky": config(fakes[1])}, **FAST)
    async with pool:
        # The first attempt's failure is reported at once; the others are not held up.
        assert pool.status()["ok"].connected
        assert pool.status()["flaky"].error
        await pool.wait_ready(timeout=10)
        assert pool["flaky"].logged_in and len(challenges) == 3
        got = Seen()
        pool.register_callback("UserEvent", lambda e, m: got.add(e.server))
        fakes[1].emit({"Event": "UserEvent", "UserEvent": "after"})
        await got.wait(lambda s: s == ["flaky"])


async def test_without_reconnect_a_failed_first_attempt_is_final(fakes):
    port = free_port()
    pool = ManagerPool(
        {"down": dict(host="127.0.0.1", port=port, username=USER, secret=SECRET)},
        reconnect=False,
        **FAST,
    )
    async with pool:
        assert not pool.status()["down"].connected and pool.status()["down"].error
        # Nobody retries: not the pool, and not the manager.
        assert pool["down"].reconnect is False
        with pytest.raises(amiasync.ActionTimeout):
            await pool.wait_ready(timeout=0.3)


async def test_the_secret_is_in_no_repr_status_or_log(fakes, caplog):
    caplog.set_level(logging.DEBUG, logger="amiasync")
    secret = "pbx-Secret-4729"
    pool = ManagerPool(
        {
            "ok": {**config(fakes[0]), "secret": SECRET},
            "bad": {**config(fakes[1]), "secret": secret, "auth": "plain"},
        },
        **FAST,
    )
    async with pool:
        assert pool.status()["bad"].state is ConnectionState.FAILED
        shown = [repr(pool), repr(pool.status()), caplog.text]
        shown += [repr(member) for member in pool._members.values()]
        assert "pbx-Secret" not in "".join(shown) and SECRET not in "".join(shown)
        assert "refused" in caplog.text  # the refusal was logged, without the secret


async def test_a_login_answered_too_late_is_retried_on_a_new_link(fakes):
    # Both of the pool's own attempts get their Login answered after
    # action_timeout: the PBX logs those sessions in, the manager gave up on
    # them. The manager drops each such link and its reconnect loop logs in
    # on a fresh one, so the member ends connected instead of stuck
    # "not connected" while the PBX sends it events.
    release = asyncio.Event()
    held: list[object] = []

    async def late_login(session, action):
        if len(held) < 2:
            held.append(session)
            await release.wait()
        await session.action_login(action, action.get("ActionID"))
        return None

    fakes[0].on_action("Login", late_login)
    pool = ManagerPool({"pbx": config(fakes[0])}, **{**FAST, "action_timeout": 0.3})
    try:
        await pool.start()
        assert not pool.status()["pbx"].connected and "no answer" in pool.status()["pbx"].error
        await pool.wait_ready(timeout=10)
        status = pool.status()["pbx"]
        assert status.connected and status.error is None and pool["pbx"].logged_in
        assert len(held) == 2
        logins = [a for a in fakes[0].received if a["Action"] == "Login"]
        assert len(logins) == 3
        release.set()  # the late answers go to the two dropped links
        got = Seen()
        pool.register_callback("UserEvent", lambda e, m: got.add(e.server))
        fakes[0].emit({"Event": "UserEvent", "UserEvent": "after"})
        await got.wait(lambda s: s == ["pbx"])
        assert (await pool["pbx"].send_action(core.Ping())).success
    finally:
        release.set()
        await pool.close()


async def test_retry_auth_failures_retries_the_first_login(fakes):
    # README: retry_auth_failures=True "keeps retrying", a pool's first login
    # included; the refusal is reported meanwhile, not as a final FAILED.
    fakes[0].auth_failure_delay = 0.01
    refused = asyncio.Event()
    logins: list[int] = []

    async def counted_login(session, action):
        logins.append(1)
        if len(logins) == 4:  # the pool's two attempts, then the manager's retries
            refused.set()
        await session.action_login(action, action.get("ActionID"))
        return None

    fakes[0].on_action("Login", counted_login)
    pool = ManagerPool(
        {"pbx": {**config(fakes[0]), "secret": "fixed-later"}}, retry_auth_failures=True, **FAST
    )
    try:
        await pool.start()
        await asyncio.wait_for(refused.wait(), 10)
        status = pool.status()["pbx"]
        assert not status.connected and "refused" in (status.error or "")
        assert status.state is not ConnectionState.FAILED
        fakes[0].users[USER] = "fixed-later"  # manager.conf fixed and reloaded
        await pool.wait_ready(timeout=10)
        assert pool.status()["pbx"].connected and pool.status()["pbx"].error is None
    finally:
        await pool.close()
