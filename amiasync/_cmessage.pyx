# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled twins of :meth:`amiasync.message.Message.get` and
:func:`amiasync.message.messages_from_texts`.

:mod:`amiasync.message` is the reference: ``get`` does what its ``get``
(with ``_needles`` and ``_scan``) does, step for step, with C string calls
instead of bytecode, and must return the same value for every message and key
(``tests/test_speedups.py`` checks it against the reference and against a
model of the headers). A message answers its first few lookups by finding the
line in its text and then builds its index: the index and the other methods
stay in Python; this module only scans.

``messages_from_texts`` is the decoder's hot loop (building the events and
plain responses a batch of decoded frames starts with); the decoder itself,
:class:`amiasync.frames.FrameDecoder`, is the same Python code for both
implementations and only takes this function instead of the reference's
(see :mod:`amiasync.protocol`). The differential tests feed both decoders the
same random byte streams.

It is chosen by :mod:`amiasync._extensions`; nothing imports it directly.
"""

# message.py loads this module as its last statement: the names below are
# defined by then.
from .message import _SCANS as _SCANS_DEFAULT
from .message import Event, Response

__all__ = ["get", "messages_from_texts"]

#: Search strings for a key, as in message.py: (the key preceded by CRLF and
#: followed by a colon, the key and colon, the same two for the lowercase key).
#: Keys come from code, not the wire: bounded like message._NEEDLES.
cdef dict _needles = {}
cdef Py_ssize_t _NEEDLES_MAX = 2048
cdef object _NO_SCAN = object()


cdef object _needles_for(str key):
    """Return the needles of ``key``, or _NO_SCAN when only the index can answer."""
    cdef object found = _needles.get(key)
    if found is not None:
        return found
    cdef str lower
    if not key or ":" in key or "\r\n" in key:
        # The empty key collects colon-less lines; a key holding a colon or a
        # line break never comes out of the parse: the index answers.
        found = _NO_SCAN
    else:
        lower = key.lower()
        found = ("\r\n" + key + ":", key + ":", "\r\n" + lower + ":", lower + ":")
    if len(_needles) < _NEEDLES_MAX:
        _needles[key] = found
    return found


cdef inline object _value(str text, Py_ssize_t start):
    """Cut the value that starts at ``start`` as message._parse_line cuts it."""
    cdef Py_ssize_t end = text.find("\r\n", start)
    if end < 0:
        end = len(text)
    if start == end:
        return ""
    if text[start] == " ":
        start += 1
    if text[end - 1] == "\n":
        return text[start:end].rstrip("\n")
    return text[start:end]


def get(self, key, default=None):
    """Return the first value of ``key`` (case-insensitive), or ``default``."""
    cdef Py_ssize_t scans = self._scans
    cdef str text, lower
    cdef tuple needles
    cdef Py_ssize_t start
    if scans and type(key) is str:
        self._scans = scans - 1
        found = _needles_for(key)
        if found is not _NO_SCAN:
            needles = <tuple>found
            text = self._text
            if text.startswith(<str>needles[1]):
                return _value(text, len(<str>needles[1]))
            start = text.find(<str>needles[0])
            if start >= 0:
                return _value(text, start + len(<str>needles[0]))
            if not text.isascii():
                return self._lookup(key, default)
            # str.lower keeps the positions of ASCII text: find the key in
            # any case there, cut the value from the text itself.
            lower = text.lower()
            if lower.startswith(<str>needles[3]):
                return _value(text, len(<str>needles[3]))
            start = lower.find(<str>needles[2])
            if start >= 0:
                return _value(text, start + len(<str>needles[2]))
            return default
    return self._lookup(key, default)


cdef object _new = object.__new__
cdef object _SCANS = _SCANS_DEFAULT
cdef str _FOLLOWS = "Response: Follows\r\n"


def messages_from_texts(texts, event_class):
    """Build the events and plain responses ``texts`` start with (the decoder's hot loop)."""
    cdef list built = []
    cdef str text, name
    cdef Py_ssize_t end
    for text in texts:
        if text.startswith("Event: "):
            end = text.find("\r\n", 7)
            name = text[7:end] if end >= 0 else text[7:]
            # As message.new_event builds it: keep the three in step.
            event = _new(event_class(name, Event))
            event._text = text
            event._pairs = None
            event._first = None
            event._folded = None
            event.raw = None
            event.server = None
            event._scans = _SCANS
            event.event_name = name
            built.append(event)
        elif text.startswith("Response: ") and not text.startswith(_FOLLOWS):
            # As message.new_response builds it: keep the two in step.
            response = _new(Response)
            response._text = text
            response._pairs = None
            response._first = None
            response._folded = None
            response.raw = None
            response.server = None
            response.complete = None
            response.action_name = None
            response._scans = _SCANS
            response.events = []
            built.append(response)
        else:
            break
    return built
