"""The rate limiter, its rate strings and registry, and the clocks it runs on."""

from __future__ import annotations

import gc
import hashlib
import importlib.metadata
import itertools
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import anyio.abc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octave_frames import _ratelimit
from octave_frames._clock import SYSTEM_CLOCK, Clock, FakeClock
from octave_frames._exceptions import ArgumentError
from octave_frames._ratelimit import RateLimiter, parse_rate, shared_limiter


def _trio_usable() -> bool:
    # trio is optional, and anyio 4.16 needs trio >= 0.32 (older ones fail on cancel).
    try:
        version = importlib.metadata.version("trio")
    except importlib.metadata.PackageNotFoundError:
        return False
    return tuple(int(part) for part in version.split(".")[:2] if part.isdigit()) >= (0, 32)


BACKENDS = ["asyncio", "trio"] if _trio_usable() else ["asyncio"]
Job = Callable[[], Coroutine[Any, Any, None]]


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every async test of this module on each available anyio backend."""
    return str(request.param)


def approx_list(values: list[float]) -> object:
    """Compare lists of virtual times, which are sums of float intervals."""
    return pytest.approx(values, abs=1e-9)


async def _start_in_order(clock: FakeClock, tg: anyio.abc.TaskGroup, jobs: list[Job]) -> None:
    # Trio shuffles runnable tasks, so each one gets to block before the next starts.
    for job in jobs:
        tg.start_soon(job)
        await clock.wait_idle()


async def _drain(clock: FakeClock) -> None:
    # autojump by hand, for tests that hold the task group open themselves.
    while True:
        await clock.wait_idle()
        deadline = clock.next_deadline
        if deadline is None:
            return
        clock.advance(deadline - clock.now())


# -- FakeClock -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_fake_clock_advance_wakes_sleepers_in_deadline_order(anyio_backend: str) -> None:
    """advance() wakes only the sleepers now due, earliest first, and leaves the rest."""
    clock = FakeClock(start=100.0)
    woke: list[tuple[str, float]] = []

    async def nap(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    async with anyio.create_task_group() as tg:
        for name, seconds in [("c", 3.0), ("a", 1.0), ("b", 2.0)]:
            tg.start_soon(nap, name, seconds)
        await clock.wait_idle()
        assert clock.next_deadline == 101.0
        clock.advance(2.5)
        await clock.wait_idle()
        # Trio deliberately shuffles tasks woken together; asyncio keeps the wake order.
        expected = [("a", 102.5), ("b", 102.5)]
        assert (woke if anyio_backend == "asyncio" else sorted(woke)) == expected
        clock.advance(0.5)
    assert woke[-1] == ("c", 103.0)
    assert clock.next_deadline is None


@pytest.mark.anyio
async def test_fake_clock_cancelled_sleeper_is_forgotten() -> None:
    """A cancelled sleep leaves no deadline behind for advance() or autojump."""
    clock = FakeClock()
    async with anyio.create_task_group() as tg:
        tg.start_soon(clock.sleep, 10)
        await clock.wait_idle()
        assert clock.next_deadline == 10.0
        tg.cancel_scope.cancel()
    assert clock.next_deadline is None
    assert clock.now() == 0.0


@pytest.mark.anyio
async def test_fake_clock_zero_sleep_is_a_checkpoint_only() -> None:
    """sleep(0) and negative sleeps return without any advance."""
    clock = FakeClock()
    await clock.sleep(0)
    await clock.sleep(-3)
    assert clock.now() == 0.0


@pytest.mark.anyio
async def test_fake_clock_sleep_too_small_for_the_float_still_moves_time() -> None:
    """A sleep shorter than the float's resolution at large times still ends later, never spins."""
    clock = FakeClock(start=1e9)
    async with clock.autojump():
        await clock.sleep(1e-12)
    assert clock.now() > 1e9


@pytest.mark.anyio
async def test_limiter_on_a_fake_clock_with_awkward_floats_makes_one_sleep_per_wait() -> None:
    """Intervals like 1/3 at a large start time neither hang nor re-sleep on rounding errors."""
    clock = FakeClock(start=1234567.891)
    limiter = RateLimiter(3, clock=clock)
    sleeps: list[float] = []
    real_sleep = clock.sleep

    async def counting_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await real_sleep(seconds)

    clock.sleep = counting_sleep  # type: ignore[method-assign]
    left = [300]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            await limiter.acquire()

    async with clock.autojump(), anyio.create_task_group() as tg:
        for _ in range(7):
            tg.start_soon(worker)
    assert clock.now() == pytest.approx(1234567.891 + 299 / 3)
    assert len(sleeps) < 310


