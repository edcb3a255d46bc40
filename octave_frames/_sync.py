"""Drive the async core from synchronous code, and turn Ctrl-C into a drain.

The coroutine always runs on a worker thread's own event loop through a blocking
portal: in a plain script and inside a running loop (a Jupyter kernel, sync code
called from a coroutine) alike, never ``nest_asyncio``. The calling thread only
waits, so a Ctrl-C (or, on the main thread, a SIGTERM) lands there, where it can be
answered calmly: the first one drains the run (see `_interrupt`), the second
abandons the calls in flight, a third stops at once.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import CancelledError, Future
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

import anyio.from_thread

from ._exceptions import Interrupted
from ._interrupt import abandon_active, drain_active

__all__ = ["run_sync"]

T = TypeVar("T")


class _Terminated(BaseException):
    """SIGTERM, raised on the main thread so it is handled like Ctrl-C."""


def _say(message: str) -> None:
    print(f"octave_frames: {message}", file=sys.stderr, flush=True)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """On the main thread, let SIGTERM interrupt the wait (unless someone handles it already)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run_sync(func: Callable[[], Awaitable[T]]) -> T:
    """Run ``func()`` to completion on a portal's loop and return its result.

    Raises:
        Interrupted: Ctrl-C or SIGTERM stopped the run after saving what had arrived;
            ``exc.frame`` holds the partial result when the run got that far.

    """
    with anyio.from_thread.start_blocking_portal() as portal, _sigterm_as_interrupt():
        future = portal.start_task_soon(func)
        return _wait(portal, future)


def _wait(portal: anyio.from_thread.BlockingPortal, future: Future[T]) -> T:
    # A press may land anywhere in this loop, even while an earlier one is answered: it is
    # counted, and the loop answers the latest press before waiting again.
    presses = answered = 0
    signal_name = "SIGINT"
    going_on = True
    while True:
        try:
            if presses > answered:
                answered = presses
                going_on = _answer(portal, future, presses)
            if not going_on:
                break
            result = future.result()
        except (KeyboardInterrupt, _Terminated) as exc:
            presses += 1
            if isinstance(exc, _Terminated):
                signal_name = "SIGTERM"
            continue
        except CancelledError:
            break
        if presses:
            raise Interrupted(result, signal_name=signal_name)
        return result
    raise Interrupted(None, signal_name=signal_name)


def _answer(portal: anyio.from_thread.BlockingPortal, future: Future[Any], presses: int) -> bool:
    """React to the ``presses``-th interrupt; return whether the run goes on to its end."""
    if presses == 1:
        in_flight = _on_loop(portal, drain_active)
        if in_flight is None:  # not sending yet (planning, preflight): nothing to save
            future.cancel()
            return False
        if in_flight:
            _say(
                f"interrupted: finishing {in_flight} call{'s' if in_flight != 1 else ''} "
                "already sent, so their answers are saved... press Ctrl-C again to abandon "
                "them (they may be billed again)"
            )
        return True
    abandoned = _on_loop(portal, abandon_active)
    if presses == 2:
        if abandoned:
            _say(f"abandoning {abandoned} call{'s' if abandoned != 1 else ''} in flight")
        return True
    future.cancel()
    return False


def _on_loop(portal: anyio.from_thread.BlockingPortal, func: Callable[[], T]) -> T | None:
    try:
        return portal.call(func)
    except RuntimeError:  # the portal's loop has already finished the run
        return None
