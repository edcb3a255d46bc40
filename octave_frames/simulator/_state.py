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
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ._config import SimulatorConfig, SimulatorCounters

__all__ = ["CallbackEvent", "Decision", "Job", "JobFate", "State", "job_unit", "now_iso"]

Outcome = Literal[
    "fail",
    "busy",
    "limited",
    "broke",
    "error",
    "hang",
    "not_found",
    "ok",
    "job_failed",
    "job_never",
]
#: How an admitted async job ends, decided from its request id.
JobFate = Literal["ok", "failed", "never"]
CallbackEvent = Literal["sent", "failed", "abandoned", "duplicated", "lost", "refused"]
_SERVER_ERRORS = (500, 502, 503)


def job_unit(seed: int, request_id: str, salt: str) -> float:
    """Return a number in [0, 1) fixed by the seed, a job's request id and ``salt``."""
    raw = hashlib.blake2b(f"{seed}|{request_id}|{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(raw, "big") / 2.0**64


def _fate(cfg: SimulatorConfig, request_id: str) -> JobFate:
    draw = job_unit(cfg.seed, request_id, "fate")
    if draw < cfg.job_failure_rate:
        return "failed"
    return "never" if draw < cfg.job_failure_rate + cfg.job_never_rate else "ok"


def now_iso(later: float = 0.0) -> str:
    """Return the UTC time ``later`` seconds from now as Octave writes it: ``…T00:00:00.000Z``."""
    moment = datetime.now(UTC) + timedelta(seconds=later)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one agent request that passed validation."""

    outcome: Outcome
    status: int
    request_id: str
    retry_after: float | None = None


@dataclass(slots=True)
class Job:
    """One async run (agent, headless emails or workflow).

    ``result`` and ``error`` are fixed at submission and become visible once
    ``ready_at`` (``time.monotonic``) has passed; ``math.inf`` never comes.
    """

    request_id: str
    kind: Literal["agent", "headless", "workflow"]
    oid: str | None
    callback_url: str | None
    created_at: str
    completed_at: str | None
    submitted_at: float
    ready_at: float
    result: Any
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
            self._callbacks: Counter[CallbackEvent] = Counter()
            self._submissions = 0
            self._polls = 0
            self._polls_by_id: Counter[str] = Counter()
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

    def count_callback(self, what: CallbackEvent) -> None:
        """Count one event in a callback's life (see :class:`SimulatorCounters`)."""
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
    def admit(
        self, key: str, billing_key: str, *, unmatched: bool, job_prefix: str | None = None
    ) -> Decision:
        """Run one billable request through faults, limits, credits and billing, atomically.

        The order is the documented one: scripted faults, in-flight cap, rate limit,
        credits, then injected 5xx (not billed unless ``bill_errors``), hang (billed:
        Octave started the job), "no match" (not billed), and finally the billed run.
        An async submission (``job_prefix`` given, e.g. ``"asyncReqID_"``) gets a job id
        with that prefix, and its fate: a job that fails is billed only with
        ``bill_errors``, one that never finishes is billed.

        Args:
            key: The API key, for the rate limit.
            billing_key: What makes two runs "the same" for ``duplicates``.
            unmatched: Whether the contact is one Octave cannot match.
            job_prefix: The id prefix of an async submission; ``None`` for a sync call.

        Returns:
            What to answer, with the request (or job) id.

        """
        with self._lock:
            rid = self._next_id()
            if job_prefix is not None:
                rid = job_prefix + rid.replace("-", "")[:21]
            kind, status, retry_after = self._script.popleft() if self._script else ("", 0, None)
            refused = self._refusal(key, kind, status, retry_after)
            if refused is not None:
                return Decision(refused[0], refused[1], rid, refused[2])
            fate = _fate(self.config, rid) if job_prefix is not None else "ok"
            outcome, status = self._start(
                billing_key, hang=kind == "hang", unmatched=unmatched, fate=fate
            )
            if job_prefix is not None and outcome != "error":
                self._submissions += 1
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

    def _start(
        self, billing_key: str, *, hang: bool, unmatched: bool, fate: JobFate
    ) -> tuple[Outcome, int]:
        """Decide how an admitted run ends, billing it if Octave would have started it."""
        cfg = self.config
        if not hang:
            # Draw exactly once per admitted, unscripted call so the fault sequence
            # depends only on the seed and the order of arrival.
            draw = self._rng.random()
            if draw < cfg.error_rate:
                if cfg.bill_errors:
                    self._bill(billing_key)
                return "error", self._rng.choice(_SERVER_ERRORS)
            hang = draw < cfg.error_rate + cfg.hang_rate
        if hang:
            self._bill(billing_key)
            return "hang", 0
        if unmatched:
            return "not_found", 200
        if fate == "failed":
            if cfg.bill_errors:
                self._bill(billing_key)
            return "job_failed", 200
        self._bill(billing_key)
        return ("job_never" if fate == "never" else "ok"), 200

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

    def _bill(self, billing_key: str) -> None:
        self._billed += 1
        self._credits -= self.config.cost_per_call
        digest = hashlib.blake2b(billing_key.encode(), digest_size=16).digest()
        if digest in self._seen:
            self._duplicates += 1
        self._seen.add(digest)

    # -- async jobs --------------------------------------------------------------------
    def add_job(self, job: Job) -> None:
        """Remember an async run."""
        with self._lock:
            self._jobs[job.request_id] = job

    def poll(self, request_id: str) -> Job | None:
        """Count one status request for ``request_id``; return its job, if any."""
        with self._lock:
            self._polls += 1
            job = self._jobs.get(request_id)
            if job is not None:
                self._polls_by_id[request_id] += 1
            return job

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
                unique_billed=len(self._seen),
                duplicates=self._duplicates,
                by_status=dict(self._by_status),
                credits_remaining=self._credits,
                in_flight=self._in_flight,
                max_in_flight_seen=self._max_in_flight,
                submissions=self._submissions,
                polls=self._polls,
                polls_by_id=dict(self._polls_by_id),
                callbacks_sent=self._callbacks["sent"],
                callbacks_failed=self._callbacks["failed"],
                callbacks_abandoned=self._callbacks["abandoned"],
                callbacks_duplicated=self._callbacks["duplicated"],
                callbacks_lost=self._callbacks["lost"],
                callbacks_refused=self._callbacks["refused"],
            )

    def received_snapshot(self) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """Return copies of the received bodies and headers, read together."""
        with self._lock:
            return list(self._received), list(self._received_headers)
