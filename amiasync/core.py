"""The core actions, under the names the pystrix seed uses.

``core.Login(username, secret, challenge=...)`` computes the MD5 key when a
challenge is given, so the seed's two-step login ports line for line::

    challenge = await manager.send_action(core.Challenge())
    await manager.send_action(core.Login(user, secret, challenge=challenge.result["Challenge"]))
"""

from __future__ import annotations

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
from .auth import events_header, md5_key
from .exceptions import ManagerAuthError
from .message import Action, HeaderValue, Response

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


class Login(actions.Login):
    """Log in: with an MD5 key when a challenge is given, else with the plaintext secret.

    Sent with :meth:`Manager.send_action`, a refused login raises
    :class:`ManagerAuthError` with Asterisk's message, as pystrix's Login
    does (see :meth:`check_response`).

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

    def check_response(self, response: Response) -> None:
        """Raise :class:`ManagerAuthError` when Asterisk refused the login.

        Raises:
            ManagerAuthError: ``Response: Error``; carries Asterisk's message
                (``Authentication failed``).
        """
        if not response.success:
            username = self.get("Username")
            raise ManagerAuthError(response, f"login refused for {username!r}: {response.message}")
