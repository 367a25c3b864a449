"""The login helpers: the MD5 key and the ``Events`` header value.

Asterisk's MD5 login (``manager.c``, ``authenticate()``) compares the ``Key``
header with ``md5hex(challenge + secret)``; both the sans-IO session and the
typed ``Login`` action compute it here, so there is one copy of the rule.
"""

from __future__ import annotations

__all__ = ["md5_key", "events_header"]


def md5_key(challenge: str, secret: str) -> str:
    """Return the login key for a challenge: ``md5hex(challenge + secret)``, lowercase.

    Args:
        challenge: The ``Challenge`` value Asterisk sent.
        secret: The user's secret.

    Returns:
        32 lowercase hex digits.
    """
    # Imported here: hashlib loads OpenSSL's digests (about a millisecond),
    # and only a challenge login needs one.
    import hashlib

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
