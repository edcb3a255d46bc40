"""The engine's retry paths, pacing and whole-run stops, driven through respx and a fake clock."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pandas as pd
import pytest
import respx

import octave_frames as of
from octave_frames._engine import Breaker
from octave_frames.testing import FakeClock

BASE = "https://octave.test"
RUN = f"{BASE}/api/v2/agents/sequence/run"
VALIDATE = f"{BASE}/api/v2/api-key/validate"


def envelope(request_id: str = "req", usage: float = 1.0, first: str = "x") -> dict[str, Any]:
    """A minimal successful Sequence Agent answer."""
    return {
        "_metadata": {"requestId": request_id, "usage": usage},
        "found": True,
        "data": {"emails": [{"subject": f"Hi {first}", "sections": {"greeting": f"Hi {first},"}}]},
    }


def echo(request: httpx.Request) -> httpx.Response:
    """Answer each request with its own first name, so mix-ups show."""
    payload = json.loads(request.content)
    return httpx.Response(200, json=envelope(first=payload.get("firstName", "?")))


def contacts(n: int) -> pd.DataFrame:
    """N distinct valid contacts."""
    return pd.DataFrame(
        {"email": [f"p{i}@acme.com" for i in range(n)], "First Name": [f"P{i}" for i in range(n)]}
    )


async def run(
    router: respx.MockRouter, frame: pd.DataFrame, clock: FakeClock | None = None, **kw: Any
) -> pd.DataFrame:
    """Run asequence against the router on a fake clock that jumps whenever all tasks wait."""
    clock = clock or FakeClock()
    router.get(VALIDATE).respond(200, json={"valid": True, "credits": {"totalRemaining": 1e9}})
    client = of.Client(
        "sk-test", base_url=BASE, transport=httpx.MockTransport(router.async_handler), clock=clock
    )
    kw.setdefault("cache", False)
    kw.setdefault("rate", 1000)
    try:
        async with clock.autojump():
            return await of.asequence(frame, agent="ca_1", client=client, **kw)
    except BaseExceptionGroup as group:  # the autojump task group wraps what the run raised
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise


def statuses(out: pd.DataFrame) -> list[str]:
    """The status column as a plain list."""
    return [str(s) for s in out["octave_status"]]


@pytest.mark.anyio
async def test_429_then_503_then_200_ends_ok() -> None:
    """The classic flaky sequence is retried to success: three calls, one ok row."""
    with respx.mock() as router:
        route = router.post(RUN)
        route.side_effect = [
            httpx.Response(429, json={"message": "slow"}),
            httpx.Response(503, json={"message": "down"}),
            httpx.Response(200, json=envelope()),
        ]
        out = await run(router, contacts(1))
    assert route.call_count == 3
    assert statuses(out) == ["ok"]


@pytest.mark.anyio
async def test_retry_after_is_honoured() -> None:
    """After a 429 with Retry-After: 30 the retry waits at least 30 (virtual) seconds."""
    clock = FakeClock()
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(clock.now())
        if len(times) == 1:
            return httpx.Response(429, headers={"Retry-After": "30"}, json={"message": "slow"})
        return httpx.Response(200, json=envelope())

    with respx.mock() as router:
        router.post(RUN).mock(side_effect=handler)
        out = await run(router, contacts(1), clock=clock)
    assert statuses(out) == ["ok"]
    assert times[1] - times[0] >= 30.0


@pytest.mark.anyio
async def test_a_429_cools_down_every_worker() -> None:
    """One 429 with Retry-After pauses all workers, not just the one that got it."""
    clock = FakeClock()
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(clock.now())
        if len(times) == 1:
            return httpx.Response(429, headers={"Retry-After": "60"}, json={"message": "slow"})
        return httpx.Response(200, json=envelope())

    with respx.mock() as router:
        router.post(RUN).mock(side_effect=handler)
        out = await run(router, contacts(20), clock=clock, concurrency=4, rate=2)
    assert set(statuses(out)) == {"ok"}
    # rate 2/s: without the cool-down the 20 calls would all start within 10 s.
    assert sum(1 for t in times[1:] if t < 60.0) <= 1
    assert max(times) >= 60.0


@pytest.mark.anyio
async def test_pacing_follows_the_rate() -> None:
    """Starts are spaced by 1/rate: 30 calls at 2/s span 14.5 s of virtual time."""
    clock = FakeClock()
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(clock.now())
        return echo(request)

    with respx.mock() as router:
        router.post(RUN).mock(side_effect=handler)
        client = of.Client(
            "sk", base_url=BASE, transport=httpx.MockTransport(router.async_handler), clock=clock
        )
        router.get(VALIDATE).respond(200, json={"valid": True})
        async with clock.autojump():
            await of.asequence(contacts(30), agent="ca_1", client=client, rate=2, cache=False)
    assert max(times) - min(times) == pytest.approx(14.5)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) == pytest.approx(0.5)


@pytest.mark.anyio
async def test_a_hang_hits_the_timeout_then_retries() -> None:
    """A call that hangs past `timeout` is retried, and the retry's answer is used."""
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        if request.method == "GET":
            return httpx.Response(200, json={"valid": True})
        calls += 1
        if calls == 1:
            await anyio.sleep(10)
        return echo(request)

    client = of.Client(
        "sk",
        base_url=BASE,
        timeout=0.05,
        transport=httpx.MockTransport(handler),
        clock=FakeClock(),
    )
    with anyio.fail_after(5):
        async with client.clock.autojump():  # type: ignore[attr-defined]
            out = await of.asequence(
                contacts(1), agent="ca_1", client=client, cache=False, rate=1000
            )
    assert statuses(out) == ["ok"] and calls == 2  # the hang, then the retry


