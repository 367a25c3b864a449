"""Misbehaving loopback peers for the hostile tests: raw asyncio servers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from types import TracebackType
from typing import Callable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
BANNER = b"Asterisk Call Manager/11.0.0\r\n"


class RawPeer:
    """A loopback server running ``handler`` for each connection; counts them."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.host = "127.0.0.1"
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            await self.handler(reader, writer)
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            # The server is closing: end quietly (asyncio logs a cancelled
            # client_connected_cb task as an error otherwise).
            pass

    async def __aenter__(self) -> RawPeer:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()


async def deaf(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Send the banner, then never read and never answer (a peer that stopped reading)."""
    writer.transport.pause_reading()  # type: ignore[attr-defined]
    writer.write(BANNER)
    await asyncio.sleep(3600)


async def login_then_deaf(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer the plain Login, then stop reading."""
    writer.write(BANNER)
    data = b""
    while b"\r\n\r\n" not in data:
        data += await reader.read(4096)
    action_id = data.split(b"ActionID: ")[1].split(b"\r\n")[0]
    writer.write(b"Response: Success\r\nActionID: " + action_id + b"\r\nMessage: ok\r\n\r\n")
    writer.transport.pause_reading()  # type: ignore[attr-defined]
    await asyncio.sleep(3600)
