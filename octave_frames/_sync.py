"""Drive the async core from synchronous code, with or without a running event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import anyio.from_thread

__all__ = ["run_sync"]

T = TypeVar("T")


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_sync(func: Callable[[], Awaitable[T]]) -> T:
    """Run ``func()`` to completion and return its result.

    In a plain script this is ``anyio.run``. Inside a running loop (a Jupyter kernel,
    or sync code called from a coroutine) ``anyio.run`` would raise, so the
    coroutine runs on a worker thread's own loop through a blocking portal; never
    ``nest_asyncio``, which patches the kernel's loop for everyone.
    """
    if not _loop_running():
        return anyio.run(func)
    with anyio.from_thread.start_blocking_portal() as portal:
        return portal.call(func)
