"""The live model on recorded traffic: updates per second, and memory after many calls.

    python benchmarks/live_model.py                 # 100,000 calls (a few minutes)
    python benchmarks/live_model.py --calls 20000   # quicker

The traffic is ``tests/fixtures/09-live-10-calls.ami``: ten real sipp calls
through the sandbox's Asterisk 22 (Dial, two PJSIP channels and a bridge per
call, every VarSet of the dialplan, ``channelvars`` on every event), 857 live
events. Each round replays it with fresh Uniqueids, Linkedids and bridge ids
(so every round is ten new calls) into one :class:`LiveModel`.

* updates/s: events applied per second, (a) the events already parsed, the
  model alone, and (b) decoding the bytes too (FrameDecoder + header parse +
  model), what a client does per event;
* memory (the calls without their VarSet, DeviceStateChange and Cdr events:
  a quarter of the events for the same channels, bridges and calls): the
  process RSS (``/proc/self/statm``) every 10% of the calls, the model's
  sizes at the end; verdict ``flat`` when RSS grew less than 5 MiB
  between the first checkpoint and the last (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from amiasync.events import EVENT_CLASSES  # noqa: E402
from amiasync.frames import FrameDecoder  # noqa: E402
from amiasync.live import LiveModel  # noqa: E402
from amiasync.message import Event  # noqa: E402

TRANSCRIPT = ROOT / "tests" / "fixtures" / "09-live-10-calls.ami"
CALLS_PER_ROUND = 10
UNIQUEID = re.compile(rb"\b(\d{10})\.(\d+)\b")
BRIDGE = re.compile(rb"\b([0-9a-f]{8})-([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")


#: Left out of the memory run (which keeps the structure of each call and is
#: four times shorter for it): events the model keeps nothing from beyond the
#: channel's life, or does not read at all.
_NOISE = (
    b"Event: VarSet\r\n",
    b"Event: TestEvent\r\n",
    b"Event: DeviceStateChange\r\n",
    b"Event: Cdr\r\n",
)


def live_bytes(structure_only: bool = False) -> bytes:
    """The transcript's live events (no banner, responses or list items), as bytes."""
    data = TRANSCRIPT.read_bytes()
    keep = [
        frame
        for frame in data.split(b"\r\n\r\n")
        if frame.startswith(b"Event: ")
        and b"\r\nActionID: " not in frame
        and not (structure_only and frame.startswith(_NOISE))
    ]
    return b"\r\n\r\n".join(keep) + b"\r\n\r\n"


def round_bytes(template: bytes, n: int) -> bytes:
    """The template with every id made unique to round ``n``."""
    data = UNIQUEID.sub(lambda m: b"%d.%d" % (2000000000 + n, int(m.group(2))), template)
    return BRIDGE.sub(lambda m: b"%08x-%s" % (n, m.group(2)), data)


def decode(data: bytes) -> list[Event]:
    decoder = FrameDecoder(event_classes=EVENT_CLASSES, expect_banner=False)
    return [m for m in decoder.feed(data) if isinstance(m, Event)]


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds-for-speed", type=int, default=200)
    args = parser.parse_args()
    template = live_bytes()
    per_round = len(decode(template))

    # Memory first, before the speed runs have grown the heap: many calls
    # through one model.
    structure = live_bytes(structure_only=True)
    model = LiveModel()
    print(f"before: RSS {rss_mib():.1f} MiB")
    total_rounds = max(args.calls // CALLS_PER_ROUND, 10)
    step = max(total_rounds // 10, 1)
    samples = []
    started = time.perf_counter()
    for n in range(total_rounds):
        for event in decode(round_bytes(structure, 100_000 + n)):
            model.apply(event)
        if (n + 1) % step == 0:
            samples.append(((n + 1) * CALLS_PER_ROUND, rss_mib()))
            print(f"  {samples[-1][0]:>7,} calls: RSS {samples[-1][1]:.1f} MiB", flush=True)
    elapsed = time.perf_counter() - started
    growth = samples[-1][1] - samples[0][1]
    verdict = "flat" if growth < 5 else "growing"
    result = verdict == "flat" and not model.channels and not model.bridges
    print(
        f"{total_rounds * CALLS_PER_ROUND:,} calls in {elapsed:.0f} s: RSS {samples[0][1]:.1f} -> "
        f"{samples[-1][1]:.1f} MiB ({growth:+.1f}), {verdict}; model at the end: "
        f"{len(model.channels)} channels, {len(model.bridges)} bridges, {len(model.calls)} calls"
    )

    # (a) the model alone, on parsed events (fresh ids each round).
    rounds = [decode(round_bytes(template, n)) for n in range(args.rounds_for_speed)]
    for events in rounds:
        for event in events:
            _ = event.headers  # parse now, outside the timing
    model = LiveModel()
    started = time.perf_counter()
    for events in rounds:
        for event in events:
            model.apply(event)
    parsed = per_round * len(rounds) / (time.perf_counter() - started)
    del rounds

    # (b) bytes in: decode, parse and apply.
    chunks = [round_bytes(template, 10_000 + n) for n in range(args.rounds_for_speed)]
    model = LiveModel()
    started = time.perf_counter()
    for chunk in chunks:
        for event in decode(chunk):
            model.apply(event)
    from_bytes = per_round * len(chunks) / (time.perf_counter() - started)
    del chunks
    print(f"events per round of {CALLS_PER_ROUND} calls: {per_round}")
    print(f"updates/s, model alone (parsed events): {parsed:,.0f}")
    print(f"updates/s, bytes in (decode + parse + model): {from_bytes:,.0f}")
    return 0 if result else 1


if __name__ == "__main__":
    sys.exit(main())
