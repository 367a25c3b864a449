"""AGI for asyncio: a FastAGI server and AsyncAGI over an AMI ``Manager``.

::

    from amiasync.agi import FastAGIServer, AGIHangup

    app = FastAGIServer()

    @app.route("ivr")                    # AGI(agi://host:4573/ivr?lang=de,a,b)
    async def ivr(agi):
        await agi.answer()
        lang = agi.query.get("lang", "en")
        caller = await agi.get_variable("CALLERID(num)")
        await agi.set_variable("RESULT", "ok")

    async with app.serve("127.0.0.1", 4573):
        ...

The same handlers serve ``AGI(agi:async,ivr,a,b)`` channels through
:class:`AsyncAGI` (``AsyncAGI(manager)``). Layers: :mod:`~amiasync.agi.codec`
(sans-IO), :mod:`~amiasync.agi.session` (the :class:`AGI` object),
:mod:`~amiasync.agi.commands` (generated), :mod:`~amiasync.agi.fastagi`,
:mod:`~amiasync.agi.asyncagi`; errors in :mod:`~amiasync.agi.errors`.
"""

from __future__ import annotations

from .asyncagi import AsyncAGI
from .codec import AGIDecoder, AGIResult, encode_command
from .errors import (
    AGICommandFailed,
    AGIConnectionLost,
    AGIError,
    AGIHangup,
    AGITimeout,
    InvalidAGICommand,
)
from .fastagi import DEFAULT_FASTAGI_PORT, FastAGIServer
from .routing import Router
from .session import AGI

__all__ = [
    "FastAGIServer",
    "AsyncAGI",
    "AGI",
    "AGIResult",
    "Router",
    "AGIDecoder",
    "encode_command",
    "DEFAULT_FASTAGI_PORT",
    "AGIError",
    "AGIHangup",
    "AGICommandFailed",
    "InvalidAGICommand",
    "AGITimeout",
    "AGIConnectionLost",
]
