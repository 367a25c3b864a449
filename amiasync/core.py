"""The core actions, under the names the pystrix seed uses.

``core.Login(username, secret, challenge=...)`` computes the MD5 key when a
challenge is given, so the seed's two-step login ports line for line::

    challenge = await manager.send_action(core.Challenge())
    await manager.send_action(core.Login(user, secret, challenge=challenge.result["Challenge"]))
"""

from __future__ import annotations

import hashlib

from . import actions
from .actions import (
    Challenge,
    Command,
    CoreShowChannels,
    Events,
    Filter,
    Logoff,
    Originate,
    Ping,
    Status,
    UserEvent,
)
from .message import Action, HeaderValue

__all__ = [
    "Action",
    "Challenge",
    "Login",
    "Logoff",
    "Ping",
    "Command",
    "Events",
    "Filter",
    "Originate",
    "CoreShowChannels",
    "Status",
    "UserEvent",
    "md5_key",
    "events_header",
]


def md5_key(challenge: str, secret: str) -> str:
    """Return the login key for a challenge: ``md5hex(challenge + secret)``, lowercase.

    Args:
        challenge: The ``Challenge`` value Asterisk sent.
        secret: The user's secret.

    Returns:
        32 lowercase hex digits.
    """
    return hashlib.md5((challenge + secret).encode("utf-8")).hexdigest()  # noqa: S324 - AMI's own scheme


def events_header(events: bool | str | list[str] | None) -> str | None:
    """Turn an events choice into the ``Events`` header value.

    Args:
        events: True (``on``), False (``off``), a class list (``["call", "system"]``),
            a ready string, or None (leave the header out: all the user's classes).

    Returns:
        The header value, or None.
    """
    if events is None or isinstance(events, str):
        return events
    if isinstance(events, bool):
        return "on" if events else "off"
    return ",".join(events)


class Login(actions.Login):
    """Log in: with an MD5 key when a challenge is given, else with the plaintext secret.

    Args:
        username: The manager.conf user.
        secret: The user's secret; never logged or shown.
        challenge: The value from a ``Challenge`` response, for MD5 login.
        events: See :func:`events_header`.
        action_id: An explicit ActionID.
        **headers: Any further headers.
    """

    def __init__(
        self,
        username: str,
        secret: str,
        challenge: str | None = None,
        *,
        events: bool | str | list[str] | None = None,
        action_id: str | None = None,
        **headers: HeaderValue,
    ) -> None:
        if challenge is not None:
            super().__init__(
                username,
                authtype="MD5",
                key=md5_key(challenge, secret),
                events=events_header(events),
                action_id=action_id,
                **headers,
            )
        else:
            super().__init__(
                username, secret, events=events_header(events), action_id=action_id, **headers
            )
