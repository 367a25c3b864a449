"""The package's public face: exports, the seed's names, the CLI's Ctrl-C and secrets."""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import time

import pytest

import amiasync
from amiasync import cli

from .conftest import SECRET, USER, finish
from .peers import BANNER, RawPeer
from .test_cli import base_env, cli_argv


def test_the_package_exports_the_connection_layers_public_names():
    for name in (
        "EventStream",
        "OriginateResult",
        "ActionCall",
        "ConnectionState",
        "InvalidState",
        "ConnectionClosed",
        "ConnectionLost",
        "USE_DEFAULT",
        "UseDefault",
    ):
        assert name in amiasync.__all__, name
        assert getattr(amiasync, name) is not None
    assert issubclass(amiasync.ConnectionLost, amiasync.ManagerSocketError)
    assert issubclass(amiasync.ConnectionClosed, amiasync.ManagerSocketError)
    assert issubclass(amiasync.InvalidState, amiasync.AMIError)
    assert not issubclass(amiasync.InvalidState, amiasync.ManagerSocketError)


def test_the_default_sentinel_prints_readably_in_help():
    assert repr(amiasync.USE_DEFAULT) == "USE_DEFAULT"
    assert amiasync.UseDefault() is amiasync.USE_DEFAULT
    import pydoc

    text = pydoc.render_doc(amiasync.Manager.send_action)
    assert "= USE_DEFAULT" in text and "object at 0x" not in text


@pytest.mark.parametrize("owner", [amiasync.connect, amiasync.Manager])
def test_every_connect_and_manager_argument_is_typed_and_documented(owner):
    import inspect

    doc = inspect.getdoc(owner) or ""
    for name, parameter in inspect.signature(owner.__init__).parameters.items():
        if name == "self":
            continue
        assert parameter.kind is not parameter.VAR_KEYWORD, name
        assert parameter.annotation is not parameter.empty, name
        assert f"{name}:" in doc, name


def test_import_amiasync_alone_reaches_core_events_as_pystrix_does():
    code = "import amiasync; print(amiasync.core_events.FullyBooted.name, amiasync.core.Login)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("FullyBooted")


def test_a_resolved_target_does_not_show_its_secret():
    args = argparse.Namespace(
        host="127.0.0.1",
        port=5038,
        username=USER,
        secret="very-secret-value",
        tls=False,
        tls_cafile=None,
        tls_insecure=False,
        plain_login=False,
        timeout=5.0,
    )
    target = cli.resolve_target(args)
    assert target.secret == "very-secret-value"
    assert "very-secret-value" not in repr(target) and "very-secret-value" not in str(target)


async def _silent(reader, writer):
    await asyncio.sleep(3600)


async def _banner_then_silent(reader, writer):
    writer.write(BANNER)
    await asyncio.sleep(3600)


@pytest.mark.parametrize("peer_behaviour", [_silent, _banner_then_silent])
async def test_ctrl_c_stops_the_events_command_while_connecting_or_logging_in(peer_behaviour):
    async with RawPeer(peer_behaviour) as peer:
        env = base_env(AMI_USERNAME=USER, AMI_SECRET=SECRET)
        proc = await asyncio.create_subprocess_exec(
            *cli_argv(),
            "events",
            "--port",
            str(peer.port),
            "--timeout",
            "60",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        for _ in range(200):  # until the CLI has connected (or is trying to)
            if peer.connections:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        status, _, err = await finish(proc, timeout=20)
        assert time.monotonic() - started < 10, err
        assert status == 0, err
