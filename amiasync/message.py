"""The AMI message model: actions going out, responses and events coming in.

Incoming messages keep the text of their frame and split it into headers only
when a header is first read, so that a handler that looks at the event name
alone costs almost nothing. Header keys match case-insensitively, as they do
in Asterisk (``astman_get_header`` uses ``strncasecmp``), and repeated keys
(``ChanVariable``, ``Output``, ``Variable``) are all kept, in order.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, Callable, ClassVar, TypeVar, Union, overload

from ._extensions import load
from .exceptions import InvalidAction

__all__ = [
    "Message",
    "Response",
    "Event",
    "Action",
    "new_event",
    "new_response",
    "messages_from_texts",
    "HeaderValue",
    "SECRET_HEADERS",
    "check_header",
]

#: Header values an action accepts: text, numbers, booleans (``true``/``false``),
#: a sequence (one header per item) or a mapping (one ``name=value`` header per
#: item, the form of ``Variable``).
HeaderValue = Union[str, int, float, bool, Iterable[Any], Mapping[str, Any], None]

#: Headers whose values are credentials: never logged, never shown in a repr.
SECRET_HEADERS = frozenset({"secret", "key"})

_FORBIDDEN = ("\r", "\n", "\x00")
_T = TypeVar("_T")
_E = TypeVar("_E", bound="Event")


def check_header(key: str, value: str) -> None:
    """Refuse a header that would break AMI framing.

    Asterisk does no escaping: a CR or LF in a value starts a new header line,
    and a blank line starts a new action, so the text could smuggle in another
    action. NUL ends the C string early. The error never quotes the value,
    which may be a secret.

    Args:
        key: The header name.
        value: The header value, already converted to text.

    Raises:
        InvalidAction: The key is empty, contains ``:`` or whitespace, or
            either part contains CR, LF or NUL.
    """
    if key not in _CHECKED_KEYS:
        if not key or ":" in key or key != key.strip() or " " in key:
            raise InvalidAction(f"invalid header name {key!r}")
        for bad in _FORBIDDEN:
            if bad in key:
                raise InvalidAction(f"header name {key!r} contains {bad!r}")
        # Keys come from code, so few distinct ones: remember the good ones.
        if len(_CHECKED_KEYS) < 4096:
            _CHECKED_KEYS.add(key)
    if "\r" in value or "\n" in value or "\x00" in value:
        bad = next(b for b in _FORBIDDEN if b in value)
        raise InvalidAction(f"value of header {key!r} contains {bad!r}; refused before sending")


_CHECKED_KEYS: set[str] = set()


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _expand(key: str, value: HeaderValue) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield key, f"{name}={_text(item)}"
    elif isinstance(value, (str, int, float, bool)):
        yield key, _text(value)
    else:
        for item in value:
            yield key, _text(item)


def _collect(
    items: Iterable[tuple[str, HeaderValue]], pairs: list[tuple[str, str]], action_id: str | None
) -> str | None:
    """Check and append headers to ``pairs``; return the ActionID if one is among them."""
    for key, value in items:
        if value is None:
            continue
        expanded = ((key, value),) if type(value) is str else _expand(key, value)
        for k, v in expanded:
            check_header(k, v)
            if k == "ActionID" or k.lower() == "actionid":
                action_id = v
            else:
                pairs.append((k, v))
    return action_id


class Action:
    """An AMI action: its name and its headers, in order.

    Use a class from :mod:`amiasync.actions` (``Originate(...)``) for the
    documented parameters, or this class directly for anything else::

        Action("QueueAdd", Queue="support", Interface="PJSIP/101")

    The ``ActionID`` is chosen by the manager when the action is sent, unless
    one is given (as ``action_id=`` or an ``ActionID`` header).

    Args:
        name: The AMI action name (``Action:`` header). Typed subclasses set it
            as a class attribute and do not take it.
        fields: Headers as a mapping or ``(key, value)`` pairs, for keys that are
            not Python identifiers.
        action_id: An explicit ActionID.
        **headers: More headers; ``None`` values are left out, lists repeat the
            header, mappings become ``name=value`` headers.

    Raises:
        InvalidAction: A key or value contains CR, LF or NUL, or no name was given.
    """

    #: The AMI action name; set on typed subclasses.
    name: ClassVar[str] = ""
    __slots__ = ("action_id", "action_name", "headers")

    def __init__(
        self,
        name: str | None = None,
        fields: Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]] = (),
        /,
        *,
        action_id: str | None = None,
        **headers: HeaderValue,
    ) -> None:
        action_name = name or type(self).name
        if not action_name:
            raise InvalidAction("an action needs a name")
        check_header("Action", action_name)
        pairs: list[tuple[str, str]] = []
        if fields:
            items = fields.items() if isinstance(fields, Mapping) else fields
            action_id = _collect(items, pairs, action_id)
        if headers:
            action_id = _collect(headers.items(), pairs, action_id)
        if action_id is not None:
            check_header("ActionID", action_id)
        self.action_name = action_name
        self.headers: tuple[tuple[str, str], ...] = tuple(pairs)
        self.action_id = action_id

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return the first value of a header (case-insensitive), or ``default``."""
        lower = key.lower()
        for k, v in self.headers:
            if k.lower() == lower:
                return v
        return default

    def encode(self, action_id: str) -> bytes:
        """Serialise the action for the wire.

        Args:
            action_id: The ActionID to send (the manager's, or the action's own).

        Returns:
            The bytes of one AMI message, ending in a blank line.

        Raises:
            InvalidAction: The ActionID contains CR, LF or NUL, or is too
                long; or some text has no UTF-8 form (a lone surrogate).
        """
        check_header("ActionID", action_id)
        # Some Asterisk handlers format "ActionID: %s\r\n" into fixed idText
        # buffers of 150 or 256 bytes (main/manager.c); a longer one comes back
        # merged with the next header.
        if len(action_id) > 100:
            raise InvalidAction("ActionID longer than 100 characters")
        body = "".join([f"{k}: {v}\r\n" for k, v in self.headers]) if self.headers else ""
        text = f"Action: {self.action_name}\r\n{body}ActionID: {action_id}\r\n\r\n"
        try:
            return text.encode()
        except UnicodeEncodeError as exc:
            # A lone surrogate (from os.fsdecode or a broken JSON source) has
            # no UTF-8 form. Name the header, never the value.
            every = (("Action", self.action_name), *self.headers, ("ActionID", action_id))
            key = next((k for k, v in every if not _encodes(k) or not _encodes(v)), "?")
            raise InvalidAction(
                f"header {key!r} of {self.action_name!r} is not valid Unicode (lone surrogate)"
            ) from exc

    def check_response(self, response: Response) -> None:
        """Check this action's final answer; raise to fail the awaiting caller.

        Called once the answer is complete (with its event list, if any),
        before :meth:`Manager.send_action` returns it. The default accepts
        every answer; an action class that knows what its answer must look
        like overrides it (``core.Login`` raises
        :class:`~amiasync.exceptions.ManagerAuthError` on ``Response:
        Error``). Whatever it raises is what ``send_action`` raises.

        Args:
            response: The response, with ``events`` and ``complete`` filled in.
        """

    def redacted(self) -> list[tuple[str, str]]:
        """Return the headers with ``Secret`` and ``Key`` values masked."""
        return [(k, "********" if k.lower() in SECRET_HEADERS else v) for k, v in self.headers]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.redacted())
        return f"<Action {self.action_name} {fields}>".replace(" >", ">")


