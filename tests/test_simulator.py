"""The Octave simulator's contract: endpoints, envelopes, limits, faults, billing, serving."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack, asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any

import anyio
import httpx
import pytest
from _simkit import KEY, make

import octave_frames.simulator as simulator_module
from octave_frames._constants import (
    ASYNC_RUN_PATH,
    ASYNC_STATUS_PATH,
    CONFIDENCE_LEVELS,
    SECTIONS,
    SEQUENCE_PATH,
    VALIDATE_PATH,
)
from octave_frames._exceptions import ArgumentError
from octave_frames.simulator import Simulator, SimulatorConfig, serve

pytestmark = pytest.mark.anyio


def contact(**extra: Any) -> dict[str, Any]:
    """Return a realistic Sequence Agent body, with ``extra`` fields merged in."""
    body: dict[str, Any] = {
        "agentOId": "ca_JxNickJCXUdxFQe2CFKCF",
        "email": "sarah.jackson@nice.com",
        "firstName": "Sarah",
        "lastName": "Jackson",
        "companyName": "NICE Ltd",
        "companyDomain": "nice.com",
        "jobTitle": "Strategic Alliance Director",
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


@asynccontextmanager
async def client(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    """Yield an httpx client wired to ``sim`` in process."""
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as c:
        yield c


async def run(c: httpx.AsyncClient, body: Any, headers: dict[str, str] = KEY) -> httpx.Response:
    """POST one Sequence Agent run."""
    return await c.post(SEQUENCE_PATH, json=body, headers=headers)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now


class Receiver:
    """A tiny ASGI app that records the JSON bodies POSTed to it (a callback endpoint)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Record one POSTed JSON body and answer 200."""
        if scope["type"] != "http":
            return
        raw, more = b"", True
        while more:
            message = await receive()
            raw, more = raw + message.get("body", b""), message.get("more_body", False)
        self.bodies.append(json.loads(raw))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def wait_for(predicate: Callable[[], bool], seconds: float = 3.0) -> None:
    """Wait (yielding to the loop) until ``predicate`` holds, or fail."""
    with anyio.fail_after(seconds):
        while not predicate():
            await anyio.sleep(0.01)


# -- the sync endpoint: shape -------------------------------------------------------------
async def test_success_envelope_has_the_documented_shape() -> None:
    """A matched contact gets 200 with the documented envelope, entities and ``steps`` emails."""
    sim = make(steps=4)
    async with client(sim) as c:
        response = await run(c, contact())
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"_metadata", "found", "message", "data"}
    assert body["found"] is True
    meta = body["_metadata"]
    assert set(meta) == {"requestId", "timestamp", "usage", "message"}
    assert meta["usage"] == 1
    uuid.UUID(meta["requestId"])
    assert meta["timestamp"].endswith("Z")
    datetime.fromisoformat(meta["timestamp"].replace("Z", "+00:00"))
    data = body["data"]
    assert set(data) == {"emails", "product", "persona", "playbook", "outputType", "annotations"}
    assert data["outputType"] == "SCOPED_PLAYBOOK"
    assert len(data["emails"]) == 4
    for email in data["emails"]:
        assert set(email) == {"email", "subject", "coreValueProp", "sections"}
        assert tuple(email["sections"]) == SECTIONS
        assert email["email"] == "sarah.jackson@nice.com"
        assert email["subject"] and email["coreValueProp"]
    for entity in ("product", "persona", "playbook"):
        assert data[entity]["matchConfidence"] in CONFIDENCE_LEVELS
        assert data[entity]["name"] and data[entity]["matchAnalysis"]
    assert data["product"]["data"]["type"] == "PRODUCT"
    assert data["persona"]["name"] == "Partnerships Leader"
    assert set(data["annotations"]) == {"annotations", "metadata"}


async def test_greeting_opening_and_ps_follow_the_contact_and_step() -> None:
    """Greeting uses the first name (else "Hi there,"), the opening names company and title."""
    sim = make(steps=4)
    async with client(sim) as c:
        named = (await run(c, contact())).json()["data"]["emails"]
        anonymous = (await run(c, contact(firstName=None))).json()["data"]["emails"]
    assert {e["sections"]["greeting"] for e in named} == {"Hi Sarah,"}
    assert {e["sections"]["greeting"] for e in anonymous} == {"Hi there,"}
    opening = named[0]["sections"]["opening"]
    assert "NICE Ltd" in opening and "Strategic Alliance Director" in opening
    assert [bool(e["sections"]["ps"]) for e in named] == [True, False, True, False]


async def test_step_context_and_instructions_land_in_their_step_only() -> None:
    """Step i's body holds "all" then step i's context and instructions, and no other step's."""
    body = contact(
        runtimeContext={"all": "ACCOUNT RESEARCH:\nGrew partners 8x.", "2": "EVENT: Partner Live"},
        runtimeInstructions={"all": "Under 150 words.", "3": "Mention the webinar."},
    )
    sim = make(steps=3)
    async with client(sim) as c:
        emails = (await run(c, body)).json()["data"]["emails"]
    bodies = [e["sections"]["body"] for e in emails]
    assert all("ACCOUNT RESEARCH:\nGrew partners 8x." in b for b in bodies)
    assert "ACCOUNT RESEARCH:\nGrew partners 8x.\n\nEVENT: Partner Live" in bodies[1]
    assert [("EVENT: Partner Live" in b) for b in bodies] == [False, True, False]
    assert "Under 150 words.\n\nMention the webinar." in bodies[2]
    assert [("Mention the webinar." in b) for b in bodies] == [False, False, True]
    others = [v for e in emails for k, v in e["sections"].items() if k != "body"]
    assert not any("EVENT" in v or "webinar" in v for v in others)


