"""The errors of amiasync's AGI layer, under the library's one root.

The tree (``AMIError`` is :class:`amiasync.exceptions.AMIError`)::

    AMIError
    └── AGIError                  anything that went wrong on an AGI call
        ├── AGIHangup             the channel hung up: Asterisk wrote ``HANGUP``,
        │                         answered ``511`` (dead channel) or ended the
        │                         AsyncAGI session; every later command raises it too
        ├── AGICommandFailed      Asterisk answered ``510`` (unknown command) or
        │                         ``520`` (usage); carries the ``AGIResult``.
        │                         The call stays usable
        ├── InvalidAGICommand     a command was refused before anything was
        │                         written (CR, LF or NUL, too long); also a ValueError
        ├── AGITimeout            no answer within the command timeout; also a
        │                         TimeoutError. A FastAGI call is then closed (a
        │                         late answer would be taken for the next
        │                         command's); AsyncAGI matches by CommandID
        └── AGIConnectionLost     Asterisk closed the FastAGI socket (or the AMI
                                  link of an AsyncAGI call dropped); also a
                                  ConnectionError

Errors raised because of another error are chained with ``raise ... from``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import AMIError

if TYPE_CHECKING:
    from .codec import AGIResult

__all__ = [
    "AGIError",
    "AGIHangup",
    "AGICommandFailed",
    "InvalidAGICommand",
    "AGITimeout",
    "AGIConnectionLost",
]


class AGIError(AMIError):
    """The root of the AGI errors (itself an :class:`~amiasync.exceptions.AMIError`)."""


class AGIHangup(AGIError):
    """The channel hung up; the pending command and every later one raise this.

    Attributes:
        command: The command that was pending or refused, if any.
    """

    def __init__(self, message: str = "the channel hung up", command: str | None = None) -> None:
        super().__init__(message)
        self.command = command


class AGICommandFailed(AGIError):
    """Asterisk refused a command: ``510`` (unknown) or ``520`` (wrong usage).

    Attributes:
        command: The command line that was sent.
        result: The :class:`~amiasync.agi.AGIResult` Asterisk answered; for a
            ``520`` its ``data`` holds the usage text.
    """

    def __init__(self, command: str, result: AGIResult) -> None:
        first = result.text.split("\n", 1)[0]
        super().__init__(f"{command[:80]!r}: Asterisk answered {first!r}")
        self.command = command
        self.result = result


class InvalidAGICommand(AGIError, ValueError):
    """A command cannot be sent as it is; nothing was written."""


class AGITimeout(AGIError, TimeoutError):
    """A command got no answer within its timeout (a FastAGI call is then closed)."""


class AGIConnectionLost(AGIError, ConnectionError):
    """The link to Asterisk for this call closed before the answer."""
