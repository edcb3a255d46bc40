"""Clocks: the real one, and a virtual one so tests of long waits finish at once.

Everything that waits (the rate limiter, the retry loop) asks a :class:`Clock` for the
time and for sleeping, never ``time`` or ``anyio`` directly, so a test can hand it a
:class:`FakeClock` and run a thousand calls under a 1/s rate in milliseconds::

    clock = FakeClock()
    async with clock.autojump():
        await clock.sleep(3600)  # returns at once
    assert clock.now() == 3600
"""

from __future__ import annotations

import heapq
import math
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

import anyio
import anyio.lowlevel

from ._exceptions import ArgumentError

if TYPE_CHECKING:
    # Only FakeClock needs asyncio, and importing it costs ~20 ms that
    # `import octave_frames` should not pay; wait_idle imports it when it runs.
    import asyncio

__all__ = ["SYSTEM_CLOCK", "Clock", "FakeClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A monotonic time source that can also sleep."""

    def now(self) -> float:
        """Return monotonic seconds (only differences between two values mean anything)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """Real time: :func:`time.monotonic` and :func:`anyio.sleep`.

    Stateless, so one instance serves every thread and every event loop.
    """

    def now(self) -> float:
        """Return :func:`time.monotonic`."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` on the running event loop (any anyio backend)."""
        await anyio.sleep(max(seconds, 0.0))

    def __repr__(self) -> str:
        return "SYSTEM_CLOCK"


#: The clock used unless one is injected.
SYSTEM_CLOCK: Final = SystemClock()


@dataclass(order=True)
class _Sleeper:
    deadline: float
    seq: int
    event: anyio.Event = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class FakeClock:
    """Virtual time for tests: nothing moves until the test moves it.

    ``sleep`` suspends until virtual time reaches the deadline. Time moves with
    :meth:`advance`, or by itself inside :meth:`autojump`: whenever every other task is
    blocked, the clock jumps straight to the earliest deadline.

    A FakeClock belongs to one event loop at a time (it is not thread-safe).

    Args:
        start: The initial virtual time.

    Example:
        >>> async def main() -> float:
        ...     clock = FakeClock()
        ...     async with clock.autojump():
        ...         await clock.sleep(60)
        ...     return clock.now()
        >>> anyio.run(main)
        60.0

    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._sleepers: list[_Sleeper] = []
        self._seq = 0
        self._arrival: anyio.Event | None = None

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r}, sleepers={len(self._live())})"

    def now(self) -> float:
        """Return the virtual time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Suspend until virtual time has moved ``seconds`` forward.

        A zero, negative or NaN duration is only a checkpoint.
        """
        if not seconds > 0:
            await anyio.lowlevel.checkpoint()
            return
        # A duration too small to move a large float must still move it, or a caller
        # re-sleeping the rounding error would spin at one instant forever.
        deadline = max(self._now + seconds, math.nextafter(self._now, math.inf))
        sleeper = _Sleeper(deadline, self._seq, anyio.Event())
        self._seq += 1
        heapq.heappush(self._sleepers, sleeper)
        if self._arrival is not None:
            self._arrival.set()
        try:
            await sleeper.event.wait()
        except BaseException:
            # Lazy deletion: advance() skips it, and the heap stays valid.
            sleeper.cancelled = True
            raise

    @property
    def next_deadline(self) -> float | None:
        """The earliest deadline of a task asleep on this clock, or ``None``."""
        while self._sleepers and self._sleepers[0].cancelled:
            heapq.heappop(self._sleepers)
        return self._sleepers[0].deadline if self._sleepers else None

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper now due, earliest deadline first.

        Raises:
            ArgumentError: ``seconds`` is negative or not finite.

        """
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ArgumentError(f"FakeClock.advance({seconds!r}): need a finite number >= 0")
        self._advance_to(self._now + seconds)

    def _advance_to(self, when: float) -> None:
        self._now = max(self._now, when)
        while self._sleepers and self._sleepers[0].deadline <= self._now:
            sleeper = heapq.heappop(self._sleepers)
            if not sleeper.cancelled:
                sleeper.event.set()

    def _live(self) -> list[_Sleeper]:
        return [s for s in self._sleepers if not s.cancelled]

    async def wait_idle(self) -> None:
        """Return once every other task of this event loop is blocked.

        On asyncio this polls with zero-length yields instead of
        :func:`anyio.wait_all_tasks_blocked`, which sleeps 0.1 real seconds whenever
        some task is still runnable and would make long fake runs slow.
        """
        import asyncio

        try:
            this = asyncio.current_task()
        except RuntimeError:  # not on asyncio (trio): anyio's version is exact there
            this = None
        if this is None:
            await anyio.wait_all_tasks_blocked()
            return
        # Two tasks polling here would each see the other as runnable forever.
        _IDLE_WAITERS.add(this)
        try:
            while True:
                await asyncio.sleep(0)
                if all(t in _IDLE_WAITERS or _is_blocked(t) for t in asyncio.all_tasks()):
                    return
        finally:
            _IDLE_WAITERS.discard(this)

    async def _jump_forever(self) -> None:
        while True:
            await self.wait_idle()
            deadline = self.next_deadline
            if deadline is None or math.isinf(deadline):
                # Nobody is due ever: park until some task goes to sleep on this clock.
                self._arrival = anyio.Event()
                await self._arrival.wait()
                self._arrival = None
                continue
            # Straight to the deadline: now + (deadline - now) may round short of it.
            self._advance_to(deadline)

    @asynccontextmanager
    async def autojump(self) -> AsyncIterator[FakeClock]:
        """Jump to the next deadline whenever all other tasks are blocked, inside the block.

        Tasks blocked on something other than this clock (a socket, a thread) count as
        blocked too: use it for code whose only waits are on this clock or on each other.
        An exception from the block comes out as itself, not wrapped in an
        ``ExceptionGroup``, so ``pytest.raises`` around the block works.

        Example:
            >>> async def main() -> float:
            ...     clock = FakeClock()
            ...     async with clock.autojump(), anyio.create_task_group() as tg:
            ...         for _ in range(1000):
            ...             tg.start_soon(clock.sleep, 5.0)
            ...     return clock.now()
            >>> anyio.run(main)
            5.0

        """
        error: Exception | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._jump_forever)
            try:
                yield self
            except Exception as exc:
                # Raised past the task group it would arrive wrapped in an ExceptionGroup.
                # Cancellation (a BaseException) must go through the group untouched.
                error = exc
            finally:
                tg.cancel_scope.cancel()
        if error is not None:
            raise error


_IDLE_WAITERS: weakref.WeakSet[asyncio.Task[object]] = weakref.WeakSet()


def _is_blocked(task: asyncio.Task[object]) -> bool:
    # asyncio exposes what a task awaits only through this private attribute (anyio
    # relies on it too); a task whose future is already done is about to run.
    waiter = getattr(task, "_fut_waiter", None)
    return waiter is not None and not waiter.done()
