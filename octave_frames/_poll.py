"""Collect the results of a run's async jobs: callbacks first, then few, spread status calls.

Octave asks for status checks every 5-10 s, never a tight loop, and a job takes 30-60 s.
So one `Poller` serves every pending job of a run: it checks a job first when that job
has probably finished (the typical job time, learned from the jobs that finished; at first
four poll intervals), then every ``poll`` seconds, jittered by a third either way so the
checks of jobs submitted together spread out. Before any status call it reads the
callbacks the ledger received (``octave-frames callbacks``), one query for all pending
jobs, so with callbacks a job costs no status call at all. Status calls share a limiter
(process-wide for the key and endpoint) and run at most ``concurrency`` at a time.

Documents are read leniently: the status answer ``{"data": {"result", "error"}}`` or a
callback ``{"status", "result" | "output", "error"}``, with a result that is the sync
envelope or only its ``data``.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from ._clock import Clock
from ._exceptions import NotFoundError, OctaveError
from ._ledger import Ledger
from ._ratelimit import RateLimiter
from ._status import Outcome, Status

if TYPE_CHECKING:
    from ._client import Session
    from ._endpoints import Endpoint

__all__ = ["Poller", "read_result"]

# Finished jobs whose times the first check aims at; older ones are forgotten.
_LEARN = 200
# Status calls in a row that may fail (5xx, timeouts) before a job is given up.
_MAX_POLL_FAILURES = 8


def read_result(document: Mapping[str, Any], run_id: str) -> Outcome | None:
    """Read a status answer or a callback; return the job's outcome, or None if not done.

    Example:
        >>> read_result({"data": {"requestId": "r1", "result": None, "error": None}}, "r1")
        >>> read_result({"status": "succeeded", "output": {"emails": []}}, "r1").status
        <Status.OK: 'ok'>

    """
    data = document.get("data")
    where: Mapping[str, Any] = (
        data if isinstance(data, Mapping) and ("result" in data or "error" in data) else document
    )
    result = where.get("result")
    if result is None:
        result = where.get("output")
    error = where.get("error")
    status = str(document.get("status") or where.get("status") or "").lower()
    if isinstance(result, Mapping):
        body = dict(result)
        if not ({"_metadata", "found"} & body.keys() or "data" in body):
            body = {"found": True, "data": body}  # only the envelope's data was sent
        outcome = Outcome.from_envelope(body)
        outcome.run_id = run_id
        return outcome
    if error or status in ("failed", "error"):
        reason = str(error) if error else "Octave reports the job failed"
        return Outcome(Status.FAILED, error=f"the async job failed: {reason}", run_id=run_id)
    return None


@dataclass(slots=True)
class _Job:
    key: str
    run_id: str
    submitted: float
    next_check: float
    polls: int = 0
    failures: int = 0


class Poller:
    """The wait for every pending async job of one run."""

    def __init__(
        self,
        session: Session,
        limiter: RateLimiter,
        clock: Clock,
        ledger: Ledger | None,
        endpoint: Endpoint,
        *,
        poll: float,
        job_timeout: float | None,
        deadline: float | None,
        concurrency: int,
        wait: bool,
        done: Callable[[str, Outcome], None],
    ) -> None:
        self._session = session
        self._read = endpoint.read or read_result
        self._limiter = limiter
        self._clock = clock
        self._ledger = ledger
        self._endpoint = endpoint
        self._poll = poll
        self._job_timeout = job_timeout
        self._deadline = deadline
        self._slots = anyio.CapacityLimiter(max(1, concurrency))
        self._wait = wait
        self._done = done
        self._jobs: dict[str, _Job] = {}
        self._durations: list[float] = []
        self._more = True
        self._stopped = False
        # Set when the first job arrives, when submitting ends, and on stop: never per job,
        # or a thousand submissions would spin the loop a thousand times.
        self._wake = anyio.Event()
        self._rng = random.Random()
        self.polls = 0

    @property
    def pending(self) -> int:
        """Jobs with no result yet."""
        return len(self._jobs)

    def _typical(self) -> float:
        if not self._durations:
            return 4 * self._poll
        return max(self._poll, statistics.median(self._durations[-_LEARN:]))

    def _jitter(self, seconds: float) -> float:
        return seconds * self._rng.uniform(2 / 3, 4 / 3)

    def watch(self, key: str, run_id: str, age: float | None) -> None:
        """Wait for the job ``run_id`` of ``key``, submitted ``age`` seconds ago (None: unknown)."""
        now = self._clock.now()
        submitted = now - (age or 0.0)
        first = submitted + self._jitter(self._typical())
        # A job known from an earlier run may be long done: look at once.
        check = now if age is None or first <= now else first
        if not self._jobs:
            self._wake.set()
        self._jobs[run_id] = _Job(key, run_id, submitted, check)

    def no_more_jobs(self) -> None:
        """Every job is submitted: once they have all ended, `run` returns."""
        self._more = False
        self._wake.set()

    def stop(self) -> None:
        """Stop waiting (Ctrl-C, a fatal error): jobs left keep their run ids, ``pending``."""
        self._stopped = True
        self._wake.set()

    async def run(self) -> None:
        """Check on jobs until each has a result or its time is up (or nothing to wait for)."""
        while not self._stopped:
            if not self._jobs and not self._more:
                return
            if self._jobs:
                self._from_callbacks()
                await self._check_due()
                self._give_up_late()
                if not self._wait and not self._more:
                    return  # one look is all `collect(wait=False)` and `submit` ask for
            await self._sleep()

    def leftovers(self) -> list[tuple[str, str]]:
        """``(key, run id)`` of the jobs still without a result."""
        return [(job.key, job.run_id) for job in self._jobs.values()]

    async def _sleep(self) -> None:
        wake = self._wake = anyio.Event()
        if not self._jobs:
            if self._more:
                await wake.wait()
            return
        until = min(job.next_check for job in self._jobs.values())
        if self._deadline is not None:
            until = min(until, self._deadline)
        # A callback may arrive any time: never sleep longer than a poll interval.
        delay = min(max(until - self._clock.now(), 0.0), self._poll)
        async with anyio.create_task_group() as tg:

            async def timer() -> None:
                await self._clock.sleep(delay)
                tg.cancel_scope.cancel()

            async def woken() -> None:
                await wake.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(timer)
            tg.start_soon(woken)

    def _from_callbacks(self) -> None:
        if self._ledger is None:
            return
        for run_id, body in self._ledger.callbacks(list(self._jobs)).items():
            if (outcome := self._read(body, run_id)) is not None:
                self._end(run_id, outcome)

    async def _check_due(self) -> None:
        now = self._clock.now()
        due = [job for job in self._jobs.values() if job.next_check <= now]
        if not self._wait and not self._more:
            due = list(self._jobs.values())  # one look at every job
        if not due:
            return
        async with anyio.create_task_group() as tg:
            for job in due:
                tg.start_soon(self._check, job)

    async def _check(self, job: _Job) -> None:
        async with self._slots:
            if self._stopped or job.run_id not in self._jobs:
                return
            await self._limiter.acquire()
            job.polls += 1
            self.polls += 1
            params = {self._endpoint.status_param: job.run_id}
            try:
                document = await self._session.status(self._endpoint.status_path, params)
            except NotFoundError:
                self._stop_at(job, Status.FAILED, f"Octave does not know the run id {job.run_id}")
                return
            except OctaveError as exc:
                job.failures += 1
                if job.failures >= _MAX_POLL_FAILURES:
                    self._stop_at(
                        job, Status.PENDING, f"status checks keep failing ({exc}); collect later"
                    )
                    return
                job.next_check = self._clock.now() + self._jitter(self._poll)
                return
        job.failures = 0
        outcome = self._read(document, job.run_id)
        if outcome is None:
            job.next_check = self._clock.now() + self._jitter(self._poll)
            return
        self._durations.append(self._clock.now() - job.submitted)
        self._end(job.run_id, outcome)

    def _give_up_late(self) -> None:
        now = self._clock.now()
        for job in list(self._jobs.values()):
            over_job = self._job_timeout is not None and now - job.submitted >= self._job_timeout
            over_all = self._deadline is not None and now >= self._deadline
            if not (over_job or over_all):
                continue
            self._stop_at(
                job,
                Status.FAILED,
                f"no result {now - job.submitted:.0f} s after submission; its run id is kept "
                "(octave_run_id): collect() looks again and never resubmits it",
            )

    def _stop_at(self, job: _Job, status: Status, reason: str) -> None:
        """End the wait for ``job`` without a result: ``status`` with ``reason``."""
        self._end(job.run_id, Outcome(status, error=reason, run_id=job.run_id))

    def _end(self, run_id: str, outcome: Outcome) -> None:
        job = self._jobs.pop(run_id, None)
        if job is None:
            return
        outcome.attempts = job.polls
        self._done(job.key, outcome)
