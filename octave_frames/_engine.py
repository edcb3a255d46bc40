"""Run the unique calls of a job concurrently: rate limit, retries, budget, circuit breaker.

Each worker takes the next call from one shared iterator (a worker pool, not one
task per row: 5,000 rows make 32 tasks, not 5,000). Every attempt takes a token
from the shared limiter; every final answer is committed to the ledger before the
worker moves on, so a killed process loses at most the calls in flight.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio

from ._clock import Clock
from ._constants import AGENT_NOT_FOUND_HINT
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    InsufficientCreditsError,
    NotFoundError,
    OctaveError,
    RateLimitError,
    ServerError,
)
from ._interrupt import running
from ._ledger import Ledger
from ._progress import Progress
from ._ratelimit import RateLimiter
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from ._client import Session

__all__ = ["Breaker", "Engine", "EngineOptions", "Outcome"]

# After a 429 the pace halves, down to one call a minute at the slowest (never above the
# rate asked for); every answer then raises it by 5% until it is back at that rate.
_SLOWEST_RATE = 1 / 60
_RECOVERY = 1.05

#: ``octave_error`` of the rows a Ctrl-C kept from being sent, and of calls abandoned in flight.
INTERRUPTED = "interrupted before it was sent; run the same call again to resume"
ABANDONED = (
    "abandoned in flight at the second Ctrl-C (Octave may have billed it; "
    "running again sends it again)"
)


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How one run sends its calls.

    Attributes:
        concurrency: Calls in flight at most.
        retry: When and how long to wait before trying a call again.
        max_credits: Stop sending once this many credits are spent or reserved.
        estimated_cost: Credits one call is expected to cost, reserved while it runs.
        progress: Show a progress bar (None: when someone is watching).
        breaker_window: Calls the circuit breaker looks back over.
        breaker_ratio: Share of that window failing the same way that stops the run.
        max_throttled: 429 answers one call may get before it is ``failed``. A 429 is
            back-pressure, answered by slowing the whole run down, so it does not spend
            ``retry.max_retries``: under a rate limit rows wait their turn instead of failing.

    """

    concurrency: int
    retry: RetryPolicy
    max_credits: float | None = None
    estimated_cost: float = 1.0
    progress: bool | None = None
    breaker_window: int = 20
    breaker_ratio: float = 0.8
    max_throttled: int = 20


@dataclass(slots=True)
class Outcome:
    """The end of one unique call: status, body or reason, cost and attempts."""

    status: str
    body: dict[str, Any] | None = None
    error: str | None = None
    usage: float | None = None
    attempts: int = 0


def failure_signature(exc: OctaveError) -> str:
    """A short name for how a call failed, for the circuit breaker and summaries."""
    if isinstance(exc, ServerError):
        # A service going down answers 500, 502 and 503 alike: one failure, not three.
        return "HTTP 5xx"
    if isinstance(exc, APIError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, APITimeoutError):
        return "timeout"
    if isinstance(exc, APIConnectionError):
        return "connection error"
    return type(exc).__name__


class Breaker:
    """Trips when most of the recent calls failed the same way.

    A 429 is back-pressure, not failure, and is never counted: a rate-limit storm
    slows the run down instead of stopping it.
    """

    def __init__(self, window: int, ratio: float) -> None:
        self._window = window
        self._needed = max(1, int(window * ratio + 0.999))
        self._recent: deque[str | None] = deque(maxlen=window)

    def record(self, signature: str | None) -> str | None:
        """Record one call (None = success); return why to stop, or None."""
        self._recent.append(signature)
        if len(self._recent) < self._window:
            return None
        worst = Counter(s for s in self._recent if s is not None).most_common(1)
        if worst and worst[0][1] >= self._needed:
            sig, count = worst[0]
            return f"circuit breaker: {count} of the last {self._window} calls failed with {sig}"
        return None


