"""A requests-per-second cap shared by every call to one endpoint with one key.

:class:`RateLimiter` is GCRA in its "virtual scheduling" form: each :meth:`acquire`
reserves the next free slot on a timeline spaced ``1/rate`` apart and sleeps until
it. Requests therefore leave evenly spaced from the start (a token bucket that
starts full would send ``rate`` requests at once: an instant wall of 429s against a
server with a small burst allowance), and callers are served in the order they came.

A waiter sleeps exactly until its own slot and is granted when it wakes: one timer
per grant. Only something that moves slots (a 429's pause, a much slower or faster
rate, a stalled loop) wakes a waiter a second time, and then it sleeps until its new
slot, which is its own: waiters never share a wake-up time, so they never wake as a
herd to find the grant taken. After a stall the waiters it made late catch up at up
to twice the pace, half an interval apart (never a burst), by two intervals at most.

``rate="auto"`` (:class:`AutoRate`) learns a limit the client is not told. It starts
at 2/s and doubles its pace every half second that the pace holds the run back, until
the first 429; from then on every 429 takes 5% off the pace, and every grant the pace
held back adds a little to it, more the longer no call was refused. So the pace settles
where the server starts refusing (a 429 for about every 200 calls), and climbs to a
raised limit within seconds. A refused call waits its own ``Retry-After``; everyone
pauses only when 429s come three in a row with no answer between them (a server that
refuses everything until its window resets).

The state is a handful of floats behind a :class:`threading.Lock`, held only for
arithmetic and never across an ``await``; sleeping happens on each caller's own
event loop through the injected :class:`~octave_frames._clock.Clock`. So one limiter
can pace tasks on several event loops in several threads at once (two Jupyter cells,
a blocking portal and a script), where anyio's primitives would be bound to one loop.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import os
import re
import threading
import weakref
from typing import Final

import anyio.lowlevel

from ._clock import SYSTEM_CLOCK, Clock
from ._exceptions import ArgumentError

__all__ = ["AUTO_RATE", "AutoRate", "RateLimiter", "parse_rate", "shared_limiter"]

_UNITS: Final = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86400.0),
}
_NUMBER: Final = r"(?:\d+(?:\.\d*)?|\.\d+)"
_RATE_RE: Final = re.compile(
    rf"\s*(?P<count>{_NUMBER})\s*(?:/|\bper\b)\s*(?P<every>{_NUMBER})?\s*(?P<unit>[a-z]+)\s*",
    re.IGNORECASE,
)
_RATE_FORMS: Final = (
    "a positive number of requests per second, a string like "
    "'60/min', '1/s', '2/sec', '3600/hour', '10/minute', '100/m', or 'auto'"
)

# After a 429 the pace halves, down to one call a minute at the slowest; every answer then
# raises it by 5% until it is back at the ceiling.
_SLOWEST_RATE: Final = 1 / 60
_RECOVERY: Final = 1.05

# rate="auto": the first pace; how fast it doubles before the first 429 (seconds of
# sending held back by the pace); the share of the pace one 429 takes off; after that,
# the growth per grant held back by the pace, (1 + (n/_AUTO_HASTEN)**2) times that
# after n such grants without a 429; the 429s in a row, with no answer between them,
# that pause everyone. 429s are then about _AUTO_GROWTH / _AUTO_STEP of the calls.
_AUTO_START: Final = 2.0
_AUTO_DOUBLING: Final = 0.5
_AUTO_STEP: Final = 0.05
_AUTO_GROWTH: Final = 0.0003
_AUTO_HASTEN: Final = 75
_AUTO_STREAK: Final = 3
_AUTO_FASTEST: Final = 10_000.0
# Intervals of lag that grants may make up after a stalled loop (see _grant_or_wait).
# Rate-bound, 2,000 rows at 200/s: bound/wall 0.95 -> 0.97-0.98. Against a server
# allowing a burst of 5 no 429 (4 intervals had one a run); of 2, as many as before.
_CATCH_UP: Final = 2
# A pace this much faster than the one waiters were spaced at moves them earlier: each
# such change wakes every waiter once, so small steps (recovery, probing) do not.
_PULL_FORWARD: Final = 0.8


class AutoRate(float):
    """``rate="auto"``: find the server's limit instead of being told it.

    A float, so it travels wherever a rate does; its value is the pace to start from.
    It reads as ``auto`` (the Run sheet shows ``auto, starting at 2/s``).

    Example:
        >>> parse_rate("auto"), float(parse_rate("auto"))
        (AutoRate(2.0), 2.0)

    """

    __slots__ = ()

    def __new__(cls, start: float = _AUTO_START) -> AutoRate:
        return super().__new__(cls, start)

    def __repr__(self) -> str:
        return f"AutoRate({float(self)!r})"

    def __str__(self) -> str:
        return "auto"

    def __format__(self, spec: str) -> str:
        return f"auto, starting at {float(self).__format__(spec)}"


#: ``rate="auto"`` parsed.
AUTO_RATE: Final = AutoRate()


def parse_rate(rate: float | str) -> float:
    """Turn a rate argument into requests per second.

    Args:
        rate: Requests per second as a number, or ``"<count>/<unit>"`` with unit
            s/sec/second, m/min/minute, h/hr/hour or d/day (plurals and ``per`` too:
            ``"60 per minute"``, ``"100/10s"``), or ``"auto"`` (:class:`AutoRate`).

    Returns:
        Requests per second, finite and positive; an :class:`AutoRate` for ``"auto"``.

    Raises:
        ArgumentError: Zero, negative, non-finite or unreadable; names the value
            and the accepted forms.

    Example:
        >>> parse_rate("60/min"), parse_rate("3600/hour"), parse_rate(2)
        (1.0, 1.0, 2.0)

    """
    if isinstance(rate, AutoRate):
        return rate
    value: float | None = None
    if isinstance(rate, str):
        if rate.strip().lower() == "auto":
            return AUTO_RATE
        match = _RATE_RE.fullmatch(rate)
        if match is None:
            try:
                value = float(rate)
            except ValueError:
                value = None
        else:
            unit = _UNITS.get(match["unit"].lower())
            every = float(match["every"] or 1.0)
            if unit is not None and every > 0:
                value = float(match["count"]) / (every * unit)
    elif isinstance(rate, int | float) and not isinstance(rate, bool):
        value = float(rate)
    if value is None or not (math.isfinite(value) and value > 0):
        raise ArgumentError(f"rate={rate!r} is not a usable rate: use {_RATE_FORMS}")
    return value


class _Ticket:
    """One caller's slot, the pace it was spaced at, and how to wake it early."""

    __slots__ = ("claimed", "interval", "scope", "slot", "thread")

    def __init__(self, slot: float, interval: float) -> None:
        self.slot = slot
        self.interval = interval
        # Its slot is a grant time already paced and counted (see _grant_or_wait).
        self.claimed = False
        # Set while its caller sleeps: a much faster pace cancels it to move the slot
        # earlier. Only from the caller's own thread, as cancel scopes are not
        # thread-safe; a waiter in another thread keeps its slot, never later than given.
        self.scope: anyio.CancelScope | None = None
        self.thread = threading.get_ident()


