"""Obtain the answer of every unique call of a run: rate limit, retries, budget, breaker.

One job model for both ways Octave answers. In sync mode a worker POSTs the row and the
answer comes back on the same call. In async mode the worker POSTs the job, commits the
run id to the ledger before anything else happens to it, and hands the wait to the
shared `Poller`; jobs whose run id is already known are never submitted again, only
polled. Either way the answer is committed to the ledger the moment it arrives.

Each worker takes the next call from one shared iterator (a worker pool, not one task
per row: 5,000 rows make 32 tasks, not 5,000). Every attempt takes a token from the
shared limiter, which owns the pace (slowing down on 429, recovering on answers).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, TypeVar

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
from ._poll import Poller
from ._progress import Progress
from ._ratelimit import RateLimiter
from ._retry import RetryPolicy
from ._status import ANSWERED, Outcome, Status

if TYPE_CHECKING:
    from ._client import Session
    from ._endpoints import Endpoint

__all__ = ["ABANDONED", "INTERRUPTED", "Breaker", "Engine", "EngineOptions"]

T = TypeVar("T")

#: ``octave_error`` of the rows a Ctrl-C kept from being sent, and of calls abandoned in flight.
INTERRUPTED = "interrupted before it was sent; run the same call again to resume"
ABANDONED = (
    "abandoned in flight at the second Ctrl-C (Octave may have billed it; "
    "running again sends it again)"
)
NOT_SUBMITTED = "not submitted: collect only looks for jobs submitted before (run submit first)"


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How one run obtains its answers.

    Attributes:
        concurrency: Calls in flight at most (sync calls, or async submissions and polls).
        retry: When and how long to wait before trying a call again.
        max_credits: Stop sending once this many credits are spent or reserved.
        estimated_cost: Credits one call is expected to cost, reserved while it runs.
        progress: Show a progress bar (None: when someone is watching).
        breaker_window: Calls the circuit breaker looks back over.
        breaker_ratio: Share of that window failing the same way that stops the run.
        max_throttled: 429 answers one call may get before it is ``failed``. A 429 is
            back-pressure, answered by slowing the whole run down, so it does not spend
            ``retry.max_retries``: under a rate limit rows wait their turn instead of failing.
        mode: ``"sync"`` calls, or ``"async"`` jobs.
        submit: Async: submit jobs that have no run id yet (``collect`` does not).
        wait: Async: wait for the results (``submit`` returns once every job is in).
        look: Async, not waiting: look once at every pending job before returning.
        callback_url: Async: the ``callbackUrl`` of each job.
        poll: Async: seconds between status checks of one job.
        job_timeout: Async: seconds a job may take from submission before it is given up.
        deadline: Async: seconds from now after which every job still running is given up.

    """

    concurrency: int
    retry: RetryPolicy
    max_credits: float | None = None
    estimated_cost: float = 1.0
    progress: bool | None = None
    breaker_window: int = 20
    breaker_ratio: float = 0.8
    max_throttled: int = 20
    mode: Literal["sync", "async"] = "sync"
    submit: bool = True
    wait: bool = True
    look: bool = True
    callback_url: str = ""
    poll: float = 7.5
    job_timeout: float | None = None
    deadline: float | None = None


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