def _parse_line(line: str) -> tuple[str, str] | tuple[()]:
    """Return the header a line holds, or ``()`` for an empty line."""
    key, sep, value = line.partition(":")
    if sep:
        # Asterisk writes "Key: Value": only that one space is dropped,
        # since Command output keeps its indentation ("Output:   '100' =>").
        # Some values end in a bare "\n" before the CRLF ("No endpoints
        # found\n"), which is not part of the value.
        if value[:1] == " ":
            value = value[1:]
        return (key, value.rstrip("\n"))
    if line:
        # A line with no colon (Asterisk 13's raw command output, a
        # broken module) is kept under the empty key rather than dropped.
        return ("", line.rstrip("\n"))
    return ()


#: Lines longer than this are parsed every time, never remembered.
_LINE_CACHE_WIDTH = 200
#: How many parsed lines are remembered; the memory is cleared when full.
_LINE_CACHE_SIZE = 4096


class _LineCache(dict[str, tuple[str, str]]):
    """Parsed header lines, by line text.

    AMI traffic repeats most of its lines word for word (``Privilege:
    call,all``, ``ChannelStateDesc: Up``, ``Context: from-internal``, the same
    callers and extensions), and a header tuple is immutable, so a line seen
    before costs one dict lookup and shares its tuple. Bounded in entries and
    line width; a line is parsed the same whether remembered or not.
    """

    def __missing__(self, line: str) -> tuple[str, str] | tuple[()]:
        pair = _parse_line(line)
        if pair and len(line) <= _LINE_CACHE_WIDTH:
            if len(self) >= _LINE_CACHE_SIZE:
                self.clear()
            self[line] = pair
        return pair