@dataclass
class Engine:
    """One run's sending state; `run` fills `outcomes`, keyed by request key."""

    session: Session
    limiter: RateLimiter
    clock: Clock
    options: EngineOptions
    ledger: Ledger | None
    endpoint: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    calls: int = 0
    spent: float = 0.0
    stopped: str | None = None
    _in_flight: int = 0
    _price: float = 0.0
    _fatal: OctaveError | None = None
    _waiting: set[anyio.CancelScope] = field(default_factory=set)
    _requests: set[anyio.CancelScope] = field(default_factory=set)
    _aborted: bool = False
    _cancel: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    _breaker: Breaker = field(default_factory=lambda: Breaker(20, 0.8))
    _progress: Progress = field(default_factory=lambda: Progress(0, enabled=False))
    _ceiling: float = 0.0

    async def run(self, jobs: Mapping[str, Mapping[str, Any]]) -> dict[str, Outcome]:
        """Send every job (request key -> payload) and return the outcome of each.

        Raises:
            AuthenticationError: The key was refused (nothing more is sent).
            NotFoundError: The agent or experiment does not exist.

        """
        self._breaker = Breaker(self.options.breaker_window, self.options.breaker_ratio)
        self._progress = Progress(len(jobs), enabled=self.options.progress)
        self._ceiling = self.limiter.rate
        work = iter(jobs.items())
        try:
            with running(self), self._cancel:
                async with anyio.create_task_group() as tg:
                    for _ in range(min(self.options.concurrency, len(jobs))):
                        tg.start_soon(self._worker, work)
        finally:
            self._progress.close()
        if self._fatal is not None:
            raise self._fatal
        return self.outcomes

    async def _worker(self, work: Iterator[tuple[str, Mapping[str, Any]]]) -> None:
        # One shared iterator: next() never awaits, so workers cannot take the same job.
        for key, payload in work:
            outcome = await self._call(key, payload)
            if self._fatal is not None:
                return
            self.outcomes[key] = outcome
            self._progress.update(outcome.status, outcome.usage)

    def stop(self, reason: str, *, abort_waiting: bool = True) -> None:
        """Stop sending; with ``abort_waiting``, calls waiting for a token or a backoff end too.

        A spent budget does not abort: calls that already reserved their credits go out.
        """
        if self.stopped is None:
            self.stopped = reason
        if abort_waiting:
            self._aborted = True
            for scope in list(self._waiting):
                scope.cancel()

    def drain(self) -> int:
        """Ctrl-C: start nothing new, end the waiting calls; return the calls in flight.

        The calls in flight are billed already, so they finish and are saved.
        """
        self.stop(INTERRUPTED)
        return len(self._requests)

    def abandon(self) -> int:
        """A second Ctrl-C: cancel the calls in flight too; return how many."""
        self.stop(INTERRUPTED)
        return self._cut_requests()

    def _cut_requests(self) -> int:
        scopes = list(self._requests)
        for scope in scopes:
            scope.cancel()
        return len(scopes)

    async def _wait(self, step: Callable[[], Awaitable[None]]) -> bool:
        """Await ``step`` unless the run is aborted meanwhile; say whether to go on."""
        with anyio.CancelScope() as scope:
            self._waiting.add(scope)
            try:
                await step()
            finally:
                self._waiting.discard(scope)
        return not scope.cancelled_caught and not self._aborted

    def _reserve(self) -> bool:
        budget = self.options.max_credits
        # The estimate may predate this run; the dearest answer seen so far is the floor.
        cost = max(self.options.estimated_cost, self._price)
        if budget is not None and self.spent + (self._in_flight + 1) * cost > budget + 1e-9:
            self.stop(f"max_credits={budget:g} reached", abort_waiting=False)
            return False
        self._in_flight += 1
        return True

    async def _call(self, key: str, payload: Mapping[str, Any]) -> Outcome:
        attempt = throttled = 0
        while True:
            if self.stopped is not None or not self._reserve():
                return Outcome("not_sent", error=self.stopped, attempts=attempt)
            try:
                if not await self._wait(self.limiter.acquire):
                    return Outcome("not_sent", error=self.stopped, attempts=attempt)
                self.calls += 1
                # Shielded: a cancelled run (Ctrl-C, a cancelled task) lets a paid call
                # finish and be saved; only `abandon` (or a fatal error) cuts it off.
                with anyio.CancelScope(shield=True) as request:
                    self._requests.add(request)
                    try:
                        answer = await self.session.run_sequence(payload, external_id=key)
                    finally:
                        self._requests.discard(request)
                if request.cancelled_caught:
                    return Outcome("not_sent", error=ABANDONED, attempts=attempt + 1)
            except OctaveError as exc:
                retry_in = self._on_error(exc, attempt - throttled, throttled)
                if retry_in is None:
                    return self._give_up(key, exc, attempt)
                throttled += isinstance(exc, RateLimitError)
            else:
                self._breaker.record(None)
                self.spent += answer.usage or 0.0
                self._price = max(self._price, answer.usage or 0.0)
                if self.limiter.rate < self._ceiling:
                    self.limiter.set_rate(min(self._ceiling, self.limiter.rate * _RECOVERY))
                if self.ledger is not None:
                    self.ledger.record_answer(
                        key,
                        status=answer.status,
                        body=answer.body,
                        usage=answer.usage,
                        request_id=answer.request_id,
                        attempts=attempt + 1,
                        endpoint=self.endpoint,
                    )
                return Outcome(answer.status, answer.body, None, answer.usage, attempt + 1)
            finally:
                self._in_flight -= 1
            attempt += 1
            await self._wait(partial(self.clock.sleep, retry_in))

    def _on_error(self, exc: OctaveError, attempt: int, throttled: int = 0) -> float | None:
        """Decide what an error means for the run; return the backoff, or None to give up.

        ``attempt`` counts the call's earlier failures, ``throttled`` its earlier 429s.
        """
        if isinstance(exc, AuthenticationError | NotFoundError):
            if isinstance(exc, NotFoundError):
                exc = NotFoundError(
                    f"{exc}: {AGENT_NOT_FOUND_HINT}",
                    status_code=exc.status_code,
                    request_id=exc.request_id,
                )
            self._fatal = exc
            self.stop(str(exc))
            self._cut_requests()
            self._cancel.cancel()
            return None
        if isinstance(exc, InsufficientCreditsError):
            self.stop(f"Octave reports insufficient credits ({exc})")
            return None
        if not isinstance(exc, RateLimitError) and (
            trip := self._breaker.record(failure_signature(exc))
        ):
            self.stop(trip)
        policy = self.options.retry
        if isinstance(exc, RateLimitError):
            if self.stopped is not None or throttled >= self.options.max_throttled:
                return None
            delay = policy.delay(throttled, exc.retry_after)
            self._slow_down(delay)
            return delay
        if self.stopped is not None or not policy.should_retry(exc, attempt):
            return None
        return policy.delay(attempt, getattr(exc, "retry_after", None))

    def _slow_down(self, delay: float) -> None:
        """Answer a 429: pause every worker for ``delay``, and halve the pace.

        The other calls sent at the old pace come back 429 during the pause the first
        one started; only a 429 after that pause shows the pace is still too fast.
        """
        if self.clock.now() >= self.limiter.cool_until:
            floor = min(self._ceiling, _SLOWEST_RATE)
            self.limiter.set_rate(max(self.limiter.rate / 2, floor))
        self.limiter.cool_down(delay)

    def _give_up(self, key: str, exc: OctaveError, attempt: int) -> Outcome:
        if isinstance(exc, InsufficientCreditsError):
            return Outcome("not_sent", error=self.stopped, attempts=attempt + 1)
        tries = attempt + 1
        reason = f"{exc} (after {tries} attempt{'s' if tries > 1 else ''})"
        if self.ledger is not None:
            self.ledger.record_failure(key, reason=reason, attempts=tries, endpoint=self.endpoint)
        return Outcome("failed", error=reason, attempts=tries)
