"""An embedded fake Asterisk: a real AMI server on loopback, for demos and tests.

It speaks the protocol the way Asterisk 22's ``main/manager.c`` does: banner,
Challenge and MD5 or plaintext Login, a refused login answered after a pause
and then closed, ``Permission denied`` before login, Ping, Logoff, Command
with ``Output`` lines (or the Asterisk 13 ``Response: Follows`` form),
CoreShowChannels and Status as event lists, Originate that plays a short call,
UserEvent, DB actions, the ``Events`` mask and ``Filter``. Test hooks inject
events, script replies, and drop or stall connections::

    async with FakeAsterisk(users={"admin": "secret"}) as server:
        async with amiasync.connect(server.host, server.port,
                                    username="admin", secret="secret") as manager:
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import random
import re
import time
from collections.abc import Awaitable, Iterable, Mapping
from types import TracebackType
from typing import Any, Callable, Union

from .auth import md5_key
from .frames import FrameDecoder
from .message import Event, Message, Response

__all__ = ["FakeAsterisk", "FakeSession", "FakeChannel", "ActionHandler", "Reply"]

#: What a scripted handler may return: one message, several, or None for no answer.
Reply = Union[Message, Mapping[str, Any], Iterable[Union[Message, Mapping[str, Any]]], None]
#: ``handler(session, action)``; may be a coroutine function.
ActionHandler = Callable[["FakeSession", Message], Union[Reply, Awaitable[Reply]]]

_LINE_LIMIT = 1024  # get_input() in main/manager.c
_ALL_CLASSES = frozenset(
    [
        "system",
        "call",
        "log",
        "verbose",
        "command",
        "agent",
        "user",
        "config",
        "dtmf",
        "reporting",
        "cdr",
        "dialplan",
        "originate",
        "agi",
        "cc",
        "aoc",
        "test",
        "security",
        "message",
    ]
)


class FakeChannel:
    """A channel of a fake call, with the snapshot headers Asterisk sends."""

    def __init__(
        self,
        name: str,
        uniqueid: str,
        linkedid: str,
        caller_num: str,
        caller_name: str,
        context: str,
        exten: str,
        variables: dict[str, str],
    ) -> None:
        self.name = name
        self.uniqueid = uniqueid
        self.linkedid = linkedid
        self.caller_num = caller_num
        self.caller_name = caller_name
        self.context = context
        self.exten = exten
        self.state = (0, "Down")
        self.variables = variables

    def snapshot(self, chanvars: Iterable[str]) -> list[tuple[str, str]]:
        """Return the channel snapshot block (``ast_manager_build_channel_state_string``)."""
        pairs = [
            ("Channel", self.name),
            ("ChannelState", str(self.state[0])),
            ("ChannelStateDesc", self.state[1]),
            ("CallerIDNum", self.caller_num),
            ("CallerIDName", self.caller_name),
            ("ConnectedLineNum", "<unknown>"),
            ("ConnectedLineName", "<unknown>"),
            ("Language", "en"),
            ("AccountCode", ""),
            ("Context", self.context),
            ("Exten", self.exten),
            ("Priority", "1"),
            ("Uniqueid", self.uniqueid),
            ("Linkedid", self.linkedid),
        ]
        pairs.extend(("ChanVariable", f"{n}={self.variables.get(n, '')}") for n in chanvars)
        return pairs


class FakeSession:
    """One client connection to the fake server."""

    def __init__(
        self, server: FakeAsterisk, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.username: str | None = None
        self.challenge: str | None = None
        #: ``None`` for every class, an empty set for ``Events: off``.
        self.event_classes: frozenset[str] | None = None
        self.filters: list[tuple[bool, re.Pattern[str]]] = []
        #: Every action this session received, in order.
        self.received: list[Message] = []

    @property
    def authenticated(self) -> bool:
        """True after a successful login."""
        return self.username is not None

    def send(self, *messages: Message) -> None:
        """Write messages to the client, as they are."""
        if not self.writer.is_closing():
            self.writer.write(b"".join(m.encode() for m in messages))

    def send_raw(self, data: bytes) -> None:
        """Write raw bytes (broken frames, garbage) to the client."""
        if not self.writer.is_closing():
            self.writer.write(data)

    def wants(self, event: Message) -> bool:
        """Apply the session's Events mask and filters, as ``manager.c`` does."""
        if not self.authenticated:
            return False
        if self.event_classes is not None:
            privilege = {p.strip() for p in event.get("Privilege", "").split(",")} - {"all"}
            if not privilege & self.event_classes:
                return False
        if self.filters:
            text = event.encode().decode("utf-8", "replace")
            includes = [p for keep, p in self.filters if keep]
            if includes and not any(p.search(text) for p in includes):
                return False
            if any(p.search(text) for keep, p in self.filters if not keep):
                return False
        return True

    def close(self) -> None:
        """Close the connection from the server side."""
        self.writer.close()

    def abort(self) -> None:
        """Drop the connection at once (RST where the platform allows)."""
        transport = self.writer.transport
        transport.abort()

    async def run(self) -> None:
        decoder = FrameDecoder(expect_banner=False, classify=False)
        self.send_raw(f"Asterisk Call Manager/{self.server.ami_version}\r\n".encode())
        try:
            while not self.writer.is_closing():
                data = await self.reader.read(65536)
                if not data:
                    break
                for frame in decoder.feed(data):
                    if self.server.stalled:
                        continue
                    await self._handle(frame)
                    if self.writer.is_closing():
                        break
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.writer.close()

    async def _handle(self, action: Message) -> None:
        self.received.append(action)
        self.server._note(action)
        name = action.get("Action", "")
        action_id = action.get("ActionID")
        if not action.headers:
            # A bare CRLF is an empty request; Asterisk answers without an ActionID.
            self.send(_response("Error", None, Message="Missing action in request"))
            return
        if any(
            len(line.encode()) > _LINE_LIMIT
            for line in action.get_all("") + [f"{k}: {v}" for k, v in action.headers]
        ):
            self.send(
                _response("Error", action_id, Message="Failed to parse message: line too long")
            )
            return
        if not name:
            self.send(_response("Error", action_id, Message="Missing action in request"))
            return
        scripted = self.server._scripts.get(name.lower())
        if scripted is not None:
            reply = scripted(self, action)
            if inspect.isawaitable(reply):
                reply = await reply
            self._send_reply(reply, action_id)
            return
        if not self.authenticated and name.lower() not in ("login", "logoff", "challenge"):
            self.send(_response("Error", action_id, Message="Permission denied"))
            return
        handler = getattr(self, "action_" + name.lower(), None)
        if handler is None:
            self.send(
                _response(
                    "Error",
                    action_id,
                    Message=(
                        f"Invalid/unknown command: {name}. Use Action: ListCommands to show "
                        "available commands."
                    ),
                )
            )
            return
        await handler(action, action_id)

    def _send_reply(self, reply: Reply, action_id: str | None) -> None:
        if reply is None:
            return
        items = [reply] if isinstance(reply, (Message, Mapping)) else list(reply)
        for item in items:
            message = item if isinstance(item, Message) else Message.from_headers(item)
            headers = message.headers
            if action_id is not None and message.get("ActionID") is None and headers:
                headers = [headers[0], ("ActionID", action_id), *headers[1:]]
                message = Message("", headers)
            self.send(message)

    # -- the actions the fake server knows ------------------------------------

    async def action_challenge(self, action: Message, action_id: str | None) -> None:
        if action.get("AuthType", "").lower() != "md5":
            self.send(_response("Error", action_id, Message="Must specify AuthType"))
            return
        self.challenge = str(random.randint(100000000, 999999999))
        self.send(_response("Success", action_id, Challenge=self.challenge))

    async def action_login(self, action: Message, action_id: str | None) -> None:
        username = action.get("Username", "")
        secret = self.server.users.get(username)
        if action.get("AuthType", "").lower() == "md5":
            ok = (
                secret is not None
                and self.challenge is not None
                and action.get("Key", "").lower() == md5_key(self.challenge, secret)
            )
        else:
            ok = secret is not None and action.get("Secret") == secret
        if not ok:
            # Asterisk pauses before refusing, then closes the session.
            await asyncio.sleep(self.server.auth_failure_delay)
            self.send(_response("Error", action_id, Message="Authentication failed"))
            await self.writer.drain()
            self.close()
            return
        self.username = username
        self.event_classes = _event_mask(action.get("Events"))
        self.send(_response("Success", action_id, Message="Authentication accepted"))
        booted = Event.from_headers(
            Event="FullyBooted",
            Privilege="system,all",
            Uptime="42",
            LastReload="42",
            Status="Fully Booted",
        )
        if self.wants(booted):
            self.send(booted)

    async def action_logoff(self, action: Message, action_id: str | None) -> None:
        self.send(_response("Goodbye", action_id, Message="Thanks for all the fish."))
        await self.writer.drain()
        self.close()

    async def action_ping(self, action: Message, action_id: str | None) -> None:
        self.send(_response("Success", action_id, Ping="Pong", Timestamp=f"{time.time():.6f}"))

    async def action_events(self, action: Message, action_id: str | None) -> None:
        self.event_classes = _event_mask(action.get("EventMask"))
        self.send(
            _response(
                "Success", action_id, Events="Off" if self.event_classes == frozenset() else "On"
            )
        )

    async def action_filter(self, action: Message, action_id: str | None) -> None:
        pattern = action.get("Filter", "")
        keep = not pattern.startswith("!")
        try:
            compiled = re.compile(pattern if keep else pattern[1:])
        except re.error:
            self.send(_response("Error", action_id, Message="Filter Not Added"))
            return
        self.filters.append((keep, compiled))
        self.send(_response("Success", action_id, Message="Filter Added Successfully"))

    async def action_command(self, action: Message, action_id: str | None) -> None:
        command = action.get("Command", "").strip()
        lines = self.server.cli_output(command)
        if self.server.legacy_command:
            body = "".join(line + "\n" for line in (lines or [f"No such command '{command}'"]))
            head = "Response: Follows\r\nPrivilege: Command\r\n"
            if action_id is not None:
                head += f"ActionID: {action_id}\r\n"
            self.send_raw(f"{head}{body}--END COMMAND--\r\n\r\n".encode())
            return
        if lines is None:
            lines = [
                f"No such command '{command}' (type 'core show help {command}' for other "
                "possible commands)"
            ]
            status = "Error"
        else:
            status = "Success"
        self.send(_response(status, action_id, Message="Command output follows", Output=lines))

    async def action_coreshowchannels(self, action: Message, action_id: str | None) -> None:
        items = []
        for channel in self.server.channels.values():
            items.append(
                Event.from_headers(
                    [
                        ("Event", "CoreShowChannel"),
                        ("ActionID", action_id or ""),
                        *channel.snapshot([]),
                        ("Application", "Wait"),
                        ("ApplicationData", "1"),
                        ("Duration", "00:00:01"),
                        ("BridgeId", ""),
                    ]
                )
            )
        self._send_list(action_id, "Channels will follow", items, "CoreShowChannelsComplete")

    async def action_status(self, action: Message, action_id: str | None) -> None:
        wanted = action.get("Channel")
        channels = [c for c in self.server.channels.values() if not wanted or c.name == wanted]
        if wanted and not channels:
            self.send(_response("Error", action_id, Message="No such channel"))
            return
        items = [
            Event.from_headers(
                [
                    ("Event", "Status"),
                    ("Privilege", "Call"),
                    *c.snapshot(self.server.chanvars),
                    ("Type", "Local"),
                    ("ActionID", action_id or ""),
                ]
            )
            for c in channels
        ]
        self._send_list(
            action_id, "Channel status will follow", items, "StatusComplete", Items=str(len(items))
        )

    async def action_originate(self, action: Message, action_id: str | None) -> None:
        channel = action.get("Channel")
        if not channel:
            self.send(_response("Error", action_id, Message="Channel not specified"))
            return
        is_async = action.get("Async", "").lower() in ("true", "yes", "1", "on")
        call = self.server._play_call(action, action_id)
        if is_async:
            self.send(_response("Success", action_id, Message="Originate successfully queued"))
            self.server._spawn(call)
        else:
            ok = await call
            self.send(
                _response(
                    "Success" if ok else "Error",
                    action_id,
                    Message="Originate successfully queued" if ok else "Originate failed",
                )
            )

    async def action_userevent(self, action: Message, action_id: str | None) -> None:
        name = action.get("UserEvent")
        if not name:
            self.send(_response("Error", action_id, Message="UserEvent header missing"))
            return
        self.send(_response("Success", action_id, Message="Event Sent"))
        body = [(k, v) for k, v in action.headers if k.lower() not in ("action", "userevent")]
        self.server.emit(
            Event.from_headers(
                [("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", name), *body]
            )
        )

    async def action_dbput(self, action: Message, action_id: str | None) -> None:
        self.server.database[(action.get("Family", ""), action.get("Key", ""))] = action.get(
            "Val", ""
        )
        self.send(_response("Success", action_id, Message="Updated database successfully"))

    async def action_dbget(self, action: Message, action_id: str | None) -> None:
        family, key = action.get("Family", ""), action.get("Key", "")
        if (family, key) not in self.server.database:
            self.send(_response("Error", action_id, Message="Database entry not found"))
            return
        item = Event.from_headers(
            Event="DBGetResponse",
            Family=family,
            Key=key,
            Val=self.server.database[(family, key)],
            ActionID=action_id,
        )
        self._send_list(action_id, "Result will follow", [item], "DBGetComplete")

    async def action_dbgettree(self, action: Message, action_id: str | None) -> None:
        family = action.get("Family", "")
        items = [
            Event.from_headers(
                Event="DBGetTreeResponse", Key=f"/{f}/{k}", Val=v, ActionID=action_id
            )
            for (f, k), v in sorted(self.server.database.items())
            if not family or f == family
        ]
        self._send_list(action_id, "Result will follow", items, "DBGetTreeComplete")

    async def action_getvar(self, action: Message, action_id: str | None) -> None:
        name = action.get("Channel")
        channel = self.server.channels.get(name or "")
        if name and channel is None:
            self.send(_response("Error", action_id, Message="No such channel"))
            return
        variables = channel.variables if channel else self.server.globals
        variable = action.get("Variable", "")
        self.send(
            _response("Success", action_id, Variable=variable, Value=variables.get(variable, ""))
        )

    async def action_setvar(self, action: Message, action_id: str | None) -> None:
        name = action.get("Channel")
        channel = self.server.channels.get(name or "")
        if name and channel is None:
            self.send(_response("Error", action_id, Message="No such channel"))
            return
        variables = channel.variables if channel else self.server.globals
        variables[action.get("Variable", "")] = action.get("Value", "")
        self.send(_response("Success", action_id, Message="Variable Set"))

    async def action_hangup(self, action: Message, action_id: str | None) -> None:
        channel = self.server.channels.get(action.get("Channel", ""))
        if channel is None:
            self.send(_response("Error", action_id, Message="No such channel"))
            return
        self.server._hangup(channel)
        self.send(_response("Success", action_id, Message="Channel Hungup"))

    def _send_list(
        self, action_id: str | None, text: str, items: list[Event], complete: str, **extra: str
    ) -> None:
        start = _response("Success", action_id, EventList="start", Message=text)
        done = Event.from_headers(
            [
                ("Event", complete),
                ("ActionID", action_id or ""),
                ("EventList", "Complete"),
                ("ListItems", str(len(items))),
                *extra.items(),
            ]
        )
        # List items are written inline, so nothing else interleaves (manager.c).
        self.send(start, *items, done)


