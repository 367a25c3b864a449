"""FastAGI round trips per second: amiasync.agi.FastAGIServer vs panoramisk's fast_agi.

Three kinds of process, all on 127.0.0.1:

* ``serve --lib amiasync|panoramisk``: the FastAGI server, one route
  ``bench`` whose handler sends ``--commands`` ``GET VARIABLE`` commands one
  after the other, then returns. Prints its port.
* ``client``: the fake Asterisk side. It opens ``--calls`` connections,
  ``--concurrency`` at a time; each writes a 24-variable environment like
  Asterisk 22's, answers every command line with ``200 result=1 (value)`` at
  once, and counts the lines until the server closes. It prints one JSON line:
  round trips, seconds, round trips per second.
* no subcommand: the orchestrator. Uses the bench venv of ``run.py`` (with
  panoramisk), runs every library and concurrency ``--runs`` times, prints the
  median of each as a table.

    python benchmarks/agi_bench.py          # 200 calls x 50 commands, concurrency 1 and 50, 3 runs
    python benchmarks/agi_bench.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

ENV = (
    "agi_network: yes\nagi_network_script: bench\nagi_request: agi://127.0.0.1:4573/bench\n"
    "agi_channel: PJSIP/100-00000001\nagi_language: en\nagi_type: PJSIP\n"
    "agi_uniqueid: 1796156987.1\nagi_version: 22.10.1\nagi_callerid: 100\n"
    "agi_calleridname: \u0141ukasz \u017b\u00f3\u0142\u0107\nagi_callingpres: 0\n"
    "agi_callingani2: 0\nagi_callington: 0\nagi_callingtns: 0\nagi_dnid: 200\n"
    "agi_rdnis: unknown\nagi_context: default\nagi_extension: 200\nagi_priority: 2\n"
    "agi_enhanced: 0.0\nagi_accountcode: \nagi_threadid: 139935801984704\n"
    "agi_arg_1: first\nagi_arg_2: second\n\n"
).encode()
ANSWER = b"200 result=1 (some value)\n"


# -- servers ----------------------------------------------------------------------


async def serve_amiasync(commands: int) -> None:
    from amiasync.agi import AGI, FastAGIServer

    app = FastAGIServer(max_calls=100_000)

    @app.route("bench")
    async def bench(agi: AGI) -> None:
        for _ in range(commands):
            await agi.get_variable("X")

    async with app.serve("127.0.0.1", 0):
        await serve_until_stdin_closes(app.port)


async def serve_panoramisk(commands: int) -> None:
    from panoramisk import fast_agi

    app = fast_agi.Application(loop=asyncio.get_running_loop())

    async def bench(request: fast_agi.Request) -> None:
        for _ in range(commands):
            await request.send_command("GET VARIABLE X")

    app.add_route("bench", bench)
    server = await asyncio.start_server(app.handler, "127.0.0.1", 0)
    await serve_until_stdin_closes(server.sockets[0].getsockname()[1])
    server.close()


async def serve_until_stdin_closes(port: int) -> None:
    """Print the port; when stdin closes, print the CPU seconds spent serving."""
    started = time.process_time()
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(json.dumps({"cpu": time.process_time() - started}), flush=True)


# -- the Asterisk side ------------------------------------------------------------


class FakeChannel(asyncio.Protocol):
    def __init__(self, done: asyncio.Future[int]) -> None:
        self.done = done
        self.buffer = b""
        self.count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(ENV)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        lines = self.buffer.count(b"\n")
        if lines:
            self.buffer = self.buffer[self.buffer.rindex(b"\n") + 1 :]
            self.count += lines
            self.transport.write(ANSWER * lines)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(self.count)


async def client(port: int, calls: int, concurrency: int, commands: int) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    queue = iter(range(calls))
    total = 0

    async def worker() -> None:
        nonlocal total
        for _ in queue:
            done: asyncio.Future[int] = loop.create_future()
            await loop.create_connection(lambda done=done: FakeChannel(done), "127.0.0.1", port)
            count = await asyncio.wait_for(done, 60)
            assert count == commands, f"expected {commands} commands, got {count}"
            total += count

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"round_trips": total, "seconds": elapsed, "per_second": total / elapsed}


# -- orchestrator -----------------------------------------------------------------


def orchestrate(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(HERE))
    import run  # the bench venv with panoramisk, shared with benchmarks/run.py

    run.setup()
    rows = []
    for concurrency in args.concurrency:
        for lib in ("amiasync", "panoramisk"):
            rates, cpu = [], []
            for _ in range(args.runs):
                rate, seconds = measure(run, lib, concurrency, args)
                rates.append(rate)
                cpu.append(seconds / (args.calls * args.commands) * 1e6)
            rows.append((lib, concurrency, statistics.median(rates), statistics.median(cpu)))
            print(
                f"{lib:<11} concurrency {concurrency:>3}: {rows[-1][2]:>9,.0f} round trips/s, "
                f"server CPU {rows[-1][3]:.1f} us per round trip",
                flush=True,
            )
    print()
    print(f"{args.calls} calls x {args.commands} GET VARIABLE each, median of {args.runs} runs")
    print("| server | concurrent calls | AGI round trips/s | server CPU per round trip |")
    print("|---|---:|---:|---:|")
    for lib, concurrency, rate, cpu_us in rows:
        name = "amiasync.agi.FastAGIServer" if lib == "amiasync" else "panoramisk.fast_agi"
        print(f"| {name} | {concurrency} | {rate:,.0f} | {cpu_us:.1f} us |")


def measure(run: Any, lib: str, concurrency: int, args: argparse.Namespace) -> tuple[float, float]:
    """One run on a fresh server process: (round trips per second, server CPU seconds)."""
    server = subprocess.Popen(
        [str(run.PY), __file__, "serve", "--lib", lib, "--commands", str(args.commands)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=run.child_env(),
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        command = [str(run.PY), __file__, "client", "--port", str(port), "--calls", str(args.calls)]
        command += ["--concurrency", str(concurrency), "--commands", str(args.commands)]
        out = subprocess.run(
            command, capture_output=True, check=True, timeout=300, env=run.child_env()
        )
        rate = float(json.loads(out.stdout)["per_second"])
    finally:
        rest, _ = server.communicate(b"", timeout=30)
    return rate, float(json.loads(rest)["cpu"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve")
    serve.add_argument("--lib", choices=("amiasync", "panoramisk"), required=True)
    serve.add_argument("--commands", type=int, default=50)
    fake = sub.add_parser("client")
    fake.add_argument("--port", type=int, required=True)
    fake.add_argument("--calls", type=int, default=200)
    fake.add_argument("--concurrency", type=int, default=1)
    fake.add_argument("--commands", type=int, default=50)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 50]
    )
    parser.add_argument("--quick", action="store_true", help="100 calls x 20 commands, 1 run")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    if args.command == "serve":
        serving = serve_amiasync if args.lib == "amiasync" else serve_panoramisk
        asyncio.run(serving(args.commands))
    elif args.command == "client":
        result = asyncio.run(client(args.port, args.calls, args.concurrency, args.commands))
        print(json.dumps(result))
    else:
        if args.quick:
            args.calls, args.commands, args.runs = 100, 20, 1
        orchestrate(args)


if __name__ == "__main__":
    main()