def test_fake_clock_advance_rejects_going_back() -> None:
    """Time never runs backwards: a negative or infinite advance is refused."""
    clock = FakeClock()
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ArgumentError):
            clock.advance(bad)


@pytest.mark.anyio
async def test_autojump_runs_a_long_virtual_schedule_at_once() -> None:
    """Autojump jumps to each next deadline: hours of virtual sleeps take no real time."""
    clock = FakeClock()
    done: list[float] = []

    async def chain() -> None:
        for _ in range(50):
            await clock.sleep(3600)
        done.append(clock.now())

    started = time.perf_counter()
    async with clock.autojump(), anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(chain)
    assert done == [50 * 3600.0] * 20
    assert time.perf_counter() - started < 5.0


@pytest.mark.anyio
async def test_autojump_waits_for_tasks_that_are_not_yet_asleep() -> None:
    """With nobody asleep the jumper parks, then serves a sleeper that arrives later."""
    clock = FakeClock()
    ready = anyio.Event()
    seen: list[float] = []

    async def late_sleeper() -> None:
        await ready.wait()
        await clock.sleep(7)
        seen.append(clock.now())

    async with clock.autojump(), anyio.create_task_group() as tg:
        tg.start_soon(late_sleeper)
        await clock.wait_idle()  # the jumper is parked, time has not moved
        assert clock.now() == 0.0
        ready.set()
    assert seen == [7.0]


@pytest.mark.anyio
async def test_autojump_lets_errors_out_unwrapped() -> None:
    """An error inside the autojump block arrives as itself, not in an ExceptionGroup."""
    clock = FakeClock()
    with pytest.raises(ArgumentError, match="boom"):
        async with clock.autojump():
            await clock.sleep(5)
            raise ArgumentError("boom")
    assert clock.now() == 5.0


def test_clocks_satisfy_the_protocol() -> None:
    """SYSTEM_CLOCK and FakeClock are both Clocks; the system one tracks time.monotonic."""
    assert isinstance(SYSTEM_CLOCK, Clock)
    assert isinstance(FakeClock(), Clock)
    before = time.monotonic()
    assert before <= SYSTEM_CLOCK.now() <= time.monotonic()


# -- parse_rate ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "per_second"),
    [
        (5, 5.0),
        (0.25, 0.25),
        ("2.5", 2.5),
        ("60/min", 1.0),
        ("1/s", 1.0),
        ("2/sec", 2.0),
        ("3600/hour", 1.0),
        ("10/minute", 10 / 60),
        ("100/m", 100 / 60),
        (" 60 / MIN ", 1.0),
        ("30/mins", 0.5),
        ("60 per minute", 1.0),
        ("100/10s", 10.0),
        ("0.5/second", 0.5),
        ("7200/hr", 2.0),
        ("86400/day", 1.0),
    ],
)
def test_parse_rate_table(rate: float | str, per_second: float) -> None:
    """Numbers pass through; rate strings in every accepted form become requests/second."""
    assert parse_rate(rate) == pytest.approx(per_second)


@pytest.mark.parametrize(
    "rate",
    [
        *(0, -1, 0.0, float("inf"), float("nan"), True, None, [60]),
        *("0/min", "-5/s", "fast", "60/fortnight", "", "60/", "/min", "1/0s", "inf", "60 min"),
    ],
)
def test_parse_rate_rejects_with_a_helpful_message(rate: object) -> None:
    """Unusable rates raise ArgumentError naming the value and the accepted forms."""
    with pytest.raises(ArgumentError, match="60/min") as info:
        parse_rate(rate)  # type: ignore[arg-type]
    assert repr(rate) in str(info.value)
    assert isinstance(info.value, ValueError)


# -- RateLimiter: pacing -------------------------------------------------------------


def test_limiter_rejects_bad_arguments() -> None:
    """A zero rate or a burst below one fails at construction."""
    with pytest.raises(ArgumentError, match="rate"):
        RateLimiter(0)
    with pytest.raises(ArgumentError, match="burst"):
        RateLimiter(1, burst=0)


@pytest.mark.anyio
async def test_hundred_acquires_at_ten_per_second_take_9_9_virtual_seconds() -> None:
    """100 calls at 10/s go at 0, 0.1, ..., 9.9: evenly spaced, no initial burst."""
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock)
    granted: list[float] = []
    async with clock.autojump():
        for _ in range(100):
            await limiter.acquire()
            granted.append(clock.now())
    assert granted == approx_list([k / 10 for k in range(100)])
    assert clock.now() == pytest.approx(9.9)