async def test_output_formats_mark_up_sections() -> None:
    """HTML output wraps sections in <p> and escapes; markdown adds emphasis; text has neither."""
    ctx = {"all": "Uses <b>Salesforce</b> & HubSpot"}
    sim = make()
    async with client(sim) as c:
        html = (await run(c, contact(outputFormat="html", runtimeContext=ctx))).json()
        markdown = (await run(c, contact(outputFormat="markdown"))).json()
        text = (await run(c, contact(outputFormat="text"))).json()
    html_sections = [v for e in html["data"]["emails"] for v in e["sections"].values() if v]
    assert all(v.startswith("<p>") and v.endswith("</p>") for v in html_sections)
    assert "<p>Uses &lt;b&gt;Salesforce&lt;/b&gt; &amp; HubSpot</p>" in html_sections[2]
    assert "**NICE Ltd**" in markdown["data"]["emails"][0]["sections"]["opening"]
    plain = json.dumps(text["data"]["emails"])
    assert "<p>" not in plain and "**" not in plain


async def test_same_payload_same_answer_and_content_varies() -> None:
    """Content is a function of the payload: equal across simulators, different across contacts."""
    first, second = make(), make()
    async with client(first) as a, client(second) as b:
        one = (await run(a, contact())).json()["data"]
        again = (await run(b, contact())).json()["data"]
        other = (await run(a, contact(firstName="Alex", email="alex@datadoghq.com"))).json()
    assert one == again
    assert other["data"] != one
    levels: Counter[str] = Counter()
    async with client(first) as c:
        for i in range(40):
            persona = (await run(c, contact(email=f"p{i}@x.com"))).json()["data"]["persona"]
            levels[persona["matchConfidence"]] += 1
    assert set(levels) == set(CONFIDENCE_LEVELS)


async def test_latency_is_slept_within_the_configured_range() -> None:
    """A run takes at least the low end of ``latency``."""
    sim = make(latency=(0.03, 0.04))
    async with client(sim) as c:
        started = time.perf_counter()
        await run(c, contact())
        assert 0.03 <= time.perf_counter() - started < 1.0


# -- the sync endpoint: errors ------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"api_key": "wrong"}, {"authorization": "sim-key"}])
async def test_missing_or_unknown_key_is_401(headers: dict[str, str]) -> None:
    """No key, a wrong key, or a key in the wrong header is 401 "Invalid API key" and not billed."""
    sim = make()
    async with client(sim) as c:
        response = await run(c, contact(), headers=headers)
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid API key"
    assert "_metadata" in response.json()
    assert sim.counters.billed == 0


@pytest.mark.parametrize(
    "body",
    [
        contact(experimentOId="ae_1"),
        contact(agentOId=None),
        [contact()],
        contact(outputFormat="pdf"),
        contact(runtimeContext=["not", "an", "object"]),
    ],
    ids=["both-ids", "no-id", "array", "bad-format", "context-list"],
)
async def test_bad_bodies_are_400(body: Any) -> None:
    """Bodies breaking the documented schema are 400 "Bad request: ..."."""
    sim = make()
    async with client(sim) as c:
        response = await run(c, body)
    assert response.status_code == 400
    assert response.json()["message"].startswith("Bad request: ")