@pytest.mark.anyio
async def test_retries_exhausted_is_failed_with_reason() -> None:
    """A row still failing after max_retries is `failed`, naming the status and attempts."""
    with respx.mock() as router:
        route = router.post(RUN).respond(502, json={"message": "bad gateway"})
        out = await run(router, contacts(1), max_retries=2)
    assert route.call_count == 3
    assert statuses(out) == ["failed"]
    assert "502" in out["octave_error"].iloc[0] and "3 attempts" in out["octave_error"].iloc[0]


@pytest.mark.anyio
async def test_401_stops_the_whole_run() -> None:
    """A refused key raises AuthenticationError and no further agent calls are made."""
    with respx.mock() as router:
        route = router.post(RUN).respond(401, json={"message": "Invalid API key"})
        with pytest.raises(of.AuthenticationError, match="Invalid API key"):
            await run(router, contacts(50), concurrency=1)
    assert route.call_count == 1


@pytest.mark.anyio
async def test_bad_key_is_caught_by_the_preflight() -> None:
    """A 401 from api-key/validate stops the run before the first agent call."""
    with respx.mock(assert_all_called=False) as router:
        router.get(VALIDATE).respond(401, json={"message": "Invalid API key"})
        route = router.post(RUN).respond(200, json=envelope())
        client = of.Client("sk", base_url=BASE, transport=httpx.MockTransport(router.async_handler))
        with pytest.raises(of.AuthenticationError):
            await of.asequence(contacts(3), agent="ca_1", client=client, cache=False)
    assert route.call_count == 0


@pytest.mark.anyio
async def test_unknown_agent_stops_the_run() -> None:
    """A 404 for the agent raises NotFoundError at once."""
    with respx.mock() as router:
        route = router.post(RUN).respond(404, json={"message": "Agent not found"})
        with pytest.raises(of.NotFoundError):
            await run(router, contacts(10), concurrency=1)
    assert route.call_count == 1


@pytest.mark.anyio
async def test_malformed_body_is_retried_then_failed() -> None:
    """A 200 that is not JSON is retried; if it persists the row fails with a readable reason."""
    with respx.mock() as router:
        route = router.post(RUN).respond(200, content=b"<html>proxy error</html>")
        out = await run(router, contacts(1), max_retries=1)
    assert route.call_count == 2
    assert statuses(out) == ["failed"]
    assert "JSON" in out["octave_error"].iloc[0]


