"""Every error amiasync raises, under one root.

The tree::

    AMIError (also exported as ManagerError, the name pystrix users know)
    ├── ProtocolError           the server sent something that is not AMI
    │   └── FrameTooLarge       one message exceeded the decoder's size cap
    ├── InvalidAction           an outgoing action was refused before any byte
    │                           was written (CR/LF/NUL, lone surrogate, bad
    │                           ActionID, missing parameter); also a ValueError
    ├── InvalidState            the call does not fit the manager's state (not
    │                           connected, already connected, closed); also a
    │                           RuntimeError
    ├── ManagerSocketError      could not connect, or the connection ended;
    │   │                       also a ConnectionError
    │   ├── ConnectionClosed    we closed it (close(), or a failed login)
    │   ├── ConnectionLost      the peer or the network ended it
    │   └── ActionOutcomeUnknown  (amiasync.bridge) the Redis bridge sent the
    │                           action but cannot know what it did (the AMI
    │                           link dropped, no answer, or the bridge died
    │                           mid-action); it is never sent again
    ├── ActionTimeout           no (complete) answer in time; also a TimeoutError;
    │                           carries the ActionID and what had arrived
    ├── ActionFailed            Asterisk answered ``Response: Error``; carries
    │   │                       the response
    │   └── ManagerAuthError    Asterisk refused the login
    └── AGIError                (amiasync.agi) an AGI call went wrong; its own
                                tree is drawn in :mod:`amiasync.agi.errors`

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
    "InvalidState",
    "ManagerSocketError",
    "ConnectionClosed",
    "ConnectionLost",
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
    """One message grew beyond the decoder's ``max_frame_size``; it was skipped.

    Attributes:
        size: How many bytes of it had arrived when it was refused.
        limit: The decoder's ``max_frame_size``.
    """

    def __init__(self, message: str, *, size: int = 0, limit: int = 0) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class InvalidAction(AMIError, ValueError):
    """An outgoing action cannot be sent as it is; nothing was written."""


class InvalidState(AMIError, RuntimeError):
    """The call does not fit the manager's state: not connected, already connected, closed.

    A mistake in the calling code, not a network problem; nothing was sent.
    """


class ManagerSocketError(AMIError, ConnectionError):
    """The connection could not be made, was lost, or was closed."""


class ConnectionClosed(ManagerSocketError):
    """This side closed the connection (``close()``, a refused login) while work was pending."""


class ConnectionLost(ManagerSocketError):
    """The peer or the network ended the connection (EOF, reset, keepalive gave up)."""


class ActionTimeout(AMIError, TimeoutError):
    """An action got no complete answer within its timeout.

    Attributes:
        action_id: The ActionID of the action (None for waits that are not one action).
        partial: What had arrived before the timeout: the response with the
            list items so far (``partial.events``), or None when nothing had.
    """

    def __init__(
        self, message: str, *, action_id: str | None = None, partial: Response | None = None
    ) -> None:
        super().__init__(message)
        self.action_id = action_id
        self.partial = partial


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
