"""What a newcomer meets first (issue 16): clear errors, a quiet clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
from pathlib import Path

import pytest

import amiasync
from amiasync.testing import FakeAsterisk


async def test_send_action_with_a_dict_is_a_clear_type_error(manager):
    with pytest.raises(TypeError, match=r"takes an Action, not dict"):
        await manager.send_action({"Action": "Ping"})
    # Nothing was sent and the connection still works.
    assert (await manager.ping())["Ping"] == "Pong"


async def test_the_end_of_the_link_after_shutdown_is_not_a_warning(server, manager, caplog):
    caplog.set_level(logging.INFO, logger="amiasync")
    server.shutdown()
    await asyncio.wait_for(manager.wait_closed(), 10)
    lost = [r for r in caplog.records if "connection" in r.getMessage()]
    assert lost, "the end of the link is logged"
    assert all(r.levelno == logging.INFO for r in lost), [r.getMessage() for r in lost]
    assert "after Shutdown" in lost[-1].getMessage()


async def test_a_drop_without_shutdown_is_still_a_warning(server, manager, caplog):
    caplog.set_level(logging.INFO, logger="amiasync")
    server.drop_connections()
    await asyncio.wait_for(manager.wait_closed(), 10)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("connection lost" in r.getMessage() for r in warnings)


async def test_shutdown_seen_is_forgotten_on_the_next_connection():
    async with FakeAsterisk(users={"admin": "secret"}) as first:
        manager = amiasync.Manager()
        await manager.connect(first.host, first.port)
        await manager.login("admin", "secret")
        first.shutdown()
        await asyncio.wait_for(manager.wait_closed(), 10)
        async with FakeAsterisk(users={"admin": "secret"}) as second:
            await manager.connect(second.host, second.port)
            await manager.login("admin", "secret")
            records: list[logging.LogRecord] = []
            handler = logging.Handler()
            handler.emit = records.append  # type: ignore[method-assign]
            logger = logging.getLogger("amiasync")
            # Another test may have run the CLI in this process, which sets the
            # level of the "amiasync" logger: this test needs warnings through.
            level = logger.level
            logger.setLevel(logging.INFO)
            logger.addHandler(handler)
            try:
                second.drop_connections()
                await asyncio.wait_for(manager.wait_closed(), 10)
            finally:
                logger.removeHandler(handler)
                logger.setLevel(level)
            await manager.close()
    assert any(r.levelno == logging.WARNING and "lost" in r.getMessage() for r in records)


def test_the_sandbox_env_names_the_xml_wherever_the_chroot_lives(tmp_path):
    script = Path(__file__).resolve().parents[1] / "scripts" / "asterisk-sandbox.sh"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMI_")}
    env["AMI_SANDBOX_DIR"] = str(tmp_path / "elsewhere" / "asterisk-sid")
    out = subprocess.run(
        ["bash", str(script), "env"], env=env, capture_output=True, text=True, check=True
    ).stdout
    expected = tmp_path / "elsewhere/asterisk-sid/usr/share/asterisk/documentation/core-en_US.xml"
    assert f"export AMI_ASTERISK_XML={expected}" in out.splitlines()


def test_the_catalogue_tests_look_in_the_sandbox_dir(monkeypatch, tmp_path):
    from .test_catalogue import XML_IN_SANDBOX, _xml_candidate

    for name in ("AMI_ASTERISK_XML", "AMI_SANDBOX_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AMI_SANDBOX_DIR", str(tmp_path))
    assert _xml_candidate() == tmp_path / XML_IN_SANDBOX
    monkeypatch.setenv("AMI_ASTERISK_XML", "/x/core-en_US.xml")
    assert str(_xml_candidate()) == "/x/core-en_US.xml"