def _response(status: str, action_id: str | None, **headers: Any) -> Response:
    pairs: list[tuple[str, Any]] = [("Response", status)]
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    pairs.extend(headers.items())
    return Response("", Message.from_headers(pairs).headers)


def _event_mask(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    value = value.strip().lower()
    if value in ("on", "yes", "true", "all", "1"):
        return None
    if value in ("off", "no", "false", "0", ""):
        return frozenset()
    classes = frozenset(c.strip() for c in value.split(","))
    return None if "all" in classes else classes & _ALL_CLASSES


class FakeAsterisk:
    """A fake Asterisk manager server on loopback.

    Args:
        users: Username to secret.
        host: The address to listen on.
        port: The port; 0 picks a free one (read it back from ``port``).
        ami_version: The version in the banner.
        legacy_command: Answer Command the Asterisk <= 13 way (``Response: Follows``).
        call_duration: Seconds a fake call stays up before it hangs up.
        auth_failure_delay: Seconds to wait before refusing a login (Asterisk: 1).
        chanvars: Channel variables added to snapshots (manager.conf ``channelvars``).
        ssl: An ``ssl.SSLContext`` to serve TLS.

    Attributes:
        sessions: The open client sessions.
        channels: Live fake channels by name.
        database: The AstDB, ``(family, key) -> value``.
        stalled: While true, sessions read actions but answer nothing.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ami_version: str = "11.0.0",
        legacy_command: bool = False,
        call_duration: float = 0.2,
        auth_failure_delay: float = 0.1,
        chanvars: Iterable[str] = (),
        ssl: Any = None,
    ) -> None:
        self.users = dict(users or {"admin": "secret"})
        self.host = host
        self.port = port
        self.ami_version = ami_version
        self.legacy_command = legacy_command
        self.call_duration = call_duration
        self.auth_failure_delay = auth_failure_delay
        self.chanvars = list(chanvars)
        self.ssl = ssl
        self.sessions: list[FakeSession] = []
        self.channels: dict[str, FakeChannel] = {}
        self.database: dict[tuple[str, str], str] = {}
        self.globals: dict[str, str] = {}
        self.stalled = False
        self._server: asyncio.base_events.Server | None = None
        self._scripts: dict[str, ActionHandler] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._received: list[Message] = []
        self._waiters: dict[str, list[asyncio.Future[Message]]] = {}
        self._channel_ids = itertools.count(1)
        self._epoch = int(time.time())

    # -- life cycle -----------------------------------------------------------

    async def start(self) -> FakeAsterisk:
        """Start listening; returns self (``port`` is then the bound port)."""
        self._server = await asyncio.start_server(self._accept, self.host, self.port, ssl=self.ssl)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close every session and stop listening."""
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            session.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def __aenter__(self) -> FakeAsterisk:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = FakeSession(self, reader, writer)
        self.sessions.append(session)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.run()
        finally:
            self.sessions.remove(session)
            if task is not None:
                self._tasks.discard(task)

    # -- test hooks -----------------------------------------------------------

    def on_action(self, name: str, handler: ActionHandler) -> None:
        """Answer action ``name`` with ``handler(session, action)`` instead.

        The handler returns a message, a mapping of headers, a list of them,
        or None to answer nothing; the request's ActionID is added to each
        message that has none. It runs even before login.
        """
        self._scripts[name.lower()] = handler

    def emit(self, event: Message | Mapping[str, Any]) -> int:
        """Send an event to every logged-in session whose mask and filters let it through.

        Returns:
            How many sessions it was sent to.
        """
        message = event if isinstance(event, Message) else Event.from_headers(event)
        sent = 0
        for session in self.sessions:
            if session.wants(message):
                session.send(message)
                sent += 1
        return sent

    def send_raw(self, data: bytes) -> None:
        """Write raw bytes to every session."""
        for session in self.sessions:
            session.send_raw(data)

    def drop_connections(self) -> None:
        """Abort every client connection at once, as a crash would."""
        for session in list(self.sessions):
            session.abort()

    def shutdown(self, restart: bool = False) -> None:
        """Send ``Event: Shutdown`` to every session, then close them, as ``core stop`` does."""
        self.emit(
            Event.from_headers(
                Event="Shutdown", Privilege="system,all", Shutdown="Cleanly", Restart=restart
            )
        )
        for session in list(self.sessions):
            session.close()

    async def wait_for_action(self, name: str, timeout: float = 5.0) -> Message:
        """Return the first action of this name received, waiting for it if need be.

        Raises:
            asyncio.TimeoutError: None arrived within ``timeout`` seconds.
        """
        lower = name.lower()
        for message in self._received:
            if message.get("Action", "").lower() == lower:
                return message
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(lower, []).append(future)
        return await asyncio.wait_for(future, timeout)

    @property
    def received(self) -> list[Message]:
        """Every action received by any session, in order."""
        return list(self._received)

    def _note(self, action: Message) -> None:
        self._received.append(action)
        for future in self._waiters.pop(action.get("Action", "").lower(), []):
            if not future.done():
                future.set_result(action)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the simulated PBX ----------------------------------------------------

    def cli_output(self, command: str) -> list[str] | None:
        """Return the output of a CLI command, or None if it is unknown."""
        if command == "core show uptime":
            uptime = int(time.time()) - self._epoch
            return [f"System uptime: {uptime} seconds", f"Last reload: {uptime} seconds"]
        if command == "core show version":
            return ["Asterisk 22.10.1 (amiasync fake server)"]
        if command == "core show channels":
            lines = ["Channel              Location             State   Application(Data)"]
            lines += [
                f"{c.name:<20} {c.exten}@{c.context:<12} {c.state[1]:<7} Wait(1)"
                for c in self.channels.values()
            ]
            count = len(self.channels)
            lines += [
                f"{count} active channel{'s' if count != 1 else ''}",
                f"{(count + 1) // 2} active call{'s' if (count + 1) // 2 != 1 else ''}",
            ]
            return lines
        if command == "dialplan show amitest":
            return [
                "[ Context 'amitest' created by 'pbx_config' ]",
                "  '100' =>          1. Answer()",
                "                    2. Wait(2)",
                "",
                "-= 1 extension (2 priorities) in 1 context. =-",
            ]
        return None

    def _event(self, name: str, privilege: str, *pairs: tuple[str, Any], **extra: Any) -> Event:
        return Event.from_headers(
            [("Event", name), ("Privilege", privilege), *pairs, *extra.items()]
        )

    async def _play_call(self, action: Message, action_id: str | None) -> bool:
        target = action.get("Channel", "")
        caller_name, caller_num = _split_callerid(action.get("CallerID", ""))
        variables = dict(
            v.split("=", 1)
            for value in action.get_all("Variable")
            for v in value.split(",")
            if "=" in v
        )
        number = next(self._channel_ids)
        ok = target.startswith("Local/") and not target.startswith("Local/fail")
        if not ok:
            await asyncio.sleep(0)
            self.emit(
                self._event(
                    "OriginateResponse",
                    "call,all",
                    ("ActionID", action_id or ""),
                    ("Response", "Failure"),
                    ("Channel", target),
                    ("Context", action.get("Context", "")),
                    ("Exten", action.get("Exten", "")),
                    ("Reason", "0"),
                    ("Uniqueid", "<null>"),
                    ("CallerIDNum", caller_num),
                    ("CallerIDName", caller_name),
                )
            )
            return False
        exten, _, context = target[len("Local/") :].partition("@")
        base = f"{target}-{number:08x}"
        linkedid = f"{self._epoch}.{number * 2}"
        one = FakeChannel(
            f"{base};1", linkedid, linkedid, caller_num, caller_name, context, exten, variables
        )
        two = FakeChannel(
            f"{base};2",
            f"{self._epoch}.{number * 2 + 1}",
            linkedid,
            caller_num,
            caller_name,
            context,
            exten,
            {},
        )
        for channel in (one, two):
            self.channels[channel.name] = channel
            self.emit(self._event("Newchannel", "call,all", *channel.snapshot(self.chanvars)))
        for channel in (two, one):
            channel.state = (6, "Up")
            self.emit(self._event("Newstate", "call,all", *channel.snapshot(self.chanvars)))
        for name, value in variables.items():
            self.emit(
                self._event(
                    "VarSet",
                    "dialplan,all",
                    *one.snapshot(self.chanvars),
                    Variable=name,
                    Value=value,
                )
            )
        self.emit(
            self._event(
                "OriginateResponse",
                "call,all",
                ("ActionID", action_id or ""),
                ("Response", "Success"),
                ("Channel", one.name),
                ("Context", action.get("Context", "")),
                ("Exten", action.get("Exten", "")),
                ("Reason", "4"),
                ("Uniqueid", one.uniqueid),
                ("CallerIDNum", caller_num),
                ("CallerIDName", caller_name),
            )
        )

        async def hang_up_later() -> None:
            await asyncio.sleep(self.call_duration)
            for channel in (two, one):
                self._hangup(channel)

        self._spawn(hang_up_later())
        return True

    def _hangup(self, channel: FakeChannel) -> None:
        if self.channels.pop(channel.name, None) is None:
            return
        self.emit(
            self._event(
                "Hangup",
                "call,all",
                *channel.snapshot(self.chanvars),
                Cause="16",
                **{"Cause-txt": "Normal Clearing"},
            )
        )


def _split_callerid(value: str) -> tuple[str, str]:
    match = re.match(r'\s*"?([^"<]*?)"?\s*<([^>]*)>', value)
    if match:
        return match.group(1), match.group(2)
    return "", value.strip()