async def test_non_json_body_is_400() -> None:
    """A body that is not JSON is 400."""
    sim = make()
    async with client(sim) as c:
        response = await c.post(SEQUENCE_PATH, content=b"{oops", headers=KEY)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("ids", "status"),
    [
        ({"agentOId": "agent_123"}, 404),
        ({"agentOId": "ca_unknown_agent"}, 404),
        ({"agentOId": None, "experimentOId": "experiment_123"}, 404),
        ({"agentOId": None, "experimentOId": "ae_abc"}, 200),
    ],
)
async def test_unknown_agents_are_404(ids: dict[str, Any], status: int) -> None:
    """Only ``ca_…`` agents and ``ae_…`` experiments without "unknown" exist."""
    sim = make()
    async with client(sim) as c:
        response = await run(c, contact(**ids))
    assert response.status_code == status
    if status == 404:
        assert response.json()["message"] == "Agent not found"


async def test_other_routes_are_json_404_and_wrong_methods_405() -> None:
    """Unknown paths answer 404 JSON; a known path with the wrong method answers 405."""
    sim = make()
    async with client(sim) as c:
        missing = await c.get("/api/v2/nope", headers=KEY)
        wrong = await c.get(SEQUENCE_PATH, headers=KEY)
    assert missing.status_code == 404 and "message" in missing.json()
    assert wrong.status_code == 405


async def test_unmatched_contacts_are_found_false_and_free() -> None:
    """``.invalid`` emails/domains answer 200 ``found: false`` with usage 0 and are not billed."""
    sim = make()
    async with client(sim) as c:
        by_email = (await run(c, contact(email="ghost@nowhere.invalid"))).json()
        by_domain = (await run(c, contact(companyDomain="acme.invalid"))).json()
    for body in (by_email, by_domain):
        assert body["found"] is False and body["data"] is None
        assert body["_metadata"]["usage"] == 0
        assert body["message"].startswith("No match")
    assert sim.counters.billed == 0
    assert sim.counters.credits_remaining == sim.config.credits


async def test_not_found_rate_is_a_hash_chosen_fraction() -> None:
    """``not_found_rate`` marks about that share of distinct contacts, the same ones every time."""
    sim = make(not_found_rate=0.5)
    async with client(sim) as c:
        first = [(await run(c, contact(email=f"c{i}@x.com"))).json()["found"] for i in range(200)]
        again = [(await run(c, contact(email=f"c{i}@x.com"))).json()["found"] for i in range(20)]
    assert 70 <= first.count(False) <= 130
    assert again == first[:20]


# -- billing, credits, counters -----------------------------------------------------------
async def test_counters_bill_runs_and_count_duplicates() -> None:
    """Each run is billed once; re-sending an identical payload is counted as a duplicate."""
    sim = make(credits=10, cost_per_call=2)
    async with client(sim) as c:
        await run(c, contact())
        await run(c, contact())
        await run(c, contact(firstName="Alex"))
        await c.get(VALIDATE_PATH, headers=KEY)
    counters = sim.counters
    assert (counters.billed, counters.duplicates, counters.credits_remaining) == (3, 1, 4)
    assert (counters.requests, counters.agent_requests) == (4, 3)
    assert counters.by_status == {200: 4}
    assert counters.max_in_flight_seen == 1 and counters.in_flight == 0


async def test_insufficient_credits_is_402_and_validate_reports_the_balance() -> None:
    """When the balance is below the cost the run is 402; validate reports used and remaining."""
    sim = make(credits=2)
    async with client(sim) as c:
        statuses = [(await run(c, contact(email=f"{i}@x.com"))).status_code for i in range(3)]
        broke = await run(c, contact())
        info = (await c.get(VALIDATE_PATH, headers=KEY)).json()
    assert statuses == [200, 200, 402]
    assert broke.json()["message"] == "Insufficient credits"
    assert info == {
        "status": "ok",
        "valid": True,
        "workspaceOId": "wa_sim",
        "workspaceName": "Octave Simulator",
        "credits": {"totalUsed": 2, "totalRemaining": 0, "totalMax": 2, "period": "month"},
    }


async def test_validate_rejects_a_bad_key() -> None:
    """The key check itself is 401 on a bad key."""
    sim = make()
    async with client(sim) as c:
        response = await c.get(VALIDATE_PATH, headers={"api_key": "nope"})
    assert response.status_code == 401


