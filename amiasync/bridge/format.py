"""The stream format shared by the bridge, its workers and :class:`RemoteManager`.

Every key and field name lives here, so the writers and the readers cannot
drift apart. The README's "Redis Streams bridge" section documents the same
format for consumers written in other languages.

Events, one stream per PBX (``ami:events:<name>``), one entry per event:

``server``
    The PBX's name.
``event``
    The AMI event name, or ``__gap__``.
``headers``
    A JSON array of ``[key, value]`` pairs in wire order, repeated keys kept.
``received``
    Unix time (a float) the bridge read the event.

A ``__gap__`` entry says events may be missing between ``since`` and
``until`` (Unix floats); ``dropped`` counts events the bridge itself had to
drop (its buffer was full), ``reason`` says why (``link`` the AMI link was
down, ``overflow`` Redis was down or slow, ``restart`` the bridge was not
running, ``error`` Redis refused a batch). Its ``received`` equals ``until``.
An entry with ``headers`` is an event, whatever its name.

Actions (``ami:actions``): ``server``, ``id``, ``action`` (JSON pairs, the
``Action`` header first), ``reply_to`` and, optionally, ``expires`` (Unix
time after which the bridge refuses to send it). Replies, appended to
``reply_to``: ``id``, ``status`` (``ok``, ``error`` or ``unknown``) and either
``response`` (JSON pairs) with ``events`` (a JSON array of the event list's
items, each JSON pairs) and ``complete`` (the closing event, or ``null``), or
``reason`` and ``error`` when there is no response.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..events import EVENT_CLASSES
from ..message import Event

__all__ = [
    "EVENTS_PREFIX",
    "ACTIONS_STREAM",
    "GAP",
    "Gap",
    "events_stream",
    "encode_pairs",
    "decode_pairs",
    "check_pairs",
    "build_event",
    "event_from_fields",
    "text_fields",
    "as_text",
    "import_redis",
    "redis_errors",
    "client_from_url",
]

EVENTS_PREFIX = "ami:events:"
ACTIONS_STREAM = "ami:actions"
#: The ``event`` of an entry that marks a window where events may be missing.
GAP = "__gap__"


class Gap(Event):
    """A ``__gap__`` entry: events of ``server`` may be missing in a window.

    Its headers are the entry's ``since`` and ``until`` (Unix times; ``since``
    may be empty when unknown), ``dropped`` (events the bridge had to drop)
    and ``reason`` (``link``, ``restart``, ``overflow`` or ``error``, several
    joined by commas). A PBX may send an event it names ``__gap__`` too (AMI
    event names are whatever it sends); that one comes back as a plain
    :class:`Event`, so ``isinstance(event, Gap)`` is the test, not the name.
    """

    __slots__ = ()


#: Compact JSON; non-ASCII text kept as is (Redis strings are bytes, UTF-8 here).
_json_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

_orjson_dumps: Callable[[Any], bytes] | None
try:
    # orjson (in the ``redis`` extra) writes the same compact UTF-8 JSON as
    # the standard library several times faster; the bridge encodes the
    # headers of every event, once the largest part of its cost per event.
    from orjson import dumps as _orjson_dumps
except ImportError:  # pragma: no cover - depends on the environment
    _orjson_dumps = None


def encode_pairs(pairs: Sequence[tuple[str, str]]) -> bytes:
    """Return ``[key, value]`` pairs as a compact JSON array, UTF-8 encoded.

    The same bytes with orjson or with the standard library's encoder.
    """
    if _orjson_dumps is None:
        return _json_encode(pairs).encode()
    # orjson's bytes keep the capacity it grew them to (about 4 KiB held
    # for a 900-byte event, measured with orjson 3.13): a tight copy keeps
    # a full buffer of 100,000 entries at its real size, and costs less
    # than the allocator's work on the large blocks it replaces.
    return memoryview(_orjson_dumps(pairs)).tobytes()


def events_stream(server: str) -> str:
    """Return the event stream's key for a PBX name."""
    return EVENTS_PREFIX + server


def decode_pairs(text: str | bytes) -> list[tuple[str, str]]:
    """Return the ``[key, value]`` pairs of a JSON header array.

    Raises:
        ValueError: The text is not a JSON array of two-string arrays.
    """
    return check_pairs(json.loads(text))


def check_pairs(items: Any) -> list[tuple[str, str]]:
    """Return decoded JSON ``[[key, value], ...]`` as pairs.

    Raises:
        ValueError: ``items`` is not a list of two-string lists.
    """
    if not isinstance(items, list):
        raise ValueError("headers are not a JSON array")
    pairs = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 2):
            raise ValueError(f"not a [key, value] pair: {item!r}")
        key, value = item
        if not (isinstance(key, str) and isinstance(value, str)):
            raise ValueError(f"not a [key, value] pair: {item!r}")
        pairs.append((key, value))
    return pairs


def build_event(pairs: list[tuple[str, str]], name: str | None = None) -> Event:
    """Return an event of its typed class (:data:`~amiasync.events.EVENT_CLASSES`) when known."""
    if name is None:
        name = next((v for k, v in pairs if k.lower() == "event"), "")
    cls: type[Event] = EVENT_CLASSES.get(name) or Event
    return cls("", pairs, event_name=name)


def as_text(value: Any) -> str:
    """Return a value redis-py gave (bytes, or text with ``decode_responses``) as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def text_fields(fields: Mapping[Any, Any]) -> dict[str, str]:
    """Return a stream entry's fields as text."""
    return {as_text(k): as_text(v) for k, v in fields.items()}


def event_from_fields(fields: Mapping[str, str]) -> Event:
    """Build an :class:`Event` (of its typed class when known) from an entry's fields.

    A ``__gap__`` entry becomes a :class:`Gap` (an ``Event`` named ``__gap__``
    whose headers are its ``since``, ``until``, ``dropped`` and ``reason``).

    Raises:
        ValueError: The entry is not in the bridge's format.
    """
    name = fields.get("event", "")
    event: Event
    # A gap entry has no headers: an entry with headers is an event, even
    # one a PBX named like a gap (AMI event names are whatever it sends).
    if name == GAP and "headers" not in fields:
        pairs = [
            ("Event", GAP),
            *((k, fields[k]) for k in ("since", "until", "dropped", "reason") if k in fields),
        ]
        event = Gap("", pairs, event_name=GAP)
    else:
        if not name or "headers" not in fields:
            raise ValueError("not an event entry (no event or headers field)")
        event = build_event(decode_pairs(fields["headers"]), name)
    event.server = fields.get("server")
    return event


def import_redis() -> Any:
    """Import ``redis.asyncio``, or say how to install it.

    Raises:
        ImportError: redis-py is not installed.
    """
    try:
        import redis.asyncio as redis_asyncio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the Redis bridge needs redis-py: pip install 'amiasync[redis]'") from exc
    return redis_asyncio


def redis_errors() -> tuple[type[BaseException], ...]:
    """Return the exceptions a Redis call raises when Redis is down, slow or refusing.

    redis-py's ``RedisError`` (its ``ConnectionError`` and ``TimeoutError``
    included) and ``OSError`` (a refused or reset socket).
    """
    import_redis()
    import redis.exceptions

    return (redis.exceptions.RedisError, OSError)


def client_from_url(url: str) -> Any:
    """Return a ``redis.asyncio.Redis`` for a URL, with socket timeouts.

    Every blocking read the bridge makes (XREAD, XREADGROUP) blocks for at
    most a second or two, so a 10 s socket timeout only ends a dead link.
    """
    return import_redis().from_url(url, socket_timeout=10.0, socket_connect_timeout=5.0)
