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

from collections.abc import Callable, Mapping

from .exceptions import FrameTooLarge, ProtocolError
from .message import (
    SECRET_HEADERS,
    Event,
    Message,
    Response,
    messages_from_texts,
    new_event,
    new_response,
)

__all__ = [
    "FrameDecoder",
    "DEFAULT_MAX_FRAME_SIZE",
    "BANNER_PREFIX",
    "MAX_BANNER_SEARCH",
    "MAX_KEPT_ERRORS",
    "redact",
]

#: The default cap on one message: ListCommands, the longest answer Asterisk
#: 22 gives, is about 11 kB; a Status with many variables can be larger.
DEFAULT_MAX_FRAME_SIZE = 1 << 20

BANNER_PREFIX = "Asterisk Call Manager/"
_END = b"\r\n\r\n"
_FOLLOWS = b"Response: Follows\r\n"
_utf8 = bytes.decode
_END_COMMAND = b"--END COMMAND--"
#: A frame starting with one of these is a new message, never legacy output.
_NEW_MESSAGE = (b"Response:", b"Event:")
#: How many bytes may come before the banner: Asterisk sends it first, so
#: anything more is not an AMI server (a web page, a mistyped port).
MAX_BANNER_SEARCH = 1 << 16
#: How many problems a decoder keeps for take_errors(); the rest are counted.
MAX_KEPT_ERRORS = 100
_LEGACY_HEADERS = frozenset({"response", "privilege", "actionid", "message"})


