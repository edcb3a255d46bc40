"""The simulator's knobs and the snapshot of its counters."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .._exceptions import ArgumentError

__all__ = ["MAX_STEPS", "AsyncResultShape", "SimulatorConfig", "SimulatorCounters"]

#: What ``data.result`` of an async status answer holds: Octave's documentation shows
#: both the whole sync envelope and only its ``data``, so a client must accept either.
AsyncResultShape = Literal["envelope", "data"]

#: Octave's sequences have at most seven steps (``runtimeContext`` keys "1"-"7").
MAX_STEPS = 7


@dataclass(frozen=True, kw_only=True)
class SimulatorConfig:
    """How the simulated Octave behaves. Every field has a default; all are keyword-only.

    Attributes:
        api_keys: Keys the simulator accepts in the ``api_key`` header.
        latency: ``(low, high)`` seconds an agent run takes; each request's latency is
            chosen from a hash of its payload, so the same payload always takes as long.
            Octave takes 30-60 s; the default is that scaled by 1/100.
        rate: Agent requests per second allowed per API key (GCRA), or ``None`` for no limit.
        burst: Requests a key may send back to back before ``rate`` applies.
        max_in_flight: Agent requests open at once (all keys) before 429, or ``None``.
        error_rate: Fraction of admitted agent calls answered 500/502/503 (seeded RNG).
        hang_rate: Fraction of admitted agent calls that never answer (seeded RNG).
        hang_seconds: How long a hanging call waits before it does answer.
        not_found_rate: Fraction of contacts answered ``found: false``, chosen by payload hash.
        credits: Starting credit balance.
        cost_per_call: Credits one successful run costs (``_metadata.usage``).
        steps: Emails per sequence (1-7).
        seed: Seeds the fault RNG, request ids and generated content.
        async_result: Shape of an async job's ``result`` (status answer and callback):
            ``"envelope"``, the whole sync answer (``_metadata``, ``found``, ``data``), or
            ``"data"``, only its ``data``.
        job_duration: ``(low, high)`` seconds an async job runs, chosen from a hash of
            its request id; ``None`` uses ``latency``.
        job_failure_rate: Fraction of async jobs (by request id) that end with
            ``result: null`` and an ``error`` text. Billed only with ``bill_errors``.
        job_never_rate: Fraction of async jobs (by request id) that never finish and
            never call back; billed, as Octave started them.
        callback_duplicate_rate: Fraction of callbacks (by request id) delivered twice.
        callback_loss_rate: Fraction of callbacks (by request id) never delivered.
        callback_delay: ``(low, high)`` extra seconds between a job finishing (its status
            showing the result) and its callback being sent.
        callback_retries: Retries of a callback the receiver failed (connection error,
            timeout or non-2xx), with doubling backoff.
        callback_backoff: Seconds before the first callback retry.
        callback_timeout: Seconds the simulator waits for the receiver to answer.
        duplicate_callbacks: Shorthand for ``callback_duplicate_rate=1``.
        bill_errors: Charge runs answered with an injected 5xx. Off by default: a 5xx
            means no sequence was produced, so only runs that produced one (or hang, as
            Octave started them) are billed.
        clock: Monotonic clock of the rate limiter; tests inject a fake one.

    """

    api_keys: frozenset[str] = field(default=frozenset({"sim-key"}), repr=False)
    latency: tuple[float, float] = (0.3, 0.6)
    rate: float | None = None
    burst: int = 1
    max_in_flight: int | None = None
    error_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 3600.0
    not_found_rate: float = 0.03
    credits: float = 1_000_000.0
    cost_per_call: float = 1.0
    steps: int = 3
    seed: int = 0
    async_result: AsyncResultShape = "envelope"
    job_duration: tuple[float, float] | None = None
    job_failure_rate: float = 0.0
    job_never_rate: float = 0.0
    callback_duplicate_rate: float = 0.0
    callback_loss_rate: float = 0.0
    callback_delay: tuple[float, float] = (0.0, 0.0)
    callback_retries: int = 3
    callback_backoff: float = 0.5
    callback_timeout: float = 5.0
    duplicate_callbacks: bool = False
    bill_errors: bool = False
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept any iterable of keys (a list, a set) but keep the frozen type.
        object.__setattr__(self, "api_keys", frozenset(self.api_keys))
        for name in ("latency", "job_duration", "callback_delay"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(float(x) for x in value))
        if self.duplicate_callbacks:
            object.__setattr__(self, "callback_duplicate_rate", 1.0)
        problems = list(_problems(self))
        if problems:
            raise ArgumentError("invalid SimulatorConfig: " + "; ".join(problems))


def _problems(cfg: SimulatorConfig) -> list[str]:
    out: list[str] = []
    if not cfg.api_keys or not all(isinstance(k, str) and k for k in cfg.api_keys):
        out.append("api_keys must be non-empty strings")
    for name in ("latency", "job_duration", "callback_delay"):
        span = getattr(cfg, name)
        if span is not None and (len(span) != 2 or not 0 <= span[0] <= span[1] < math.inf):
            out.append(f"{name} must be (low, high) with 0 <= low <= high, got {span!r}")
    if cfg.rate is not None and not 0 < cfg.rate < math.inf:
        out.append(f"rate must be positive or None, got {cfg.rate!r}")
    if cfg.burst < 1:
        out.append(f"burst must be >= 1, got {cfg.burst!r}")
    if cfg.max_in_flight is not None and cfg.max_in_flight < 1:
        out.append(f"max_in_flight must be >= 1 or None, got {cfg.max_in_flight!r}")
    rates = ("error_rate", "hang_rate", "not_found_rate", "job_failure_rate", "job_never_rate")
    for name in (*rates, "callback_duplicate_rate", "callback_loss_rate"):
        value = getattr(cfg, name)
        if not 0.0 <= value <= 1.0:
            out.append(f"{name} must be within [0, 1], got {value!r}")
    if cfg.error_rate + cfg.hang_rate > 1.0:
        out.append("error_rate + hang_rate must not exceed 1")
    if cfg.job_failure_rate + cfg.job_never_rate > 1.0:
        out.append("job_failure_rate + job_never_rate must not exceed 1")
    if cfg.async_result not in ("envelope", "data"):
        out.append(f"async_result must be 'envelope' or 'data', got {cfg.async_result!r}")
    if cfg.callback_retries < 0 or cfg.callback_backoff < 0 or cfg.callback_timeout <= 0:
        out.append("callback_retries and callback_backoff must be >= 0, callback_timeout > 0")
    if cfg.hang_seconds < 0:
        out.append(f"hang_seconds must be >= 0, got {cfg.hang_seconds!r}")
    if cfg.credits < 0 or cfg.cost_per_call < 0:
        out.append("credits and cost_per_call must be >= 0")
    if not 1 <= cfg.steps <= MAX_STEPS:
        out.append(f"steps must be within 1-{MAX_STEPS}, got {cfg.steps!r}")
    return out


@dataclass(frozen=True, kw_only=True)
class SimulatorCounters:
    """A consistent snapshot of what the simulator has seen since it started or was reset.

    Served as JSON at ``GET /_simulator/counters`` (see :meth:`to_json`).

    Attributes:
        requests: Every HTTP request to the API, any path (not ``/_simulator/…``).
        agent_requests: Requests to the billable run endpoints: the sync and async agent
            runs, headless email generation (sync and async) and workflow runs.
        billed: Runs started and charged (money spent).
        unique_billed: Distinct billing keys among them; ``billed - unique_billed`` is
            ``duplicates``. A run's billing key is its ``x-external-request-id`` header,
            or its canonical JSON body when the header is absent.
        duplicates: Billed runs whose billing key had been billed before: money paid twice.
        by_status: HTTP status -> responses sent with it.
        credits_remaining: The balance now.
        in_flight: Billable requests open right now.
        max_in_flight_seen: The most billable requests ever open at once.
        submissions: Async jobs accepted (agent runs, headless emails, workflows).
        polls: Status requests (``GET …/status``) naming an id, known or not.
        polls_by_id: Job id -> status requests for it (only jobs polled at least once).
        callbacks_sent: Callback POSTs the receiver accepted (2xx), duplicates included.
        callbacks_failed: Callback POSTs that failed (connection error, timeout, non-2xx);
            each is retried until ``callback_retries`` is exhausted.
        callbacks_abandoned: Callbacks given up after every retry failed.
        callbacks_duplicated: Callbacks deliberately delivered a second time.
        callbacks_lost: Callbacks deliberately never sent (``callback_loss_rate``).
        callbacks_refused: Callbacks not sent because the URL was not loopback.

    """

    requests: int
    agent_requests: int
    billed: int
    unique_billed: int
    duplicates: int
    by_status: Mapping[int, int]
    credits_remaining: float
    in_flight: int
    max_in_flight_seen: int
    submissions: int
    polls: int
    polls_by_id: Mapping[str, int]
    callbacks_sent: int
    callbacks_failed: int
    callbacks_abandoned: int
    callbacks_duplicated: int
    callbacks_lost: int
    callbacks_refused: int

    @property
    def polls_per_job_max(self) -> int:
        """The most status requests any one job received."""
        return max(self.polls_by_id.values(), default=0)

    @property
    def polls_per_job_mean(self) -> float:
        """Status requests for known jobs per job submitted (0 when none was submitted)."""
        return sum(self.polls_by_id.values()) / self.submissions if self.submissions else 0.0

    def to_json(self, *, polls_by_id: bool = False) -> dict[str, Any]:
        """Return the counters as a JSON-ready dict (status codes as string keys).

        Args:
            polls_by_id: Include the per-job poll counts (one entry per polled job).

        Returns:
            Every field, plus ``polls_per_job_max`` and ``polls_per_job_mean``.

        """
        out = asdict(self)
        out["by_status"] = {str(k): v for k, v in sorted(self.by_status.items())}
        out["polls_per_job_max"] = self.polls_per_job_max
        out["polls_per_job_mean"] = round(self.polls_per_job_mean, 3)
        if not polls_by_id:
            del out["polls_by_id"]
        return out