async def test_received_keeps_bodies_and_lowercased_headers() -> None:
    """``received`` and ``received_headers`` show what went over the wire, in order."""
    sim = make()
    async with client(sim) as c:
        await run(c, contact(firstName="A"), headers={**KEY, "X-Request-Source": "octave_frames"})
        await run(c, contact(firstName="B"))
    assert [b["firstName"] for b in sim.received] == ["A", "B"]
    assert sim.received_headers[0]["x-request-source"] == "octave_frames"
    assert sim.received_headers[1]["api_key"] == "sim-key"


# -- limits and faults --------------------------------------------------------------------
async def test_rate_limit_is_gcra_per_key_with_retry_after() -> None:
    """Past ``burst`` a key gets 429 with an integer Retry-After; other keys and validate pass."""
    clock = FakeClock()
    sim = make(rate=0.25, burst=2, clock=clock, api_keys={"sim-key", "other"})
    async with client(sim) as c:
        statuses = [(await run(c, contact(email=f"{i}@x.com"))).status_code for i in range(2)]
        limited = await run(c, contact())
        other = await run(c, contact(), headers={"api_key": "other"})
        validate = await c.get(VALIDATE_PATH, headers=KEY)
        clock.now += 4.0
        later = await run(c, contact())
    assert statuses == [200, 200]
    assert limited.status_code == 429 and limited.headers["retry-after"] == "4"
    assert limited.json()["message"] == "Rate limit exceeded"
    assert (other.status_code, validate.status_code, later.status_code) == (200, 200, 200)


async def test_rate_limit_retry_after_is_at_least_one_second() -> None:
    """A sub-second wait is rounded up to ``Retry-After: 1``."""
    clock = FakeClock()
    sim = make(rate=5, clock=clock)
    async with client(sim) as c:
        await run(c, contact())
        limited = await run(c, contact())
    assert limited.headers["retry-after"] == "1"


async def test_in_flight_cap_is_429_retry_after_one() -> None:
    """With ``max_in_flight=2`` a third concurrent run gets 429 Retry-After: 1."""
    sim = make(max_in_flight=2, latency=(0.1, 0.1))
    responses: list[httpx.Response] = []
    async with client(sim) as c, anyio.create_task_group() as tg:
        for i in range(3):
            tg.start_soon(_collect, responses, partial(run, c, contact(email=f"{i}@x.com")))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429]
    assert next(r for r in responses if r.status_code == 429).headers["retry-after"] == "1"
    assert sim.counters.max_in_flight_seen == 3


async def _collect(
    into: list[httpx.Response], call: Callable[[], Awaitable[httpx.Response]]
) -> None:
    """Await ``call()`` and keep its response."""
    into.append(await call())


async def test_fail_next_scripts_statuses_without_billing() -> None:
    """``fail_next`` answers the next n runs with the status (and Retry-After), unbilled."""
    sim = make()
    sim.fail_next(2, 503, retry_after=2)
    sim.fail_next(1, 429)
    async with client(sim) as c:
        responses = [await run(c, contact()) for _ in range(4)]
    assert [r.status_code for r in responses] == [503, 503, 429, 200]
    assert responses[0].headers["retry-after"] == "2"
    assert "retry-after" not in responses[2].headers
    assert sim.counters.billed == 1


async def test_injected_errors_are_seeded_and_unbilled() -> None:
    """``error_rate`` draws 500/502/503 from the seed; the same seed gives the same sequence."""

    async def statuses(seed: int) -> list[int]:
        sim = make(error_rate=0.5, seed=seed)
        async with client(sim) as c:
            out = [(await run(c, contact(email=f"{i}@x.com"))).status_code for i in range(30)]
        assert sim.counters.billed == out.count(200)
        return out

    first, again, other = await statuses(7), await statuses(7), await statuses(8)
    assert first == again != other
    assert set(first) <= {200, 500, 502, 503} and len(set(first)) > 1


async def test_bill_errors_charges_injected_failures() -> None:
    """With ``bill_errors`` an injected 5xx is charged."""
    sim = make(error_rate=1.0, bill_errors=True)
    async with client(sim) as c:
        response = await run(c, contact())
    assert response.status_code in {500, 502, 503}
    assert sim.counters.billed == 1


@pytest.mark.parametrize("scripted", [True, False], ids=["hang_next", "hang_rate"])
async def test_hangs_are_billed_and_free_their_slot_when_abandoned(scripted: bool) -> None:
    """A hanging run is billed; a client giving up frees its in-flight slot."""
    sim = make() if scripted else make(hang_rate=1.0)
    if scripted:
        sim.hang_next(1)
    async with client(sim) as c:
        with anyio.move_on_after(0.05) as scope:
            await run(c, contact())
    assert scope.cancelled_caught
    counters = sim.counters
    assert (counters.billed, counters.in_flight, counters.by_status) == (1, 0, {})


