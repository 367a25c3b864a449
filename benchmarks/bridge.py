"""The Redis bridge's throughput: the loopback blaster into Redis, then a consumer group.

    python benchmarks/bridge.py                # 200,000 events
    python benchmarks/bridge.py --events 50000
    python benchmarks/bridge.py --batch 2000     # the bridge's batch_size

Starts its own redis-server (127.0.0.1, a free port, a temporary directory,
no persistence) and the event blaster (``blaster.py``), runs one
:class:`amiasync.bridge.Bridge` in this process against the blaster, and
reports:

* **bridge**: events per second from the first event read to the last one
  in Redis (AMI read, decode, JSON pairs, batched appends), the bridge
  process's CPU time per event (steadier than wall time on a shared
  machine) and the largest backlog waiting for Redis;
* **order**: every entry read back and compared with what the blaster sent,
  header by header, in order (``workload.event_pairs``), so a reordered,
  lost or duplicated event fails the run;
* **consumers**: an :class:`~amiasync.bridge.EventConsumer` group (1 and 2
  consumers, each its own process) reading and acknowledging every entry;
* **stalled Redis**: with Redis paused (SIGSTOP) while the blaster sends,
  peak RSS stays bounded by the buffer (``--buffer``), the rest is counted
  as dropped.

Everything is bounded in time and runs on loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import workload  # noqa: E402

from amiasync.bridge import Bridge, EventConsumer  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="amiasync-bench-redis-")
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Blaster:
    def __init__(self, events: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "blaster.py"), "--events", str(events)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT"):
            raise SystemExit(f"blaster did not start: {line!r}")
        self.port = int(line.split()[1])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process (the bridge), user and system: less noisy than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def bridge_run(
    redis_url: str, events: int, buffer: int, stall: Redis | None, batch: int | None = None
) -> dict:
    blaster = Blaster(events)
    servers = {"bench": dict(host="127.0.0.1", port=blaster.port, username="bench",
                             secret="x", auth="plain")}
    options = {} if batch is None else {"batch_size": batch}
    bridge = Bridge(servers, redis_url, actions=False, buffer_size=buffer, keepalive=None,
                    **options)
    writer = bridge.writers["bench"]
    stats = bridge.buffers["bench"]
    first: list[float] = []

    def mark(event, manager) -> None:
        if not first:
            first.append(time.perf_counter())

    bridge.pool["bench"].register_callback("", mark)
    if stall is not None:
        os.kill(stall.proc.pid, signal.SIGSTOP)
    await bridge.start()
    cpu = cpu_seconds()
    deadline = time.monotonic() + 300
    try:
        if stall is not None:
            while stats.accepted + stats.dropped < events and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            peak = rss_mib()
            os.kill(stall.proc.pid, signal.SIGCONT)
            while (stats.entries or stats.gap_open) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            return {"accepted": stats.accepted, "dropped": stats.dropped, "peak_rss_mib": peak}
        # The counters are sampled: the benchmark's own polling, not the bridge's.
        # (A new stream has no gap entry: Redis leaves it out, so N entries.)
        peak_buffered = 0
        while writer.written < events and time.monotonic() < deadline:
            peak_buffered = max(peak_buffered, len(stats.entries))
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - first[0]
        cpu = cpu_seconds() - cpu
        return {"events": events, "seconds": elapsed, "rate": events / elapsed,
                "cpu_us": cpu / events * 1e6, "peak_buffered": peak_buffered,
                "dropped": stats.dropped, "peak_rss_mib": rss_mib()}
    finally:
        await bridge.stop()
        blaster.close()


async def verify(redis_url: str, events: int) -> int:
    from amiasync.bridge.format import client_from_url

    client = client_from_url(redis_url)
    checked = 0
    last = "-"
    try:
        while True:
            items = await client.xrange("ami:events:bench", min=last, count=10_000)
            if last != "-":
                items = items[1:]
            if not items:
                break
            for _id, fields in items:
                if fields[b"event"] == b"__gap__":
                    continue
                pairs = [tuple(p) for p in json.loads(fields[b"headers"])]
                if pairs != [tuple(p) for p in workload.event_pairs(checked)]:
                    raise SystemExit(f"entry {checked} differs from what was sent")
                checked += 1
            last = items[-1][0].decode()
    finally:
        await client.aclose()
    if checked != events:
        raise SystemExit(f"{checked} events in the stream, {events} sent")
    return checked


def consumer_child(url: str, group: str, name: str, total: int) -> None:
    """One consumer process: read and acknowledge until the group has read everything."""

    async def main() -> None:
        from amiasync.bridge.format import client_from_url

        client = client_from_url(url)
        handled = 0
        consumer = EventConsumer(client, group, lambda e, d: None, consumer=name,
                                 servers=["bench"], start="0", batch=1000, block=0.2)
        started = time.perf_counter()
        idle = 0
        while idle < 5:
            got = await consumer.read_once()
            handled += got
            idle = idle + 1 if got == 0 else 0
        elapsed = time.perf_counter() - started - 5 * 0.2
        print(json.dumps({"handled": handled, "seconds": elapsed}))
        await client.aclose()

    asyncio.run(main())


def consumers(url: str, group: str, count: int, total: int) -> dict:
    procs = [
        subprocess.Popen([sys.executable, __file__, "--consumer", url, group, f"c{i}", str(total)],
                         stdout=subprocess.PIPE)
        for i in range(count)
    ]
    results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    handled = sum(r["handled"] for r in results)
    seconds = max(r["seconds"] for r in results)
    if handled != total:
        raise SystemExit(f"consumer group handled {handled} of {total}")
    return {"consumers": count, "handled": handled, "rate": handled / seconds}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--consumer":
        consumer_child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--buffer", type=int, default=100_000)
    parser.add_argument("--batch", type=int, help="the bridge's batch_size (its default)")
    args = parser.parse_args()
    redis = Redis()
    try:
        result = asyncio.run(bridge_run(redis.url, args.events, args.buffer, None, args.batch))
        print(f"bridge: {result['events']} events in {result['seconds']:.2f} s = "
              f"{result['rate']:,.0f} events/s into Redis, {result['cpu_us']:.1f} us CPU per event "
              f"in the bridge (dropped {result['dropped']}, at most {result['peak_buffered']} "
              f"waiting for Redis, "
              f"peak RSS {result['peak_rss_mib']:.0f} MiB)")
        checked = asyncio.run(verify(redis.url, args.events))
        print(f"order: {checked} entries read back, every header equal and in order")
        for count in (1, 2):
            group = consumers(redis.url, f"bench{count}", count, args.events)
            print(f"consumers: {group['consumers']} process(es), {group['handled']} entries "
                  f"acknowledged, {group['rate']:,.0f} entries/s")
    finally:
        redis.close()
    stalled = Redis()
    try:
        result = asyncio.run(bridge_run(stalled.url, args.events, 20_000, stalled))
        print(f"stalled Redis: {result['accepted']} buffered or written, {result['dropped']} "
              f"dropped and counted, peak RSS {result['peak_rss_mib']:.0f} MiB "
              f"(buffer 20000 events)")
    finally:
        stalled.close()


if __name__ == "__main__":
    main()