@pytest.mark.anyio
async def test_concurrent_callers_are_served_evenly_and_in_arrival_order() -> None:
    """Many tasks sharing one limiter get evenly spaced slots in the order they asked."""
    clock = FakeClock()
    limiter = RateLimiter("120/min", clock=clock)
    order: list[tuple[int, float]] = []

    def job(n: int) -> Job:
        async def run() -> None:
            await limiter.acquire()
            order.append((n, clock.now()))

        return run

    async with anyio.create_task_group() as tg:
        await _start_in_order(clock, tg, [job(n) for n in range(30)])
        await _drain(clock)
    assert [n for n, _ in order] == list(range(30))
    assert [t for _, t in order] == approx_list([k * 0.5 for k in range(30)])


@pytest.mark.anyio
async def test_a_thousand_calls_at_one_per_second_finish_instantly() -> None:
    """32 workers making 1000 calls under 1/s take 999 virtual seconds and little real time."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    granted: list[float] = []
    remaining = list(range(1000))

    async def worker() -> None:
        while remaining:
            remaining.pop()
            async with limiter:
                granted.append(clock.now())

    started = time.perf_counter()
    async with clock.autojump(), anyio.create_task_group() as tg:
        for _ in range(32):
            tg.start_soon(worker)
    assert sorted(granted) == approx_list([float(k) for k in range(1000)])
    assert time.perf_counter() - started < 10.0


@pytest.mark.anyio
async def test_burst_allows_back_to_back_calls_only_after_idling() -> None:
    """burst=3 lets three calls through at once when idle, then paces; idling refills it."""
    clock = FakeClock()
    limiter = RateLimiter(1, burst=3, clock=clock)
    granted: list[float] = []
    async with clock.autojump():
        for _ in range(5):
            await limiter.acquire()
            granted.append(clock.now())
        await clock.sleep(100 - clock.now())
        for _ in range(4):
            await limiter.acquire()
            granted.append(clock.now())
    assert granted == approx_list([0, 0, 0, 1, 2, 100, 100, 100, 101])


# -- RateLimiter: cool-down ----------------------------------------------------------


@pytest.mark.parametrize("burst", [1, 3])
@pytest.mark.anyio
async def test_cool_down_pauses_everyone_then_resumes_evenly(burst: int) -> None:
    """After cool_down(10) at t=2.5 nobody passes until 12.5, then one per interval, no burst."""
    clock = FakeClock()
    limiter = RateLimiter(1, burst=burst, clock=clock)
    granted: list[float] = []

    async def worker() -> None:
        for _ in range(4):
            await limiter.acquire()
            granted.append(clock.now())

    async def trip() -> None:
        await clock.sleep(2.5)
        limiter.cool_down(10)

    async with clock.autojump(), anyio.create_task_group() as tg:
        tg.start_soon(trip)
        for _ in range(3):
            tg.start_soon(worker)
    before = [t for t in granted if t < 2.5]
    after = [t for t in granted if t >= 2.5]
    assert not [t for t in granted if 2.5 < t < 12.5]
    assert len(before) + len(after) == 12
    assert after == approx_list([12.5 + k for k in range(len(after))])
    assert limiter.cool_until == 12.5


@pytest.mark.anyio
async def test_cool_down_keeps_the_latest_end_and_ignores_nonsense() -> None:
    """Neither a shorter cool-down nor a faster rate cuts a pause short; zero does nothing."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    limiter.cool_down(0)
    limiter.cool_down(-5)
    assert limiter.cool_until == float("-inf")
    limiter.cool_down(30)
    limiter.cool_down(5)
    limiter.set_rate(100)  # a faster pace must not shorten the pause either
    async with clock.autojump():
        await limiter.acquire()
    assert clock.now() == 30.0