@pytest.mark.anyio
async def test_a_400_is_not_retried() -> None:
    """A 400 is the row's own problem: failed at once, the other rows unaffected."""

    def handler(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["email"] == "p1@acme.com":
            return httpx.Response(400, json={"message": "Bad request: email"})
        return echo(request)

    with respx.mock() as router:
        route = router.post(RUN).mock(side_effect=handler)
        out = await run(router, contacts(3))
    assert statuses(out) == ["ok", "failed", "ok"]
    assert route.call_count == 3


@pytest.mark.anyio
async def test_circuit_breaker_stops_a_dead_service() -> None:
    """When every call fails alike, sending stops long before the list is burnt through."""
    with respx.mock() as router:
        route = router.post(RUN).respond(503, json={"message": "down"})
        out = await run(router, contacts(200), concurrency=4, max_retries=1)
    assert route.call_count < 40
    assert (out["octave_status"] == "not_sent").sum() > 150
    assert out["octave_error"].str.contains("circuit breaker").sum() > 150


@pytest.mark.anyio
async def test_max_credits_stops_sending() -> None:
    """With max_credits=5 and 1 credit per call, exactly 5 calls go out; the rest are not_sent."""
    with respx.mock() as router:
        route = router.post(RUN).mock(side_effect=echo)
        out = await run(router, contacts(20), max_credits=5, concurrency=8)
    assert route.call_count == 5
    assert (out["octave_status"] == "ok").sum() == 5
    assert (out["octave_status"] == "not_sent").sum() == 15
    assert out["octave_error"].dropna().str.contains("max_credits").all()


@pytest.mark.anyio
async def test_402_stops_sending_and_keeps_rows_unsent() -> None:
    """Credits running out mid-run stops sending; unsent rows say why."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls > 3:
            return httpx.Response(402, json={"message": "Insufficient credits"})
        return echo(request)

    with respx.mock() as router:
        router.post(RUN).mock(side_effect=handler)
        out = await run(router, contacts(30), concurrency=1)
    assert (out["octave_status"] == "ok").sum() == 3
    assert (out["octave_status"] == "not_sent").sum() == 27
    assert calls == 4
    assert out["octave_error"].dropna().str.contains("insufficient credits").all()


@pytest.mark.anyio
async def test_duplicates_are_sent_once(tmp_path: Path) -> None:
    """Identical rows share one call and every row gets the answer."""
    frame = pd.concat([contacts(3)] * 4, ignore_index=True)
    with respx.mock() as router:
        route = router.post(RUN).mock(side_effect=echo)
        out = await run(router, frame)
    assert route.call_count == 3
    assert list(out["email_1_subject"]) == [f"Hi P{i % 3}" for i in range(12)]


@pytest.mark.anyio
async def test_answers_survive_in_the_ledger(tmp_path: Path) -> None:
    """A second identical run is served from the cache with no call at all."""
    cache = tmp_path / "c.sqlite"
    with respx.mock() as router:
        route = router.post(RUN).mock(side_effect=echo)
        first = await run(router, contacts(5), cache=cache)
        second = await run(router, contacts(5), cache=cache)
    assert route.call_count == 5
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize(
    ("events", "trips"),
    [
        (["HTTP 503"] * 20, True),
        (["HTTP 503"] * 16 + [None] * 4, True),
        (["HTTP 503"] * 15 + [None] * 5, False),
        (["HTTP 503"] * 10 + ["timeout"] * 10, False),
        (["HTTP 503"] * 19, False),
    ],
)
def test_breaker_table(events: list[str | None], trips: bool) -> None:
    """The breaker trips only on a full window where 80% failed the same way."""
    breaker = Breaker(20, 0.8)
    results = [breaker.record(e) for e in events]
    assert (results[-1] is not None) is trips


def test_sync_call_inside_a_running_loop() -> None:
    """sequence() works from inside asyncio.run, as in a Jupyter cell, without nest_asyncio."""
    import asyncio

    def make(router: respx.MockRouter) -> Callable[[], pd.DataFrame]:
        client = of.Client("sk", base_url=BASE, transport=httpx.MockTransport(router.async_handler))
        return lambda: contacts(3).octave.sequence(agent="ca_1", client=client, cache=False)

    async def cell() -> pd.DataFrame:
        with respx.mock() as router:
            router.get(VALIDATE).respond(200, json={"valid": True})
            router.post(RUN).mock(side_effect=echo)
            return make(router)()

    out = asyncio.run(cell())
    assert statuses(out) == ["ok"] * 3