async def test_reset_restores_the_starting_state() -> None:
    """``reset`` forgets counters, credits, received bodies and scripted faults."""
    sim = make(credits=5)
    async with client(sim) as c:
        await run(c, contact())
        sim.fail_next(3)
        sim.reset()
        response = await run(c, contact())
    assert response.status_code == 200
    assert sim.counters.billed == 1 and sim.counters.duplicates == 0
    assert sim.counters.credits_remaining == 4
    assert len(sim.received) == 1


def test_config_validates_and_overrides() -> None:
    """Overrides replace config fields; unknown fields and bad values raise at once."""
    sim = Simulator(SimulatorConfig(steps=2), rate=3.0)
    assert (sim.config.steps, sim.config.rate, sim.config.latency) == (2, 3.0, (0.3, 0.6))
    with pytest.raises(TypeError):
        Simulator(nonsense=1)
    with pytest.raises(ArgumentError, match="latency"):
        SimulatorConfig(latency=(2, 1))
    with pytest.raises(ValueError, match="error_rate \\+ hang_rate"):
        SimulatorConfig(error_rate=0.7, hang_rate=0.7)
    with pytest.raises(ArgumentError, match="steps"):
        SimulatorConfig(steps=8)


def test_public_names_are_exported() -> None:
    """``__all__`` is sorted and every name in it exists."""
    names = simulator_module.__all__
    assert names == sorted(names)
    assert all(hasattr(simulator_module, n) for n in names)


# -- served over loopback -----------------------------------------------------------------
async def test_served_over_loopback_handles_a_concurrent_burst() -> None:
    """Over real HTTP the simulator answers a concurrent burst, all billed, many in flight."""
    sim = make(latency=(0.02, 0.05))
    responses: list[httpx.Response] = []
    with serve(sim) as url:
        assert url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=url, headers=KEY) as c:
            assert (await c.get(VALIDATE_PATH)).json()["valid"] is True
            async with anyio.create_task_group() as tg:
                for i in range(40):
                    body = contact(email=f"{i}@x.com")
                    tg.start_soon(_collect, responses, partial(c.post, SEQUENCE_PATH, json=body))
    assert [r.status_code for r in responses] == [200] * 40
    assert all(len(r.json()["data"]["emails"]) == 3 for r in responses)
    assert sim.counters.billed == 40
    assert sim.counters.max_in_flight_seen > 5


async def test_served_hang_times_out_client_side_and_frees_the_slot() -> None:
    """A client timeout on a hanging run closes the connection and the server lets go of it."""
    sim = make()
    sim.hang_next(1)
    with serve(sim) as url:
        async with httpx.AsyncClient(base_url=url, headers=KEY, timeout=0.1) as c:
            with pytest.raises(httpx.ReadTimeout):
                await c.post(SEQUENCE_PATH, json=contact())
        await wait_for(lambda: sim.counters.in_flight == 0)
    assert sim.counters.billed == 1