_LINES = _LineCache()
_parsed_line = _LINES.__getitem__


def _parse(text: str) -> list[tuple[str, str]]:
    # Lines are split on CRLF only; empty lines (``()``) are dropped by filter.
    return list(filter(None, map(_parsed_line, text.split("\r\n"))))


#: How many lookups a message answers by scanning its text before it parses
#: every header and indexes them: a handler reading a few headers of an event
#: never pays for the rest, and one reading many pays for the parse once.
_SCANS = 6
#: Search strings for a header key: (``"\r\n" + key + ":"``, its length,
#: ``key + ":"``, the key's first character), the line start after the first
#: line and at the start of the text; then the same for the lowercase key.
#: Bounded: keys come from code, not from the wire.
_Needles = tuple[str, int, str, str, str, int, str]
_NEEDLES: dict[str, _Needles | None] = {}
_NEEDLES_MAX = 2048
#: Returned by a scan when the header is absent; values are always strings.
_ABSENT: Any = object()


def _needles(key: str) -> _Needles | None:
    """Return the search strings for ``key``, or None when only a parse can answer."""
    if not key or ":" in key or "\r\n" in key:
        # The empty key collects colon-less lines; a key holding a colon or a
        # line break never comes out of the parse: let the index answer.
        needles = None
    else:
        lower = key.lower()
        needles = (
            "\r\n" + key + ":",
            len(key) + 3,
            key + ":",
            key[0],
            "\r\n" + lower + ":",
            len(lower) + 3,
            lower + ":",
        )
    if len(_NEEDLES) < _NEEDLES_MAX:
        _NEEDLES[key] = needles
    return needles


def _scan(text: str, needles: _Needles, within: str) -> Any:
    """Return the value of the first line of ``text`` whose key is the needles' key.

    Lines are split on CRLF only, so every CRLF in the text starts a line, and
    the first ``"\r\n" + key + ":"`` is the first such line after the first
    one. The value is cut as :func:`_parse` cuts it. ``within`` is searched
    instead of ``text``: the same text, or its lowercase form when it is ASCII
    (``str.lower`` keeps the positions then); the lowercase needles are used
    for it. Returns :data:`_ABSENT` when no line has the key.
    :meth:`Message.get` inlines this for ``within is text``.
    """
    if within is text:
        inner, skip, line0 = needles[0], needles[1], needles[2]
    else:
        inner, skip, line0 = needles[4], needles[5], needles[6]
    if within.startswith(line0):
        start = skip - 2
    else:
        start = within.find(inner)
        if start < 0:
            return _ABSENT
        start += skip
    end = text.find("\r\n", start)
    if text.startswith(" ", start):
        start += 1
    value = text[start:end] if end >= 0 else text[start:]
    return value.rstrip("\n")


if TYPE_CHECKING:
    _MappingBase = Mapping[str, str]
else:
    # A message is a Mapping by registration, not inheritance: isinstance()
    # against a class that derives from an ABC goes through the ABC's
    # subclass hook (about 100 ns for a typed event class), against a plain
    # class it is a pointer walk. Mapping.register below keeps
    # isinstance(message, Mapping) true.
    _MappingBase = object


