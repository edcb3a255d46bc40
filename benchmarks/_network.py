"""Scenarios over real loopback HTTP: octave_frames against the hand-written loops.

Every scenario serves its own simulator from a child process, runs octave_frames, then
(after resetting the simulator's counters and rate-limit state) each baseline on the
same rows. Bounds: rate-bound ``(rows - 1) / rate + latency``; latency-bound
``rows x mean latency / concurrency``; async ``(rows - 1) / rate + the longest job``.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

import octave_frames as of
from octave_frames._clock import SYSTEM_CLOCK

from ._baselines import aiohttp_gather, apply_blocking, httpx_aiolimiter
from ._sim import KEY, Server, serve_child
from ._table import Goal, Line, Scenario

__all__ = [
    "FULL",
    "QUICK",
    "Sizes",
    "async_modes",
    "auto_rate",
    "contacts",
    "latency_bound",
    "ours",
    "rate_bound",
]


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is: ``FULL`` (the issue's sizes) or ``QUICK``."""

    rate_rows: int = 2000
    latency_rows: tuple[int, int] = (2000, 4000)  # at 64 and 256 in flight
    httpx_rows: int = 500  # httpx's own pool costs ~9-13 ms CPU a call: a slice
    apply_rows: int = 8
    async_rows: int = 1000
    auto_seconds: tuple[float, float] = (20.0, 15.0)  # at 50/s, then at 100/s
    local_rows: tuple[int, ...] = (1_000, 10_000, 100_000)
    excel_rows: tuple[int, ...] = (1_000, 10_000, 100_000)
    memory_rows: int = 20_000
    import_runs: int = 5
    server_gc: bool = False


FULL = Sizes()
QUICK = Sizes(
    rate_rows=400,
    latency_rows=(512, 1024),
    httpx_rows=100,
    apply_rows=3,
    async_rows=200,
    auto_seconds=(6.0, 6.0),
    local_rows=(1_000, 10_000),
    excel_rows=(1_000,),
    memory_rows=1_500,
    import_runs=3,
)


def contacts(n: int) -> pd.DataFrame:
    """N distinct contacts as a CRM export has them."""
    return pd.DataFrame(
        {
            "Work Email": [f"person{i}@acme{i % 97}.com" for i in range(n)],
            "First Name": [f"P{i}" for i in range(n)],
            "Company": [f"Acme {i % 97}" for i in range(n)],
            "Account Research": [f"Acme {i % 97} expanded its partner program." for i in range(n)],
        }
    )


#: What every octave_frames run of the benchmarks passes.
RUN_ARGS: dict[str, Any] = {
    "agent": "ca_bench",
    "context": {"all": "{Account Research}"},
    "api_key": KEY,
    "progress": False,
}


def ours(frame: pd.DataFrame, url: str, cache: Path | bool, **kw: Any) -> tuple[Line, pd.DataFrame]:
    """One ``of.sequence`` run: its line (wall, CPU, ok rows) and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = of.sequence(frame, base_url=url, cache=cache, **RUN_ARGS, **kw)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ok = int((out["octave_status"] == "ok").sum())
    return Line("octave_frames", len(frame), wall, cpu=cpu, ok=ok), out


@contextmanager
def count_timers() -> Iterator[dict[str, int]]:
    """Count event-loop timers (``call_at``) and the limiter's sleeps inside the block."""
    counts = {"timers": 0, "sleeps": 0}
    call_at = asyncio.BaseEventLoop.call_at
    sleep = SYSTEM_CLOCK.sleep

    def counting_call_at(loop: asyncio.BaseEventLoop, *args: Any, **kwargs: Any) -> Any:
        counts["timers"] += 1
        return call_at(loop, *args, **kwargs)

    async def counting_sleep(seconds: float) -> None:
        counts["sleeps"] += 1
        await sleep(seconds)

    asyncio.BaseEventLoop.call_at = counting_call_at  # type: ignore[method-assign,assignment]
    SYSTEM_CLOCK.sleep = counting_sleep  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        asyncio.BaseEventLoop.call_at = call_at  # type: ignore[method-assign]
        del SYSTEM_CLOCK.sleep


def _refused(server: Server) -> int:
    return server.statuses().get(429, 0)


def _with_baselines(
    scenario: Scenario,
    server: Server,
    frame: pd.DataFrame,
    *,
    concurrency: int,
    rate: float | None,
    sizes: Sizes,
    bound: Callable[[int], float],
) -> None:
    """Run the three hand-written loops on the same server, each on a fresh limiter."""
    server.reset()
    floor = aiohttp_gather(server.url, frame, concurrency, rate)
    floor.bound, floor.extra["429s"] = bound(floor.rows), _refused(server)
    server.reset()
    part = frame.head(sizes.httpx_rows) if concurrency > 64 or rate is None else frame
    pooled = httpx_aiolimiter(server.url, part, concurrency, rate or 1e6)
    pooled.bound = bound(pooled.rows)
    if pooled.rows < len(frame):
        pooled.note = f"on the first {pooled.rows} rows: httpx's pool is slow at this concurrency"
    server.reset()
    naive = apply_blocking(server.url, frame.head(sizes.apply_rows))
    naive.bound = bound(naive.rows)
    naive.extra["429s"] = _refused(server)
    scaled = naive.wall / naive.rows * len(frame)
    naive.note = f"a {naive.rows}-row slice (it is slow): {scaled:.0f} s for all {len(frame)} rows"
    scenario.lines += [pooled, floor, naive]


