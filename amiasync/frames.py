"""The sans-IO AMI codec: bytes in, messages out.

No asyncio here: :class:`FrameDecoder` is fed whatever the socket returned
and hands back complete messages, so the same code serves the client, the
fake server, the benchmarks and the property tests.

What it relies on (see ``main/manager.c``, ``session_do`` and ``astman_append``):

* The first line is a banner, ``Asterisk Call Manager/<AMI version>\\r\\n``,
  with no blank line after it.
* Every message ends in an empty line, so frames are split on ``\\r\\n\\r\\n``.
  Lines are split on ``\\r\\n`` only: about 60 places in Asterisk end a value
  with a bare ``\\n``.
* Bytes are decoded only once a frame is complete, so a UTF-8 character split
  across two reads arrives whole. A frame that is not valid UTF-8 (old phones
  and trunks send Latin-1 caller names) is decoded line by line, invalid lines
  as Latin-1, and its bytes are kept on ``Message.raw``: nothing is lost.
* Asterisk 13 and older answered ``Command`` with ``Response: Follows``, raw
  output lines and ``--END COMMAND--``; that output may itself contain blank
  lines, so such a frame runs to the end marker, and its lines are turned into
  ``Output`` headers, the shape Asterisk 14+ sends.
"""

from __future__ import annotations

from collections.abc import Mapping

from .exceptions import FrameTooLarge, ProtocolError
from .message import _SCANS, Event, Message, Response

__all__ = ["FrameDecoder", "DEFAULT_MAX_FRAME_SIZE", "BANNER_PREFIX"]

#: The default cap on one message: ListCommands, the longest answer Asterisk
#: 22 gives, is about 11 kB; a Status with many variables can be larger.
DEFAULT_MAX_FRAME_SIZE = 1 << 20

BANNER_PREFIX = "Asterisk Call Manager/"
_END = b"\r\n\r\n"
_FOLLOWS = b"Response: Follows\r\n"
_FOLLOWS_TEXT = _FOLLOWS.decode()
_utf8 = bytes.decode
_END_COMMAND = b"--END COMMAND--"
_LEGACY_HEADERS = frozenset({"response", "privilege", "actionid", "message"})


