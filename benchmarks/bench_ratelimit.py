"""How much the rate limiter costs, how many sleeps a grant takes, how precisely it paces.

Run: ``python -m benchmarks.bench_ratelimit`` (also the ``limiter`` scenario of
``python -m benchmarks``).
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time

import anyio

from octave_frames._clock import FakeClock
from octave_frames._ratelimit import RateLimiter

from ._table import Goal, Scenario

__all__ = ["fake_thousand", "limiter", "overhead", "real_pacing", "sleeps_per_grant"]


async def overhead(n: int = 50_000) -> float:
    """Microseconds per uncontended acquire when the rate never makes anyone wait."""
    limiter = RateLimiter(1e12, burst=1_000_000)
    started = time.perf_counter()
    for _ in range(n):
        await limiter.acquire()
    return (time.perf_counter() - started) / n * 1e6


async def fake_thousand() -> tuple[float, float]:
    """Real seconds and virtual seconds for 1000 calls by 32 workers at 1/s on a FakeClock."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    left = [1000]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            await limiter.acquire()

    started = time.perf_counter()
    async with clock.autojump(), anyio.create_task_group() as tg:
        for _ in range(32):
            tg.start_soon(worker)
    return time.perf_counter() - started, clock.now()


async def sleeps_per_grant(stall: float, grants: int = 1000, workers: int = 64) -> float:
    """Sleeps per grant at 200/s, 50 ms a call, the loop stalling ``stall`` s twice a second.

    On a FakeClock, so the stalls are exact: a stall of more than half an interval leaves
    several waiters overdue at once, which is what made them wake as a herd.
    """
    clock = FakeClock()
    limiter = RateLimiter(200, clock=clock)
    real_sleep = clock.sleep
    sleeps = [0]

    async def counting_sleep(seconds: float) -> None:
        sleeps[0] += 1
        await real_sleep(seconds)

    clock.sleep = counting_sleep  # type: ignore[method-assign]
    left = [grants]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            await limiter.acquire()
            await real_sleep(0.05)

    async def stalls() -> None:
        while left[0] > 0:
            await real_sleep(0.5)
            clock.advance(stall)

    async with clock.autojump(), anyio.create_task_group() as tg:
        tg.start_soon(stalls)
        for _ in range(workers):
            tg.start_soon(worker)
    return sleeps[0] / grants


def real_pacing(rate: float = 200.0, calls: int = 400, workers: int = 16) -> dict[str, float]:
    """Achieved rate and lateness behind the ideal schedule, across two threads/loops."""
    limiter = RateLimiter(rate)
    grants: list[float] = []
    per_thread = calls // 2

    async def main() -> None:
        remaining = [per_thread]

        async def worker() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                await limiter.acquire()
                grants.append(time.monotonic())

        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker)

    started = time.monotonic()
    threads = [threading.Thread(target=anyio.run, args=(main,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(grants)
    late = [(g - (started + k / rate)) * 1e3 for k, g in enumerate(ordered)]
    gaps = [(b - a) * 1e3 for a, b in itertools.pairwise(ordered)]
    return {
        "achieved_rate": (len(ordered) - 1) / (ordered[-1] - ordered[0]),
        "late_ms_p50": statistics.median(late),
        "late_ms_max": max(late),
        "min_gap_ms": min(gaps),
        "earliest_vs_schedule_ms": min(late),
    }


def limiter() -> Scenario:
    """The limiter alone: overhead, sleeps per grant with a stalling loop, real pacing."""
    scenario = Scenario("limiter", "the rate limiter alone")
    scenario.figures["uncontended acquire, us"] = round(anyio.run(overhead), 2)
    wall, virtual = anyio.run(fake_thousand)
    scenario.figures["FakeClock, 1000 calls at 1/s, 32 workers"] = (
        f"{wall * 1e3:.0f} ms real for {virtual:g} s virtual"
    )
    for stall in (0.0, 0.01, 0.03):
        per_grant = anyio.run(sleeps_per_grant, stall)
        scenario.figures[f"sleeps per grant, 64 waiters, {stall * 1e3:g} ms stalls"] = round(
            per_grant, 2
        )
    scenario.goals.append(Goal("sleeps per grant with 30 ms stalls", per_grant, 2.0))
    stats = real_pacing()
    scenario.figures["real clock, 400 calls at 200/s, 2 threads x 16 workers"] = ", ".join(
        f"{k}={v:.3f}" for k, v in stats.items()
    )
    return scenario


if __name__ == "__main__":
    print(limiter().render())
