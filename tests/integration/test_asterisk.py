"""amiasync against a real Asterisk 22 (see conftest.py for how it is found)."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import time

import pytest

import amiasync
from amiasync import Action, core, core_events, events
from amiasync.connection import ConnectionState

pytestmark = pytest.mark.integration

CALLER = "Łukasz Żółć"


async def test_banner_and_md5_login(asterisk):
    async with asterisk.connect() as manager:
        assert manager.banner.startswith("Asterisk Call Manager/")
        assert int(manager.ami_version.split(".")[0]) >= 7
        assert manager.logged_in


async def test_plain_login(asterisk):
    async with asterisk.connect(auth="plain", events=False) as manager:
        assert (await manager.ping())["Ping"] == "Pong"


async def test_wrong_secret_is_refused_once(asterisk):
    with pytest.raises(amiasync.ManagerAuthError) as info:
        await amiasync.connect(
            asterisk.host, asterisk.port, username=asterisk.username, secret="definitely-wrong"
        )
    assert info.value.response.message == "Authentication failed"


async def test_command_output_and_failures(manager):
    lines = await manager.command("dialplan show amitest")
    assert lines[0].startswith("[ Context 'amitest'")
    assert any("Answer()" in line for line in lines)
    assert lines[-1].startswith("-= ")  # every line kept, in order, to the summary
    with pytest.raises(amiasync.ActionFailed, match="No such command"):
        await manager.command("no such thing")
    # An unknown action: send_action returns the error response; check=True raises.
    response = await manager.send_action(Action("NoSuchAction"))
    assert not response.success and "Invalid/unknown command" in response.message
    with pytest.raises(amiasync.ActionFailed):
        await manager.send_action(Action("NoSuchAction"), check=True)


async def test_originate_tracked_with_events_to_every_kind_of_callback(manager):
    by_name: list[str] = []
    by_class: list[str] = []
    everything: list[str] = []
    hangups: asyncio.Queue[amiasync.Event] = asyncio.Queue()
    manager.register_callback("Newchannel", lambda e, m: by_name.append(e["Channel"]))
    names: list[str] = []
    manager.register_callback("*", lambda e, m: names.append(e.get("CallerIDName", "")))
    manager.register_callback(events.VarSet, lambda e, m: by_class.append(e.get("Variable")))
    manager.register_callback("", lambda e, m: everything.append(e.event_name))
    manager.register_callback("Hangup", lambda e, m: hangups.put_nowait(e))
    result = await manager.originate(
        core.Originate(
            "Local/100@amitest",
            application="Wait",
            data="1",
            caller_id=f'"{CALLER}" <4100>',
            variable={"FOO": "bar", "BAZ": "qux"},
        ),
        timeout=20,
    )
    assert result.success and result.reason == 4 and result.uniqueid
    assert result.event["ActionID"] == result.response.action_id
    first = await asyncio.wait_for(hangups.get(), 20)
    assert first.event_name == "Hangup"
    assert len(by_name) == 2 and all(c.startswith("Local/100@amitest") for c in by_name)
    # The caller name arrives intact (set after Newchannel, so seen in later events).
    assert result.event["CallerIDName"] == CALLER and CALLER in names
    assert "FOO" in by_class and "BAZ" in by_class
    assert {"Newchannel", "VarSet", "OriginateResponse", "Hangup"} <= set(everything)


async def test_twenty_concurrent_tracked_originates(manager):
    calls = [
        core.Originate(
            "Local/100@amitest", application="Wait", data="1", caller_id=f'"Caller {i}" <50{i:02d}>'
        )
        for i in range(20)
    ]
    results = await asyncio.gather(*(manager.originate(call, timeout=30) for call in calls))
    assert all(r.success and r.reason == 4 for r in results)
    assert len({r.uniqueid for r in results}) == 20
    assert [r.event["CallerIDName"] for r in results] == [f"Caller {i}" for i in range(20)]


async def test_event_lists_with_live_channels(manager):
    results = await asyncio.gather(
        *(
            manager.originate(
                core.Originate(
                    "Local/200@amitest",
                    application="Wait",
                    data="30",
                    caller_id=f'"{CALLER}" <42{i}>',
                ),
                timeout=20,
            )
            for i in range(2)
        )
    )
    channels = [r.channel for r in results]
    try:
        listing = await manager.send_action(core.CoreShowChannels(), check=True)
        names = [e["Channel"] for e in listing.events]
        assert set(channels) <= set(names)
        assert int(listing.complete["ListItems"]) == len(listing.events) >= 4
        status = await manager.send_action(core.Status(), check=True)
        assert int(status.complete["ListItems"]) == len(status.events) >= 4
        assert all(e.event_name == "Status" for e in status.events)
        assert any(e.get("CallerIDName") == CALLER for e in status.events)
    finally:
        for channel in channels:
            await manager.send_action(Action("Hangup", Channel=channel))


async def test_astdb_lists(manager):
    await manager.send_action(Action("DBPut", Family="amiasync", Key="k1", Val="v1"), check=True)
    await manager.send_action(Action("DBPut", Family="amiasync", Key="k2", Val="v2"), check=True)
    got = await manager.send_action(Action("DBGet", Family="amiasync", Key="k1"), check=True)
    assert [e["Val"] for e in got.events] == ["v1"]
    tree = await manager.send_action(Action("DBGetTree", Family="amiasync"), check=True)
    assert sorted(e["Key"] for e in tree.events) == ["/amiasync/k1", "/amiasync/k2"]
    assert int(tree.complete["ListItems"]) == 2


async def test_repeated_chanvariable_and_userevent_headers(manager):
    async with manager.events("Newchannel", "UserEvent") as stream:
        await manager.originate(
            core.Originate("Local/100@amitest", application="Wait", data="1"), timeout=20
        )
        newchannel = await asyncio.wait_for(stream.__anext__(), 10)
        assert [v.split("=")[0] for v in newchannel.get_all("ChanVariable")] == ["ALPHA", "BETA"]
        await manager.send_action(
            core.UserEvent("AmiTest", extra_headers={"Item": ["one", "two", "three"]}), check=True
        )
        async for event in stream:
            if event.event_name == "UserEvent":
                break
    assert event.get_all("Item") == ["one", "two", "three"]


async def test_events_off_then_on_and_a_filter(asterisk):
    async with asterisk.connect(events=False) as manager:
        async with manager.events("UserEvent") as stream:
            await manager.send_action(core.UserEvent("Muted"), check=True)
            await manager.set_events(True)
            await manager.add_filter("UserEvent: Wanted")
            await manager.send_action(core.UserEvent("Unwanted"), check=True)
            await manager.send_action(core.UserEvent("Wanted"), check=True)
            event = await asyncio.wait_for(stream.__anext__(), 10)
    assert event["UserEvent"] == "Wanted"


async def test_line_over_1024_bytes_is_refused_and_the_session_goes_on(manager):
    response = await manager.send_action(Action("Ping", X="A" * 2000))
    assert not response.success
    assert response.message == "Failed to parse message: line too long"
    assert (await manager.ping()).success


async def test_tls(asterisk):
    from .conftest import require

    require(bool(asterisk.tls_port and asterisk.cafile), "AMI_TLS_PORT/AMI_TLS_CAFILE not set")
    context = ssl.create_default_context(cafile=asterisk.cafile)
    async with amiasync.connect(
        asterisk.host,
        asterisk.tls_port,
        username=asterisk.username,
        secret=asterisk.secret,
        ssl=context,
    ) as manager:
        assert (await manager.ping()).success


# -- Asterisk going away -----------------------------------------------------------


async def _accepting_at(host: str, port: int, deadline: float) -> float:
    """Return the monotonic time at which the port first accepts a connection."""
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        at = time.monotonic()
        writer.close()
        return at
    raise AssertionError("Asterisk did not come back")


async def _restart_case(asterisk, trigger):
    manager = await asterisk.connect(reconnect=True)
    quiet = await asterisk.connect(events=False)
    states: asyncio.Queue[tuple[ConnectionState, float]] = asyncio.Queue()
    manager.register_state_callback(lambda s, m: states.put_nowait((s, time.monotonic())))
    shutdowns: list[amiasync.Event] = []
    manager.register_callback(core_events.Shutdown, lambda e, m: shutdowns.append(e))
    booted: asyncio.Queue[amiasync.Event] = asyncio.Queue()
    manager.register_callback(core_events.FullyBooted, lambda e, m: booted.put_nowait(e))
    # A pending action: a synchronous Originate to an extension that rings and
    # never answers blocks its session until the call times out (60 s).
    pending = asyncio.ensure_future(
        quiet.send_action(
            core.Originate("Local/400@amitest", application="Wait", data="1", timeout=60000),
            timeout=90,
        )
    )
    await asyncio.sleep(0)
    lost_at = None
    try:
        await trigger()
        started = time.monotonic()
        # Never a hang: Asterisk's own answer (a stopping Asterisk fails the
        # call: "Originate failed"), or ManagerSocketError the moment the link goes.
        try:
            outcome: object = await asyncio.wait_for(pending, 30)
        except amiasync.ManagerSocketError as exc:
            outcome = exc
        failed_after = time.monotonic() - started
        accepting = asyncio.ensure_future(
            _accepting_at(asterisk.host, asterisk.port, time.monotonic() + 90)
        )
        while True:
            state, at = await asyncio.wait_for(states.get(), 90)
            if state is ConnectionState.DISCONNECTED:
                lost_at = at
            if state is ConnectionState.RECONNECTED:
                break
        accepted_at = await accepting
        assert manager.logged_in and (await manager.ping()).success
        # Logins are accepted before the dialplan is loaded; FullyBooted (sent
        # after login once Asterisk is up) says the next test can place calls.
        await asyncio.wait_for(booted.get(), 30)
        return shutdowns, (outcome, failed_after), at - accepted_at, lost_at
    finally:
        await manager.close()
        await quiet.close()


async def test_core_restart_now(asterisk):
    async def trigger():
        await asterisk.sandbox("rx", "core restart now")

    shutdowns, (outcome, failed_after), back_after, _ = await _restart_case(asterisk, trigger)
    assert shutdowns and shutdowns[0].restart == "True"
    assert isinstance(outcome, amiasync.ManagerSocketError) or not outcome.success, outcome
    assert failed_after < 5  # at once when the link drops, not after the 90 s timeout
    # Back and logged in within about a second of Asterisk accepting connections
    # (the login itself waits for Asterisk to finish booting its manager).
    assert back_after < 2.0, back_after


async def test_kill_9(asterisk):
    async def trigger():
        pid = int(await asterisk.sandbox("pid"))
        os.kill(pid, signal.SIGKILL)
        await asterisk.sandbox("start-bg")

    shutdowns, (outcome, failed_after), back_after, _ = await _restart_case(asterisk, trigger)
    assert not shutdowns  # no Shutdown event from a killed process
    assert isinstance(outcome, amiasync.ManagerSocketError), outcome
    assert failed_after < 5
    assert back_after < 2.0, back_after


async def test_keepalive_detects_a_stopped_asterisk(asterisk):
    pid = int(await asterisk.sandbox("pid"))
    manager = await asterisk.connect(keepalive=0.2, keepalive_timeout=1.0)
    lost = asyncio.get_running_loop().create_future()
    manager.register_state_callback(
        lambda s, m: s is ConnectionState.DISCONNECTED and not lost.done() and lost.set_result(s)
    )
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.wait_for(lost, 10)
        assert not manager.is_connected()
    finally:
        os.kill(pid, signal.SIGCONT)
        await manager.close()