class Message(_MappingBase):
    """One message received from Asterisk: an ordered list of headers.

    Item access and :meth:`get` return the first value of a header, matching
    keys case-insensitively; :meth:`get_all` returns every value of a
    repeated header. Iteration, :meth:`keys` and :meth:`items` follow the
    order Asterisk sent the headers in (a repeated key once, at its first
    place). ``raw`` is the undecoded frame when the text was not valid UTF-8
    (see :mod:`amiasync.frames`).

    Attributes:
        raw: The frame's bytes, when they had to be decoded as Latin-1.
        server: A name for the Asterisk the message came from, set by whoever
            receives from several (``None`` otherwise); never sent anywhere.
    """

    __slots__ = ("_first", "_folded", "_pairs", "_scans", "_text", "raw", "server")

    def __init__(self, text: str = "", pairs: Iterable[tuple[str, str]] | None = None) -> None:
        # Event.__init__ repeats these assignments (one call less per event):
        # keep the two in step.
        self._text = text
        self._pairs: list[tuple[str, str]] | None = None if pairs is None else list(pairs)
        self._first: dict[str, str] | None = None
        self._folded: dict[str, str] | None = None
        # Lookups left to answer by scanning the text (none without a text).
        self._scans = _SCANS if text and pairs is None else 0
        self.raw: bytes | None = None
        self.server: str | None = None

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), /, **more: Any
    ) -> Message:
        """Build a message from headers (used by the fake server and tests).

        Args:
            headers: A mapping or ``(key, value)`` pairs; list values repeat the key.
            **more: More headers.

        Returns:
            A message of this class.
        """
        items = headers.items() if isinstance(headers, Mapping) else headers
        pairs = [p for k, v in (*items, *more.items()) for p in _expand(k, v)]
        return cls("", pairs)

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Every ``(key, value)`` header, in the order Asterisk sent them."""
        pairs = self._pairs
        if pairs is None:
            pairs = self._pairs = _parse(self._text)
            self._scans = 0
        return pairs

    def _index(self) -> dict[str, str]:
        first = self._first
        if first is None:
            # dict() keeps the last value for a key; feeding it the headers
            # reversed makes the first occurrence win, as in Asterisk.
            first = self._first = dict(reversed(self.headers))
            self._scans = 0
        return first

    def __getitem__(self, key: str) -> str:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, /, default: str) -> str: ...
    @overload
    def get(self, key: str, /, default: _T) -> str | _T: ...
    def get(self, key: str, /, default: Any = None) -> Any:
        """Return the first value of ``key`` (case-insensitive), or ``default``."""
        # The first value of the header whose key is exactly ``key`` wins;
        # only when there is none does a case-insensitive match count.
        # Scans are left only while the message has no index (see _index).
        scans = self._scans
        if scans:
            # Not indexed yet: look for the line in the text (see _scan,
            # inlined here: this is the hot path of every handler).
            self._scans = scans - 1
            try:
                needles = _NEEDLES[key]
            except KeyError:
                needles = _needles(key)
            if needles is not None:
                text = self._text
                # The text is never empty while scans are left (see __init__).
                if text[0] == needles[3] and text.startswith(needles[2]):
                    start = needles[1] - 2
                else:
                    start = text.find(needles[0])
                    if start < 0:
                        if text.isascii():
                            value = _scan(text, needles, text.lower())
                            return default if value is _ABSENT else value
                        return self._lookup(key, default)
                    start += needles[1]
                end = text.find("\r\n", start)
                if end < 0:
                    end = len(text)
                if start == end:
                    return ""
                if text[start] == " ":
                    start += 1
                if text[end - 1] == "\n":
                    return text[start:end].rstrip("\n")
                return text[start:end]
        return self._lookup(key, default)

    def _lookup(self, key: str, default: Any) -> Any:
        first = self._first
        if first is None:
            first = self._index()
        try:
            return first[key]
        except KeyError:
            pass
        folded = self._folded
        if folded is None:
            folded = self._folded = {k.lower(): v for k, v in reversed(self.headers)}
        return folded.get(key.lower(), default)

    def get_all(self, key: str) -> list[str]:
        """Return every value of ``key`` (case-insensitive), in order."""
        lower = key.lower()
        return [v for k, v in self.headers if k.lower() == lower]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        # Wire order: dict.fromkeys keeps each key at its first place.
        return iter(dict.fromkeys([k for k, _ in self.headers]))

    def __len__(self) -> int:
        return len(self._index())

    def keys(self) -> KeysView[str]:
        """The header keys, in wire order, each once."""
        return KeysView(self)

    def items(self) -> ItemsView[str, str]:
        """``(key, first value)`` for each key, in wire order."""
        return ItemsView(self)

    def values(self) -> ValuesView[str]:
        """The first value of each key, in wire order."""
        return ValuesView(self)

    def to_dict(self) -> dict[str, str | list[str]]:
        """Return the headers as a plain dict, in wire order.

        A key that occurs once maps to its value; a repeated key
        (``ChanVariable``, ``Output``, ``Variable``) maps to the list of its
        values, in order. Keys are compared case-insensitively, as in
        Asterisk, and keep the spelling of their first occurrence.

        Returns:
            A new dict, ready for ``json.dumps``.
        """
        result: dict[str, str | list[str]] = {}
        spelling: dict[str, str] = {}
        for key, value in self.headers:
            lower = key.lower()
            first = spelling.get(lower)
            if first is None:
                spelling[lower] = key
                result[key] = value
            else:
                held = result[first]
                if isinstance(held, list):
                    held.append(value)
                else:
                    result[first] = [held, value]
        return result

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return type(self) is type(other) and self.headers == other.headers
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def encode(self) -> bytes:
        """Serialise the message as Asterisk would send it."""
        lines = [f"{k}: {v}" if k else v for k, v in self.headers]
        lines.append("\r\n")
        return "\r\n".join(lines).encode("utf-8")

    @property
    def action_id(self) -> str | None:
        """The ``ActionID`` header, if any."""
        return self.get("ActionID")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}: {'********' if k.lower() in SECRET_HEADERS else v}" for k, v in self.headers
        )
        return f"<{type(self).__name__} {shown}>"


class Response(Message):
    """A response to an action (the message's first line is ``Response:``).

    Attributes:
        events: For an action answered with an event list, the list items in
            order; empty otherwise.
        complete: The event that ended the list (``...Complete``), if any.
        action_name: The name of the action this answers, once matched.
    """

    __slots__ = ("action_name", "complete", "events")

    def __init__(self, text: str = "", pairs: Iterable[tuple[str, str]] | None = None) -> None:
        super().__init__(text, pairs)
        self.events: list[Event] = []
        self.complete: Event | None = None
        self.action_name: str | None = None

    @property
    def success(self) -> bool:
        """True unless Asterisk answered ``Response: Error`` (or nothing)."""
        return self.get("Response", "").lower() in ("success", "goodbye", "follows", "pong")

    @property
    def message(self) -> str | None:
        """The ``Message`` header: Asterisk's explanation, if it gave one."""
        return self.get("Message")

    @property
    def result(self) -> Mapping[str, str]:
        """The headers as a mapping (the pystrix name for the response body)."""
        return self

    @property
    def output(self) -> list[str]:
        """For ``Command``: the CLI output lines, in order."""
        return self.get_all("Output")

    @property
    def is_event_list(self) -> bool:
        """True when the response announces an event list (``EventList: start``)."""
        if self._scans and "eventlist:" not in self._text.lower():
            # No line's key can be EventList in any case (str.lower maps a key
            # within the text as it maps the key alone): most responses.
            return False
        return self.get("EventList", "").lower() == "start"


class _EventName:
    """``Event.name``: ``""`` on the generic class, the event's own name on an instance.

    Typed subclasses replace it with their class attribute (``name =
    "Newchannel"``), which is then also every instance's name.
    """

    __slots__ = ()

    def __get__(self, obj: Event | None, owner: type) -> str:
        return "" if obj is None else obj.event_name


class Event(Message):
    """An event (the message's first line is ``Event:``).

    Typed subclasses in :mod:`amiasync.events` set ``name`` and add header
    accessors; an event Asterisk documents nowhere arrives as ``Event``, and
    its ``name`` is still the ``Event:`` header's value.
    """

    if TYPE_CHECKING:
        #: The AMI event name: a class attribute on typed subclasses; on an
        #: instance always the event's name.
        name: ClassVar[str]
    else:
        name = _EventName()
    #: The Asterisk module that raises the event, and the version it appeared in.
    module: ClassVar[str] = ""
    since: ClassVar[str] = ""

    __slots__ = ("event_name",)

    def __init__(
        self, text: str = "", pairs: Iterable[tuple[str, str]] | None = None, event_name: str = ""
    ) -> None:
        # Message.__init__, inlined: the decoder builds one of these per event
        # (new_event repeats these assignments too: keep the three in step).
        self._text = text
        self._pairs = None if pairs is None else list(pairs)
        self._first = None
        self._folded = None
        self._scans = _SCANS if text and pairs is None else 0
        self.raw = None
        self.server = None
        self.event_name = event_name or type(self).name or self.get("Event", "")

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), /, **more: Any
    ) -> Event:
        """Build an event from headers; ``Event`` comes first, from ``name`` if missing.

        Args:
            headers: A mapping or ``(key, value)`` pairs.
            **more: More headers.

        Returns:
            An event of this class.
        """
        msg = Message.from_headers(headers, **more)
        pairs = msg.headers
        if not pairs or pairs[0][0].lower() != "event":
            pairs = [("Event", cls.name), *pairs]
        return cls("", pairs)