def _cpu_goal(scenario: Scenario, what: str) -> None:
    line, floor = scenario.line("octave_frames"), scenario.line("aiohttp gather (CPU floor)")
    if line and floor and line.cpu_ms_per_row and floor.cpu_ms_per_row:
        ratio = line.cpu_ms_per_row / floor.cpu_ms_per_row
        scenario.goals.append(Goal(f"{what}CPU per row / raw aiohttp", ratio, 1.2))


def rate_bound(sizes: Sizes) -> Scenario:
    """2,000 rows at rate=200 against a server allowing 200/s, 50 ms a call, 64 in flight."""
    n, rate, latency, concurrency = sizes.rate_rows, 200.0, 0.05, 64
    scenario = Scenario(
        "rate-bound",
        f"rate-bound: {n} rows, server limit {rate:g}/s (burst 10), {latency * 1e3:g} ms a "
        f"call, rate={rate:g}, {concurrency} in flight",
    )

    def bound(rows: int) -> float:
        return (rows - 1) / rate + latency

    frame = contacts(n)
    config: dict[str, Any] = {"latency": [latency, latency], "rate": rate, "burst": 10}
    with (
        serve_child(**config, not_found_rate=0.0, server_gc=sizes.server_gc) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        with count_timers() as counts:
            line, _ = ours(frame, server.url, Path(tmp) / "c.sqlite", rate=rate, concurrency=64)
        line.bound = bound(n)
        line.extra["429s"] = _refused(server)
        line.extra["timers/row"] = round(counts["timers"] / n, 2)
        line.extra["limiter sleeps/row"] = round(counts["sleeps"] / n, 2)
        scenario.lines.append(line)
        _with_baselines(
            scenario, server, frame, concurrency=concurrency, rate=rate, sizes=sizes, bound=bound
        )
    assert line.ratio is not None
    scenario.goals.append(Goal("bound / wall", line.ratio, 0.97, higher_is_better=True))
    scenario.goals.append(Goal("share of calls answered 429", line.extra["429s"] / n, 0.01))
    scenario.goals.append(Goal("rows ok", float(line.ok or 0), float(n), higher_is_better=True))
    _cpu_goal(scenario, "")
    return scenario


def latency_bound(sizes: Sizes, concurrency: int) -> Scenario:
    """No server limit, 0.2-0.3 s a call: how close to rows x latency / concurrency."""
    n = sizes.latency_rows[0 if concurrency <= 64 else 1]
    low, high = 0.2, 0.3
    scenario = Scenario(
        f"latency-bound-{concurrency}",
        f"latency-bound: {n} rows, {low:g}-{high:g} s a call, no server limit, "
        f"{concurrency} in flight",
    )

    def bound(rows: int) -> float:
        return rows * (low + high) / 2 / concurrency

    frame = contacts(n)
    with (
        serve_child(latency=[low, high], not_found_rate=0.0, server_gc=sizes.server_gc) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        line, _ = ours(frame, server.url, Path(tmp) / "c.sqlite", rate=1e6, concurrency=concurrency)
        line.bound = bound(n)
        scenario.lines.append(line)
        _with_baselines(
            scenario, server, frame, concurrency=concurrency, rate=None, sizes=sizes, bound=bound
        )
    _cpu_goal(scenario, f"{concurrency} in flight: ")
    return scenario


def _counters_delta(server: Server, before: dict[str, Any]) -> tuple[int, int]:
    after = server.counters()
    polls = after["polls"] - before["polls"]
    return polls, max(after["submissions"] - before["submissions"], 1)


def async_modes(sizes: Sizes) -> Scenario:
    """Sync against async (polled, then with callbacks): jobs of 0.3-0.6 s, poll 0.075 s."""
    n, rate, concurrency = sizes.async_rows, 200.0, 64
    scenario = Scenario(
        "async",
        f"sync and async modes: {n} rows, calls and jobs of 0.3-0.6 s (Octave's scaled by "
        f"1/100, so poll=0.075 s stands for 7.5 s), rate={rate:g}, {concurrency} in flight",
    )
    frame = contacts(n)
    common: dict[str, Any] = {"rate": rate, "concurrency": concurrency}
    config: dict[str, Any] = {"latency": [0.3, 0.6], "job_duration": [0.3, 0.6]}
    with serve_child(**config, not_found_rate=0.0, server_gc=sizes.server_gc) as server:
        for name, extra in [
            ("sync", {}),
            ("async, polled", {"mode": "async", "poll": 0.075}),
            ("async, callbacks", {"mode": "async", "poll": 0.075, "callbacks": True}),
        ]:
            before = server.counters()
            with tempfile.TemporaryDirectory() as tmp:
                cache = Path(tmp) / "ledger.sqlite"
                kwargs = {**common, **extra}
                if kwargs.pop("callbacks", False):
                    line = _with_callbacks(frame, server.url, cache, kwargs)
                else:
                    line, _ = ours(frame, server.url, cache, **kwargs)
            polls, jobs = _counters_delta(server, before)
            line.variant = f"octave_frames, {name}"
            if name == "sync":
                line.bound = max(n * 0.45 / concurrency, n / rate)
            else:
                line.bound = (n - 1) / rate + 0.6
                line.extra["status calls/job"] = round(polls / jobs, 2)
            scenario.lines.append(line)
    return scenario


def _with_callbacks(frame: pd.DataFrame, url: str, cache: Path, kwargs: dict[str, Any]) -> Line:
    from octave_frames.simulator import serve

    receiver = of.callback_app(cache)
    try:
        with serve(receiver) as base:
            line, _ = ours(frame, url, cache, callback_url=of.callback_url(base, cache), **kwargs)
    finally:
        receiver.close()
    return line


def auto_rate(sizes: Sizes) -> Scenario:
    """rate="auto" against a limit it is not told: 50/s, raised to 100/s mid-run."""
    first, second = sizes.auto_seconds
    low, high, latency = 50.0, 100.0, 0.05
    n = int(low * first + high * second)
    scenario = Scenario(
        "auto",
        f"rate='auto': {n} rows, server limit {low:g}/s (burst 10, not told), raised to "
        f"{high:g}/s after {first:g} s, {latency * 1e3:g} ms a call, 64 in flight",
    )
    frame = contacts(n)
    samples: list[tuple[float, int, int]] = []
    config: dict[str, Any] = {"latency": [latency, latency], "rate": low, "burst": 10}
    with (
        serve_child(**config, not_found_rate=0.0, server_gc=sizes.server_gc) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        done = threading.Event()

        def watch() -> None:
            start, raised = time.monotonic(), False
            with httpx.Client(base_url=server.url) as client:  # one connection, little CPU
                while not done.is_set():
                    now = time.monotonic() - start
                    by_status = client.get("/_simulator/counters").json()["by_status"]
                    samples.append((now, by_status.get("200", 0), by_status.get("429", 0)))
                    if not raised and now >= first:
                        client.post("/_simulator/limits", json={"rate": high}).raise_for_status()
                        raised = True
                    done.wait(0.25)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            line, _ = ours(frame, server.url, Path(tmp) / "c.sqlite", rate="auto", concurrency=64)
        finally:
            done.set()
            watcher.join()
        refused = _refused(server)
    line.variant = "octave_frames, rate='auto'"
    line.note = "CPU includes a thread reading the simulator's counters 4 times a second"
    line.bound = first + max(n - low * first, 0) / high + latency
    line.extra["429s"] = refused
    scenario.lines.append(line)
    warm = min(5.0, first / 2)  # past the slow start
    steady = _rate_between(samples, warm, first) / low
    recovered = _first_window_at(samples, first, 0.9 * high)
    after = (
        _rate_between(samples, recovered, samples[-1][0] - 0.5) / high
        if recovered is not None and recovered < samples[-1][0] - 2
        else float("nan")
    )
    scenario.figures.update(
        {
            f"share of {low:g}/s held, 0-{first:g} s": round(
                _rate_between(samples, 0, first) / low, 3
            ),
            f"share of {low:g}/s held, {warm:g}-{first:g} s": round(steady, 3),
            f"seconds to reach 90% of {high:g}/s after the raise": (
                None if recovered is None else round(recovered - first, 1)
            ),
            f"share of {high:g}/s held after that": round(after, 3),
            "429s / calls": round(refused / (n + refused), 4),
        }
    )
    scenario.goals.append(Goal(f"share of an unknown {low:g}/s held", steady, 0.9, True))
    scenario.goals.append(Goal(f"share of {high:g}/s held once found", after, 0.9, True))
    scenario.goals.append(Goal("share of calls answered 429", refused / (n + refused), 0.03))
    return scenario


def _rate_between(samples: list[tuple[float, int, int]], start: float, end: float) -> float:
    inside = [s for s in samples if start <= s[0] <= end]
    if len(inside) < 2:
        return float("nan")
    return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


def _first_window_at(
    samples: list[tuple[float, int, int]], after: float, rate: float, window: float = 1.0
) -> float | None:
    for k, (t, ok, _) in enumerate(samples):
        if t < after:
            continue
        later = next((s for s in samples[k:] if s[0] >= t + window), None)
        if later is None:
            return None
        if (later[1] - ok) / (later[0] - t) >= rate:
            return t
    return None
