"""Every error amiasync raises, under one root.

The tree::

    AMIError (also exported as ManagerError, the name pystrix users know)
    ├── ProtocolError           the server sent something that is not AMI
    │   └── FrameTooLarge       one message exceeded the decoder's size cap
    ├── InvalidAction           an outgoing action was refused before any byte
    │                           was written (CR/LF/NUL, bad ActionID, missing
    │                           parameter); also a ValueError
    ├── ManagerSocketError      could not connect, or the connection was lost
    │                           or closed; also a ConnectionError
    ├── ActionTimeout           no (complete) answer in time; also a TimeoutError
    └── ActionFailed            Asterisk answered ``Response: Error``; carries
        │                       the response
        └── ManagerAuthError    Asterisk refused the login

Errors raised because of another error are chained with ``raise ... from``.
Messages never contain the value of a ``Secret`` or ``Key`` header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .message import Response

__all__ = [
    "AMIError",
    "ManagerError",
    "ProtocolError",
    "FrameTooLarge",
    "InvalidAction",
    "ManagerSocketError",
    "ActionTimeout",
    "ActionFailed",
    "ManagerAuthError",
]


class AMIError(Exception):
    """The root of every exception amiasync raises."""


#: The pystrix name of the root, kept so ported code reads the same.
ManagerError = AMIError


class ProtocolError(AMIError):
    """The server sent bytes that do not form a valid AMI message.

    The decoder reports the problem and goes on with the next message; it is
    raised only where nothing else can be done (for example, no banner).
    """


class FrameTooLarge(ProtocolError):
    """One message grew beyond the decoder's ``max_frame_size``; it was skipped."""


class InvalidAction(AMIError, ValueError):
    """An outgoing action cannot be sent as it is; nothing was written."""


class ManagerSocketError(AMIError, ConnectionError):
    """The connection could not be made, was lost, or was closed."""


class ActionTimeout(AMIError, TimeoutError):
    """An action got no complete answer within its timeout."""


class ActionFailed(AMIError):
    """Asterisk answered an action with an error.

    Attributes:
        response: The :class:`~amiasync.message.Response` Asterisk sent.
    """

    def __init__(self, response: Response, message: str | None = None) -> None:
        self.response = response
        text = response.message or response.get("Response", "Error")
        super().__init__(message or f"{response.action_name or 'action'} failed: {text}")


class ManagerAuthError(ActionFailed):
    """Asterisk refused the login (wrong user or secret, or not permitted)."""
