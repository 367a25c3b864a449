"""The command line as a newcomer meets it (issue 16): options anywhere, --version,
tables that fit, a note while connecting is slow, hints for TLS mix-ups."""

from __future__ import annotations

import asyncio
import socket
import sys
import types

import amiasync
from amiasync import cli
from amiasync.cli import FAKE_SERVER_PORT, build_parser, format_table
from amiasync.message import Event
from amiasync.testing import FakeAsterisk

from .test_cli import SECRET, USER, base_env, fake_env, one_line, run, start
from .test_cli import server as server  # the fake server with the CLI tests' user


async def test_version():
    status, out, _ = await run(["--version"], base_env())
    assert status == 0
    assert out.startswith(f"amiasync {amiasync.__version__} ")


async def test_global_options_before_or_after_the_subcommand(server):
    env = fake_env(server)
    for args in (["-vv", "action", "Ping"], ["action", "Ping", "-vv"]):
        status, out, err = await run(args, env)
        assert status == 0, err
        assert "Ping: Pong" in out
        assert "DEBUG: send Ping" in err, args


def test_an_option_after_the_subcommand_wins_and_one_before_is_kept():
    parser = build_parser()
    args = parser.parse_args(["--host", "a", "--timeout", "3", "action", "Ping", "--host", "b"])
    assert (args.host, args.timeout) == ("b", 3.0)
    args = parser.parse_args(["--port", "7", "events"])
    assert args.port == 7 and args.verbose == 0


async def test_an_event_list_table_fits_the_width():
    async with FakeAsterisk(users={USER: SECRET}, call_duration=30) as server:
        async with amiasync.connect(
            server.host, server.port, username=USER, secret=SECRET
        ) as manager:
            result = await manager.originate(
                amiasync.Action("Originate", Channel="Local/100@amitest", Application="Wait")
            )
            assert result.success
            for env, args in (
                (fake_env(server, COLUMNS="60"), []),
                (fake_env(server), ["--width", "60"]),
            ):
                status, out, err = await run(["action", "CoreShowChannels", *args], env)
                assert status == 0, err
                lines = out.splitlines()
                assert all(len(line) <= 60 for line in lines), lines
                assert any("Local/100@amitest" in line for line in lines)
                assert any("more column" in line for line in lines)
            # Piped output is not cut unless asked.
            status, out, err = await run(["action", "CoreShowChannels"], fake_env(server))
            assert max(len(line) for line in out.splitlines()) > 150
            assert "more columns" not in out


def test_format_table_cuts_long_cells_and_names_the_left_out_columns():
    rows = [Event.from_headers(Event="X", A="a" * 100, B="b", C="c" * 30)]
    lines = format_table(rows, ["A", "B", "C"], width=45)
    assert all(len(line) <= 45 for line in lines)
    assert lines[2].startswith("a" * 39 + "~")
    note = " ".join(lines[3:])
    assert "1 more column: C;" in note
    assert format_table(rows, ["B"], width=45) == ["B", "-", "b"]


async def test_a_slow_connection_says_connecting_then_hints_at_tls():
    # A listening socket that never answers: the kernel accepts the
    # connection, no banner ever comes (as a TLS port does to a plain client).
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        env = base_env(AMI_USERNAME="admin", AMI_SECRET="x")
        status, _, err = await run(
            ["--host", "127.0.0.1", "--port", str(port), "--timeout", "3", "action", "Ping"], env
        )
    assert status == 1
    lines = err.strip().splitlines()
    assert lines[0] == f"amiasync: connecting to 127.0.0.1:{port} ..."
    assert "no AMI banner" in lines[-1] and "add --tls" in lines[-1]


async def test_a_quick_connection_prints_no_connecting_line(server):
    status, _, err = await run(["action", "Ping"], fake_env(server))
    assert status == 0
    assert "connecting to" not in err


async def test_tls_against_a_plain_port_hints(server):
    args = ["action", "Ping", "--tls", "--tls-insecure", "--port", str(server.port)]
    status, _, err = await run(args, fake_env(server))
    assert status == 1
    line = one_line(err)
    assert "does not speak TLS" in line and "Drop --tls" in line


async def test_fake_server_default_port_is_not_asterisks():
    assert FAKE_SERVER_PORT not in (5038, 5039)
    args = build_parser().parse_args(["fake-server"])
    assert args.port is None  # run_fake_server then uses FAKE_SERVER_PORT


async def test_fake_server_hint_names_every_setting():
    proc = await start(["fake-server", "--port", "0", "--traffic", "0"], base_env())
    try:
        assert proc.stderr is not None
        hint = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
    finally:
        proc.terminate()
        await proc.wait()
    assert "--host 127.0.0.1 --port " in hint and "--username admin events" in hint


def test_a_module_in_subcommand_modules_adds_a_subcommand(monkeypatch):
    module = types.ModuleType("amiasync_example_subcommand")

    async def run(args, target, out):  # pragma: no cover - only parsed here
        return 0

    def add_subcommand(commands, parent):
        hello = commands.add_parser("hello", parents=[parent], help="say hello")
        hello.add_argument("--name", default="world")
        hello.set_defaults(run=run, client=True)

    module.add_subcommand = add_subcommand  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", [module.__name__])
    args = cli.build_parser().parse_args(["-v", "hello", "--name", "x", "--port", "1"])
    assert (args.command, args.name, args.port, args.verbose) == ("hello", "x", 1, 1)
    assert args.run is run and args.client
