"""Real SIP traffic for the live-state tests: sipp (Debian's sip-tester) on loopback.

Ports come from the environment so CI can pick free ones (defaults in the
45060-45099 range, the sipp ones next to AMI_SIP_PORT): AMI_SIP_PORT
(Asterisk's PJSIP transport, written by ``scripts/asterisk-sandbox.sh``),
AMI_SIPP_UAS_PORT (the sipp server the sandbox's endpoints `uas` and `agent`
point at), AMI_SIPP_UAC_PORT (the first of six ports for sipp clients) and
AMI_SIPP_MEDIA_PORT (the first of the media ports sipp binds, four per
instance; no RTP is ever sent).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

SCENARIOS = Path(__file__).parent / "sipp"


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Sipp:
    """Starts sipp processes; every one it started is killed by :meth:`stop`."""

    def __init__(self) -> None:
        self.binary = shutil.which("sipp")
        sip_port = _port("AMI_SIP_PORT", 45060)
        self.asterisk = f"127.0.0.1:{sip_port}"
        self.uas_port = _port("AMI_SIPP_UAS_PORT", sip_port + 2)
        # Next to Asterisk's port unless told: two sandboxes on one machine
        # (each with its own AMI_SIP_PORT) then never share a sipp port.
        self.uac_port = _port("AMI_SIPP_UAC_PORT", sip_port + 4)
        self.media_port = _port("AMI_SIPP_MEDIA_PORT", sip_port + 10)
        self.processes: list[asyncio.subprocess.Process] = []
        self._slot = 0

    async def _spawn(self, *args: str) -> asyncio.subprocess.Process:
        assert self.binary is not None, "sipp is not installed (apt-get install sip-tester)"
        process = await asyncio.create_subprocess_exec(
            self.binary,
            *args,
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-nostdin",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=str(SCENARIOS),
        )
        self.processes.append(process)
        return process

    async def start_uas(self) -> asyncio.subprocess.Process:
        """The called side: answers every INVITE, waits for the BYE."""
        return await self._spawn(
            "-sf", "uas.xml", "-p", str(self.uas_port), "-mp", str(self.media_port), "-aa"
        )

    async def calls(
        self,
        service: str,
        count: int,
        rate: float,
        hold_ms: int,
        scenario: str = "uac.xml",
        stats: Path | None = None,
    ) -> asyncio.subprocess.Process:
        """Place ``count`` calls to ``service`` at ``rate`` calls/s, each up ``hold_ms`` ms.

        With ``stats``, sipp writes its statistics there (CSV, a line a second).
        """
        slot = self._slot % 6
        self._slot += 1
        report = () if stats is None else ("-trace_stat", "-stf", str(stats), "-fd", "1")
        return await self._spawn(
            self.asterisk,
            "-sf",
            scenario,
            "-s",
            service,
            "-p",
            str(self.uac_port + slot),
            "-mp",
            str(self.media_port + 4 * (slot + 1)),
            "-m",
            str(count),
            "-r",
            str(rate),
            "-d",
            str(hold_ms),
            "-timeout",
            "120",
            "-timeout_error",
            *report,
        )

    @staticmethod
    async def finish(process: asyncio.subprocess.Process, timeout: float = 120) -> int:
        """Wait for a client run; its status (0: every call succeeded)."""
        _, err = await asyncio.wait_for(process.communicate(), timeout)
        assert process.returncode is not None
        if process.returncode:
            print("sipp:", err.decode(errors="replace")[-2000:])
        return process.returncode

    async def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        self.processes.clear()
