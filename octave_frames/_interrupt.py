"""Ctrl-C and SIGTERM without paying twice: drain on the first, abandon on the second.

An Octave call is billed once it reaches Octave, whether or not its answer is read.
Cancelling the calls in flight at Ctrl-C would throw paid answers away and re-send
them on resume (up to ``concurrency`` paid runs per Ctrl-C). So the first interrupt
*drains*: nothing new starts, calls waiting for a rate token or a backoff end
``not_sent``, and the calls in flight finish within their timeout and are saved. A
second interrupt *abandons* them (they may be billed again on resume).

Engines register here while they run, per thread: the sync front
(:func:`octave_frames._sync.run_sync`) reaches them through its portal, on the loop
they run on. In async code a cancellation is a drain too: each call in flight is
shielded until it ends (see `Engine`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["Drainable", "abandon_active", "drain_active", "running"]


class Drainable(Protocol):
    """What an engine offers to an interrupt."""

    def drain(self) -> int:
        """Start nothing new; return the calls still in flight."""
        ...

    def abandon(self) -> int:
        """Cancel the calls in flight; return how many."""
        ...


_LOCK = threading.Lock()
_ACTIVE: dict[int, list[Drainable]] = {}


@contextmanager
def running(engine: Drainable) -> Iterator[None]:
    """Register ``engine`` as running on this thread for as long as the block runs."""
    me = threading.get_ident()
    with _LOCK:
        _ACTIVE.setdefault(me, []).append(engine)
    try:
        yield
    finally:
        with _LOCK:
            engines = _ACTIVE.get(me, [])
            if engine in engines:
                engines.remove(engine)
            if not engines:
                _ACTIVE.pop(me, None)


def _here() -> list[Drainable]:
    with _LOCK:
        return list(_ACTIVE.get(threading.get_ident(), []))


def drain_active() -> int | None:
    """Drain every engine running on this thread; return the calls in flight (None: no engine)."""
    engines = _here()
    return sum(engine.drain() for engine in engines) if engines else None


def abandon_active() -> int:
    """Abandon the calls in flight of every engine running on this thread; return how many."""
    return sum(engine.abandon() for engine in _here())
