"""The measured clients; each run is one process: ``python clients.py KIND PORT N``.

Event kinds (the blaster writes N events after the login):

* ``ceiling``: a blocking socket that reads and discards bytes: the most the
  blaster and the kernel can deliver.
* ``raw``: an asyncio loop doing ``StreamReader.readuntil(b"\\r\\n\\r\\n")`` and
  counting frames, no parsing.
* ``amiasync-dispatch``: a catch-all sync callback reading the event name and
  two headers. ``amiasync-full``: the callback reads every header.
* ``panoramisk-dispatch`` / ``panoramisk-full``: the same callbacks on panoramisk.
* ``amiasync-verify`` / ``panoramisk-verify``: every header of every event is
  compared with what the blaster sent (not timed).

Ping kinds (no events; N is the number of pings): ``ping-seq-{raw,amiasync,panoramisk}``
(one at a time, median round trip) and ``ping-conc-{...}`` (N at once, pings/s).

Idle kinds (N is ignored; run against a blaster started with ``--events 1``):
``idle-raw`` and ``idle-amiasync`` connect, log in, receive the one event, send
one Ping and then sit for half a second: the footprint of a connected client
that has nothing to do (peak RSS).

Every client logs in with a plaintext ``Login`` (the same protocol for all).
Event timing runs from the first event handled to the Nth. The result is one
JSON line on stdout, with the peak RSS of this process (``ru_maxrss``).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import statistics
import sys
import time
from typing import Any

import workload

LOGIN = (
    b"Action: Login\r\nActionID: login-1\r\nUsername: bench\r\nSecret: bench\r\n"
    b"Events: %s\r\n\r\n"
)
TIMEOUT = 600.0


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class Counter:
    """Counts events; ``start`` is the time of the first, ``done`` fires at the Nth."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.count = 0
        self.start = 0.0
        self.end = 0.0
        # CPU seconds of this process over the same span: less sensitive to
        # a loaded machine than the wall clock (run.py --baseline shows both).
        self.cpu_start = 0.0
        self.cpu_end = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def hit(self) -> None:
        count = self.count = self.count + 1
        if count == 1:
            self.start = time.perf_counter()
            self.cpu_start = time.process_time()
        if count == self.total:
            self.end = time.perf_counter()
            self.cpu_end = time.process_time()
            self.done.set_result(None)


def _result(kind: str, n: int, counter: Counter, **extra: Any) -> dict[str, Any]:
    elapsed = counter.end - counter.start
    cpu = counter.cpu_end - counter.cpu_start
    return {
        "kind": kind,
        "events": n,
        "received": counter.count,
        "elapsed": elapsed,
        "rate": (n - 1) / elapsed if elapsed > 0 else 0.0,
        "cpu_rate": (n - 1) / cpu if cpu > 0 else 0.0,
        "maxrss_kb": _rss_kb(),
        **extra,
    }


# -- ceiling and raw ---------------------------------------------------------


def run_ceiling(port: int, n: int) -> dict[str, Any]:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(TIMEOUT)
    sock.sendall(LOGIN % b"on")
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    size = int(head.split(b"BenchStreamBytes: ")[1].split(b"\r\n")[0])
    buf = bytearray(1 << 20)
    got = len(rest)
    start = time.perf_counter()
    recv_into = sock.recv_into
    while got < size:
        count = recv_into(buf)
        if not count:
            break
        got += count
    elapsed = time.perf_counter() - start
    sock.close()
    return {
        "kind": "ceiling",
        "events": n,
        "received": n if got >= size else -1,
        "elapsed": elapsed,
        "rate": n / elapsed,
        "mbps": size / elapsed / 1e6,
        "maxrss_kb": _rss_kb(),
    }


async def run_raw(port: int, n: int) -> dict[str, Any]:
    limit = int(os.environ.get("BENCH_RAW_LIMIT", 1 << 18))
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=limit)
    await reader.readuntil(b"\r\n")
    counter = Counter(n)
    writer.write(LOGIN % b"on")
    await reader.readuntil(b"\r\n\r\n")
    readuntil = reader.readuntil
    count = 0
    start = 0.0
    while count < n:
        await readuntil(b"\r\n\r\n")
        count += 1
        if count == 1:
            start = time.perf_counter()
    counter.count, counter.start, counter.end = count, start, time.perf_counter()
    writer.close()
    return _result("raw", n, counter)