def _slot_of(ticket: _Ticket) -> float:
    return ticket.slot


class RateLimiter:
    """Evenly spaced, FIFO-fair admission at ``rate`` per second (GCRA).

    Args:
        rate: Requests per second, or a string accepted by :func:`parse_rate`
            (``"auto"``: learn the server's limit from its 429s).
        burst: Requests that may go back to back after an idle spell (1 = none).
        clock: Time source; a :class:`~octave_frames._clock.FakeClock` in tests.

    Raises:
        ArgumentError: Unusable ``rate`` or ``burst``.

    Cancelling a waiting :meth:`acquire` gives its slot back: the last reservation
    is simply rolled back; a slot in the middle becomes a hole that the next new
    caller takes. Either way the spacing of everyone else is unchanged (a hole can
    only lower throughput for one interval, never bunch later calls).

    Example:
        >>> async def main() -> None:
        ...     limiter = RateLimiter("600/min")
        ...     for _ in range(3):
        ...         await limiter.acquire()  # at t, t+0.1, t+0.2
        >>> anyio.run(main)

    """

    def __init__(self, rate: float | str, *, burst: int = 1, clock: Clock = SYSTEM_CLOCK) -> None:
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ArgumentError(f"burst={burst!r}: need an int >= 1")
        per_second = parse_rate(rate)
        self._clock = clock
        self._burst = burst
        self._lock = threading.Lock()
        self._interval = 1.0 / per_second
        # The rate asked for: a 429 slows below it, answers recover up to it.
        self._ceiling = per_second
        # Earliest slot for the next new reservation, before the burst allowance.
        self._next = -math.inf
        self._cool_until = -math.inf
        # Theoretical arrival time of the grants actually made (GCRA on real sends).
        self._granted_tat = -math.inf
        self._last_grant = -math.inf  # the latest grant made or promised
        self._pending: list[_Ticket] = []  # reserved, not yet granted; by slot
        self._holes: list[float] = []  # future slots given back by cancelled waiters
        # rate="auto": before the first 429; grants held back by the pace since the
        # last 429; 429s since the last answer.
        self._auto = False
        self._slow_start = True
        self._probing = 0
        self._refused = 0
        self._seen_interval: float | None = None  # pace of the latest grant's reservation
        if isinstance(per_second, AutoRate):
            self._go_auto()

    def __repr__(self) -> str:
        rate = f"'auto' (now {self.rate:.4g}/s)" if self._auto else repr(self.rate)
        return f"RateLimiter(rate={rate}, burst={self._burst!r}, clock={self._clock!r})"

    @property
    def rate(self) -> float:
        """Requests per second."""
        return 1.0 / self._interval

    @property
    def interval(self) -> float:
        """Seconds between two slots."""
        return self._interval

    @property
    def burst(self) -> int:
        """Requests allowed back to back after an idle spell."""
        return self._burst

    @property
    def clock(self) -> Clock:
        """The time source."""
        return self._clock

    @property
    def cool_until(self) -> float:
        """Clock time before which nobody is admitted (``-inf`` if never cooled)."""
        return self._cool_until

    @property
    def waiting(self) -> int:
        """Callers currently waiting for their slot."""
        return len(self._pending)

    @property
    def adaptive(self) -> bool:
        """Whether the pace is learned from the server's 429s (``rate="auto"``)."""
        return self._auto

    async def acquire(self) -> None:
        """Wait for the next slot; take a new one for every request, retries included."""
        await anyio.lowlevel.checkpoint_if_cancelled()
        with self._lock:
            ticket = self._reserve()
        slept = False
        try:
            while True:
                with self._lock:
                    delay = self._grant_or_wait(ticket, slept)
                if delay is None:
                    break
                with anyio.CancelScope() as ticket.scope:
                    await self._clock.sleep(delay)
                ticket.scope = None
                slept = True
        except BaseException:
            with self._lock:
                self._release(ticket)
            raise
        if not slept:
            # Every await should let others run; this one must not lose the slot.
            await anyio.lowlevel.cancel_shielded_checkpoint()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def cool_down(self, seconds: float) -> None:
        """Admit nobody for ``seconds`` from now; then resume at the normal pace.

        Callers already waiting keep their order and move behind the pause, spaced one
        interval apart, so after a 429 everyone stops and then restarts evenly rather
        than as a burst. Overlapping cool-downs keep the latest end. A zero, negative or
        NaN duration does nothing.
        """
        if not seconds > 0:
            return
        with self._lock:
            until = self._clock.now() + seconds
            if until <= self._cool_until:
                return
            self._cool_until = until
            self._respace(0, until)

    @property
    def ceiling(self) -> float:
        """The rate asked for; back-pressure slows below it, answers recover up to it."""
        return self._ceiling

    def aim(self, rate: float | str) -> None:
        """Ask for ``rate`` from now on: the ceiling, and the pace right away.

        ``"auto"`` keeps the current pace and what was learned so far, and adapts from
        there; a number ends adapting.

        Raises:
            ArgumentError: Unusable ``rate``.

        """
        per_second = parse_rate(rate)
        if isinstance(per_second, AutoRate):
            if not self._auto:
                with self._lock:
                    self._go_auto()
            return
        self._auto = False
        self._ceiling = per_second
        if not math.isclose(self.rate, per_second, rel_tol=1e-12):
            self.set_rate(per_second)

    def throttled(self, delay: float) -> None:
        """Answer a 429: slow the pace, and pause every caller for ``delay`` if need be.

        A fixed rate halves and everyone pauses for ``delay``; the other calls sent at
        the old pace come back 429 during that pause, and only a 429 after it shows the
        pace is still too fast. The pace never drops below one call a minute (or the
        ceiling, if that is slower).

        ``rate="auto"`` trims the pace by 5% per 429 instead, so it settles where the
        server starts refusing, and lets the refused call alone wait ``delay`` (its
        ``Retry-After``); only a third 429 in a row with no answer between them (a
        server refusing everything until a window resets) pauses everyone.
        """
        with self._lock:
            if self._clock.now() < self._cool_until:
                pause = True
            elif self._auto:
                self._refused += 1
                pause = self._refused >= _AUTO_STREAK
                self._back_off()
            else:
                pause = True
                slowest = min(self._ceiling, _SLOWEST_RATE)
                self._set_interval(1.0 / max(self.rate / 2, slowest))
        if pause:
            self.cool_down(delay)

    def answered(self) -> None:
        """Count one answer: a slowed fixed pace recovers 5% towards the ceiling.

        Under ``rate="auto"`` the pace grows by itself while it holds the run back.
        """
        if self._auto:
            self._refused = 0
        elif self.rate < self._ceiling:
            self.set_rate(min(self._ceiling, self.rate * _RECOVERY))

    def set_rate(self, rate: float | str) -> None:
        """Change the rate from now on.

        A slower rate also re-spaces callers already waiting. A faster one applies to
        reservations made after the change, and once it is at least 25% faster than the
        pace the waiting callers were spaced at, it moves them earlier too (those waiting
        in this thread: a waiter in another thread keeps its slot, never later than given).

        Raises:
            ArgumentError: Unusable ``rate``.

        """
        interval = 1.0 / parse_rate(rate)
        with self._lock:
            self._set_interval(interval)

    # -- under self._lock -------------------------------------------------------

    def _grant_or_wait(self, ticket: _Ticket, limited: bool) -> float | None:
        """Grant ``ticket`` now (None), or return how long to sleep until its slot."""
        now = self._clock.now()
        if ticket.slot > now:
            return ticket.slot - now
        if not ticket.claimed:
            # Pace actual grants too, not only reserved slots. After the loop stalls,
            # the waiters it made late catch up at up to twice the pace, never closer
            # than half an interval (so the server sees no burst), by at most
            # _CATCH_UP intervals; beyond that the lag stays. The stall gave a server's
            # own GCRA bucket back at least as much, up to its burst allowance.
            spacing = self._interval / 2 if self._burst == 1 else 0.0
            tolerance = max(self._burst - 1, _CATCH_UP) * self._interval
            allowed = max(self._granted_tat - tolerance, self._last_grant + spacing)
            if allowed > now:
                self._claim(ticket, allowed, behind=allowed > self._granted_tat - tolerance)
                return allowed - now
            self._granted_tat = max(self._granted_tat, now) + self._interval
        self._last_grant = max(self._last_grant, now)
        self._remove(ticket)
        self._seen_interval = ticket.interval
        if limited and self._auto:
            self._grow(ticket.interval)
        return None

    def _claim(self, ticket: _Ticket, when: float, *, behind: bool) -> None:
        """Promise ``ticket`` the grant time ``when``, counted now: nobody else gets it.

        Each late waiter so takes a time of its own, so those behind it do not all wake
        at one instant to find it taken. Once the catch-up is spent (``behind`` false),
        every later slot moves back by the lag too: they would all be too early.
        """
        ticket.slot, ticket.claimed = when, True
        self._granted_tat = max(self._granted_tat, when) + self._interval
        self._last_grant = when
        if not behind:
            # Claimed times are all at or before `when`; the rest go after it, in order.
            slot = when + self._interval
            for other in self._pending:
                if not other.claimed:
                    other.slot = max(slot, other.slot)
                    slot = other.slot + self._interval
            self._next = max(self._next, slot)
            self._holes.clear()
        self._pending.sort(key=_slot_of)

    def _reserve(self) -> _Ticket:
        now = self._clock.now()
        self._drop_stale_holes(now)
        if self._holes:
            ticket = _Ticket(self._holes.pop(0), self._interval)
            bisect.insort(self._pending, ticket, key=_slot_of)
            return ticket
        allowance = (self._burst - 1) * self._interval
        slot = max(self._next, now - allowance, self._cool_until)
        self._next = slot + self._interval
        ticket = _Ticket(slot, self._interval)
        self._pending.append(ticket)  # the latest slot so far: stays sorted
        return ticket

    def _index(self, ticket: _Ticket) -> int:
        # Almost always the head: the earliest slot is the one that wakes first.
        return 0 if self._pending[0] is ticket else self._pending.index(ticket)

    def _remove(self, ticket: _Ticket) -> None:
        del self._pending[self._index(ticket)]

    def _respace(self, start: int, slot: float) -> None:
        """Move waiters from ``start`` on to ``slot`` or later, one interval apart."""
        self._holes.clear()
        for ticket in self._pending[start:]:
            if slot > ticket.slot:
                ticket.slot, ticket.claimed = slot, False
            ticket.interval = self._interval
            slot = ticket.slot + self._interval
        self._next = max(self._next, slot)

    def _pull_forward(self) -> None:
        """Re-space the waiters of this thread earlier at the current, faster pace."""
        here = threading.get_ident()
        slot = max(self._clock.now(), self._granted_tat, self._cool_until)
        for ticket in self._pending:
            # A waiter left where it is (another thread's) bounds those behind it, so
            # the order stays first come, first served.
            if ticket.thread == here and slot < ticket.slot:
                ticket.slot, ticket.claimed = slot, False
                ticket.interval = self._interval
                if ticket.scope is not None:
                    ticket.scope.cancel()
            slot = ticket.slot + self._interval
        self._next = slot

    def _set_interval(self, interval: float) -> None:
        slower_by = interval - self._interval
        self._granted_tat += slower_by
        self._interval = interval
        self._holes.clear()
        if not self._pending:
            self._next += slower_by
        elif slower_by > 0:
            self._next = -math.inf
            self._respace(0, self._pending[0].slot + slower_by)
        elif interval <= _PULL_FORWARD * self._pending[0].interval:
            self._pull_forward()
        else:
            # Waiters keep their slots (already at least this far apart); newcomers
            # follow the last of them at the new pace.
            self._next = self._pending[-1].slot + interval

    def _release(self, ticket: _Ticket) -> None:
        if ticket not in self._pending:  # already granted
            return
        self._pending.remove(ticket)
        self._drop_stale_holes(self._clock.now())
        floor = self._pending[-1].slot if self._pending else -math.inf
        if ticket.slot < floor:
            bisect.insort(self._holes, ticket.slot)
            return
        # It was the latest reservation: roll back to it, or to the earliest hole that
        # now trails every remaining waiter, as if those calls had never been made.
        trailing = bisect.bisect_right(self._holes, floor)
        self._next = min([self._next, ticket.slot, *self._holes[trailing:]])
        del self._holes[trailing:]

    def _drop_stale_holes(self, now: float) -> None:
        del self._holes[: bisect.bisect_right(self._holes, now)]

    # -- rate="auto", under self._lock --------------------------------------------

    def _go_auto(self) -> None:
        self._auto = True
        self._ceiling = _AUTO_FASTEST
        self._slow_start = True
        self._probing = 0
        self._refused = 0

    def _grow(self, interval: float) -> None:
        """One grant held back by the pace: raise the pace for later reservations."""
        self._probing += 1
        if self._slow_start:
            factor = 2.0 ** (interval / _AUTO_DOUBLING)
        else:
            # Slowly near the limit just found, ever faster the longer no call is refused,
            # in case the limit has risen. Per grant, not per second: 429s then stay the
            # same share of the calls (growth / step) whatever the limit.
            factor = 1.0 + _AUTO_GROWTH * (1.0 + (self._probing / _AUTO_HASTEN) ** 2)
        # Waiters reserved at older paces may still be queued: the server sees the pace
        # of the grants (1/interval), so never run more than twice ahead of that.
        target = min(self.rate * factor, 2.0 / interval, self._ceiling)
        if target > self.rate:
            self._set_interval(1.0 / target)

    def _back_off(self) -> None:
        """A 429: step back from the pace the server was seeing."""
        seen = 1.0 / self._seen_interval if self._seen_interval else self.rate
        self._slow_start = False
        self._probing = 0
        pace = min(self.rate, seen) * (1.0 - _AUTO_STEP)
        self._set_interval(1.0 / max(pace, _SLOWEST_RATE))


