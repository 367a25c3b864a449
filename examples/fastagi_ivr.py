#!/usr/bin/env python3
"""A small FastAGI IVR: reads variables, asks for a digit, sets a result, handles hangup.

Point a dialplan at it::

    exten => 500,1,AGI(agi://127.0.0.1:4573/ivr?lang=de,${CALLERID(num)})
     same => n,Verbose(1,IVR chose ${IVR_CHOICE}: AGISTATUS=${AGISTATUS})

and run it (``AGI_HOST``/``AGI_PORT`` choose the address; port 0 picks a free
one and prints it)::

    python examples/fastagi_ivr.py
    amiasync agi-serve examples.fastagi_ivr:app --port 4573   # the same app, from the CLI

It answers, reads the ``ACCOUNT`` channel variable and the ``lang`` query
parameter, waits three seconds for 1 (sales) or 2 (support), else picks the
operator, and leaves the choice in ``IVR_CHOICE`` and ``AGI_RESULT`` for the
dialplan. A caller who hangs up makes the pending command raise ``AGIHangup``;
the handler logs it and ends.
"""

from __future__ import annotations

import asyncio
import logging
import os

from amiasync.agi import AGI, AGIHangup, FastAGIServer

log = logging.getLogger("fastagi_ivr")

app = FastAGIServer()

MENU = {"1": "sales", "2": "support"}


@app.route("ivr")
async def ivr(agi: AGI) -> None:
    """One call: ``agi://host:port/ivr?lang=xx,<caller number>``."""
    caller = agi.args[0] if agi.args else agi.env.get("agi_callerid", "unknown")
    lang = agi.query.get("lang", "en")
    try:
        await agi.answer()
        account = await agi.get_variable("ACCOUNT")  # None when the dialplan set none
        # WAIT FOR DIGIT answers with the digit's character code, 0 on timeout.
        digit = await agi.wait_for_digit(3000)
        key = chr(int(digit)) if int(digit) > 0 else ""
        choice = MENU.get(key, "operator")
        await agi.set_variable("IVR_CHOICE", choice)
        await agi.set_variable("AGI_RESULT", f"{choice}:{lang}:{account or '-'}")
        await agi.verbose(f"IVR: {caller} chose {choice}", 1)
    except AGIHangup:
        log.info("caller %s hung up during the IVR", caller)


async def main() -> None:
    host = os.environ.get("AGI_HOST", "127.0.0.1")
    port = int(os.environ.get("AGI_PORT", "4573"))
    async with app.serve(host, port):
        print(f"listening on {host}:{app.port}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
