#!/usr/bin/env python3
"""pystrix's AMI example, ported to amiasync and asyncio almost line for line.

The shape is the seed's: a class holding the Manager and a kill flag,
callbacks registered by name and by class, a catch-all (``''``), an orphan
handler (``None``) and a ``'Shutdown'`` handler that sets the kill flag; a
Challenge, then an MD5 Login; a loop until the flag is set; then close. The
differences are the ones asyncio needs: connecting happens in ``async def
start()`` (``__init__`` cannot await), ``send_action`` is awaited, the main
loop sleeps with ``await asyncio.sleep``, and no ``monitor_connection()``
thread is needed (the reader task notices a lost connection by itself).

Settings come from ``AMI_HOST``, ``AMI_PORT``, ``AMI_USERNAME`` and
``AMI_SECRET``. With no ``AMI_HOST`` the example starts the embedded fake
Asterisk in-process and has it shut down after a moment, so it ends by
itself::

    python examples/ami_core.py
    AMI_HOST=pbx.example.com AMI_USERNAME=admin AMI_SECRET=... python examples/ami_core.py
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import amiasync
from amiasync import core, core_events
from amiasync.testing import FakeAsterisk

# A few constants for logging in. Putting them directly into code is usually a bad idea:
# they come from the environment here.
_HOST = os.environ.get("AMI_HOST")
_PORT = int(os.environ.get("AMI_PORT", "5038"))
_USERNAME = os.environ.get("AMI_USERNAME", "admin")
_PASSWORD = os.environ.get("AMI_SECRET", "wordpass")


class AMICore:
    """The class that holds the logic for this AMI session.

    You could also work with the ``Manager`` directly, but this is probably a
    better approach for most general-purpose applications.
    """

    _manager: amiasync.Manager  # The AMI conduit for talking to Asterisk
    _kill_flag = False  # True when the core has shut down of its own accord

    def __init__(self) -> None:
        # The manager logs through Python's logging module ("amiasync") and has
        # optional features (timeouts, reconnecting); see its documentation.
        self._manager = amiasync.Manager()

        # Callbacks should be registered before connecting, to miss no event.
        self._register_callbacks()

    async def start(self, host: str, port: int) -> None:
        """Connect and log in (pystrix did this in ``__init__``, which cannot await)."""
        try:
            # Attempt to connect to Asterisk.
            await self._manager.connect(host, port)

            # Ask Asterisk for a challenge token, so the password never travels in
            # plain text. This step is optional: leave out the 'challenge'
            # parameter of Login to send the secret itself.
            challenge_response = await self._manager.send_action(core.Challenge())
            # This shows the common case: build an action, send it, await the response.

            if challenge_response.success:
                # Unlike pystrix, a timeout does not return None: it raises
                # ActionTimeout (caught below). Requests are awaited, so any number
                # may be in flight at once from different tasks.
                action = core.Login(
                    _USERNAME, _PASSWORD, challenge=challenge_response.result["Challenge"]
                )
                response = await self._manager.send_action(action)
                # pystrix's Login raised ManagerAuthError by itself; with amiasync,
                # check the response (or use manager.login(), which does both steps).
                if not response.success:
                    raise amiasync.ManagerAuthError(response)
            else:
                self._kill_flag = True
                raise ConnectionError("Asterisk did not provide an MD5 challenge token")
        except amiasync.ManagerSocketError as e:
            self._kill_flag = True
            raise ConnectionError(f"Unable to connect to Asterisk server: {e}") from e
        except amiasync.ManagerAuthError as reason:
            self._kill_flag = True
            raise ConnectionError(
                f"Unable to authenticate to Asterisk server: {reason}"
            ) from reason
        except amiasync.ActionTimeout as reason:
            self._kill_flag = True
            raise ConnectionError(f"Asterisk did not answer in time: {reason}") from reason
        except amiasync.ManagerError as reason:
            self._kill_flag = True
            raise ConnectionError(f"An unexpected Asterisk error occurred: {reason}") from reason

        # No monitor_connection() thread: the manager's reader task sees a lost
        # connection at once, and is_connected() turns False.

    def _register_callbacks(self) -> None:
        # Event callbacks, so that interesting things (calls being set up or torn
        # down) reach your application's logic. Since this is an example, the
        # same event is registered in two different ways.

        # 'FullyBooted' is sent by Asterisk right after login, to say that
        # everything is online. Two handlers for it: one matched by name, one by
        # class. Both match at the same cost; choose whichever reads better.
        self._manager.register_callback("FullyBooted", self._handle_string_event)
        self._manager.register_callback(core_events.FullyBooted, self._handle_class_event)
        # When 'FullyBooted' arrives, both handlers run, in registration order.

        # A catch-all handler: the empty string matches every event, which may
        # be useful for debugging.
        self._manager.register_callback("", self._handle_event)

        # An orphan handler: None receives responses that no request claims (a
        # request that timed out before its answer came, for example).
        self._manager.register_callback(None, self._handle_orphan)

        # And Asterisk's Shutdown signal, emitted when the system is stopping.
        self._manager.register_callback("Shutdown", self._handle_shutdown)

    def _handle_shutdown(self, event: amiasync.Event, manager: amiasync.Manager) -> None:
        self._kill_flag = True

    def _handle_event(self, event: amiasync.Event, manager: amiasync.Manager) -> None:
        print(f"Received event: {event.event_name}", flush=True)

    def _handle_orphan(self, response: amiasync.Response, manager: amiasync.Manager) -> None:
        print(f"Received orphan response: {response.get('Response')}", flush=True)

    def _handle_string_event(self, event: amiasync.Event, manager: amiasync.Manager) -> None:
        print(f"Received string event: {event.event_name}", flush=True)

    def _handle_class_event(
        self, event: core_events.FullyBooted, manager: amiasync.Manager
    ) -> None:
        print(f"Received class event: {event.event_name} ({event.status})", flush=True)

    def is_alive(self) -> bool:
        # Also stop if the connection went away without a Shutdown event.
        return not self._kill_flag and self._manager.is_connected()

    async def kill(self) -> None:
        await self._manager.close()


async def main() -> int:
    host, port = _HOST, _PORT
    server: FakeAsterisk | None = None
    if host is None:
        # No Asterisk given: the embedded fake one, shut down after a moment.
        server = await FakeAsterisk(users={_USERNAME: _PASSWORD}).start()
        host, port = server.host, server.port
        print(f"No AMI_HOST: using the embedded fake Asterisk on {host}:{port}", flush=True)

    ami_core = AMICore()
    try:
        await ami_core.start(host, port)
    except ConnectionError as e:
        print(e, file=sys.stderr)
        await ami_core.kill()
        if server is not None:
            await server.stop()
        return 1
    if server is not None:
        asyncio.get_running_loop().call_later(0.5, server.shutdown)

    try:
        while ami_core.is_alive():  # noqa: ASYNC110 - the seed's polling loop, kept on purpose
            # In a larger application, other tasks would do something useful here
            # (or a FastAGI server would run beside). The loop just waits, as the
            # seed's main thread did.
            await asyncio.sleep(0.1)
    finally:  # also on Ctrl-C, which cancels this task
        await ami_core.kill()
        if server is not None:
            await server.stop()
    print("Stopped", flush=True)
    return 0


if __name__ == "__main__":
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        print("Interrupted", flush=True)
