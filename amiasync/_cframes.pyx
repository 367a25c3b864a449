# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled twin of :class:`amiasync.frames.FrameDecoder`'s hot loop.

:mod:`amiasync.frames` is the reference. This decoder is a subclass of it
that replaces only ``_split``, the loop that turns a buffer of complete frames
into messages, for the frames that are most of the traffic: UTF-8 events and
plain responses. It builds them as the reference's fast path does
(``message.new_event``, ``Response(text)``), in C. The first frame that is
anything else (not UTF-8, legacy command output, a stray blank line, junk),
and every frame after it in the buffer, goes to the reference's ``_split``,
so the banner, the errors, the size cap and the Latin-1 fallback are the
reference's own code. ``tests/test_speedups.py`` feeds both the same random
byte streams cut at random and requires the same messages, errors and raw
bytes.

It is chosen by :mod:`amiasync._extensions`; nothing imports it directly.
"""

from . import frames as _frames
from . import message as _message

from .message import Event, Response

__all__ = ["FrameDecoder"]

cdef bytes _END = b"\r\n\r\n"
cdef str _FOLLOWS_TEXT = "Response: Follows\r\n"
cdef object _new = object.__new__
cdef object _reference_split = _frames.FrameDecoder._split
# How many lookups an event answers by scanning (message._SCANS).
cdef object _SCANS = _message._SCANS


cdef inline object _event(object cls, str text, str name):
    # message.new_event, in C: keep the two in step.
    event = _new(cls)
    event._text = text
    event._pairs = None
    event._first = None
    event._folded = None
    event.raw = None
    event.server = None
    event._scans = _SCANS
    event.event_name = name
    return event


class FrameDecoder(_frames.FrameDecoder):
    __doc__ = _frames.FrameDecoder.__doc__

    def _split(self, bytes buffer, list messages):
        """Append the complete frames of ``buffer`` to ``messages``; return the rest."""
        if not self._classify or len(buffer) > self.max_frame_size:
            # Server side, or a frame may be over the cap: the reference decides.
            return _reference_split(self, buffer, messages)
        cdef list frames = buffer.split(_END)
        cdef bytes tail = frames.pop()
        cdef Py_ssize_t count = len(frames)
        cdef Py_ssize_t index = 0
        cdef Py_ssize_t end
        cdef str text, name
        cdef bytes frame
        event_classes = self.event_classes
        cdef dict classes = event_classes if type(event_classes) is dict else None
        while index < count:
            frame = <bytes>frames[index]
            try:
                text = frame.decode("utf-8")
            except UnicodeDecodeError:
                break
            if text.startswith("Event: "):
                end = text.find("\r\n", 7)
                name = text[7:end] if end >= 0 else text[7:]
                if classes is not None:
                    cls = classes.get(name, Event)
                else:
                    cls = event_classes.get(name, Event)
                messages.append(_event(cls, text, name))
            elif text.startswith("Response: ") and not text.startswith(_FOLLOWS_TEXT):
                messages.append(Response(text))
            else:
                break
            index += 1
        if index == count:
            return tail
        # The rest goes the reference's way, from the first frame it must see.
        rest = []
        frames.append(tail)
        tail = _reference_split(self, _END.join(frames[index:]), rest)
        messages.extend(rest)
        return tail
