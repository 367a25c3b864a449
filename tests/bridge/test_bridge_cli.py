"""``amiasync bridge`` options and TOML configuration (the running bridge: test_faults)."""

from __future__ import annotations

import pytest

from amiasync.bridge.cli import _servers, load_config, parse_pbx
from amiasync.cli import build_parser, main


def args(*argv: str):
    return build_parser().parse_args(["bridge", *argv])


def test_parse_pbx():
    assert parse_pbx("pbx1=10.0.0.1") == ("pbx1", "10.0.0.1", 5038)
    assert parse_pbx("pbx2=pbx.example:5039") == ("pbx2", "pbx.example", 5039)
    assert parse_pbx("v6=[::1]:5040") == ("v6", "::1", 5040)
    with pytest.raises(ValueError):
        parse_pbx("nohost")


def test_config_file_gives_per_pbx_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("PBX1_SECRET", "from-env")
    monkeypatch.setenv("AMI_USERNAME", "shared")
    monkeypatch.setenv("AMI_SECRET", "shared-secret")
    path = tmp_path / "bridge.toml"
    path.write_text(
        'redis = "redis://127.0.0.1:1/0"\nmaxlen = 500\n'
        '[pbx.pbx1]\nhost = "10.0.0.1"\nusername = "u1"\nsecret_env = "PBX1_SECRET"\n'
        '[pbx.pbx2]\nhost = "10.0.0.2"\nport = 5039\n'
    )
    config = load_config(str(path))
    servers = _servers(args("--config", str(path), "--pbx", "pbx3=10.0.0.3"), config)
    assert servers["pbx1"] == {"host": "10.0.0.1", "username": "u1", "secret": "from-env"}
    assert servers["pbx2"] == {
        "host": "10.0.0.2",
        "port": 5039,
        "username": "shared",
        "secret": "shared-secret",
    }
    assert servers["pbx3"]["port"] == 5038 and config["maxlen"] == 500


def test_usage_errors_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AMI_USERNAME", raising=False)
    monkeypatch.delenv("AMI_SECRET", raising=False)
    assert main(["bridge", "--pbx", "pbx1=127.0.0.1"]) == 2
    assert "no username or secret" in capsys.readouterr().err
    assert main(["bridge"]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("redis = ")
    assert main(["bridge", "--config", str(bad)]) == 2
    assert main(["bridge", "--config", str(tmp_path / "missing.toml")]) == 2


async def test_the_running_bridge_reports_events_per_second_per_pbx(fakes, redis_server):
    from amiasync._compat import timeout

    from .helpers import bridge_process

    fake = fakes[0]
    child = await bridge_process(
        redis_server.url,
        f"pbx1={fake.host}:{fake.port}",
        "pbx2=127.0.0.1:1",  # nothing listens there: DOWN, and pbx1 is not held up
        extra=("--no-actions", "--status-interval", "0.2"),
    )
    try:
        for n in range(50):
            fake.emit({"Event": "UserEvent", "UserEvent": "t", "N": str(n)})
        stderr = child.process.stderr
        assert stderr is not None
        line = ""
        async with timeout(20):
            while "pbx1 up" not in line:  # the first lines may come before the login
                line = (await stderr.readline()).decode()
        assert "pbx1 up" in line and "pbx2 DOWN" in line and "ev/s buffered" in line
    finally:
        err = await child.stop()
    # SIGTERM: a clean stop, everything buffered written.
    assert child.process.returncode == 0
    assert "pbx1: " in err and "0 not written" in err