async def run_idle_raw(port: int) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readuntil(b"\r\n")
    writer.write(LOGIN % b"on")
    await reader.readuntil(b"\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")  # the one event
    writer.write(b"Action: Ping\r\nActionID: p-1\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(0.5)
    writer.close()
    return {"kind": "idle-raw", "maxrss_kb": _rss_kb()}


async def run_idle_amiasync(port: int) -> dict[str, Any]:
    import amiasync

    loop = asyncio.get_running_loop()
    first: asyncio.Future[Any] = loop.create_future()
    manager = amiasync.Manager(action_timeout=60)
    manager.register_callback("", lambda event, m: first.done() or first.set_result(event))
    await manager.connect("127.0.0.1", port)
    await manager.login("bench", "bench", auth="plain", events=True)
    event = await asyncio.wait_for(first, 60)
    await manager.ping()
    await asyncio.sleep(0.5)
    await manager.close()
    return {"kind": "idle-amiasync", "maxrss_kb": _rss_kb(), "event": type(event).__name__}


# -- amiasync ------------------------------------------------------------------


async def run_amiasync(port: int, n: int, mode: str) -> dict[str, Any]:
    import amiasync

    counter = Counter(n)
    hit = counter.hit
    mismatched = 0
    bad_headers = 0
    seen: list[str] = []

    if mode == "dispatch":

        def handler(event: Any, manager: Any) -> None:
            name = event.event_name
            channel = event.get("Channel")
            uniqueid = event.get("Uniqueid")
            if name and channel and uniqueid:
                hit()

    elif mode == "full":

        def handler(event: Any, manager: Any) -> None:
            count = 0
            for _key, _value in event.headers:
                count += 1
            if count:
                hit()

    else:

        def handler(event: Any, manager: Any) -> None:
            nonlocal mismatched, bad_headers
            expected = workload.event_pairs(counter.count)
            got = event.headers
            if got != expected or event.event_name != expected[0][1]:
                mismatched += 1
                bad_headers += sum(1 for a, b in zip(got, expected) if a != b) + abs(
                    len(got) - len(expected)
                )
                if len(seen) < 3:
                    seen.append(f"event {counter.count}: got {got!r} expected {expected!r}")
            hit()

    manager = amiasync.Manager(action_timeout=60)
    manager.register_callback("", handler)
    await manager.connect("127.0.0.1", port)
    user = "verify" if mode == "verify" else "bench"
    await manager.login(user, "bench", auth="plain", events=True)
    try:
        await asyncio.wait_for(asyncio.shield(counter.done), TIMEOUT)
    except asyncio.TimeoutError:
        counter.end = time.perf_counter()
    await manager.close()
    extra: dict[str, Any] = {
        "module": amiasync.__file__,
        "compiled": getattr(amiasync, "__compiled__", False),
    }
    if mode == "verify":
        missing = n - counter.count
        extra.update(mismatched=mismatched + missing, bad_headers=bad_headers, samples=seen)
    return _result(f"amiasync-{mode}", n, counter, **extra)


# -- panoramisk ----------------------------------------------------------------


async def run_panoramisk(port: int, n: int, mode: str) -> dict[str, Any]:
    import panoramisk

    counter = Counter(n)
    hit = counter.hit
    mismatched = 0
    bad_headers = 0
    seen: list[str] = []

    if mode == "dispatch":

        def handler(manager: Any, event: Any) -> None:
            name = event.event
            channel = event["Channel"]
            uniqueid = event["Uniqueid"]
            if name and channel and uniqueid:
                hit()

    elif mode == "full":

        def handler(manager: Any, event: Any) -> None:
            count = 0
            for _key, _value in event.items():
                count += 1
            if count:
                hit()

    else:

        def handler(manager: Any, event: Any) -> None:
            nonlocal mismatched, bad_headers
            expected = dict(workload.event_pairs(counter.count))
            got = dict(event.items())
            if got.get("content") == "":
                del got["content"]  # panoramisk's body field, not a header
            if got != expected:
                mismatched += 1
                bad_headers += sum(1 for k, v in expected.items() if got.get(k) != v) + len(
                    set(got) - set(expected)
                )
                if len(seen) < 3:
                    diff = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
                    seen.append(f"event {counter.count}: (got, sent) {diff!r}")
            hit()

    loop = asyncio.get_running_loop()
    manager = panoramisk.Manager(
        loop=loop,
        host="127.0.0.1",
        port=port,
        username="verify" if mode == "verify" else "bench",
        secret="bench",
        events="on",
        ping_delay=100_000,
        reconnect_timeout=100_000,
    )
    manager.register_event("*", handler)
    await manager.connect()
    try:
        await asyncio.wait_for(asyncio.shield(counter.done), TIMEOUT)
    except asyncio.TimeoutError:
        counter.end = time.perf_counter()
    manager.close()
    extra: dict[str, Any] = {"version": getattr(panoramisk, "__version__", "?")}
    if mode == "verify":
        missing = n - counter.count
        extra.update(mismatched=mismatched + missing, bad_headers=bad_headers, samples=seen)
    return _result(f"panoramisk-{mode}", n, counter, **extra)


# -- pings -----------------------------------------------------------------------


def _ping_result(kind: str, n: int, rtts: list[float] | None, elapsed: float) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "pings": n, "elapsed": elapsed, "maxrss_kb": _rss_kb()}
    if rtts is not None:
        out["rtt_us"] = statistics.median(rtts) * 1e6
        out["rate"] = n / elapsed
    else:
        out["rate"] = n / elapsed
    return out


