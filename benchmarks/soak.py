"""Soak: millions of events through a catch-all handler, watching memory.

    python benchmarks/soak.py [--events 5000000] [--every 250000]
    python benchmarks/soak.py --events 1000000 --every 100000   # the compiled path, 1M
    AMIASYNC_NO_EXTENSIONS=1 python benchmarks/soak.py           # the pure-Python codec

Starts the loopback blaster (``blaster.py``, its own process) and connects one
amiasync Manager in this process with a catch-all sync handler
(``register_callback("", handler)``) that reads the event name and two
headers, and every 16th event all of its headers (``event.headers`` and
``dict(event)``), so both the lazy lookup and the full parse run. The resident
set size (``/proc/self/statm``) is sampled every ``--every`` events.

The verdict is "flat" when a straight line fitted to the samples after the
first tenth of the run rises by less than 2 MB over the run (and the last
sample is within 2 MB of the lowest), "growing" otherwise. Exits 1 if growing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import amiasync  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def slope(xs: list[float], ys: list[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


async def soak(port: int, total: int, every: int) -> list[tuple[int, float, float]]:
    samples: list[tuple[int, float, float]] = []
    count = 0
    start = time.perf_counter()
    done = asyncio.get_running_loop().create_future()

    def handler(event: amiasync.Event, manager: amiasync.Manager) -> None:
        nonlocal count
        count += 1
        name = event.event_name
        channel = event.get("Channel")
        uniqueid = event.get("Uniqueid")
        if not (name and channel and uniqueid):
            raise AssertionError(f"event {count} lacks a header")
        if count % 16 == 0 and len(dict(event)) > len(event.headers):
            raise AssertionError("more keys than headers")
        if count % every == 0:
            samples.append((count, rss_mb(), time.perf_counter() - start))
            print(f"{count:>10,} events  RSS {samples[-1][1]:7.1f} MB  "
                  f"{count / samples[-1][2]:>9,.0f} events/s", flush=True)
        if count == total and not done.done():
            done.set_result(None)

    manager = amiasync.Manager(action_timeout=60)
    manager.register_callback("", handler)
    await manager.connect("127.0.0.1", port)
    samples.append((0, rss_mb(), 0.0))
    print(f"{0:>10,} events  RSS {samples[-1][1]:7.1f} MB  (connected)", flush=True)
    await manager.login("soak", "soak", auth="plain", events=True)
    await asyncio.wait_for(done, timeout=1800)
    await manager.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--every", type=int, default=250_000, help="sample RSS every N events")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]))
    blaster = subprocess.Popen(
        [sys.executable, str(HERE / "blaster.py"), "--events", str(args.events)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
    )
    try:
        assert blaster.stdout is not None
        line = blaster.stdout.readline().decode().split()
        port = int(line[1])
        codec = "compiled" if getattr(amiasync, "__compiled__", False) else "pure-Python"
        print(f"soak: {args.events:,} events from 127.0.0.1:{port}, Python "
              f"{sys.version.split()[0]}, amiasync {amiasync.__version__}, {codec} codec",
              flush=True)
        samples = asyncio.run(soak(port, args.events, args.every))
    finally:
        if blaster.stdin is not None:
            blaster.stdin.close()
        blaster.wait(timeout=30)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steady = [s for s in samples if s[0] >= args.events // 10] or samples
    xs = [float(s[0]) for s in steady]
    ys = [s[1] for s in steady]
    rise = slope(xs, ys) * (args.events - xs[0]) if len(xs) > 1 else 0.0
    growing = rise >= 2.0 or ys[-1] - min(ys) >= 2.0
    elapsed = samples[-1][2]
    print(f"samples after warm-up: min {min(ys):.1f} MB, max {max(ys):.1f} MB, "
          f"last {ys[-1]:.1f} MB; fitted rise {rise:+.2f} MB over the run; "
          f"peak RSS {peak:.1f} MB")
    print(f"{args.events:,} events in {elapsed:.1f} s ({args.events / elapsed:,.0f} events/s)")
    print(f"verdict: {'GROWING' if growing else 'flat'}")
    sys.exit(1 if growing else 0)


if __name__ == "__main__":
    main()