# Limiters on the real clock live for the whole process, so pacing and cool-downs
# carry over from one run (or notebook cell) to the next. Limiters on other clocks
# (tests) are held weakly: they keep their clock alive, so a strong registry would
# leak every FakeClock ever made.
_SYSTEM: dict[tuple[str, str], RateLimiter] = {}
_OTHER: weakref.WeakValueDictionary[tuple[int, str, str], RateLimiter] = (
    weakref.WeakValueDictionary()
)
_REGISTRY_LOCK: Final = threading.Lock()
# Salting makes the registry's digests useless outside this process.
_SALT: Final = os.urandom(16)


def _key_digest(api_key: str) -> str:
    return hashlib.sha256(_SALT + api_key.encode("utf-8")).hexdigest()


def shared_limiter(
    api_key: str, endpoint: str, rate: float | str, *, clock: Clock = SYSTEM_CLOCK
) -> RateLimiter:
    """Return the process-wide limiter for one (API key, endpoint), made on first use.

    Every call with the same key, endpoint and clock gets the same limiter, from
    any thread or event loop. A call asking for a different rate updates it (the
    latest request wins); ``"auto"`` keeps the pace learned so far. The key is kept
    only as a salted SHA-256 digest.

    Args:
        api_key: The Octave API key the calls use.
        endpoint: The path (or URL) the calls go to.
        rate: Requests per second, or a string accepted by :func:`parse_rate`.
        clock: Time source; each clock gets limiters of its own.

    Raises:
        ArgumentError: Unusable ``rate``.

    Example:
        >>> a = shared_limiter("key", "/api/v2/agents/sequence/run", "60/min")
        >>> a is shared_limiter("key", "/api/v2/agents/sequence/run", 1.0)
        True

    """
    per_second = parse_rate(rate)
    digest = _key_digest(api_key)
    with _REGISTRY_LOCK:
        limiter: RateLimiter | None
        if clock is SYSTEM_CLOCK:
            limiter = _SYSTEM.get((digest, endpoint))
        else:
            limiter = _OTHER.get((id(clock), digest, endpoint))
        if limiter is None:
            limiter = RateLimiter(per_second, clock=clock)
            if clock is SYSTEM_CLOCK:
                _SYSTEM[digest, endpoint] = limiter
            else:
                # id() is safe as a key: the limiter holds the clock, so the id
                # cannot be reused while the entry exists.
                _OTHER[id(clock), digest, endpoint] = limiter
        else:
            limiter.aim(per_second)
        return limiter
