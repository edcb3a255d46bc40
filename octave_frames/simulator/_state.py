"""The simulator's mutable state, shared between the server thread and the test thread.

Everything lives behind one ``threading.Lock`` held only for plain bookkeeping, never
across an ``await``: the app may run on uvicorn's loop in a background thread while a
test reads the counters from the main thread, or in-process on the caller's loop.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ._config import SimulatorConfig, SimulatorCounters

__all__ = ["Decision", "Job", "State", "now_iso"]

Outcome = Literal["fail", "busy", "limited", "broke", "error", "hang", "not_found", "ok"]
_SERVER_ERRORS = (500, 502, 503)


def now_iso() -> str:
    """Return the current UTC time the way Octave writes it: ``2021-01-01T00:00:00.000Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one agent request that passed validation."""

    outcome: Outcome
    status: int
    request_id: str
    retry_after: float | None = None


@dataclass(slots=True)
class Job:
    """One async agent run. ``result``/``error`` count only once ``ready_at`` has passed."""

    request_id: str
    agent_oid: str | None
    callback_url: str
    created_at: str
    ready_at: float
    result: dict[str, Any] | None
    error: str | None
    usage: float


class State:
    """Counters, limiter, scripted faults, fault RNG and async jobs of one simulator."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything: counters, credits, limiter, scripts, jobs, the RNG's position."""
        with self._lock:
            self._requests = 0
            self._agent_requests = 0
            self._billed = 0
            self._duplicates = 0
            self._by_status: Counter[int] = Counter()
            self._credits = float(self.config.credits)
            self._in_flight = 0
            self._max_in_flight = 0
            self._callbacks: Counter[str] = Counter()
            self._serial = 0
            self._tat: dict[str, float] = {}
            self._script: deque[tuple[str, int, float | None]] = deque()
            self._rng = random.Random(self.config.seed)
            self._seen: set[bytes] = set()
            self._jobs: dict[str, Job] = {}
            self._received: list[dict[str, Any]] = []
            self._received_headers: list[dict[str, str]] = []

    # -- bookkeeping -------------------------------------------------------------------
    def count_request(self, *, agent: bool) -> None:
        """Count one HTTP request (and whether it hit an agent-run endpoint)."""
        with self._lock:
            self._requests += 1
            self._agent_requests += agent

    def count_status(self, status: int) -> None:
        """Count one response sent."""
        with self._lock:
            self._by_status[status] += 1

    def count_callback(self, what: Literal["sent", "failed", "refused"]) -> None:
        """Count one async callback attempt."""
        with self._lock:
            self._callbacks[what] += 1

    def record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        """Keep an agent request's JSON body and headers for tests to inspect."""
        with self._lock:
            self._received.append(body)
            self._received_headers.append(headers)

    def enter(self) -> None:
        """Mark an agent request open."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def leave(self) -> None:
        """Mark an agent request closed (answered, failed or abandoned)."""
        with self._lock:
            self._in_flight -= 1

    def new_request_id(self) -> str:
        """Return a fresh request id, deterministic from the seed and arrival order."""
        with self._lock:
            return self._next_id()

    def _next_id(self) -> str:
        self._serial += 1
        raw = hashlib.blake2b(f"{self.config.seed}:{self._serial}".encode(), digest_size=16)
        return str(uuid.UUID(bytes=raw.digest(), version=4))

    def script(self, n: int, kind: str, status: int = 0, retry_after: float | None = None) -> None:
        """Queue ``n`` scripted faults (``"fail"`` with a status, or ``"hang"``)."""
        with self._lock:
            self._script.extend([(kind, status, retry_after)] * n)

    # -- the agent pipeline ------------------------------------------------------------
    def admit(self, key: str, canonical_body: str, *, unmatched: bool) -> Decision:
        """Run one agent request through faults, limits, credits and billing, atomically.

        The order is the documented one: scripted faults, in-flight cap, rate limit,
        credits, then injected 5xx (not billed unless ``bill_errors``), hang (billed:
        Octave started the job), "no match" (not billed), and finally the billed run.
        """
        with self._lock:
            rid = self._next_id()
            kind, status, retry_after = self._script.popleft() if self._script else ("", 0, None)
            refused = self._refusal(key, kind, status, retry_after)
            if refused is not None:
                return Decision(refused[0], refused[1], rid, refused[2])
            outcome, status = self._start(canonical_body, hang=kind == "hang", unmatched=unmatched)
            return Decision(outcome, status, rid)

    def _refusal(
        self, key: str, kind: str, status: int, retry_after: float | None
    ) -> tuple[Outcome, int, float | None] | None:
        """Return the answer that stops a run before it starts, if any."""
        cfg = self.config
        if kind == "fail":
            return "fail", status, retry_after
        if cfg.max_in_flight is not None and self._in_flight > cfg.max_in_flight:
            return "busy", 429, 1.0
        wait = self._gcra(key)
        if wait is not None:
            return "limited", 429, float(max(1, math.ceil(wait)))
        if self._credits < cfg.cost_per_call:
            return "broke", 402, None
        return None

    def _start(self, canonical_body: str, *, hang: bool, unmatched: bool) -> tuple[Outcome, int]:
        """Decide how an admitted run ends, billing it if Octave would have started it."""
        cfg = self.config
        if not hang:
            # Draw exactly once per admitted, unscripted call so the fault sequence
            # depends only on the seed and the order of arrival.
            draw = self._rng.random()
            if draw < cfg.error_rate:
                if cfg.bill_errors:
                    self._bill(canonical_body)
                return "error", self._rng.choice(_SERVER_ERRORS)
            hang = draw < cfg.error_rate + cfg.hang_rate
        if hang:
            self._bill(canonical_body)
            return "hang", 0
        if unmatched:
            return "not_found", 200
        self._bill(canonical_body)
        return "ok", 200

    def _gcra(self, key: str) -> float | None:
        """Take a slot for ``key``; return seconds to wait if there is none (GCRA)."""
        rate = self.config.rate
        if rate is None:
            return None
        interval = 1.0 / rate
        now = self.config.clock()
        tat = max(self._tat.get(key, now), now)
        allowed_at = tat + interval - self.config.burst * interval
        if now < allowed_at:
            return allowed_at - now
        self._tat[key] = tat + interval
        return None

    def _bill(self, canonical_body: str) -> None:
        self._billed += 1
        self._credits -= self.config.cost_per_call
        digest = hashlib.blake2b(canonical_body.encode(), digest_size=16).digest()
        if digest in self._seen:
            self._duplicates += 1
        self._seen.add(digest)

    # -- async jobs --------------------------------------------------------------------
    def add_job(self, job: Job) -> None:
        """Remember an async run."""
        with self._lock:
            self._jobs[job.request_id] = job

    def job(self, request_id: str) -> Job | None:
        """Return the async run with that id, if any."""
        with self._lock:
            return self._jobs.get(request_id)

    # -- reading -----------------------------------------------------------------------
    @property
    def credits(self) -> float:
        """The balance now."""
        with self._lock:
            return self._credits

    def snapshot(self) -> SimulatorCounters:
        """Return all counters, read together."""
        with self._lock:
            return SimulatorCounters(
                requests=self._requests,
                agent_requests=self._agent_requests,
                billed=self._billed,
                duplicates=self._duplicates,
                by_status=dict(self._by_status),
                credits_remaining=self._credits,
                in_flight=self._in_flight,
                max_in_flight_seen=self._max_in_flight,
                callbacks_sent=self._callbacks["sent"],
                callbacks_failed=self._callbacks["failed"],
                callbacks_refused=self._callbacks["refused"],
            )

    def received_snapshot(self) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """Return copies of the received bodies and headers, read together."""
        with self._lock:
            return list(self._received), list(self._received_headers)