@pytest.mark.anyio
async def test_newcomers_after_a_cool_down_queue_behind_earlier_waiters() -> None:
    """Waiters moved by a cool-down keep their place ahead of callers that arrive later."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    order: list[str] = []

    def job(name: str) -> Job:
        async def run() -> None:
            await limiter.acquire()
            order.append(name)

        return run

    async with anyio.create_task_group() as tg:
        await _start_in_order(clock, tg, [job("a"), job("b"), job("c")])
        limiter.cool_down(20)
        await _start_in_order(clock, tg, [job("late")])
        async with clock.autojump():
            while len(order) < 4:
                await clock.sleep(1)
    assert order == ["a", "b", "c", "late"]
    assert clock.now() >= 22.0


# -- RateLimiter: cancellation -------------------------------------------------------


@pytest.mark.anyio
async def test_cancelled_waiter_in_the_middle_leaves_a_hole_the_next_caller_fills() -> None:
    """Cancelling the waiter for slot 2 gives slot 2 to the next caller; others keep theirs."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    granted: dict[str, float] = {}
    scopes: dict[str, anyio.CancelScope] = {}

    def job(name: str) -> Job:
        async def run() -> None:
            with anyio.CancelScope() as scopes[name]:
                await limiter.acquire()
                granted[name] = clock.now()

        return run

    async with anyio.create_task_group() as tg:
        await _start_in_order(clock, tg, [job(n) for n in "abcd"])  # slots 0, 1, 2, 3
        scopes["c"].cancel()
        await clock.wait_idle()
        await _start_in_order(clock, tg, [job("e"), job("f")])
        for _ in range(5):
            clock.advance(1)
            await clock.wait_idle()
    assert granted == {"a": 0.0, "b": 1.0, "e": 2.0, "d": 3.0, "f": 4.0}


@pytest.mark.anyio
async def test_cancelling_the_tail_after_a_middle_waiter_rolls_back_past_the_hole() -> None:
    """Cancel slot 2, then slot 3: the next free slot is 2 again, not 3 or 4."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    scopes: dict[int, anyio.CancelScope] = {}

    def job(n: int) -> Job:
        async def run() -> None:
            with anyio.CancelScope() as scopes[n]:
                await limiter.acquire()

        return run

    async with anyio.create_task_group() as tg:
        await _start_in_order(clock, tg, [job(n) for n in range(4)])  # slots 0, 1, 2, 3
        scopes[2].cancel()
        await clock.wait_idle()
        scopes[3].cancel()
        await clock.wait_idle()
        clock.advance(1.0)  # slot 1 is used on time
        await clock.wait_idle()
        clock.advance(1.5)
    assert limiter.waiting == 0
    async with clock.autojump():
        await limiter.acquire()
    assert clock.now() == 2.5  # free since t=2; with slot 3 kept it would wait until 3


@pytest.mark.anyio
async def test_a_cool_down_discards_holes_that_would_now_bunch_calls() -> None:
    """A hole at 2 next to a waiter moved to 1.5 by a cool-down is not handed out."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    granted: dict[str, float] = {}
    scopes: dict[str, anyio.CancelScope] = {}

    def job(name: str) -> Job:
        async def run() -> None:
            with anyio.CancelScope() as scopes[name]:
                await limiter.acquire()
                granted[name] = clock.now()

        return run

    async with anyio.create_task_group() as tg:
        await _start_in_order(clock, tg, [job(n) for n in "abcd"])  # slots 0, 1, 2, 3
        scopes["c"].cancel()
        await clock.wait_idle()
        limiter.cool_down(1.5)  # b moves to 1.5, d stays at 3
        await _start_in_order(clock, tg, [job("e")])
        await _drain(clock)
    assert granted == {"a": 0.0, "b": 1.5, "d": 3.0, "e": 4.0}


@pytest.mark.anyio
async def test_cancelling_every_waiter_gives_all_their_slots_back() -> None:
    """After a whole run is cancelled, the next caller is not delayed by phantom reservations."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(limiter.acquire)
        await clock.wait_idle()
        assert limiter.waiting == 9  # the first one went through at t=0
        clock.advance(0.5)
        tg.cancel_scope.cancel()
    assert limiter.waiting == 0
    clock.advance(5.0)  # idle past every cancelled slot
    async with clock.autojump():
        await limiter.acquire()
        first = clock.now()
        await limiter.acquire()
    assert first == 5.5  # at once: nothing is still reserved ahead of it
    assert clock.now() == 6.5


@pytest.mark.anyio
async def test_cancelling_the_last_waiter_rolls_back_its_slot() -> None:
    """The newest reservation, cancelled, is rolled back: a later caller is not pushed past it."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    async with anyio.create_task_group() as tg:
        tg.start_soon(limiter.acquire)  # slot 0
        await clock.wait_idle()
        tg.start_soon(limiter.acquire)  # slot 1, then cancelled
        await clock.wait_idle()
        assert limiter.waiting == 1
        tg.cancel_scope.cancel()
    clock.advance(1.5)
    async with clock.autojump():
        await limiter.acquire()
    assert clock.now() == 1.5  # slot 1 was handed back, so nothing waits until 2


# -- RateLimiter: set_rate -----------------------------------------------------------