class _GiveUp(Exception):
    """A call's last failure: the outcome its row ends with."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


@dataclass
class Engine:
    """One run's sending state; `run` fills `outcomes`, keyed by request key."""

    session: Session
    limiter: RateLimiter
    clock: Clock
    options: EngineOptions
    ledger: Ledger | None
    endpoint: Endpoint
    poll_limiter: RateLimiter | None = None
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
    _poller: Poller | None = None
    _held: set[str] = field(default_factory=set)

    async def run(
        self,
        jobs: Mapping[str, Mapping[str, Any]],
        known: Mapping[str, tuple[str, float | None]] | None = None,
    ) -> dict[str, Outcome]:
        """Obtain the outcome of every job (request key -> body).

        Args:
            jobs: The calls to make, by request key.
            known: Async: ``(run id, seconds since it was submitted)`` of keys already
                submitted; they are polled, never submitted again.

        Raises:
            AuthenticationError: The key was refused (nothing more is sent).
            NotFoundError: The agent or experiment does not exist.

        """
        opts = self.options
        self._breaker = Breaker(opts.breaker_window, opts.breaker_ratio)
        self._progress = Progress(len(jobs), enabled=opts.progress)
        known = dict(known or {})
        if opts.mode == "async" and (opts.wait or opts.look):
            self._poller = Poller(
                self.session,
                self.poll_limiter or self.limiter,
                self.clock,
                self.ledger,
                self.endpoint,
                poll=opts.poll,
                job_timeout=opts.job_timeout,
                deadline=None if opts.deadline is None else self.clock.now() + opts.deadline,
                concurrency=opts.concurrency,
                wait=opts.wait,
                done=self._job_done,
            )
        for key, (run_id, age) in known.items():
            self.outcomes[key] = Outcome(Status.PENDING, run_id=run_id)
            if self._poller is not None:
                self._poller.watch(key, run_id, age)
        work = iter([(k, p) for k, p in jobs.items() if k not in known])
        try:
            with running(self), self._cancel:
                async with anyio.create_task_group() as tg:
                    if self._poller is not None:
                        tg.start_soon(self._poller.run)
                    workers = min(opts.concurrency, len(jobs) - len(known))
                    async with anyio.create_task_group() as pool:
                        for _ in range(max(workers, 0)):
                            pool.start_soon(self._worker, work)
                    if self._poller is not None:
                        self._poller.no_more_jobs()
        finally:
            self._progress.close()
            if self._poller is not None:
                for key, run_id in self._poller.leftovers():
                    self.outcomes[key] = Outcome(Status.PENDING, run_id=run_id)
        if self._fatal is not None:
            raise self._fatal
        return self.outcomes

    def _job_done(self, key: str, outcome: Outcome) -> None:
        """An async job ended (or was given up): free its reservation, record the outcome."""
        if key in self._held:
            self._held.discard(key)
            self._in_flight -= 1
        self._finish(key, outcome)

    def _finish(self, key: str, outcome: Outcome) -> None:
        """Record the end of one job (an answer, or why there is none)."""
        if outcome.status in ANSWERED:
            self._breaker.record(None)
            self.spent += outcome.usage or 0.0
            self._price = max(self._price, outcome.usage or 0.0)
            self.limiter.answered()
            if self.ledger is not None and outcome.body is not None:
                self.ledger.record_answer(key, outcome, endpoint=self.endpoint.path)
        elif outcome.status is Status.FAILED and self.ledger is not None and outcome.error:
            self.ledger.record_failure(
                key, reason=outcome.error, attempts=outcome.attempts, endpoint=self.endpoint.path
            )
        self.outcomes[key] = outcome
        if outcome.status is not Status.PENDING:
            self._progress.update(outcome.status, outcome.usage)

    async def _worker(self, work: Iterator[tuple[str, Mapping[str, Any]]]) -> None:
        # One shared iterator: next() never awaits, so workers cannot take the same job.
        for key, payload in work:
            if not self.options.submit:
                self.outcomes[key] = Outcome(Status.NOT_SENT, error=NOT_SUBMITTED)
                continue
            outcome = await self._call(key, payload)
            if self._fatal is not None:
                return
            if outcome is not None:
                self._finish(key, outcome)

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

        The calls in flight are billed already, so they finish and are saved. Async jobs
        are not waited for: their run ids are saved, and `collect` fetches them.
        """
        self.stop(INTERRUPTED)
        self._stop_polling()
        return len(self._requests)

    def _stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.stop()

    def abandon(self) -> int:
        """A second Ctrl-C: cancel the calls in flight too; return how many."""
        self.stop(INTERRUPTED)
        self._stop_polling()
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

    async def _call(self, key: str, payload: Mapping[str, Any]) -> Outcome | None:
        """Obtain one job's outcome: the answer (sync), or None once it is submitted (async)."""
        if self.options.mode == "sync":
            send = partial(self.session.run, self.endpoint.path, payload, external_id=key)
            try:
                answer, attempts = await self._attempts(key, send)
            except _GiveUp as stop:
                return stop.outcome
            answer.attempts = attempts
            return answer
        body = {**payload, "callbackUrl": self.options.callback_url}
        submit = partial(self.session.submit, self.endpoint.async_path, body, external_id=key)
        try:
            run_id, _ = await self._attempts(key, submit, settle=False)
        except _GiveUp as stop:
            return stop.outcome
        # On disk before anything else happens to it: a crash from here on loses nothing.
        if self.ledger is not None:
            self.ledger.record_submission(key, run_id=run_id, endpoint=self.endpoint.path)
        self._held.add(key)
        if self._poller is not None:
            self._poller.watch(key, run_id, 0.0)
        self.outcomes[key] = Outcome(Status.PENDING, run_id=run_id)
        return None

    async def _attempts(
        self, key: str, send: Callable[[], Awaitable[T]], *, settle: bool = True
    ) -> tuple[T, int]:
        """Send under the limiter with retries; return the result and the attempts it took.

        ``settle``: the call's reservation ends with it (sync); an async job keeps its
        reservation until its result arrives.

        Raises:
            _GiveUp: The call ends without a result; its outcome says why.

        """
        attempt = throttled = 0
        while True:
            if self.stopped is not None or not self._reserve():
                raise _GiveUp(Outcome(Status.NOT_SENT, error=self.stopped, attempts=attempt))
            ok = False
            try:
                if not await self._wait(self.limiter.acquire):
                    raise _GiveUp(Outcome(Status.NOT_SENT, error=self.stopped, attempts=attempt))
                self.calls += 1
                # Shielded: a cancelled run (Ctrl-C, a cancelled task) lets a paid call
                # finish and be saved; only `abandon` (or a fatal error) cuts it off.
                with anyio.CancelScope(shield=True) as request:
                    self._requests.add(request)
                    try:
                        result = await send()
                    finally:
                        self._requests.discard(request)
                if request.cancelled_caught:
                    raise _GiveUp(Outcome(Status.NOT_SENT, error=ABANDONED, attempts=attempt + 1))
                ok = True
                return result, attempt + 1
            except OctaveError as exc:
                retry_in = self._on_error(exc, attempt - throttled, throttled)
                if retry_in is None:
                    raise _GiveUp(self._give_up(key, exc, attempt)) from None
                throttled += isinstance(exc, RateLimitError)
            finally:
                if settle or not ok:
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
            self._stop_polling()
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
            self.limiter.throttled(delay)
            return delay
        if self.stopped is not None or not policy.should_retry(exc, attempt):
            return None
        return policy.delay(attempt, getattr(exc, "retry_after", None))

    def _give_up(self, key: str, exc: OctaveError, attempt: int) -> Outcome:
        if isinstance(exc, InsufficientCreditsError):
            return Outcome(Status.NOT_SENT, error=self.stopped, attempts=attempt + 1)
        tries = attempt + 1
        reason = f"{exc} (after {tries} attempt{'s' if tries > 1 else ''})"
        return Outcome(Status.FAILED, error=reason, attempts=tries)
