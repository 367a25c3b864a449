"""ManagerPool against the real Asterisk sandbox, with fake PBXs beside it."""

from __future__ import annotations

import pytest

from amiasync import Action, ManagerPool
from amiasync.testing import FakeAsterisk

from ..conftest import SECRET, USER
from ..test_pool import Seen

pytestmark = pytest.mark.integration


async def test_a_real_asterisk_and_fakes_in_one_pool(asterisk):
    async with (
        FakeAsterisk(users={USER: SECRET}) as fake1,
        FakeAsterisk(users={USER: SECRET}) as fake2,
    ):
        servers = {
            "real": dict(
                host=asterisk.host,
                port=asterisk.port,
                username=asterisk.username,
                secret=asterisk.secret,
            ),
            "fake1": dict(host=fake1.host, port=fake1.port, username=USER, secret=SECRET),
            "fake2": dict(host=fake2.host, port=fake2.port, username=USER, secret=SECRET),
        }
        seen = Seen()
        async with ManagerPool(servers) as pool:
            assert all(s.connected for s in pool.status().values()), pool.status()
            pool.register_callback("UserEvent", lambda e, m: seen.add((e.server, e.get("Marker"))))
            # Asterisk broadcasts the UserEvent to every session, this one included.
            response = await pool["real"].send_action(
                Action("UserEvent", UserEvent="pooltest", Marker="r")
            )
            assert response.success
            fake1.emit({"Event": "UserEvent", "UserEvent": "pooltest", "Marker": "f1"})
            fake2.emit({"Event": "UserEvent", "UserEvent": "pooltest", "Marker": "f2"})
            await seen.wait(lambda s: len(s) >= 3)
            assert sorted(seen) == [("fake1", "f1"), ("fake2", "f2"), ("real", "r")]
            assert "Asterisk" in " ".join(await pool["real"].command("core show version"))
