"""How much the rate limiter costs, and how precisely it paces on the real clock.

Run: ``python benchmarks/bench_ratelimit.py``
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time

import anyio

from octave_frames._clock import FakeClock
from octave_frames._ratelimit import RateLimiter


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


def main() -> None:
    """Print the three measurements."""
    print(f"uncontended acquire: {anyio.run(overhead):.2f} us")
    wall, virtual = anyio.run(fake_thousand)
    print(
        f"FakeClock, 1000 calls at 1/s, 32 workers: {wall * 1e3:.0f} ms real, {virtual:g} s virtual"
    )
    stats = real_pacing()
    print(
        "real clock, 400 calls at 200/s, 2 threads x 16 workers: "
        + ", ".join(f"{k}={v:.3f}" for k, v in stats.items())
    )


if __name__ == "__main__":
    main()