class FrameDecoder:
    """Turn a stream of bytes from Asterisk into messages.

    Args:
        max_frame_size: The largest message accepted, in bytes. A larger one
            is reported as :class:`FrameTooLarge` and skipped; the stream goes on.
        event_classes: Maps event names to the classes to build (the typed
            catalogue); names not in it become plain :class:`Event`.
        expect_banner: Whether the stream starts with the banner line (true
            for a client; false for the fake server reading actions).
        classify: Whether to build :class:`Response` / :class:`Event` from the
            first line. When false every frame is a plain :class:`Message`
            (the server side, where frames start with ``Action:``).

    Attributes:
        banner: The banner line once received, for example
            ``"Asterisk Call Manager/11.0.0"``.
        errors: Problems found since the last :meth:`take_errors`; the frames
            concerned were skipped.
    """

    def __init__(
        self,
        *,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        event_classes: Mapping[str, type[Event]] | None = None,
        expect_banner: bool = True,
        classify: bool = True,
    ) -> None:
        self.max_frame_size = max_frame_size
        self.event_classes: Mapping[str, type[Event]] = event_classes or {}
        self.banner: str | None = None
        self.errors: list[ProtocolError] = []
        self._classify = classify
        self._want_banner = expect_banner
        self._buffer = b""
        self._skipping = False

    @property
    def version(self) -> str | None:
        """The AMI version from the banner (``"11.0.0"`` for Asterisk 22)."""
        if self.banner is None:
            return None
        return self.banner.rpartition("/")[2]

    @property
    def buffered(self) -> int:
        """How many bytes wait for the rest of their frame."""
        return len(self._buffer)

    def take_errors(self) -> list[ProtocolError]:
        """Return and clear the problems found so far."""
        errors, self.errors = self.errors, []
        return errors

    def feed(self, data: bytes) -> list[Message]:
        """Add received bytes; return the messages they complete.

        Args:
            data: Bytes as read from the socket, cut anywhere.

        Returns:
            The complete messages, in order. Incomplete bytes are kept for the
            next call. Problems are appended to :attr:`errors`, never raised.
        """
        buffer = self._buffer + data if self._buffer else data
        if self._skipping:
            end = buffer.find(_END)
            if end < 0:
                # Keep three bytes: the terminator may straddle two reads.
                self._buffer = buffer[-3:]
                return []
            self._skipping = False
            buffer = buffer[end + 4 :]
        if self._want_banner:
            buffer = self._read_banner(buffer)
            if self._want_banner:
                self._buffer = buffer
                return []
        frames = buffer.split(_END)
        tail = frames.pop()
        messages: list[Message] = []
        append = messages.append
        decode = self._decode
        max_size = self.max_frame_size
        # No frame can be over the cap when the whole buffer is not.
        check_size = len(buffer) > max_size
        event_class = self.event_classes.get
        if self._classify and not check_size:
            new = object.__new__
            # Events and plain responses are most of the traffic: they are
            # decoded (all at once) and built right here, as _decode would
            # build them. The first frame that is anything else (legacy
            # command output, a stray blank line, an unknown frame) ends this
            # loop, and it and the rest go the general way below; so does the
            # whole batch when a frame is not UTF-8.
            try:
                texts = list(map(_utf8, frames))
            except UnicodeDecodeError:
                texts = []
            for text in texts:
                if text.startswith("Event: "):
                    end = text.find("\r\n")
                    name = text[7:end] if end >= 0 else text[7:]
                    # Event(text, None, name) without the call: Event.__init__'s
                    # assignments, kept in step with it.
                    event = new(event_class(name, Event))
                    event._text = text
                    event._pairs = event._first = event._folded = event.raw = None
                    event._scans = _SCANS
                    event.event_name = name
                    append(event)
                elif text.startswith("Response: ") and not text.startswith(_FOLLOWS_TEXT):
                    append(Response(text))
                else:
                    break
            if messages:
                # One message per frame so far.
                frames = frames[len(messages) :]
        fast = self._classify
        frames_left = iter(frames)
        for frame in frames_left:
            if fast and frame.startswith(b"Event: ") and not (check_size and len(frame) > max_size):
                try:
                    text = frame.decode()
                except UnicodeDecodeError:
                    message = decode(frame)
                else:
                    end = text.find("\r\n")
                    name = text[7:end] if end >= 0 else text[7:]
                    message = event_class(name, Event)(text, None, name)
                if message is not None:
                    append(message)
                continue
            if (
                fast
                and frame.startswith(b"Response: ")
                and not frame.startswith(_FOLLOWS)
                and not (check_size and len(frame) > max_size)
            ):
                try:
                    text = frame.decode()
                except UnicodeDecodeError:
                    message = decode(frame)
                else:
                    message = Response(text)
                if message is not None:
                    append(message)
                continue
            if frame.startswith(_FOLLOWS) and _END_COMMAND not in frame:
                # Legacy command output may hold blank lines: join frames up
                # to the one carrying the end marker, or wait for more bytes.
                parts = [frame]
                for more in frames_left:
                    parts.append(more)
                    if _END_COMMAND in more:
                        break
                else:
                    tail = _END.join([*parts, tail])
                    break
                frame = _END.join(parts)
            if len(frame) > max_size:
                self.errors.append(
                    FrameTooLarge(f"message of {len(frame)} bytes over {max_size} skipped")
                )
                continue
            message = decode(frame)
            if message is not None:
                append(message)
        if len(tail) > self.max_frame_size:
            self.errors.append(FrameTooLarge(f"message over {self.max_frame_size} bytes skipped"))
            tail = b""
            self._skipping = True
        self._buffer = tail
        return messages

    def _read_banner(self, buffer: bytes) -> bytes:
        while self._want_banner:
            end = buffer.find(b"\r\n")
            if end < 0:
                if len(buffer) > self.max_frame_size:
                    self.errors.append(FrameTooLarge("no banner line within the size cap"))
                    return b""
                return buffer
            line = self._decode_text(buffer[:end])[0]
            buffer = buffer[end + 2 :]
            if "Call Manager/" in line:
                self.banner = line
                self._want_banner = False
            elif line:
                # Something other than Asterisk spoke first (a proxy's notice,
                # line noise). Report it and keep looking for the banner.
                self.errors.append(
                    ProtocolError(f"unexpected data before the banner: {line[:80]!r}")
                )
        return buffer

    @staticmethod
    def _decode_text(frame: bytes) -> tuple[str, bool]:
        try:
            return frame.decode("utf-8"), False
        except UnicodeDecodeError:
            lines = []
            for line in frame.split(b"\r\n"):
                try:
                    lines.append(line.decode("utf-8"))
                except UnicodeDecodeError:
                    # Latin-1 maps every byte to one character, so the bytes
                    # can always be recovered with .encode("latin-1").
                    lines.append(line.decode("latin-1"))
            return "\r\n".join(lines), True

    def _decode(self, frame: bytes) -> Message | None:
        if frame.startswith(b"\r\n"):
            # A stray empty line between messages; Asterisk never sends one,
            # but a proxy might. It carries nothing.
            frame = frame.lstrip(b"\r\n")
            if not frame:
                return None
        text, fallback = self._decode_text(frame)
        message: Message
        if not self._classify:
            message = Message(text)
        elif text.startswith("Event: "):
            end = text.find("\r\n")
            name = text[7:] if end < 0 else text[7:end]
            cls = self.event_classes.get(name, Event)
            message = cls(text, None, name)
        elif text.startswith("Response: "):
            if frame.startswith(_FOLLOWS):
                message = Response("", _legacy_command(text))
            else:
                message = Response(text)
        else:
            slow = self._classify_slowly(text)
            if slow is None:
                self.errors.append(
                    ProtocolError(f"message is neither an event nor a response: {text[:80]!r}")
                )
                return None
            message = slow
        if fallback:
            message.raw = frame
        return message

    def _classify_slowly(self, text: str) -> Message | None:
        # Keys are case-insensitive in AMI, and a value may be preceded by any
        # blanks: accept "event:X" too, though Asterisk itself never sends it.
        key, sep, value = text.partition("\r\n")[0].partition(":")
        key = key.strip().lower()
        if not sep:
            return None
        if key == "event":
            name = value.strip()
            return self.event_classes.get(name, Event)(text, None, name)
        if key == "response":
            return Response(text)
        return None


def _legacy_command(text: str) -> list[tuple[str, str]]:
    """Turn an Asterisk <= 13 ``Response: Follows`` frame into ``Output`` headers."""
    body = text[: text.rfind("--END COMMAND--")]
    pairs: list[tuple[str, str]] = []
    while body:
        line, sep, rest = body.partition("\r\n")
        key, colon, value = line.partition(":")
        if not (sep and colon and key.strip().lower() in _LEGACY_HEADERS):
            break
        pairs.append((key.strip(), value.strip()))
        body = rest
    # The raw output ends its lines with "\n" (sometimes "\r\n"); the last
    # line runs into the end marker.
    lines = body.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    pairs.extend(("Output", line) for line in lines)
    return pairs