class FrameDecoder:
    """Turn a stream of bytes from Asterisk into messages.

    Args:
        max_frame_size: The largest message accepted, in bytes. A larger one
            is reported as :class:`FrameTooLarge` and skipped; the stream goes on.
        event_classes: Maps event names to the classes to build (the typed
            catalogue, looked up with ``.get(name)`` only); names not in it
            become plain :class:`Event`.
        expect_banner: Whether the stream starts with the banner line (true
            for a client; false for the fake server reading actions).
        classify: Whether to build :class:`Response` / :class:`Event` from the
            first line. When false every frame is a plain :class:`Message`
            (the server side, where frames start with ``Action:``).
        on_error: Called with each problem found, as it is found (a frame
            skipped, junk before the banner); it must not raise.

    Attributes:
        banner: The banner line once received, for example
            ``"Asterisk Call Manager/11.0.0"``.
        errors: Problems found since the last :meth:`take_errors`, at most
            :data:`MAX_KEPT_ERRORS`; the frames concerned were skipped.
        error_count: Every problem found since the decoder was made, kept or not.
        failed: Set when the stream cannot be AMI (no banner within
            :data:`MAX_BANNER_SEARCH` bytes); everything after is ignored.
    """

    #: Builds the events and plain responses a batch of decoded frames starts
    #: with (the hot loop): :func:`amiasync.message.messages_from_texts`, the
    #: reference; :class:`amiasync.protocol.FrameDecoder` takes its compiled twin.
    build_messages: Callable[
        [list[str], Callable[[str, type[Event]], type[Event]]], list[Message]
    ] = staticmethod(messages_from_texts)

    def __init__(
        self,
        *,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        event_classes: Mapping[str, type[Event]] | None = None,
        expect_banner: bool = True,
        classify: bool = True,
        on_error: Callable[[ProtocolError], None] | None = None,
    ) -> None:
        self.max_frame_size = max_frame_size
        # Only ever looked up with .get: the catalogue may load its classes lazily.
        self.event_classes: Mapping[str, type[Event]] = (
            event_classes if event_classes is not None else {}
        )
        self.banner: str | None = None
        self.errors: list[ProtocolError] = []
        self.error_count = 0
        self.failed: ProtocolError | None = None
        self.on_error = on_error
        self._classify = classify
        self._want_banner = expect_banner
        self._before_banner = 0
        # Bytes of an incomplete frame. New data is appended (amortised
        # linear, unlike bytes + bytes) and only the new part, plus three
        # bytes of the old, is searched for the terminator: one frame fed in
        # n pieces costs O(size), not O(size * n) (h11's _receivebuffer.py
        # does the same).
        self._buffer = bytearray()
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
        """Return and clear the problems kept so far."""
        errors, self.errors = self.errors, []
        return errors

    def _error(self, error: ProtocolError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(error)
        if self.on_error is not None:
            self.on_error(error)

    def feed(self, data: bytes) -> list[Message]:
        """Add received bytes; return the messages they complete.

        Args:
            data: Bytes as read from the socket, cut anywhere.

        Returns:
            The complete messages, in order. Incomplete bytes are kept for the
            next call. Problems are reported (see :attr:`errors`), never raised.
        """
        if self.failed is not None:
            return []
        buffer = self._buffer
        if buffer:
            searched = len(buffer) - 3 if len(buffer) > 3 else 0
            buffer += data
            if self._want_banner:
                pass
            elif buffer.find(_END, searched) < 0:
                # Still no frame end: keep the bytes, search only new ones next time.
                if len(buffer) > self.max_frame_size and not self._skipping:
                    self._too_large(len(buffer))
                    del buffer[:-3]
                    self._skipping = True
                elif self._skipping:
                    del buffer[:-3]
                return []
            data = bytes(buffer)
            buffer.clear()
        if self._skipping:
            end = data.find(_END)
            if end < 0:
                # Keep three bytes: the terminator may straddle two reads.
                self._buffer += data[-3:]
                return []
            self._skipping = False
            data = data[end + 4 :]
        if self._want_banner:
            data = self._read_banner(data)
            if self._want_banner:
                if self.failed is None:
                    self._buffer += data
                return []
        messages: list[Message] = []
        tail = self._split(data, messages)
        if len(tail) > self.max_frame_size:
            self._too_large(len(tail))
            self._buffer += tail[-3:]
            self._skipping = True
        else:
            self._buffer += tail
        return messages

    def _too_large(self, size: int) -> None:
        limit = self.max_frame_size
        self._error(
            FrameTooLarge(f"message of {size} bytes over {limit} skipped", size=size, limit=limit)
        )

    def _split(self, buffer: bytes, messages: list[Message]) -> bytes:
        """Append the complete frames of ``buffer`` to ``messages``; return the rest."""
        frames = buffer.split(_END)
        tail = frames.pop()
        max_size = self.max_frame_size
        # No frame can be over the cap when the whole buffer is not.
        check_size = len(buffer) > max_size
        event_class = self.event_classes.get
        if self._classify and not check_size:
            # Events and plain responses are most of the traffic: they are
            # decoded (all at once) and built in one call. The first frame
            # that is anything else (legacy command output, a stray blank
            # line, an unknown frame) ends that, and it and the rest go the
            # general way below; so does the whole batch when a frame is not
            # UTF-8.
            try:
                texts = list(map(_utf8, frames))
            except UnicodeDecodeError:
                texts = []
            built = self.build_messages(texts, event_class)
            if built:
                messages.extend(built)
                if len(built) == len(frames):
                    return tail  # the usual case: every frame built
                # One message per frame so far.
                frames = frames[len(built) :]
        append = messages.append
        decode = self._decode
        fast = self._classify
        index = 0
        count = len(frames)
        while index < count:
            frame = frames[index]
            index += 1
            if fast and frame.startswith(b"Event: ") and not (check_size and len(frame) > max_size):
                try:
                    text = frame.decode()
                except UnicodeDecodeError:
                    message = decode(frame)
                else:
                    end = text.find("\r\n")
                    name = text[7:end] if end >= 0 else text[7:]
                    message = new_event(event_class(name, Event), text, name)
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
                    message = new_response(text)
                if message is not None:
                    append(message)
                continue
            if frame.startswith(_FOLLOWS) and _END_COMMAND not in frame:
                # Legacy command output may hold blank lines: join the frames
                # up to the one carrying the end marker. A frame that starts
                # like a new message (Response: or Event:) ends the output
                # too, so a peer that never sends the marker cannot swallow
                # the stream; with no such frame yet, wait for more bytes.
                parts = [frame]
                while index < count:
                    more = frames[index]
                    if more.startswith(_NEW_MESSAGE):
                        break
                    parts.append(more)
                    index += 1
                    if _END_COMMAND in more:
                        break
                else:
                    if not tail.startswith(_NEW_MESSAGE):
                        return _END.join([*parts, tail])
                frame = _END.join(parts)
            if len(frame) > max_size:
                self._too_large(len(frame))
                continue
            message = decode(frame)
            if message is not None:
                append(message)
        return tail

    def _read_banner(self, buffer: bytes) -> bytes:
        """Look for the banner line; return the bytes after it (or the incomplete line)."""
        position = 0
        while True:
            end = buffer.find(b"\r\n", position)
            if end < 0:
                rest = len(buffer) - position
                if self._before_banner + rest > MAX_BANNER_SEARCH:
                    self._fail_banner()
                    return b""
                return buffer[position:]
            line = buffer[position:end]
            position = end + 2
            self._before_banner += len(line) + 2
            if b"Call Manager/" in line:
                self.banner = self._decode_text(line)[0]
                self._want_banner = False
                return buffer[position:]
            if self._before_banner > MAX_BANNER_SEARCH:
                self._fail_banner()
                return b""
            if line.strip():
                # Something other than Asterisk spoke first (a proxy's notice,
                # line noise). Report it and keep looking for the banner, for
                # a bounded number of bytes.
                self._error(
                    ProtocolError(
                        f"unexpected data before the banner: {self._decode_text(line[:80])[0]!r}"
                    )
                )

    def _fail_banner(self) -> None:
        self.failed = ProtocolError(f"no AMI banner within the first {MAX_BANNER_SEARCH} bytes")
        self._error(self.failed)

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
            message = new_event(self.event_classes.get(name, Event), text, name)
        elif text.startswith("Response: "):
            if frame.startswith(_FOLLOWS):
                message = Response("", _legacy_command(text))
            else:
                message = Response(text)
        else:
            slow = self._classify_slowly(text)
            if slow is None:
                # The excerpt is redacted: a peer echoing our own frames back
                # would otherwise put a Secret or Key into the log.
                self._error(
                    ProtocolError(
                        f"message is neither an event nor a response: {redact(text)[:80]!r}"
                    )
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


def redact(text: str) -> str:
    """Return ``text`` with the value of every ``Secret`` or ``Key`` line masked.

    Args:
        text: Frame text (CRLF-separated ``Key: Value`` lines).

    Returns:
        The same lines, credentials replaced by ``********``.
    """
    if "secret" not in text.lower() and "key" not in text.lower():
        return text
    lines = []
    for line in text.split("\r\n"):
        key, sep, _ = line.partition(":")
        if sep and key.strip().lower() in SECRET_HEADERS:
            line = f"{key}: ********"
        lines.append(line)
    return "\r\n".join(lines)


def _legacy_command(text: str) -> list[tuple[str, str]]:
    """Turn an Asterisk <= 13 ``Response: Follows`` frame into ``Output`` headers."""
    marker = text.rfind("--END COMMAND--")
    # Without the marker (a peer that never sent it) the output is all the text.
    body = text[:marker] if marker >= 0 else text
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