_new = object.__new__


def new_event(cls: type[_E], text: str, name: str) -> _E:
    """Build an event of ``cls`` from a complete frame's text (the decoder's hot path).

    The same as ``cls(text, None, name)`` without the call through
    ``__init__``: one event per frame, so the saving counts.

    Args:
        cls: :class:`Event` or a typed subclass.
        text: The frame, decoded.
        name: The ``Event:`` header's value.

    Returns:
        The event.
    """
    event = _new(cls)
    event._text = text
    event._pairs = event._first = event._folded = event.raw = event.server = None
    event._scans = _SCANS
    event.event_name = name
    return event


def new_response(text: str) -> Response:
    """Build a response from a complete frame's text (the decoder's hot path).

    The same as ``Response(text)`` for a non-empty text, without the calls
    through two ``__init__`` (``tests/test_speedups.py`` compares every
    slot): one is built per answered action.

    Args:
        text: The frame, decoded (it starts with ``Response:``).

    Returns:
        The response.
    """
    response = _new(Response)
    response._text = text
    response._pairs = response._first = response._folded = response.raw = None
    response.server = response.complete = response.action_name = None
    response._scans = _SCANS
    response.events = []
    return response


def messages_from_texts(
    texts: Iterable[str], event_class: Callable[[str, type[Event]], type[Event]]
) -> list[Message]:
    """Build the events and plain responses ``texts`` start with (the decoder's hot loop).

    Stops at the first text that is neither an event nor a plain response
    (legacy ``Response: Follows`` output, a stray blank line, anything
    unknown), which the decoder then takes the general way. Responses are
    built by :func:`new_response`; each event as :func:`new_event` builds
    it, inlined: most of the traffic goes through here, and a call per event
    costs about 4 % of the dispatch rate.

    Args:
        texts: Complete frames, decoded.
        event_class: ``event_classes.get``: the class for an event name.

    Returns:
        One message per text, for as many texts as qualify.
    """
    new = _new
    built: list[Message] = []
    append = built.append
    for text in texts:
        if text.startswith("Event: "):
            end = text.find("\r\n")
            name = text[7:end] if end >= 0 else text[7:]
            # new_event(event_class(name, Event), text, name), inlined.
            event = new(event_class(name, Event))
            event._text = text
            event._pairs = event._first = event._folded = event.raw = event.server = None
            event._scans = _SCANS
            event.event_name = name
            append(event)
        elif text.startswith("Response: ") and not text.startswith("Response: Follows\r\n"):
            append(new_response(text))
        else:
            break
    return built


Mapping.register(Message)

# The compiled twins of Message.get and messages_from_texts
# (amiasync/_cmessage.pyx) when they were built and AMIASYNC_NO_EXTENSIONS is
# not set; the code above is the reference. The decoder that builds with the
# compiled messages_from_texts is protocol.FrameDecoder.
_cmessage = load("_cmessage")
if _cmessage is not None:
    Message.get = _cmessage.get  # type: ignore[method-assign]
