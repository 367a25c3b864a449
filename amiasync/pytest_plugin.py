"""pytest fixtures for code that talks to Asterisk: ``fake_asterisk`` and ``manager``.

Installing amiasync registers this plugin with pytest (entry point
``pytest11``), so the fixtures are there in any project without a line of
configuration. They are async fixtures, declared with pytest-asyncio's own
decorator, so they work in its default *strict* mode as well as in *auto*
mode (``asyncio_mode = "auto"``). In strict mode, mark the tests that use them
with ``@pytest.mark.asyncio``.

``fake_asterisk``
    A started :class:`~amiasync.testing.FakeAsterisk` on a free loopback port
    with one user, ``admin`` / ``secret`` (:data:`USERNAME`, :data:`SECRET`);
    stopped after the test.
``manager``
    A :class:`~amiasync.Manager` connected to ``fake_asterisk`` and logged in
    (events on); logged off and closed after the test.

The ``fake_asterisk`` marker passes keyword arguments to ``FakeAsterisk``::

    @pytest.mark.asyncio
    @pytest.mark.fake_asterisk(call_duration=30, users={"ops": "pw"})
    async def test_long_call(fake_asterisk, manager): ...

(``manager`` then logs in as the first user given.) A fixture of the same name
in your own ``conftest.py`` takes precedence over these, as pytest's rules say.
Without pytest-asyncio installed the fixtures fail with a message saying so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .connection import Manager, connect
from .testing import FakeAsterisk

__all__ = ["USERNAME", "SECRET", "fake_asterisk", "manager"]

#: The user the ``fake_asterisk`` fixture accepts by default.
USERNAME = "admin"
#: Its secret.
SECRET = "secret"  # noqa: S105 - the fake server's test user

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - exercised only without pytest-asyncio
    pytest_asyncio = None  # type: ignore[assignment]

_NEEDS = "amiasync's {} fixture needs pytest-asyncio: pip install pytest-asyncio"


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``fake_asterisk`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers", "fake_asterisk(**options): keyword arguments for the fake_asterisk fixture"
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("fake_asterisk")
    options: dict[str, Any] = {"users": {USERNAME: SECRET}}
    if marker is not None:
        options.update(marker.kwargs)
    return options


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def fake_asterisk(request: pytest.FixtureRequest) -> AsyncIterator[FakeAsterisk]:
        """A started fake Asterisk on loopback (see the module docstring)."""
        async with FakeAsterisk(**_options(request)) as server:
            yield server

    @pytest_asyncio.fixture
    async def manager(fake_asterisk: FakeAsterisk) -> AsyncIterator[Manager]:
        """A manager logged in to ``fake_asterisk`` (see the module docstring)."""
        username, secret = next(iter(fake_asterisk.users.items()))
        async with connect(
            fake_asterisk.host, fake_asterisk.port, username=username, secret=secret
        ) as logged_in:
            yield logged_in

else:  # pragma: no cover

    @pytest.fixture
    def fake_asterisk() -> FakeAsterisk:
        """Unavailable: needs pytest-asyncio."""
        pytest.fail(_NEEDS.format("fake_asterisk"))

    @pytest.fixture
    def manager() -> Manager:
        """Unavailable: needs pytest-asyncio."""
        pytest.fail(_NEEDS.format("manager"))
