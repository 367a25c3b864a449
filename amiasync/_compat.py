"""Small shims over differences between the supported Python versions."""

from __future__ import annotations

import sys
from contextlib import AbstractAsyncContextManager
from typing import Callable

__all__ = ["timeout", "select_timeout"]


def select_timeout(
    version_info: tuple[int, ...] = (sys.version_info.major, sys.version_info.minor),
) -> Callable[[float | None], AbstractAsyncContextManager[object]]:
    """Return the timeout context manager factory for a Python version.

    ``asyncio.timeout`` exists from Python 3.11; older versions use the
    ``async-timeout`` package, which has the same interface.

    Args:
        version_info: The Python version to choose for (the running one by default).

    Returns:
        A callable that takes a delay in seconds (or None) and returns an async
        context manager raising ``TimeoutError`` when the delay passes.
    """
    if version_info >= (3, 11):
        import asyncio

        return asyncio.timeout  # type: ignore[attr-defined,no-any-return,unused-ignore]
    import async_timeout  # type: ignore[import-not-found,unused-ignore]

    return async_timeout.timeout  # type: ignore[no-any-return,unused-ignore]


#: ``async with timeout(seconds):`` on every supported Python.
timeout = select_timeout()