@pytest.mark.anyio
async def test_late_grants_are_still_spaced() -> None:
    """Waiters woken late (a stalled loop) go one interval apart, not as a burst."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    granted: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        granted.append(clock.now())

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(one)
        await clock.wait_idle()
        clock.advance(5.0)  # slots 1 and 2 are both overdue now
        async with clock.autojump():
            with anyio.fail_after(5):
                while len(granted) < 3:
                    await clock.sleep(0.25)
    assert granted == approx_list([0.0, 5.0, 5.5])  # half an interval of slack; not [0, 5, 5]


@pytest.mark.anyio
async def test_after_a_stall_late_waiters_catch_up_two_intervals_then_keep_the_pace() -> None:
    """Slots 1-5 overdue at t=5: half an interval apart until two are made up, then 1/s."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    granted: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        granted.append(clock.now())

    async with anyio.create_task_group() as tg:
        await _start_in_order(clock, tg, [one] * 8)  # slots 0-7
        clock.advance(5.0)  # the loop was stuck for five intervals
        await _drain(clock)
    assert granted == approx_list([0, 5, 5.5, 6, 6.5, 7, 8, 9])


@pytest.mark.anyio
async def test_set_rate_changes_the_gap_after_the_last_call() -> None:
    """Speeding up or slowing down applies from the last granted slot on."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    granted: list[float] = []
    async with clock.autojump():
        for rate in (None, None, 10, None, "60/min", None):
            if rate is not None:
                limiter.set_rate(rate)
            await limiter.acquire()
            granted.append(clock.now())
    assert granted == approx_list([0, 1, 1.1, 1.2, 2.2, 3.2])
    assert limiter.rate == 1.0


@pytest.mark.anyio
async def test_slowing_down_respaces_callers_already_waiting() -> None:
    """A lower rate pushes waiting callers apart; a slightly higher one never makes them later."""
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock)
    granted: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        granted.append(clock.now())

    async with anyio.create_task_group() as tg:
        await _start_in_order(clock, tg, [one] * 5)  # slots 0, .1, .2, .3, .4
        limiter.set_rate(1)
        limiter.set_rate(1.2)  # 20% faster: waiters keep 1, 2, 3, 4; a newcomer follows at 4.83
        await _start_in_order(clock, tg, [one])
        await _drain(clock)
    assert granted == approx_list([0, 1, 2, 3, 4, 4 + 1 / 1.2])


@pytest.mark.anyio
async def test_a_much_faster_rate_moves_waiting_callers_earlier() -> None:
    """From 1/s to 4/s with four callers waiting: they go at the new pace, not their old slots."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    granted: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        granted.append(clock.now())

    async with anyio.create_task_group() as tg:
        await _start_in_order(clock, tg, [one] * 5)  # slots 0, 1, 2, 3, 4
        clock.advance(0.5)
        await clock.wait_idle()
        limiter.set_rate(4)
        await _drain(clock)
    assert granted == approx_list([0, 0.5, 0.75, 1.0, 1.25])


@pytest.mark.anyio
async def test_a_much_faster_rate_leaves_waiters_of_other_threads_where_they_are() -> None:
    """A waiter of another thread cannot be woken early: it keeps its slot, and so its turn."""
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    granted: list[tuple[int, float]] = []

    def job(n: int) -> Job:
        async def run() -> None:
            await limiter.acquire()
            granted.append((n, clock.now()))

        return run

    async with anyio.create_task_group() as tg:
        await _start_in_order(clock, tg, [job(n) for n in range(4)])  # slots 0, 1, 2, 3
        limiter._pending[1].thread = -1  # slot 2's caller, as if it waited in another thread
        limiter.set_rate(4)
        await _drain(clock)
    assert granted == [(0, 0.0), (1, 0.25), (2, 2.0), (3, 2.25)]


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["arrive", "arrive", "arrive", "cancel", "cool"]),
        # Virtual seconds before the operation: mostly less than one interval, so
        # waiters pile up, with some on-the-slot and idle gaps.
        st.sampled_from([0.0, 0.0, 0.1, 0.25, 0.5, 0.7, 2.5]),
        st.floats(0.1, 4.0),  # cool-down length, or which waiter to cancel
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(ops=_OPS)
def test_spacing_and_pauses_hold_under_any_mix_of_arrivals_cancels_and_cool_downs(
    ops: list[tuple[str, float, float]],
) -> None:
    """Whatever arrives, cancels or cools down: grants stay 1/rate apart and avoid every pause."""
    interval = 0.5
    grants: list[float] = []
    pauses: list[tuple[float, float]] = []

    async def main() -> None:
        clock = FakeClock()
        limiter = RateLimiter(1 / interval, clock=clock)
        scopes: list[anyio.CancelScope] = []  # callers still waiting

        async def caller(scope: anyio.CancelScope) -> None:
            with scope:
                await limiter.acquire()
                grants.append(clock.now())
                if scope in scopes:  # it may be cancelled after its grant: harmless
                    scopes.remove(scope)

        async with clock.autojump(), anyio.create_task_group() as tg:
            for kind, gap, x in ops:
                await clock.sleep(gap)
                if kind == "arrive":
                    scopes.append(anyio.CancelScope())
                    tg.start_soon(caller, scopes[-1])
                elif kind == "cancel" and scopes:
                    scopes.pop(int(x * 10) % len(scopes)).cancel()
                elif kind == "cool":
                    pauses.append((clock.now(), clock.now() + x))
                    limiter.cool_down(x)
        assert limiter.waiting == 0

    anyio.run(main)
    assert grants == sorted(grants)
    assert all(b - a >= interval - 1e-9 for a, b in itertools.pairwise(grants))
    for start, end in pauses:
        assert not [t for t in grants if start + 1e-9 < t < end - 1e-9], (start, end)


