"""The pytest plugin (amiasync.pytest_plugin): the documented example file, copied
into a fresh directory and run by a separate pytest, as a user would."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from .conftest import finish

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "test_with_plugin.py"


def test_the_plugin_is_registered_with_pytest():
    found = entry_points(group="pytest11") if sys.version_info >= (3, 10) else None
    if found is None:  # Python 3.9: entry_points() is a dict of groups
        found = entry_points().get("pytest11", [])  # type: ignore[attr-defined]
    assert "amiasync.pytest_plugin" in {ep.value for ep in found}


async def _pytest_in(directory: Path, *options: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    env.pop("PYTEST_ADDOPTS", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::DeprecationWarning",
        *options,
        cwd=str(directory),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    status, out, err = await finish(proc, timeout=120)
    return status, out + err


@pytest.mark.parametrize("mode", ["strict", "auto"])
async def test_the_documented_example_passes_in_a_fresh_project(tmp_path, mode):
    shutil.copy(EXAMPLE, tmp_path / "test_example.py")
    # An empty config file makes tmp_path the rootdir: none of this repo's
    # configuration (asyncio_mode = "auto", conftest.py) applies.
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nasyncio_mode = {mode}\n")
    status, out = await _pytest_in(tmp_path)
    assert status == 0, out
    assert "4 passed" in out, out


async def test_strict_mode_without_the_marks_does_not_run_silently(tmp_path):
    # Proof that the copy above really ran in strict mode: there, an unmarked
    # async test is not run (pytest-asyncio leaves it to pytest, which fails it).
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\n")
    (tmp_path / "test_unmarked.py").write_text(
        "async def test_unmarked(manager):\n    assert manager.logged_in\n"
    )
    status, out = await _pytest_in(tmp_path)
    assert status != 0 or "skipped" in out, out
    assert "1 passed" not in out, out


async def test_the_marker_options_reach_the_fake_server(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\n")
    (tmp_path / "test_marker.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.asyncio\n"
        "@pytest.mark.fake_asterisk(users={'ops': 'pw'}, ami_version='9.9.9')\n"
        "async def test_marker(fake_asterisk, manager):\n"
        "    assert manager.logged_in\n"
        "    assert manager.banner.endswith('/9.9.9')\n"
        "    assert list(fake_asterisk.users) == ['ops']\n"
    )
    status, out = await _pytest_in(tmp_path, "--strict-markers")
    assert status == 0, out
    assert "1 passed" in out, out
