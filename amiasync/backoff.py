"""Reconnect delays as a sans-IO generator (python-websockets' ``backoff``).

The reconnect loop asks the generator for the next delay and keeps the same
generator while links die young, so the delay keeps growing; it takes a
fresh one only after a link proved healthy (stayed up and logged in).
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["backoff"]


def backoff(
    initial: float = 0.1, maximum: float = 1.0, *, factor: float = 2.0, jitter: float = 0.2
) -> Iterator[float]:
    """Yield capped exponential delays, each shortened by up to ``jitter`` at random.

    The jitter keeps many clients from reconnecting in step after Asterisk restarts.

    Args:
        initial: The first delay, in seconds.
        maximum: The cap.
        factor: How much each delay grows over the one before.
        jitter: The largest fraction taken off a delay at random.

    Yields:
        Delays in seconds, for ever.
    """
    # Imported here, on the first reconnect: a client whose link never drops
    # does not pay for the random module at import time.
    import random

    delay = initial
    while True:
        yield delay * random.uniform(1.0 - jitter, 1.0)
        delay = min(delay * factor, maximum)