# -- RateLimiter: threads and event loops --------------------------------------------


def test_one_limiter_paces_two_threads_with_their_own_event_loops() -> None:
    """Two threads, each in its own anyio.run, share one limiter without breaking its spacing."""
    rate, per_thread, workers = 400.0, 40, 4
    limiter = RateLimiter(rate)
    grants: list[float] = []
    errors: list[BaseException] = []

    async def worker() -> None:
        for _ in range(per_thread // workers):
            await limiter.acquire()
            grants.append(time.monotonic())

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker)

    def thread_main(backend: str) -> None:
        try:
            anyio.run(main, backend=backend)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=thread_main, args=(b,)) for b in (BACKENDS * 2)[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors
    assert len(grants) == 2 * per_thread
    # Each grant is at or after its slot, and slot k is at least k intervals after the start.
    for k, granted in enumerate(sorted(grants)):
        assert granted >= started + k / rate - 1e-6, k
    assert time.monotonic() - started < 5.0


# -- shared_limiter ------------------------------------------------------------------


def test_shared_limiter_is_one_per_key_and_endpoint() -> None:
    """Same key and endpoint share a limiter; another key or endpoint gets its own."""
    a = shared_limiter("key-one", "/api/v2/agents/sequence/run", "60/min")
    assert shared_limiter("key-one", "/api/v2/agents/sequence/run", 1.0) is a
    assert shared_limiter("key-two", "/api/v2/agents/sequence/run", 1.0) is not a
    assert shared_limiter("key-one", "/api/v2/async/agent/run", 1.0) is not a


def test_shared_limiter_takes_the_latest_rate() -> None:
    """Asking again with a different rate updates the shared limiter in place."""
    a = shared_limiter("key-rate", "/x", 1.0)
    b = shared_limiter("key-rate", "/x", "120/min")
    assert b is a
    assert a.rate == pytest.approx(2.0)


def test_shared_limiter_gives_each_clock_its_own_and_forgets_dead_ones() -> None:
    """A FakeClock never shares with the real clock or another FakeClock, and is not leaked."""
    clock = FakeClock()
    fake = shared_limiter("key-clock", "/x", 1.0, clock=clock)
    assert fake is shared_limiter("key-clock", "/x", 1.0, clock=clock)
    assert fake is not shared_limiter("key-clock", "/x", 1.0)
    assert fake is not shared_limiter("key-clock", "/x", 1.0, clock=FakeClock())
    assert fake.clock is clock
    entries = len(_ratelimit._OTHER)
    del fake, clock
    gc.collect()
    assert len(_ratelimit._OTHER) < entries


def test_shared_limiter_keeps_no_trace_of_the_key() -> None:
    """The key appears in no attribute, repr or registry entry, not even as a plain SHA-256."""
    secret = "sk-live-VERY-SECRET-1234567890"
    limiter = shared_limiter(secret, "/api/v2/agents/sequence/run", 1.0)
    plain_digest = hashlib.sha256(secret.encode()).hexdigest()
    texts = [repr(limiter), *(repr(v) for v in vars(limiter).values())]
    texts += [repr(k) for k in _ratelimit._SYSTEM]
    for text in texts:
        assert secret not in text
        assert plain_digest not in text
    assert any(limiter is v for v in _ratelimit._SYSTEM.values())


@pytest.mark.anyio
async def test_a_stalling_loop_costs_each_grant_about_one_sleep() -> None:
    """64 callers at 200/s while the loop stalls 30 ms every half second: < 2 sleeps a grant.

    Waiters whose slots a stall had passed used to share one wake-up time and wake as a
    herd, one of them granted and the rest asleep again: 38 sleeps per grant here (27
    measured over loopback in the rate-bound benchmark).
    """
    clock = FakeClock()
    limiter = RateLimiter(200, clock=clock)
    real_sleep = clock.sleep
    sleeps = [0]
    grants: list[float] = []

    async def counting_sleep(seconds: float) -> None:
        sleeps[0] += 1
        await real_sleep(seconds)

    clock.sleep = counting_sleep  # type: ignore[method-assign]
    left = [2000]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            await limiter.acquire()
            grants.append(clock.now())
            await real_sleep(0.05)  # the request

    async def stall() -> None:
        while left[0] > 0:
            await real_sleep(0.5)
            clock.advance(0.03)  # the loop was busy: six slots pass at once

    async with clock.autojump(), anyio.create_task_group() as tg:
        tg.start_soon(stall)
        for _ in range(64):
            tg.start_soon(worker)
    assert len(grants) == 2000
    assert sleeps[0] / len(grants) < 2.0
    gaps = [b - a for a, b in itertools.pairwise(sorted(grants))]
    assert min(gaps) >= 0.5 / 200 - 1e-9  # late grants still keep half an interval apart


# -- rate="auto" ---------------------------------------------------------------------


class _Server:
    """A server's own GCRA limit on the fake clock, answering 429 + Retry-After (whole s)."""

    def __init__(self, clock: FakeClock, rate: float, burst: int) -> None:
        self.clock, self.rate, self.burst = clock, rate, burst
        self.tat = -float("inf")
        self.admitted: list[float] = []
        self.refused = 0

    def admit(self) -> float | None:
        """Admit one request now, or return its Retry-After."""
        now, interval = self.clock.now(), 1.0 / self.rate
        tat = max(self.tat, now)
        allowed = tat - (self.burst - 1) * interval
        if now < allowed:
            self.refused += 1
            return float(max(1, -(-(allowed - now) // 1)))
        self.tat = tat + interval
        self.admitted.append(now)
        return None

    def share(self, start: float, end: float, rate: float | None = None) -> float:
        """Requests admitted in [start, end) per second, as a share of ``rate``."""
        count = sum(1 for t in self.admitted if start <= t < end)
        return count / (end - start) / (rate or self.rate)


async def _engine_like(
    clock: FakeClock,
    limiter: RateLimiter,
    server: _Server,
    calls: int,
    *,
    workers: int = 64,
    latency: float = 0.05,
    rise: tuple[float, float] | None = None,
) -> None:
    # What the engine does per call: acquire, send, and on a 429 tell the limiter and
    # wait the Retry-After (+ up to 10%) before trying again; on an answer, say so.
    left = [calls]

    async def worker(n: int) -> None:
        while left[0] > 0:
            left[0] -= 1
            while True:
                await limiter.acquire()
                await clock.sleep(0.001)  # the way to the server
                retry_after = server.admit()
                if retry_after is None:
                    await clock.sleep(latency)
                    limiter.answered()
                    break
                delay = retry_after * (1 + 0.1 * ((n * 7919) % 10) / 10)
                limiter.throttled(delay)
                await clock.sleep(delay)

    async def raise_limit() -> None:
        if rise is not None:
            await clock.sleep(rise[0])
            server.rate = rise[1]

    async with clock.autojump(), anyio.create_task_group() as tg:
        tg.start_soon(raise_limit)
        for n in range(workers):
            tg.start_soon(worker, n)


def test_auto_is_parsed_and_reads_as_auto() -> None:
    """'auto' parses to an AutoRate: a float (the pace it starts at) that prints as auto."""
    rate = parse_rate(" Auto ")
    assert isinstance(rate, _ratelimit.AutoRate)
    assert parse_rate(rate) is rate
    assert float(rate) == 2.0
    assert str(rate) == "auto"
    assert f"{rate:g}/s" == "auto, starting at 2/s"
    assert RateLimiter("auto").adaptive
    assert not RateLimiter(5).adaptive


@pytest.mark.parametrize("burst", [1, 10])
@pytest.mark.anyio
async def test_auto_settles_just_under_an_unknown_limit_with_few_429s(burst: int) -> None:
    """Against 50/s it is told nothing of: >= 95% of it after 5 s, <= 3% of calls refused."""
    clock = FakeClock()
    limiter = RateLimiter("auto", clock=clock)
    server = _Server(clock, 50.0, burst)
    await _engine_like(clock, limiter, server, 2000)
    end = clock.now()
    assert server.share(5.0, end - 1.0) >= 0.95
    assert server.share(0.0, end) >= 0.9
    assert server.refused <= 0.03 * (server.refused + len(server.admitted))
    assert 45 <= limiter.rate <= 60


@pytest.mark.anyio
async def test_auto_finds_a_raised_limit_within_seconds() -> None:
    """The limit goes 50/s -> 100/s at t=20: within 15 s the pace holds >= 90% of the new one."""
    clock = FakeClock()
    limiter = RateLimiter("auto", clock=clock)
    server = _Server(clock, 50.0, 10)
    await _engine_like(clock, limiter, server, 4000, rise=(20.0, 100.0))
    end = clock.now()
    assert end > 40.0
    assert server.share(5.0, 20.0, rate=50.0) >= 0.95
    assert server.share(35.0, end - 1.0) >= 0.9
    assert server.refused <= 0.03 * (server.refused + len(server.admitted))


@pytest.mark.anyio
async def test_auto_pauses_everyone_when_429s_come_in_a_row() -> None:
    """A server refusing everything (a spent window): the third 429 in a row pauses all."""
    clock = FakeClock()
    limiter = RateLimiter("auto", clock=clock)
    async with clock.autojump():
        for _ in range(20):  # out of slow start, at some pace
            await limiter.acquire()
        for _ in range(2):
            limiter.throttled(30.0)
        assert limiter.cool_until == float("-inf")  # the refused calls wait on their own
        limiter.answered()
        for _ in range(2):
            limiter.throttled(30.0)
        assert limiter.cool_until == float("-inf")  # an answer in between: not in a row
        limiter.throttled(30.0)
        assert limiter.cool_until == pytest.approx(clock.now() + 30.0)
        before = clock.now()
        await limiter.acquire()
    assert clock.now() >= before + 30.0


def test_auto_each_429_takes_five_percent_off_and_never_below_one_a_minute() -> None:
    """A 429 slows the pace by 5%; hundreds of them stop at one call a minute."""
    limiter = RateLimiter("auto", clock=FakeClock())
    limiter.throttled(1.0)
    assert limiter.rate == pytest.approx(2.0 * 0.95)
    for _ in range(500):
        limiter.answered()  # keep the 429s from counting as a spent window
        limiter.throttled(1.0)
    assert limiter.rate == pytest.approx(1 / 60)


def test_shared_limiter_switches_between_auto_and_a_fixed_rate() -> None:
    """'auto' on a fixed limiter keeps its pace and adapts; a number afterwards fixes it again."""
    limiter = shared_limiter("key-auto", "/x", 7.0)
    assert shared_limiter("key-auto", "/x", "auto") is limiter
    assert limiter.adaptive and limiter.rate == pytest.approx(7.0)
    limiter.throttled(1.0)
    assert shared_limiter("key-auto", "/x", "auto").rate == pytest.approx(7.0 * 0.95)
    shared_limiter("key-auto", "/x", 3.0)
    assert not limiter.adaptive and limiter.rate == pytest.approx(3.0)
    assert limiter.ceiling == pytest.approx(3.0)


@pytest.mark.anyio
async def test_a_run_with_rate_auto_finds_the_limit_through_the_engine() -> None:
    """asequence(rate="auto") against a 20/s limit: every row ok, near 20/s, few 429s."""
    import httpx
    import pandas as pd
    import respx

    import octave_frames as of

    base = "https://octave.test"
    clock = FakeClock()
    server = _Server(clock, 20.0, 2)

    def handler(request: httpx.Request) -> httpx.Response:
        retry_after = server.admit()
        if retry_after is not None:
            headers = {"Retry-After": f"{retry_after:g}"}
            return httpx.Response(429, headers=headers, json={"message": "slow down"})
        body = {"_metadata": {"requestId": "r", "usage": 1}, "found": True, "data": {"emails": []}}
        return httpx.Response(200, json=body)

    rows = 600
    frame = pd.DataFrame({"email": [f"p{i}@acme.com" for i in range(rows)]})
    with respx.mock() as router:
        router.post(f"{base}/api/v2/agents/sequence/run").mock(side_effect=handler)
        credits = {"valid": True, "credits": {"totalRemaining": 1e9}}
        router.get(f"{base}/api/v2/api-key/validate").respond(200, json=credits)
        transport = httpx.MockTransport(router.async_handler)
        client = of.Client("sk-auto", base_url=base, transport=transport, clock=clock)
        async with clock.autojump():
            out = await of.asequence(
                frame, agent="ca_1", client=client, rate="auto", concurrency=16, cache=False
            )
    assert (out["octave_status"] == "ok").all()
    end = clock.now()
    assert server.share(5.0, end) >= 0.9
    assert server.refused <= 0.03 * rows
