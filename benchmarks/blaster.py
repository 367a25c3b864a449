"""A loopback AMI event blaster: the benchmark's server, in its own process.

    python benchmarks/blaster.py --events N

Listens on 127.0.0.1 (an ephemeral port, printed as ``PORT <n>`` on stdout)
and serves one connection at a time, like Asterisk would:

* sends the banner ``Asterisk Call Manager/11.0.0``;
* answers ``Login`` (any user, plaintext) with ``Response: Success``; when the
  login asks for events (``Events`` not ``off``) it then writes the N-event
  stream of :mod:`workload` at once (paced for the user ``verify``, see
  :meth:`Stream.send`). The login response carries
  ``BenchStreamBytes`` so that the byte-counting ceiling client knows when it
  is done;
* answers ``Ping`` with ``Response: Success / Ping: Pong / Timestamp``,
  ``Logoff`` with ``Goodbye``, anything else with an error.

The stream is built once, before the port is printed, and written with
blocking ``sendall`` in large odd-sized chunks; every other chunk ends in the
middle of a multibyte UTF-8 character, so the client's reads split characters
(on top of the arbitrary cuts a full socket buffer makes anyway).

Everything is bounded: the process exits when its stdin closes (the parent
went away), after ``--idle`` seconds without a connection, or after
``--lifetime`` seconds.
"""

from __future__ import annotations

import argparse
import select
import socket
import sys
import time

import workload

_CHUNKS = (65537, 98305, 131073, 49157, 262147, 77777)
#: Seconds to pause after a chunk cut inside a character, in paced mode.
PACE = 0.02


def chunk_ends(data: bytes) -> list[int]:
    """Return the write boundaries for ``data``: odd sizes, some inside a character."""
    ends = []
    pos = 0
    k = 0
    while pos < len(data):
        end = min(len(data), pos + _CHUNKS[k % len(_CHUNKS)])
        if k % 2 and end < len(data):
            # Move the cut just after the first byte of a multibyte character.
            for probe in range(end, min(len(data) - 1, end + 16384)):
                if data[probe] >= 0xC0:
                    end = probe + 1
                    break
        ends.append(end)
        pos = end
        k += 1
    return ends


class Stream:
    """The bytes of an N-event stream, and how to write them."""

    def __init__(self, events: int) -> None:
        self.events = events
        encoded = workload.block(events)
        self.block = b"".join(encoded)
        self.ends = chunk_ends(self.block)
        whole, part = divmod(events, workload.BLOCK) if events > workload.BLOCK else (1, 0)
        self.whole = whole
        self.tail = b"".join(encoded[:part]) if part else b""
        self.size = whole * len(self.block) + len(self.tail)

    def send(self, sock: socket.socket, paced: bool = False) -> None:
        """Write the stream; ``paced`` pauses after each chunk cut inside a character.

        Paced mode (the verification runs) gives the client time to read all
        it has before the rest of the character arrives, so that its reads
        end inside characters for certain, not only by chance.
        """
        view = memoryview(self.block)
        for _ in range(self.whole):
            start = 0
            for k, end in enumerate(self.ends):
                sock.sendall(view[start:end])
                start = end
                if paced and k % 2:
                    time.sleep(PACE)
        if self.tail:
            tail = memoryview(self.tail)
            for start in range(0, len(tail), 65537):
                sock.sendall(tail[start : start + 65537])


def _headers(frame: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in frame.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            headers.setdefault(key.strip().lower(), value.strip())
    return headers


def serve(conn: socket.socket, stream: Stream) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.settimeout(600)
    conn.sendall(workload.BANNER)
    buffer = b""
    while True:
        try:
            data = conn.recv(1 << 18)
        except OSError:
            return
        if not data:
            return
        buffer += data
        frames = buffer.split(b"\r\n\r\n")
        buffer = frames.pop()
        out = []
        blast = paced = False
        for frame in frames:
            if not frame.strip():
                continue
            headers = _headers(frame)
            action = headers.get("action", "").lower()
            action_id = headers.get("actionid")
            aid = f"ActionID: {action_id}\r\n" if action_id is not None else ""
            if action == "ping":
                out.append(
                    f"Response: Success\r\n{aid}Ping: Pong\r\n"
                    f"Timestamp: {time.time():.6f}\r\n\r\n"
                )
            elif action == "login":
                out.append(
                    f"Response: Success\r\n{aid}Message: Authentication accepted\r\n"
                    f"BenchStreamBytes: {stream.size}\r\n\r\n"
                )
                blast = headers.get("events", "on").lower() != "off"
                # The verifying clients log in as "verify": paced writes.
                paced = headers.get("username") == "verify"
            elif action == "logoff":
                out.append(f"Response: Goodbye\r\n{aid}Message: Thanks for all the fish.\r\n\r\n")
                conn.sendall("".join(out).encode())
                return
            else:
                out.append(f"Response: Error\r\n{aid}Message: Invalid/unknown command\r\n\r\n")
        try:
            if out:
                conn.sendall("".join(out).encode())
            if blast:
                stream.send(conn, paced)
        except OSError:
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--idle", type=float, default=300.0)
    parser.add_argument("--lifetime", type=float, default=3600.0)
    args = parser.parse_args()
    stream = Stream(args.events)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    print(f"PORT {server.getsockname()[1]} BYTES {stream.size}", flush=True)
    deadline = time.monotonic() + args.lifetime
    idle_until = time.monotonic() + args.idle
    while time.monotonic() < min(deadline, idle_until):
        readable, _, _ = select.select([server, sys.stdin], [], [], 1.0)
        if sys.stdin in readable and not sys.stdin.buffer.read1(4096):
            break  # the parent closed our stdin: stop
        if server in readable:
            conn, _ = server.accept()
            with conn:
                serve(conn, stream)
            idle_until = time.monotonic() + args.idle
    server.close()


if __name__ == "__main__":
    main()