async def test_leaving_serve_ends_hanging_requests_promptly() -> None:
    """Leaving ``serve`` answers open hanging runs with 503 instead of waiting for them."""
    sim = make()
    sim.hang_next(1)
    responses: list[httpx.Response] = []
    with ExitStack() as stack:
        url = stack.enter_context(serve(sim))
        async with (
            httpx.AsyncClient(base_url=url, headers=KEY, timeout=10) as c,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(_collect, responses, partial(c.post, SEQUENCE_PATH, json=contact()))
            await wait_for(lambda: sim.counters.in_flight == 1)
            started = time.perf_counter()
            await anyio.to_thread.run_sync(stack.close)
            stopped = time.perf_counter() - started
    assert stopped < 2.0
    assert responses[0].status_code == 503


def test_serve_reports_a_port_it_cannot_bind() -> None:
    """Serving on a port already in use raises OSError rather than hanging."""
    with serve(make()) as url:
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(OSError, match="could not listen"), serve(make(), port=port):
            pass


# -- async runs ---------------------------------------------------------------------------
async def test_async_run_status_and_duplicate_callbacks_over_loopback() -> None:
    """An async run answers pending, then status and (twice) the callback carry the sync data."""
    sim, receiver = make(duplicate_callbacks=True), Receiver()
    with serve(sim) as url, serve(receiver) as hook:
        async with httpx.AsyncClient(base_url=url, headers=KEY) as c:
            submitted = await c.post(ASYNC_RUN_PATH, json={**contact(), "callbackUrl": hook})
            sync_data = (await c.post(SEQUENCE_PATH, json=contact())).json()["data"]
            await wait_for(lambda: len(receiver.bodies) == 2)
            rid = submitted.json()["requestId"]
            by_request = await c.get(ASYNC_STATUS_PATH, params={"requestId": rid})
            by_run = await c.get(ASYNC_STATUS_PATH, params={"agentRunOId": rid})
    assert submitted.status_code == 200
    assert submitted.json() == {
        "status": "pending",
        "requestId": rid,
        "message": "Agent run started",
        "agentOId": contact()["agentOId"],
    }
    status = by_request.json()
    assert status == by_run.json() | {"_metadata": status["_metadata"]}
    assert status["data"]["result"]["data"] == sync_data and status["data"]["error"] is None
    assert status["data"]["result"]["found"] is True
    assert set(status["data"]) == {"requestId", "result", "error", "createdAt"}
    assert status["_metadata"]["usage"] == 1
    callback = receiver.bodies[0]
    assert receiver.bodies[1] == callback
    assert callback == {
        "agentRunOId": rid,
        "requestId": rid,
        "status": "succeeded",
        "result": status["data"]["result"],
        "output": status["data"]["result"],
        "error": None,
    }
    assert sim.counters.callbacks_sent == 2 and sim.counters.billed == 2


async def test_async_run_in_process_is_pending_until_its_latency_passes() -> None:
    """Before its latency a job reports no result; after it, the result and one callback."""
    sim, receiver = make(latency=(0.1, 0.1)), Receiver()
    with serve(receiver) as hook:
        async with client(sim) as c:
            rid = (
                await c.post(ASYNC_RUN_PATH, json={**contact(), "callbackUrl": hook}, headers=KEY)
            ).json()["requestId"]
            early = (await c.get(ASYNC_STATUS_PATH, params={"requestId": rid}, headers=KEY)).json()
            await wait_for(lambda: len(receiver.bodies) == 1)
            late = (await c.get(ASYNC_STATUS_PATH, params={"requestId": rid}, headers=KEY)).json()
    assert early["data"]["result"] is None and early["data"]["error"] is None
    assert late["data"]["result"]["data"]["emails"]


async def test_async_unmatched_contact_fails_with_no_match_and_is_free() -> None:
    """With data-only results an unmatched job ends with error "No match…", failed, free."""
    sim, receiver = make(async_result="data"), Receiver()
    with serve(receiver) as hook:
        async with client(sim) as c:
            body = {**contact(email="ghost@x.invalid"), "callbackUrl": hook}
            rid = (await c.post(ASYNC_RUN_PATH, json=body, headers=KEY)).json()["requestId"]
            await wait_for(lambda: len(receiver.bodies) == 1)
            status = (await c.get(ASYNC_STATUS_PATH, params={"requestId": rid}, headers=KEY)).json()
    assert status["data"]["result"] is None
    assert status["data"]["error"].startswith("No match")
    assert receiver.bodies[0]["status"] == "failed"
    assert sim.counters.billed == 0


async def test_async_endpoint_errors() -> None:
    """Async: no callbackUrl is 400, unknown id 404, no id 400, bad key 401."""
    sim = make()
    async with client(sim) as c:
        no_hook = await c.post(ASYNC_RUN_PATH, json=contact(), headers=KEY)
        unknown = await c.get(ASYNC_STATUS_PATH, params={"requestId": "nope"}, headers=KEY)
        no_id = await c.get(ASYNC_STATUS_PATH, headers=KEY)
        no_key = await c.get(ASYNC_STATUS_PATH, params={"requestId": "nope"})
    codes = [r.status_code for r in (no_hook, unknown, no_id, no_key)]
    assert codes == [400, 404, 400, 401]


async def test_async_callbacks_go_to_loopback_only() -> None:
    """A callback URL off this machine is never called."""
    sim = make()
    async with client(sim) as c:
        body = {**contact(), "callbackUrl": "https://hooks.example.com/octave"}
        assert (await c.post(ASYNC_RUN_PATH, json=body, headers=KEY)).status_code == 200
        await wait_for(lambda: sim.counters.callbacks_refused == 1)
    assert sim.counters.callbacks_sent == 0
