"""Typed AMI events, one class per event Asterisk 22 documents.

Placeholder until the generated catalogue lands: the events the core needs.
"""

from __future__ import annotations

from .message import Event, header

__all__ = ["EVENT_CLASSES", "FullyBooted", "Shutdown", "OriginateResponse", "UserEvent"]


class FullyBooted(Event):
    """Asterisk has started all modules (also sent right after a login)."""

    name = "FullyBooted"
    status = header("Status")
    uptime = header("Uptime")
    lastreload = header("LastReload")


class Shutdown(Event):
    """Asterisk is stopping; the connection ends right after."""

    name = "Shutdown"
    shutdown = header("Shutdown")
    restart = header("Restart")


class OriginateResponse(Event):
    """The outcome of an asynchronous Originate."""

    name = "OriginateResponse"
    response = header("Response")
    channel = header("Channel")
    reason = header("Reason")
    uniqueid = header("Uniqueid")


class UserEvent(Event):
    """An event sent by a UserEvent action or dialplan application."""

    name = "UserEvent"
    userevent = header("UserEvent")


#: Event name to class, used by the decoder to build typed events.
EVENT_CLASSES: dict[str, type[Event]] = {
    cls.name: cls for cls in (FullyBooted, Shutdown, OriginateResponse, UserEvent)
}