async def run_ping_raw(port: int, n: int, concurrent: bool) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 18)
    await reader.readuntil(b"\r\n")
    writer.write(LOGIN % b"off")
    await reader.readuntil(b"\r\n\r\n")
    readuntil = reader.readuntil
    for i in range(50):  # warm-up
        writer.write(b"Action: Ping\r\nActionID: w%d\r\n\r\n" % i)
        await readuntil(b"\r\n\r\n")
    kind = "ping-conc-raw" if concurrent else "ping-seq-raw"
    if concurrent:
        start = time.perf_counter()
        writer.write(b"".join(b"Action: Ping\r\nActionID: p%d\r\n\r\n" % i for i in range(n)))
        for _ in range(n):
            frame = await readuntil(b"\r\n\r\n")
            assert b"Pong" in frame
        elapsed = time.perf_counter() - start
        writer.close()
        return _ping_result(kind, n, None, elapsed)
    rtts = []
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        writer.write(b"Action: Ping\r\nActionID: p%d\r\n\r\n" % i)
        frame = await readuntil(b"\r\n\r\n")
        rtts.append(time.perf_counter() - t0)
        assert b"Pong" in frame
    elapsed = time.perf_counter() - start
    writer.close()
    return _ping_result(kind, n, rtts, elapsed)


async def run_ping_amiasync(port: int, n: int, concurrent: bool) -> dict[str, Any]:
    import amiasync

    manager = amiasync.Manager(action_timeout=60)
    await manager.connect("127.0.0.1", port)
    await manager.login("bench", "bench", auth="plain", events=False)
    for _ in range(50):
        await manager.ping()
    kind = "ping-conc-amiasync" if concurrent else "ping-seq-amiasync"
    if concurrent:
        start = time.perf_counter()
        cpu = time.process_time()
        replies = await asyncio.gather(*(manager.ping() for _ in range(n)))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        assert all(r.get("Ping") == "Pong" for r in replies)
        await manager.close()
        return {**_ping_result(kind, n, None, elapsed), "cpu_rate": n / cpu if cpu > 0 else 0.0}
    rtts = []
    ping = manager.ping
    start = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        reply = await ping()
        rtts.append(time.perf_counter() - t0)
        assert reply.get("Ping") == "Pong"
    elapsed = time.perf_counter() - start
    await manager.close()
    return _ping_result(kind, n, rtts, elapsed)


async def run_ping_panoramisk(port: int, n: int, concurrent: bool) -> dict[str, Any]:
    import panoramisk

    loop = asyncio.get_running_loop()
    manager = panoramisk.Manager(
        loop=loop,
        host="127.0.0.1",
        port=port,
        username="bench",
        secret="bench",
        events="off",
        ping_delay=100_000,
        reconnect_timeout=100_000,
    )
    await manager.connect()
    for _ in range(10_000):  # panoramisk logs in from a callback: poll, bounded
        if manager.authenticated_future is None and manager.authenticated:
            break
        await asyncio.sleep(0.001)
    else:
        raise SystemExit("panoramisk did not log in")
    for _ in range(50):
        await manager.send_action({"Action": "Ping"})
    kind = "ping-conc-panoramisk" if concurrent else "ping-seq-panoramisk"
    if concurrent:
        start = time.perf_counter()
        replies = await asyncio.gather(
            *(manager.send_action({"Action": "Ping"}) for _ in range(n))
        )
        elapsed = time.perf_counter() - start
        assert all(r.ping == "Pong" for r in replies)
        manager.close()
        return _ping_result(kind, n, None, elapsed)
    rtts = []
    start = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        reply = await manager.send_action({"Action": "Ping"})
        rtts.append(time.perf_counter() - t0)
        assert reply.ping == "Pong"
    elapsed = time.perf_counter() - start
    manager.close()
    return _ping_result(kind, n, rtts, elapsed)


# -- entry point -----------------------------------------------------------------


async def _run(kind: str, port: int, n: int) -> dict[str, Any]:
    if kind == "raw":
        return await run_raw(port, n)
    if kind == "idle-raw":
        return await run_idle_raw(port)
    if kind == "idle-amiasync":
        return await run_idle_amiasync(port)
    lib, _, mode = kind.partition("-")
    if lib == "amiasync":
        return await run_amiasync(port, n, mode)
    if lib == "panoramisk":
        return await run_panoramisk(port, n, mode)
    if lib == "ping":
        style, _, who = mode.partition("-")
        runner = {"raw": run_ping_raw, "amiasync": run_ping_amiasync,
                  "panoramisk": run_ping_panoramisk}[who]
        return await runner(port, n, style == "conc")
    raise SystemExit(f"unknown client kind {kind!r}")


def main() -> None:
    kind, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    profile = os.environ.get("BENCH_PROFILE")
    if kind == "ceiling":
        result = run_ceiling(port, n)
    elif profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        result = prof.runcall(asyncio.run, _run(kind, port, n))
        prof.dump_stats(profile)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    else:
        result = asyncio.run(_run(kind, port, n))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
