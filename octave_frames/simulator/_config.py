"""The simulator's knobs and the snapshot of its counters."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .._exceptions import ArgumentError

__all__ = ["MAX_STEPS", "SimulatorConfig", "SimulatorCounters"]

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
        duplicate_callbacks: Deliver every async callback twice, as Octave may.
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
    duplicate_callbacks: bool = False
    bill_errors: bool = False
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept any iterable of keys (a list, a set) but keep the frozen type.
        object.__setattr__(self, "api_keys", frozenset(self.api_keys))
        object.__setattr__(self, "latency", tuple(float(x) for x in self.latency))
        problems = list(_problems(self))
        if problems:
            raise ArgumentError("invalid SimulatorConfig: " + "; ".join(problems))


def _problems(cfg: SimulatorConfig) -> list[str]:
    out: list[str] = []
    if not cfg.api_keys or not all(isinstance(k, str) and k for k in cfg.api_keys):
        out.append("api_keys must be non-empty strings")
    if len(cfg.latency) != 2 or not 0 <= cfg.latency[0] <= cfg.latency[1] < math.inf:
        out.append(f"latency must be (low, high) with 0 <= low <= high, got {cfg.latency!r}")
    if cfg.rate is not None and not 0 < cfg.rate < math.inf:
        out.append(f"rate must be positive or None, got {cfg.rate!r}")
    if cfg.burst < 1:
        out.append(f"burst must be >= 1, got {cfg.burst!r}")
    if cfg.max_in_flight is not None and cfg.max_in_flight < 1:
        out.append(f"max_in_flight must be >= 1 or None, got {cfg.max_in_flight!r}")
    for name in ("error_rate", "hang_rate", "not_found_rate"):
        value = getattr(cfg, name)
        if not 0.0 <= value <= 1.0:
            out.append(f"{name} must be within [0, 1], got {value!r}")
    if cfg.error_rate + cfg.hang_rate > 1.0:
        out.append("error_rate + hang_rate must not exceed 1")
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

    Attributes:
        requests: Every HTTP request, any path.
        agent_requests: Requests to the sync and async agent-run endpoints.
        billed: Agent runs started and charged.
        duplicates: Billed runs whose canonical payload had been billed before.
        by_status: HTTP status -> responses sent with it.
        credits_remaining: The balance now.
        in_flight: Agent requests open right now.
        max_in_flight_seen: The most agent requests ever open at once.
        callbacks_sent: Async callbacks delivered (any HTTP answer counts as delivered).
        callbacks_failed: Async callbacks that could not be delivered.
        callbacks_refused: Async callbacks not sent because the URL was not loopback.

    """

    requests: int
    agent_requests: int
    billed: int
    duplicates: int
    by_status: Mapping[int, int]
    credits_remaining: float
    in_flight: int
    max_in_flight_seen: int
    callbacks_sent: int
    callbacks_failed: int
    callbacks_refused: int
