"""Run the whole benchmark and print the table: ``python benchmarks/run.py``.

    python benchmarks/run.py [--events N] [--runs K] [--pings P] [--quick]
    python benchmarks/run.py --baseline ../other-checkout [--quick]   # before/after
    python benchmarks/run.py --footprint [--runs K]

Setup (once): a venv in ``benchmarks/.venv-bench`` (gitignored) with the
latest panoramisk from PyPI and this project (``pip install -e .``; when that
fails, the checkout is put on the venv's path instead). Every client runs in
its own process with that venv's Python, bytecode cached (as an installed
package would be) under the venv, never in the source tree.

Then, against the loopback blaster (``blaster.py``, its own process):

* events: the ceiling (read and discard), the raw ``readuntil`` loop,
  amiasync dispatch and full modes, panoramisk dispatch and full modes; K runs
  each, interleaved, the median kept, with the peak RSS of each client;
* correctness: one run of every event checked header by header for amiasync
  and panoramisk (mismatched events counted);
* actions: P sequential Pings (median round trip) and P concurrent Pings
  (pings/s) for the raw loop, amiasync and panoramisk.

``--footprint`` measures only what a program pays before any traffic: the wall
time of a fresh interpreter running ``import amiasync`` against one running
``import asyncio, ssl`` (K+1 runs each, interleaved, the first discarded as it
compiles, the median kept), and the peak RSS of an idle connected client
(``clients.py idle-amiasync``: connect, log in, one event, one Ping, half a
second idle) against the same steps on the raw asyncio loop (``idle-raw``), K
runs each, the median kept. It needs no venv: it runs this interpreter on the
checkout.

Only 127.0.0.1 is used; every process has a timeout and the blaster exits when
this script does. Results are also written as JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv-bench"
PY = VENV / "bin" / "python"
PYCACHE = VENV / "pycache"
CLIENT_TIMEOUT = 900

EVENT_KINDS = [
    "ceiling",
    "raw",
    "amiasync-dispatch",
    "amiasync-full",
    "amiasync-py-dispatch",
    "amiasync-py-full",
    "panoramisk-dispatch",
    "panoramisk-full",
]


PING_CLIENTS = ("raw", "amiasync", "amiasync-py", "panoramisk")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child_env(root: Path = ROOT) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("BENCH_PROFILE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    # The checkout first: the benchmark measures this working tree (or the
    # baseline's, for the "before" column of --baseline).
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(HERE)])
    return env


def setup() -> None:
    """Create the venv and install panoramisk and the project, if missing."""
    if not PY.exists():
        log(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run(
        [str(PY), "-c", "import panoramisk, hypothesis"], capture_output=True, env=child_env()
    )
    if probe.returncode != 0:
        log("installing panoramisk (latest) and hypothesis into the bench venv")
        subprocess.run(
            [str(PY), "-m", "pip", "install", "-q", "--upgrade", "panoramisk", "hypothesis"],
            check=True,
        )
    probe = subprocess.run(
        [str(PY), "-m", "pip", "show", "-q", "amiasync"], capture_output=True, env=child_env()
    )
    if probe.returncode != 0:
        log("installing the project (pip install -e .)")
        done = subprocess.run(
            [str(PY), "-m", "pip", "install", "-q", "-e", str(ROOT)], capture_output=True
        )
        if done.returncode != 0:
            log("pip install -e . failed; using the checkout through PYTHONPATH instead:")
            log(done.stderr.decode(errors="replace").strip().splitlines()[-1:][0])
    # Compile once, so that no measured process pays for (or holds the memory
    # of) compiling the sources.
    subprocess.run(
        [str(PY), "-c", "import amiasync, panoramisk, workload, clients"],
        check=True,
        env=child_env(),
    )


class Blaster:
    """The event blaster process, serving connections one after the other."""

    def __init__(self, events: int) -> None:
        self.proc = subprocess.Popen(
            [str(PY), str(HERE / "blaster.py"), "--events", str(events)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_env(),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT"):
            self.close()
            raise SystemExit(f"blaster did not start: {line!r}")
        parts = line.split()
        self.port = int(parts[1])
        self.size = int(parts[3])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


#: In a kind's name, "amiasync-py" is amiasync with its pure-Python codec
#: (AMIASYNC_NO_EXTENSIONS=1); "amiasync" alone is the compiled one when built.
PURE = "amiasync-py"


def run_client(kind: str, port: int, n: int, root: Path = ROOT) -> dict[str, Any]:
    env = child_env(root)
    if PURE in kind:
        env["AMIASYNC_NO_EXTENSIONS"] = "1"
    done = subprocess.run(
        [str(PY), str(HERE / "clients.py"), kind.replace(PURE, "amiasync"), str(port), str(n)],
        capture_output=True,
        timeout=CLIENT_TIMEOUT,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr.decode(errors='replace')}")
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def footprint(runs: int) -> None:
    """Print import time and idle RSS, amiasync against the bare asyncio baseline."""
    env = child_env()
    py = sys.executable
    runs = max(runs, 5)
    codes = ("import asyncio, ssl", "import amiasync")
    # Wall time, and the CPU time (user + system) of the child, which other
    # processes on a shared machine disturb less.
    wall: dict[str, list[float]] = {code: [] for code in codes}
    cpu: dict[str, list[float]] = {code: [] for code in codes}
    for run in range(runs + 1):
        for code in codes:
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([py, "-c", code], check=True, env=env)
            elapsed = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if run:  # the first run compiles the bytecode
                wall[code].append(elapsed * 1000)
                cpu[code].append(
                    (after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime) * 1000
                )
    print(f"import time (median of {runs} fresh interpreters, {py}):")
    for label, table in (("wall", wall), ("cpu", cpu)):
        base, ours = (statistics.median(table[code]) for code in codes)
        print(f"  {label}: python -c 'import asyncio, ssl' {base:7.1f} ms, "
              f"python -c 'import amiasync' {ours:7.1f} ms ({ours - base:+.1f} ms)")

    blaster = subprocess.Popen(
        [py, str(HERE / "blaster.py"), "--events", "1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
    )
    try:
        assert blaster.stdout is not None
        port = blaster.stdout.readline().split()[1].decode()
        rss: dict[str, list[float]] = {"idle-raw": [], "idle-amiasync": []}
        for _ in range(runs):
            for kind in rss:
                done = subprocess.run(
                    [py, str(HERE / "clients.py"), kind, port, "1"],
                    capture_output=True, timeout=120, env=env, check=True,
                )
                result = json.loads(done.stdout.decode().strip().splitlines()[-1])
                rss[kind].append(result["maxrss_kb"] / 1024)
    finally:
        if blaster.stdin is not None:
            blaster.stdin.close()
        blaster.wait(timeout=10)
    raw, client = (statistics.median(v) for v in rss.values())
    print(f"idle connected client, peak RSS (median of {runs}):")
    print(f"  raw asyncio loop   {raw:6.1f} MB")
    print(f"  amiasync.Manager   {client:6.1f} MB  ({client - raw:+.1f} MB)")


def median_of(results: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def fmt_rate(value: float) -> str:
    return f"{value / 1000:,.1f}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="events per run")
    parser.add_argument("--runs", type=int, default=5, help="runs per client (median kept)")
    parser.add_argument("--pings", type=int, default=2000, help="pings per ping run")
    parser.add_argument("--quick", action="store_true", help="50k events, 3 runs, 500 pings")
    parser.add_argument("--no-verify", action="store_true", help="skip the header-by-header check")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (e.g. a git worktree of the previous commit): run the amiasync "
        "clients of both trees, alternating, and print before/after",
    )
    parser.add_argument("--footprint", action="store_true", help="import time and idle RSS only")
    args = parser.parse_args()
    if args.footprint:
        footprint(args.runs)
        return
    if args.quick:
        args.events, args.runs, args.pings = 50_000, 3, 500
    setup()
    if args.baseline is not None:
        compare(args, args.baseline.resolve())
        return
    started = time.time()
    machine = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_name(),
    }
    versions = subprocess.run(
        [str(PY), "-c", "import importlib.metadata as m, amiasync; "
         "print(m.version('panoramisk'), amiasync.__version__, amiasync.__file__)"],
        capture_output=True, env=child_env(), check=True,
    ).stdout.decode().split()
    log(f"machine: {machine}; panoramisk {versions[0]}, amiasync {versions[1]} ({versions[2]})")

    blaster = Blaster(args.events)
    try:
        log(f"blaster on 127.0.0.1:{blaster.port}: {args.events} events, {blaster.size} bytes")
        results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in EVENT_KINDS}
        for run in range(args.runs):
            for kind in EVENT_KINDS:
                result = run_client(kind, blaster.port, args.events)
                if result["received"] != args.events:
                    raise SystemExit(f"{kind} received {result['received']} of {args.events}")
                results[kind].append(result)
            log(f"run {run + 1}/{args.runs}: " + ", ".join(
                f"{k} {fmt_rate(results[k][-1]['rate'])}" for k in EVENT_KINDS))
        verify: dict[str, dict[str, Any]] = {}
        if not args.no_verify:
            for kind in ("amiasync-verify", "amiasync-py-verify", "panoramisk-verify"):
                verify[kind] = run_client(kind, blaster.port, args.events)
                log(f"{kind}: {verify[kind]['mismatched']} mismatched events")
        pings: dict[str, list[dict[str, Any]]] = {}
        for style in ("seq", "conc"):
            for who in PING_CLIENTS:
                kind = f"ping-{style}-{who}"
                pings[kind] = [run_client(kind, blaster.port, args.pings)
                               for _ in range(max(1, args.runs))]
        log("pings done")
    finally:
        blaster.close()

    table = render(args, machine, versions, results, verify, pings)
    print(table)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"run-{stamp}.json").write_text(json.dumps({
        "args": vars(args), "machine": machine, "versions": versions, "events": results,
        "verify": verify, "pings": pings, "seconds": time.time() - started,
    }, indent=1))
    (out / f"run-{stamp}.txt").write_text(table + "\n")
    log(f"results in {out}/run-{stamp}.json ({time.time() - started:.0f} s)")


COMPARED = ["amiasync-dispatch", "amiasync-full", "ping-seq-amiasync", "ping-conc-amiasync"]


def compare(args: argparse.Namespace, baseline: Path) -> None:
    """Run the amiasync clients of ``baseline`` and of this tree, alternating; print both.

    Each run measures every client once from each tree, the tree that goes
    first swapping from run to run, so that both see the same machine load.
    """
    trees = {"before": baseline, "after": ROOT}
    results: dict[str, dict[str, list[dict[str, Any]]]] = {
        label: {kind: [] for kind in COMPARED} for label in trees
    }
    blaster = Blaster(args.events)
    try:
        log(f"blaster on 127.0.0.1:{blaster.port}; before = {baseline}, after = {ROOT}")
        for run in range(args.runs):
            order = ["before", "after"] if run % 2 == 0 else ["after", "before"]
            for kind in COMPARED:
                n = args.pings if kind.startswith("ping") else args.events
                for label in order:
                    result = run_client(kind, blaster.port, n, trees[label])
                    results[label][kind].append(result)
            log(f"run {run + 1}/{args.runs} done")
    finally:
        blaster.close()
    lines = [
        f"before/after: {args.events:,} events, {args.pings} pings, {args.runs} runs "
        "(median), trees alternated",
        f"{'client':<22}{'before':>14}{'after':>14}{'after/before':>14}"
        f"{'CPU before':>14}{'CPU after':>14}{'CPU a/b':>10}",
    ]
    for kind in COMPARED:
        key = "rtt_us" if kind.startswith("ping-seq") else "rate"
        before = median_of(results["before"][kind], key)
        after = median_of(results["after"][kind], key)
        unit = " us" if key == "rtt_us" else "/s"
        shown = [
            f"{v:,.1f}{unit}" if key == "rtt_us" else fmt_rate(v) + unit for v in (before, after)
        ]
        line = f"{kind:<22}{shown[0]:>14}{shown[1]:>14}{after / before:>13.2f}x"
        if all("cpu_rate" in r for label in trees for r in results[label][kind]):
            cpu = [median_of(results[label][kind], "cpu_rate") for label in ("before", "after")]
            line += f"{fmt_rate(cpu[0]) + '/s':>14}{fmt_rate(cpu[1]) + '/s':>14}"
            line += f"{cpu[1] / cpu[0]:>9.2f}x"
        lines.append(line)
    lines.append(
        "(events/s and pings/s: higher is better; seq RTT: lower is better; CPU: per second "
        "of the client's own CPU time, less sensitive to the machine's load)"
    )
    table = "\n".join(lines)
    print(table)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"compare-{stamp}.json").write_text(
        json.dumps(
            {"args": {**vars(args), "baseline": str(baseline)}, "results": results}, indent=1
        )
    )
    (out / f"compare-{stamp}.txt").write_text(table + "\n")


def render(
    args: argparse.Namespace,
    machine: dict[str, Any],
    versions: list[str],
    results: dict[str, list[dict[str, Any]]],
    verify: dict[str, dict[str, Any]],
    pings: dict[str, list[dict[str, Any]]],
) -> str:
    rate = {k: median_of(v, "rate") for k, v in results.items()}
    rss = {k: max(r["maxrss_kb"] for r in v) / 1024 for k, v in results.items()}
    lines = [
        f"amiasync event benchmark: {args.events:,} events x {args.runs} runs (median), "
        f"{machine['nproc']} CPUs, Python {machine['python']}, panoramisk {versions[0]}",
        f"machine: {machine['cpu']}; {machine['platform']}",
        "",
        f"{'client':<22}{'events/s':>12}{'vs panoramisk':>15}{'vs raw loop':>13}"
        f"{'peak RSS MB':>13}{'mismatched':>12}",
    ]
    pano = {"dispatch": rate["panoramisk-dispatch"], "full": rate["panoramisk-full"]}
    for kind in EVENT_KINDS:
        mode = kind.rpartition("-")[2]
        versus = pano.get(mode)
        vs_pano = f"{rate[kind] / versus:.2f}x" if versus else "-"
        vs_raw = f"{rate[kind] / rate['raw']:.2f}x"
        lib = PURE if kind.startswith(PURE) else kind.partition("-")[0]
        checked = verify.get(f"{lib}-verify")
        mismatched = str(checked["mismatched"]) if checked else "-"
        lines.append(
            f"{kind:<22}{fmt_rate(rate[kind]):>12}{vs_pano:>15}{vs_raw:>13}"
            f"{rss[kind]:>13.1f}{mismatched:>12}"
        )
    lines.append("(vs panoramisk: against panoramisk in the same mode; mismatched: events whose "
                 "headers differ from what was sent, one checked run)")
    lines.append("")
    lines.append(f"{'pings':<22}{'seq RTT us':>12}{'vs raw':>10}{'conc pings/s':>15}"
                 f"{'vs panoramisk':>15}{'vs raw':>10}")
    rtt = {w: median_of(pings[f"ping-seq-{w}"], "rtt_us") for w in PING_CLIENTS}
    conc = {w: median_of(pings[f"ping-conc-{w}"], "rate") for w in PING_CLIENTS}
    for who in PING_CLIENTS:
        lines.append(
            f"{who:<22}{rtt[who]:>12.1f}{rtt[who] / rtt['raw']:>9.2f}x{fmt_rate(conc[who]):>15}"
            f"{conc[who] / conc['panoramisk']:>14.2f}x{conc[who] / conc['raw']:>9.2f}x"
        )
    lines.append(f"({args.pings} pings per run, {max(1, args.runs)} runs, median)")
    lines.append("")
    lines.append("targets:")
    checks = [
        ("dispatch >= 8x panoramisk", rate["amiasync-dispatch"] / pano["dispatch"], 8.0),
        ("dispatch >= 1.0x raw loop", rate["amiasync-dispatch"] / rate["raw"], 1.0),
        ("full >= 5x panoramisk", rate["amiasync-full"] / pano["full"], 5.0),
        ("concurrent pings >= 4x panoramisk", conc["amiasync"] / conc["panoramisk"], 4.0),
    ]
    for label, value, goal in checks:
        lines.append(f"  {label:<38} {value:6.2f}  {'met' if value >= goal else 'NOT met'}")
    ratio = rtt["amiasync"] / rtt["raw"]
    lines.append(f"  {'sequential RTT <= 1.0x raw loop':<38} {ratio:6.2f}  "
                 f"{'met' if ratio <= 1.0 else 'NOT met'}")
    extra = max(rss["amiasync-dispatch"], rss["amiasync-full"]) - rss["raw"]
    lines.append(f"  {'peak RSS <= raw loop + 5 MB':<38} {extra:+6.1f}  "
                 f"{'met' if extra <= 5 else 'NOT met'}")
    if verify:
        bad = verify["amiasync-verify"]["mismatched"] + verify["amiasync-py-verify"]["mismatched"]
        lines.append(f"  {'amiasync (both): zero mismatched':<38} {bad:6d}  "
                     f"{'met' if bad == 0 else 'NOT met'}")
    lines.append("compiled / pure-Python codec (same run):")
    for mode in ("dispatch", "full"):
        gain = rate[f"amiasync-{mode}"] / rate[f"amiasync-py-{mode}"]
        lines.append(f"  {mode:<38} {gain:6.2f}x")
    lines.append(f"  {'concurrent pings':<38} {conc['amiasync'] / conc['amiasync-py']:6.2f}x")
    return "\n".join(lines)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


if __name__ == "__main__":
    main()
