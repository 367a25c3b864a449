"""The ``amiasync`` command line, end to end: the real console script in a subprocess.

The fake Asterisk runs in the test's event loop; the command runs as a child
process (``asyncio`` subprocess APIs, so the loop keeps serving the fake
server while the test waits). Synchronisation is by output lines, never by
sleeping: ``events`` prints a ``connected`` note on stderr once it is
subscribed, and ``fake-server`` prints ``listening on HOST:PORT``.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest

from amiasync.cli import format_table, message_to_json, use_colour
from amiasync.message import Event
from amiasync.testing import FakeAsterisk

from .conftest import finish

REPO = Path(__file__).resolve().parents[1]
USER, SECRET = "admin", "cli-s3cret"
TIMEOUT = 30.0


def cli_argv() -> list[str]:
    """The installed console script next to this Python, else ``python -m amiasync``."""
    script = shutil.which("amiasync", path=str(Path(sys.executable).parent))
    if script:
        return [script]
    return [sys.executable, "-m", "amiasync"]


def base_env(**extra: str) -> dict[str, str]:
    """The environment less every AMI_* (CI exports the sandbox's), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMI_") and k != "NO_COLOR"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def fake_env(server: FakeAsterisk, **extra: str) -> dict[str, str]:
    settings = {
        "AMI_HOST": server.host,
        "AMI_PORT": str(server.port),
        "AMI_USERNAME": USER,
        "AMI_SECRET": SECRET,
    }
    return base_env(**{**settings, **extra})


async def start(args: Sequence[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *cli_argv(),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=str(REPO),
    )


async def run(args: Sequence[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run the command to its end; return (status, stdout, stderr)."""
    return await finish(await start(args, env))


async def read_line_until(stream: asyncio.StreamReader | None, needle: str) -> str:
    """Read lines until one contains ``needle``; fail with what was read if it ends first."""
    assert stream is not None
    seen = []
    while True:
        line = (await asyncio.wait_for(stream.readline(), TIMEOUT)).decode()
        if not line:
            pytest.fail(f"stream ended before {needle!r}; got: {''.join(seen)!r}")
        seen.append(line)
        if needle in line:
            return line


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected a one-line error, got {err!r}"
    assert lines[0].startswith("amiasync: ")
    return lines[0]


@pytest.fixture
async def server() -> AsyncIterator[FakeAsterisk]:
    async with FakeAsterisk(users={USER: SECRET}, call_duration=0.05) as fake:
        yield fake


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- help and usage ------------------------------------------------------------


@pytest.mark.parametrize("command", [None, "events", "action", "command", "fake-server", "demo"])
async def test_help_for_every_subcommand(command):
    args = ["--help"] if command is None else [command, "--help"]
    status, out, err = await run(args, base_env())
    assert status == 0, err
    assert out.startswith(f"usage: amiasync{'' if command is None else ' ' + command}")
    if command in ("events", "action", "command"):
        assert "AMI_SECRET" in out and "--tls-insecure" in out and "--plain-login" in out


async def test_python_dash_m_runs_the_same_cli():
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "amiasync",
        "action",
        "--help",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=base_env(),
        cwd=str(REPO),
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    assert out.decode().startswith("usage: amiasync action")


async def test_usage_error_exits_2():
    status, _, err = await run(["action"], base_env())
    assert status == 2
    assert "usage: amiasync action" in err


# -- action --------------------------------------------------------------------


async def test_action_ping(server):
    status, out, err = await run(["action", "Ping"], fake_env(server))
    assert status == 0, err
    assert "Response: Success" in out.splitlines()
    assert "Ping: Pong" in out.splitlines()
    assert err == ""


async def test_action_that_fails_exits_1_with_a_one_line_error(server):
    status, out, err = await run(["action", "NoSuchAction"], fake_env(server))
    assert status == 1
    assert "Response: Error" in out
    line = one_line(err)
    assert "NoSuchAction failed" in line and "Invalid/unknown command" in line


async def test_action_sends_repeated_keys_and_values_with_equals(server):
    status, _, err = await run(
        [
            "action",
            "UserEvent",
            "UserEvent=CliTest",
            "Variable=A=1",
            "Variable=B=x=y",
            "Note=hello world",
        ],
        fake_env(server),
    )
    assert status == 0, err
    sent = [a for a in server.received if a.get("Action") == "UserEvent"][-1]
    assert sent.get_all("Variable") == ["A=1", "B=x=y"]
    assert sent.get("Note") == "hello world"


async def test_action_rejects_a_field_without_equals(server):
    status, _, err = await run(["action", "Ping", "NoEquals"], fake_env(server))
    assert status == 1
    assert "expected Key=Value" in one_line(err)


async def test_action_event_list_is_a_table(server):
    server.database[("cli", "alpha")] = "one"
    server.database[("cli", "beta")] = "two"
    status, out, err = await run(["action", "DBGetTree", "Family=cli"], fake_env(server))
    assert status == 0, err
    lines = out.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.split()[:1] == ["Event"])
    assert lines[heading].split() == ["Event", "Key", "Val"]
    assert set(lines[heading + 1]) <= {"-", " "}
    assert lines[heading + 2].split() == ["DBGetTreeResponse", "/cli/alpha", "one"]
    assert lines[heading + 3].split() == ["DBGetTreeResponse", "/cli/beta", "two"]
    assert "DBGetTreeComplete (ListItems: 2)" in out
    assert "ActionID" not in out


async def test_action_table_columns_can_be_chosen(server):
    server.database[("cli", "alpha")] = "one"
    status, out, _ = await run(
        ["action", "DBGetTree", "Family=cli", "--columns", "Val,Key"], fake_env(server)
    )
    assert status == 0
    assert ["Val", "Key"] in [line.split() for line in out.splitlines()]
    assert ["one", "/cli/alpha"] in [line.split() for line in out.splitlines()]


async def test_action_json(server):
    server.database[("cli", "alpha")] = "one"
    status, out, err = await run(["action", "DBGetTree", "Family=cli", "--json"], fake_env(server))
    assert status == 0, err
    document = json.loads(out)
    assert document["response"]["Response"] == "Success"
    assert document["response"]["EventList"] == "start"
    assert document["events"] == [
        {
            "Event": "DBGetTreeResponse",
            "Key": "/cli/alpha",
            "Val": "one",
            "ActionID": document["response"]["ActionID"],
        }
    ]
    assert document["complete"]["Event"] == "DBGetTreeComplete"
    assert document["complete"]["ListItems"] == "1"


async def test_action_json_of_a_failure_still_exits_1(server):
    status, out, err = await run(["action", "Nope", "--json"], fake_env(server))
    assert status == 1
    assert json.loads(out)["response"]["Response"] == "Error"
    one_line(err)


# -- command -------------------------------------------------------------------


async def test_command_prints_the_output_lines(server):
    status, out, err = await run(["command", "core show version"], fake_env(server))
    assert status == 0, err
    assert out == "Asterisk 22.10.1 (amiasync fake server)\n"


async def test_command_words_need_no_quotes(server):
    status, out, _ = await run(["command", "core", "show", "channels"], fake_env(server))
    assert status == 0
    assert out.splitlines()[-2:] == ["0 active channels", "0 active calls"]


async def test_unknown_command_exits_1(server):
    status, out, err = await run(["command", "no such thing"], fake_env(server))
    assert status == 1
    assert out == ""
    assert "No such command 'no such thing'" in one_line(err)


# -- errors --------------------------------------------------------------------


async def test_refused_login_is_one_line_and_exit_1(server):
    status, out, err = await run(["action", "Ping"], fake_env(server, AMI_SECRET="wrong"))
    assert status == 1
    assert out == ""
    line = one_line(err)
    assert "login refused for 'admin'" in line and "Authentication failed" in line
    assert "wrong" not in line


async def test_refused_plain_login_too(server):
    status, _, err = await run(
        ["action", "Ping", "--plain-login"], fake_env(server, AMI_SECRET="wrong")
    )
    assert status == 1
    assert "login refused" in one_line(err)
    assert server.received[0].get("Action") == "Login"  # no Challenge with --plain-login


async def test_connection_refused_is_one_line_and_exit_1():
    env = base_env(AMI_USERNAME=USER, AMI_SECRET=SECRET)
    status, _, err = await run(["action", "Ping", "--port", str(free_port())], env)
    assert status == 1
    assert "cannot connect to 127.0.0.1" in one_line(err)


async def test_timeout_is_one_line_and_exit_1(server):
    server.stalled = True
    status, _, err = await run(["action", "Ping", "--timeout", "0.3"], fake_env(server))
    assert status == 1
    line = one_line(err)
    assert "timed out" in line and "no answer in 0.3 s" in line


async def test_no_secret_and_no_terminal_is_an_error(server):
    env = fake_env(server)
    del env["AMI_SECRET"]
    status, _, err = await run(["action", "Ping"], env)
    assert status == 1
    assert "no secret: set AMI_SECRET" in one_line(err)
    assert server.received == []


async def test_no_username_is_an_error(server):
    env = fake_env(server)
    del env["AMI_USERNAME"]
    status, _, err = await run(["command", "core show version"], env)
    assert status == 1
    assert "no username" in one_line(err)


async def test_flags_override_the_environment(server):
    env = base_env(AMI_HOST="192.0.2.1", AMI_PORT="1", AMI_USERNAME="nobody", AMI_SECRET="x")
    status, out, err = await run(
        [
            "action",
            "Ping",
            "--host",
            server.host,
            "--port",
            str(server.port),
            "-u",
            USER,
            "--secret",
            SECRET,
        ],
        env,
    )
    assert status == 0, err
    assert "Ping: Pong" in out


# -- events --------------------------------------------------------------------


async def test_events_json_with_count_and_patterns(server):
    proc = await start(
        ["events", "--json", "--count", "3", "Newchannel", "hang*"], fake_env(server)
    )
    await read_line_until(proc.stderr, "connected to")
    server.emit({"Event": "Newchannel", "Privilege": "call,all", "Channel": "PJSIP/1-01"})
    server.emit({"Event": "VarSet", "Privilege": "dialplan,all", "Variable": "X"})
    server.emit(
        [
            ("Event", "Hangup"),
            ("Privilege", "call,all"),
            ("Channel", "PJSIP/1-01"),
            ("ChanVariable", "A=1"),
            ("ChanVariable", "B=2"),
            ("Cause-txt", "Normal Clearing"),
        ]
    )
    server.emit({"Event": "UserEvent", "Privilege": "user,all", "UserEvent": "Nope"})
    server.emit({"Event": "Newchannel", "Privilege": "call,all", "Channel": "PJSIP/2-02"})
    server.emit({"Event": "Newchannel", "Privilege": "call,all", "Channel": "PJSIP/3-03"})
    status, out, err = await finish(proc)
    assert status == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["Event"] for e in events] == ["Newchannel", "Hangup", "Newchannel"]
    assert events[0] == {"Event": "Newchannel", "Privilege": "call,all", "Channel": "PJSIP/1-01"}
    assert events[1]["ChanVariable"] == ["A=1", "B=2"]
    assert events[1]["Cause-txt"] == "Normal Clearing"
    assert events[2]["Channel"] == "PJSIP/2-02"


async def test_events_sees_fully_booted_sent_right_after_login(server):
    status, out, err = await run(["events", "--json", "--count", "1"], fake_env(server))
    assert status == 0, err
    assert json.loads(out)["Event"] == "FullyBooted"


async def test_events_from_a_real_fake_call(server):
    proc = await start(
        ["events", "--json", "--count", "5", "Newchannel", "Newstate", "Hangup"],
        fake_env(server),
    )
    await read_line_until(proc.stderr, "connected to")
    status, out, err = await run(
        ["action", "Originate", "Channel=Local/100@amitest", "Application=Wait", "Async=true"],
        fake_env(server),
    )
    assert status == 0, err
    status, out, err = await finish(proc)
    assert status == 0, err
    names = [json.loads(line)["Event"] for line in out.splitlines()]
    assert names == ["Newchannel", "Newchannel", "Newstate", "Newstate", "Hangup"]


async def test_events_blocks_without_colour_when_not_a_terminal(server):
    proc = await start(["events", "--count", "1", "Hangup"], fake_env(server))
    await read_line_until(proc.stderr, "connected to")
    server.emit({"Event": "Hangup", "Privilege": "call,all", "Channel": "PJSIP/9", "Cause": "16"})
    status, out, err = await finish(proc)
    assert status == 0, err
    assert "\x1b[" not in out
    title, *body = out.rstrip("\n").splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d\d\d Hangup", title)
    assert body == ["  Privilege: call,all", "  Channel: PJSIP/9", "  Cause: 16"]
    assert out.endswith("\n\n")


async def test_events_colour_always(server):
    proc = await start(["events", "--count", "1", "--color", "always"], fake_env(server))
    status, out, _ = await finish(proc)
    assert status == 0
    assert "\x1b[" in out and "FullyBooted" in out


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour("auto", Terminal())
    assert not use_colour("auto", io.StringIO())
    assert use_colour("always", io.StringIO())
    assert not use_colour("never", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour("auto", Terminal())


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_events_ctrl_c_exits_0(server, sig):
    proc = await start(["events", "Newchannel"], fake_env(server))
    await read_line_until(proc.stderr, "connected to")
    proc.send_signal(sig)
    status, out, err = await finish(proc)
    assert status == 0, err
    assert "Traceback" not in err
    assert out == ""
    # It logged off on the way out.
    assert (await server.wait_for_action("Logoff")).get("Action") == "Logoff"


async def test_events_exits_1_when_the_connection_is_lost(server):
    proc = await start(["events", "--json"], fake_env(server))
    await read_line_until(proc.stderr, "connected to")
    server.shutdown()
    status, out, err = await finish(proc)
    assert status == 1
    # Events that arrived before the close are still printed.
    assert json.loads(out.splitlines()[-1])["Event"] == "Shutdown"
    # The end of the link is reported, and named for what it was.
    assert "closed by Asterisk after Shutdown" in one_line(err)


async def test_events_reconnect_rides_out_a_restart(server):
    proc = await start(
        ["events", "--json", "--count", "2", "--reconnect", "Hangup"], fake_env(server)
    )
    await read_line_until(proc.stderr, "connected to")
    server.emit({"Event": "Hangup", "Privilege": "call,all", "Channel": "before"})
    first = await read_line_until(proc.stdout, '"before"')
    server.drop_connections()
    await read_line_until(proc.stderr, "reconnected to")
    server.emit({"Event": "Hangup", "Privilege": "call,all", "Channel": "after"})
    status, out, err = await finish(proc)
    assert status == 0, err
    assert [json.loads(line)["Channel"] for line in [first, *out.splitlines()]] == [
        "before",
        "after",
    ]


async def test_events_refused_login(server):
    status, _, err = await run(["events"], fake_env(server, AMI_SECRET="wrong"))
    assert status == 1
    assert "login refused" in one_line(err)


# -- demo and fake-server ------------------------------------------------------


async def test_demo_runs_against_the_embedded_fake_server():
    # A real PBX's settings in the environment must not be used without --from-env.
    env = base_env(AMI_HOST="192.0.2.1", AMI_PORT="1", AMI_USERNAME="x", AMI_SECRET="y")
    status, out, err = await run(["demo"], env)
    assert status == 0, err
    assert err == "", "a clean run prints no warning"
    steps = [line.split(".")[0] for line in out.splitlines() if re.match(r"\d\. ", line)]
    assert steps == [str(n) for n in range(1, 10)]
    for needle in (
        "amiasync.connect()",
        "[by name 'Hangup'] Channel: Local/100@amitest",
        "[by class events.Newchannel] Channel: ",
        "CallerIDNum: 100",
        "Response: Success, Ping: Pong",
        "placed: Channel Local/100@amitest",
        "2 channel(s) up:",
        "ended by CoreShowChannelsComplete, ListItems: 2",
        "[None: orphan response] Response: Success",
        "Shutdown received",
    ):
        assert needle in out, needle
    assert out.rstrip().endswith("clean stop")


async def test_demo_from_env_talks_to_the_asterisk_named_there(server):
    status, out, err = await run(["demo", "--from-env", "--timeout", "10"], fake_env(server))
    assert status == 0, err
    assert f"connected to {server.host}:{server.port}" in out
    assert "started the embedded fake Asterisk" not in out
    assert "shown against the embedded fake Asterisk only" in out
    assert server.sessions == [] or all(not s.authenticated for s in server.sessions)


async def test_demo_host_without_credentials_is_a_usage_error():
    status, _, err = await run(["demo", "--host", "127.0.0.1"], base_env())
    assert status == 1
    assert "needs --username" in one_line(err)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_fake_server_with_traffic_then_events():
    server = await start(
        ["fake-server", "--port", "0", "--traffic", "0.05", "--call-duration", "0.01"],
        base_env(AMI_SECRET="fake-pw"),
    )
    try:
        line = await read_line_until(server.stdout, "listening on ")
        host, port = re.fullmatch(r"listening on (\S+):(\d+)\n", line).groups()  # type: ignore[union-attr]
        env = base_env(AMI_HOST=host, AMI_PORT=port, AMI_USERNAME="admin", AMI_SECRET="fake-pw")
        status, out, err = await run(
            ["events", "--json", "--count", "7", "Newchannel", "VarSet", "Hangup"], env
        )
        assert status == 0, err
        names = {json.loads(line)["Event"] for line in out.splitlines()}
        assert {"Newchannel", "Hangup"} <= names
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGINT)
    status, _, err = await finish(server)
    assert status == 0, err
    assert "Traceback" not in err


async def test_fake_server_port_in_use_is_one_line_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        status, out, err = await run(["fake-server", "--port", str(port)], base_env())
    assert status == 1
    assert out == ""
    assert f"cannot listen on 127.0.0.1:{port}" in one_line(err)


# -- TLS -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    yield cert, key


@pytest.fixture
async def tls_server(certificate: tuple[Path, Path]) -> AsyncIterator[FakeAsterisk]:
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    async with FakeAsterisk(users={USER: SECRET}, ssl=context) as fake:
        yield fake


async def test_tls_with_a_ca_file(tls_server, certificate):
    cert, _ = certificate
    status, out, err = await run(
        ["action", "Ping", "--tls-cafile", str(cert), "--port", str(tls_server.port)],
        fake_env(tls_server),
    )
    assert status == 0, err
    assert "Ping: Pong" in out


async def test_tls_ca_file_from_the_environment_with_tls_flag(tls_server, certificate):
    cert, _ = certificate
    env = fake_env(tls_server, AMI_TLS_CAFILE=str(cert), AMI_TLS_PORT=str(tls_server.port))
    del env["AMI_PORT"]
    status, out, err = await run(["command", "core show version", "--tls"], env)
    assert status == 0, err
    assert "Asterisk 22" in out


async def test_tls_insecure_skips_verification(tls_server):
    status, out, err = await run(
        ["action", "Ping", "--tls-insecure"],
        fake_env(
            tls_server, AMI_TLS_CAFILE="/nonexistent/ca.pem", AMI_TLS_PORT=str(tls_server.port)
        ),
    )
    assert status == 0, err
    assert "Ping: Pong" in out


async def test_tls_unverified_certificate_is_one_line_error(tls_server):
    status, _, err = await run(
        ["action", "Ping", "--tls", "--port", str(tls_server.port)], fake_env(tls_server)
    )
    assert status == 1
    assert "CERTIFICATE_VERIFY_FAILED" in one_line(err)


async def test_missing_ca_file_is_one_line_error(server):
    status, _, err = await run(
        ["action", "Ping", "--tls-cafile", "/nonexistent/ca.pem"], fake_env(server)
    )
    assert status == 1
    assert "cannot load the CA file /nonexistent/ca.pem" in one_line(err)


# -- output helpers, in-process ------------------------------------------------


def test_secret_is_asked_for_on_a_terminal(monkeypatch):
    import getpass

    from amiasync.cli import build_parser, resolve_target

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    prompts = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt: prompts.append(prompt) or "typed")
    for name in ("AMI_HOST", "AMI_PORT", "AMI_SECRET", "AMI_TLS", "AMI_TLS_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AMI_USERNAME", "alice")
    args = build_parser().parse_args(["action", "Ping", "--tls-insecure"])
    target = resolve_target(args, stdin=Terminal())
    assert prompts == ["AMI secret for alice@127.0.0.1: "]
    assert (target.username, target.secret, target.port, target.auth) == (
        "alice",
        "typed",
        5039,
        "md5",
    )
    assert target.ssl is not None


def test_message_to_json_keeps_order_and_lists_repeats():
    event = Event.from_headers(
        [
            ("Event", "Status"),
            ("Channel", "PJSIP/1"),
            ("ChanVariable", "A=1"),
            ("chanvariable", "B=2"),
            ("ChanVariable", "C=3"),
            ("Uniqueid", "1.1"),
        ]
    )
    assert message_to_json(event) == {
        "Event": "Status",
        "Channel": "PJSIP/1",
        "ChanVariable": ["A=1", "B=2", "C=3"],
        "Uniqueid": "1.1",
    }
    assert list(message_to_json(event)) == ["Event", "Channel", "ChanVariable", "Uniqueid"]


def test_format_table_mixed_items_leave_blanks():
    rows = [
        Event.from_headers(Event="QueueParams", Queue="support", Calls="2", ActionID="x"),
        Event.from_headers(Event="QueueMember", Queue="support", Name="Alice"),
    ]
    lines = format_table(rows)
    assert lines[0].split() == ["Event", "Queue", "Calls", "Name"]
    assert lines[2].split() == ["QueueParams", "support", "2"]
    assert lines[3].split() == ["QueueMember", "support", "Alice"]


# -- against a real Asterisk ---------------------------------------------------


def _real_env() -> dict[str, str]:
    if not os.environ.get("AMI_HOST"):
        if os.environ.get("AMI_REQUIRE_INTEGRATION"):
            pytest.fail("AMI_REQUIRE_INTEGRATION is set but AMI_HOST is not")
        pytest.skip("needs a real Asterisk: set AMI_HOST, AMI_PORT, AMI_USERNAME, AMI_SECRET")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


@pytest.mark.integration
async def test_real_asterisk_action_command_and_events():
    env = _real_env()
    status, out, err = await run(["action", "Ping"], env)
    assert status == 0, err
    assert "Ping: Pong" in out
    status, out, err = await run(["command", "core show version"], env)
    assert status == 0, err
    assert out.startswith("Asterisk ")
    status, out, err = await run(["events", "--json", "--count", "1", "FullyBooted"], env)
    assert status == 0, err
    assert json.loads(out)["Event"] == "FullyBooted"
    status, _, err = await run(["action", "NoSuchAction"], env)
    assert status == 1
    one_line(err)


@pytest.mark.integration
async def test_real_asterisk_over_tls():
    env = _real_env()
    if not (env.get("AMI_TLS_PORT") and env.get("AMI_TLS_CAFILE")):
        pytest.skip("needs AMI_TLS_PORT and AMI_TLS_CAFILE")
    status, out, err = await run(["action", "Ping", "--tls"], env)
    assert status == 0, err
    assert "Ping: Pong" in out
