"""The simulator's async pattern: submit, poll, job fates, billing, callbacks, workflows."""

from __future__ import annotations

import time
from typing import Any

import anyio
import httpx
import pytest
from _simkit import KEY, Receiver, client, contact, make, wait_for

from octave_frames._constants import ASYNC_RUN_PATH, ASYNC_STATUS_PATH, SEQUENCE_PATH
from octave_frames.simulator import Simulator, serve

pytestmark = pytest.mark.anyio

NOOP = "https://example.invalid/noop"
WORKFLOW_RUN = "/api/v2/workflows/run"
WORKFLOW_STATUS = "/api/v2/workflows/run/status"


def job(url: str = NOOP, **extra: Any) -> dict[str, Any]:
    """Return an async agent-run body calling back ``url``."""
    return {**contact(**extra), "callbackUrl": url}


async def submit(c: httpx.AsyncClient, body: dict[str, Any], **kw: Any) -> str:
    """Submit one async run, check it is pending and return its request id."""
    answer = await c.post(ASYNC_RUN_PATH, json=body, **kw)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "pending"
    rid: str = answer.json()["requestId"]
    return rid


async def status(c: httpx.AsyncClient, rid: str, name: str = "requestId") -> dict[str, Any]:
    """Return the ``data`` of one status poll."""
    answer = await c.get(ASYNC_STATUS_PATH, params={name: rid})
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


# -- submit and poll ----------------------------------------------------------------------
async def test_result_is_null_until_the_job_is_done_then_the_whole_envelope() -> None:
    """A job answers pending with an asyncReqID_ id, then its status carries the sync envelope."""
    sim = make(job_duration=(0.05, 0.05))
    async with client(sim) as c:
        submitted = await c.post(ASYNC_RUN_PATH, json=job())
        rid = submitted.json()["requestId"]
        early = await status(c, rid)
        await anyio.sleep(0.08)
        late = await status(c, rid, name="agentRunOId")
        sync = (await c.post(SEQUENCE_PATH, json=contact())).json()
    assert submitted.json() == {
        "status": "pending",
        "requestId": rid,
        "message": "Agent run started",
        "agentOId": contact()["agentOId"],
    }
    assert rid.startswith("asyncReqID_")
    assert early == {
        "requestId": rid,
        "result": None,
        "error": None,
        "createdAt": early["createdAt"],
    }
    result = late["result"]
    assert set(result) == {"_metadata", "found", "message", "data"}
    assert result["found"] is True and result["_metadata"]["usage"] == 1
    assert result["data"] == sync["data"] and late["error"] is None
    counters = sim.counters
    assert (counters.submissions, counters.polls, counters.polls_by_id) == (1, 2, {rid: 2})
    assert counters.polls_per_job_max == 2 and counters.polls_per_job_mean == 2.0
    assert counters.billed == 2 and counters.agent_requests == 2


async def test_data_shape_puts_only_the_data_in_result() -> None:
    """With async_result="data" the status result is the sync answer's ``data`` alone."""
    sim = make(async_result="data")
    async with client(sim) as c:
        rid = await submit(c, job())
        data = await status(c, rid)
        sync = (await c.post(SEQUENCE_PATH, json=contact())).json()["data"]
    assert data["result"] == sync


async def test_job_duration_bounds_when_a_result_appears() -> None:
    """No job of duration 0.1-0.2 s is done at 0.05 s; every one is done at 0.25 s."""
    sim = make(job_duration=(0.1, 0.2))
    async with client(sim) as c:
        ids = [await submit(c, job(email=f"p{i}@acme.com")) for i in range(10)]
        await anyio.sleep(0.05)
        early = [(await status(c, rid))["result"] for rid in ids]
        await anyio.sleep(0.2)
        late = [(await status(c, rid))["result"] for rid in ids]
    assert early == [None] * 10
    assert all(r is not None for r in late)


async def test_failing_jobs_carry_an_error_and_are_free_unless_errors_are_billed() -> None:
    """A failed job has result null and an error text; it is billed only with bill_errors."""
    for bill in (False, True):
        sim = make(job_failure_rate=1.0, bill_errors=bill)
        async with client(sim) as c:
            rid = await submit(c, job())
            answer = (await c.get(ASYNC_STATUS_PATH, params={"requestId": rid})).json()
        assert answer["data"]["result"] is None
        assert "failed" in answer["data"]["error"]
        assert sim.counters.billed == int(bill)
        assert answer["_metadata"]["usage"] == int(bill)


async def test_never_finishing_jobs_stay_pending_are_billed_and_never_call_back() -> None:
    """A job drawn to never finish keeps result and error null and sends no callback."""
    sim, receiver = make(job_never_rate=1.0), Receiver()
    with serve(receiver) as hook:
        async with client(sim) as c:
            rid = await submit(c, job(hook))
            await anyio.sleep(0.1)
            data = await status(c, rid)
    assert data["result"] is None and data["error"] is None
    assert receiver.attempts == 0 and sim.counters.billed == 1
    assert sim.counters.callbacks_sent == sim.counters.callbacks_refused == 0


async def test_job_fates_are_seeded_fractions_by_request_id() -> None:
    """Failure and never rates pick about that share of jobs, the same ones for the same seed."""

    async def fates(sim: Simulator) -> list[str]:
        out = []
        async with client(sim) as c:
            for i in range(100):
                data = await status(c, await submit(c, job(email=f"p{i}@acme.com")))
                out.append("ok" if data["result"] else "failed" if data["error"] else "never")
        return out

    first = await fates(make(job_failure_rate=0.3, job_never_rate=0.2))
    again = await fates(make(job_failure_rate=0.3, job_never_rate=0.2))
    other = await fates(make(job_failure_rate=0.3, job_never_rate=0.2, seed=1))
    assert first == again and first != other
    assert 15 <= first.count("failed") <= 45 and 8 <= first.count("never") <= 35


async def test_unknown_and_missing_ids() -> None:
    """An unknown id is 404 naming it, no id is 400, a workflow id on the agent route 404."""
    sim = make()
    async with client(sim) as c:
        unknown = await c.get(ASYNC_STATUS_PATH, params={"requestId": "asyncReqID_nope"})
        missing = await c.get(ASYNC_STATUS_PATH)
        flow = await c.post(WORKFLOW_RUN, json={"workflowOId": "caw_demo"})
        crossed = await c.get(ASYNC_STATUS_PATH, params={"requestId": flow.json()["jobOId"]})
    assert unknown.status_code == 404 and "asyncReqID_nope" in unknown.json()["message"]
    assert missing.status_code == 400 and "requestId" in missing.json()["message"]
    assert crossed.status_code == 404
    assert sim.counters.polls == 2, "a poll naming no id is not counted"


# -- faults, limits and billing of submissions --------------------------------------------
async def test_submissions_share_the_rate_limit_and_scripted_faults() -> None:
    """An async submission takes a rate-limit slot (429) and a scripted fault, unbilled."""
    sim = make(rate=1, burst=1)
    async with client(sim) as c:
        sim.fail_next(1, 503)
        failed = await c.post(ASYNC_RUN_PATH, json=job())
        await submit(c, job())
        limited = await c.post(ASYNC_RUN_PATH, json=job(firstName="Alex"))
        synced = await c.post(SEQUENCE_PATH, json=contact(firstName="Ann"))
    assert failed.status_code == 503
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert synced.status_code == 429
    assert sim.counters.submissions == 1 and sim.counters.billed == 1


async def test_injected_errors_answer_the_submission_and_create_no_job() -> None:
    """error_rate=1 answers the async POST with a 5xx: nothing is submitted or billed."""
    sim = make(error_rate=1.0)
    async with client(sim) as c:
        answer = await c.post(ASYNC_RUN_PATH, json=job())
    assert answer.status_code in (500, 502, 503)
    assert sim.counters.submissions == 0 and sim.counters.billed == 0


async def test_a_hanging_submission_is_billed_and_its_retry_pays_twice() -> None:
    """A submission that times out still ran: re-sending it bills a duplicate."""
    sim = make(hang_seconds=0.02)
    sim.hang_next(1)
    headers = {"x-external-request-id": "row-7"}
    async with client(sim) as c:
        timed_out = await c.post(ASYNC_RUN_PATH, json=job(), headers=headers)
        await submit(c, job(), headers=headers)
    assert timed_out.status_code == 504
    counters = sim.counters
    assert (counters.submissions, counters.billed, counters.unique_billed) == (2, 2, 1)
    assert counters.duplicates == 1


# -- callbacks ----------------------------------------------------------------------------
async def test_callback_payload_matches_the_status_and_no_op_urls_are_not_called() -> None:
    """The callback carries both id names, status, result/output; a no-op URL is never called."""
    sim, receiver = make(), Receiver()
    with serve(receiver) as hook:
        async with client(sim) as c:
            rid = await submit(c, job(hook))
            await submit(c, job(NOOP, firstName="Alex"))
            await wait_for(
                lambda: sim.counters.callbacks_sent + sim.counters.callbacks_refused == 2
            )
            result = (await status(c, rid))["result"]
    assert receiver.bodies == [
        {
            "requestId": rid,
            "agentRunOId": rid,
            "status": "succeeded",
            "result": result,
            "output": result,
            "error": None,
        }
    ]
    assert (sim.counters.callbacks_sent, sim.counters.callbacks_refused) == (1, 1)


async def test_callbacks_duplicated_and_lost_by_rate() -> None:
    """duplicate_rate=1 delivers every callback twice; loss_rate=1 delivers none."""
    twice, lost, receiver = (
        make(callback_duplicate_rate=1.0),
        make(callback_loss_rate=1.0),
        Receiver(),
    )
    with serve(receiver) as hook:
        async with client(twice) as c:
            await submit(c, job(hook))
            await wait_for(lambda: twice.counters.callbacks_sent == 2)
        async with client(lost) as c:
            rid = await submit(c, job(hook, firstName="Alex"))
            await wait_for(lambda: lost.counters.callbacks_lost == 1)
            data = await status(c, rid)
    assert receiver.bodies[0] == receiver.bodies[1]
    assert (twice.counters.callbacks_sent, twice.counters.callbacks_duplicated) == (2, 1)
    assert len(receiver.bodies) == 2 and lost.counters.callbacks_sent == 0
    assert data["result"] is not None, "a lost callback still leaves the result to poll"


async def test_late_callbacks_come_after_the_result_is_pollable() -> None:
    """With callback_delay the status shows the result first; the callback follows later."""
    sim, receiver = make(callback_delay=(0.15, 0.15)), Receiver()
    with serve(receiver) as hook:
        async with client(sim) as c:
            started = time.monotonic()
            rid = await submit(c, job(hook))
            ready = (await status(c, rid))["result"]
            assert receiver.attempts == 0
            await wait_for(lambda: len(receiver.bodies) == 1)
    assert ready is not None
    assert receiver.arrived[0] - started >= 0.15


async def test_a_failing_receiver_is_retried_with_growing_backoff() -> None:
    """Two 503s from the receiver are retried after 0.02 s then 0.04 s; the third lands."""
    sim, receiver = make(callback_backoff=0.02), Receiver(fail_first=2)
    with serve(receiver) as hook:
        async with client(sim) as c:
            await submit(c, job(hook))
            await wait_for(lambda: sim.counters.callbacks_sent == 1)
    gaps = [b - a for a, b in zip(receiver.tried, receiver.tried[1:], strict=False)]
    assert len(gaps) == 2 and gaps[0] >= 0.02 and gaps[1] >= 0.04
    counters = sim.counters
    assert (counters.callbacks_failed, counters.callbacks_sent) == (2, 1)
    assert counters.callbacks_abandoned == 0


async def test_a_receiver_that_keeps_failing_is_abandoned_after_the_retries() -> None:
    """After callback_retries failed retries the callback is given up, and counted so."""
    sim, receiver = make(callback_backoff=0.0, callback_retries=2), Receiver(fail_first=99)
    with serve(receiver) as hook:
        async with client(sim) as c:
            await submit(c, job(hook))
            await wait_for(lambda: sim.counters.callbacks_abandoned == 1)
    assert receiver.attempts == 3
    assert (sim.counters.callbacks_failed, sim.counters.callbacks_sent) == (3, 0)


async def test_served_async_run_reports_polls_and_callbacks_over_http() -> None:
    """Over loopback, the counters endpoint reports submissions, polls and callbacks."""
    sim, receiver = make(job_duration=(0.3, 0.3)), Receiver()
    with serve(sim) as url, serve(receiver) as hook:
        async with httpx.AsyncClient(base_url=url, headers=KEY) as c:
            rid = await submit(c, job(hook))
            while (await status(c, rid))["result"] is None:
                await anyio.sleep(0.01)
            await wait_for(lambda: sim.counters.callbacks_sent == 1)
            counters = (await c.get("/_simulator/counters", params={"polls_by_id": 1})).json()
    assert counters["submissions"] == 1 and counters["callbacks_sent"] == 1
    assert counters["polls"] == counters["polls_by_id"][rid] == counters["polls_per_job_max"] >= 2


# -- workflows ----------------------------------------------------------------------------
async def test_workflow_runs_progress_then_output_and_call_back() -> None:
    """A workflow answers a bsjob_ id, counts its nodes, then shows its output and calls back."""
    sim, receiver = make(job_duration=(0.09, 0.09)), Receiver()
    body = {"workflowOId": "caw_demo", **contact(), "agentOId": None}
    body = {k: v for k, v in body.items() if v is not None}
    with serve(receiver) as hook:
        async with client(sim) as c:
            started = (await c.post(WORKFLOW_RUN, json={**body, "callbackUrl": hook})).json()
            jid = started["jobOId"]
            early = (await c.get(WORKFLOW_STATUS, params={"jobOId": jid})).json()["data"]
            await wait_for(lambda: len(receiver.bodies) == 1)
            late = (await c.get(WORKFLOW_STATUS, params={"workflowRunOId": jid})).json()["data"]
            bad = await c.post(WORKFLOW_RUN, json={"callbackUrl": hook})
            unknown = await c.post(WORKFLOW_RUN, json={"workflowOId": "caw_unknown"})
    assert started == {"jobOId": jid, "status": "pending", "message": "Workflow run started"}
    assert jid.startswith("bsjob_")
    assert early["processedCount"] < early["totalCount"] == 3
    assert early["completedAt"] is None and "output" not in early
    assert late["processedCount"] == late["successCount"] == 3 and late["failedCount"] == 0
    assert late["workflowOId"] == "caw_demo" and late["callbackUrl"] == hook
    assert late["completedAt"] and late["circuitBreakerReason"] is None
    nodes = late["output"]["nodes"]
    assert [n["status"] for n in nodes] == ["succeeded"] * 3
    assert nodes[0]["input"]["firstName"] == "Sarah"
    assert receiver.bodies[0]["jobOId"] == jid and receiver.bodies[0]["status"] == "succeeded"
    assert receiver.bodies[0]["output"] == late["output"]
    assert bad.status_code == 400 and "workflowOId" in bad.json()["message"]
    assert unknown.status_code == 404
    assert sim.counters.submissions == 1 and sim.counters.billed == 1


async def test_a_failed_workflow_reports_its_circuit_breaker_reason() -> None:
    """A workflow drawn to fail ends with failedCount 1, a reason and no output."""
    sim = make(job_failure_rate=1.0)
    async with client(sim) as c:
        jid = (await c.post(WORKFLOW_RUN, json={"workflowOId": "caw_x"})).json()["jobOId"]
        data = (await c.get(WORKFLOW_STATUS, params={"jobOId": jid})).json()["data"]
    assert data["failedCount"] == 1 and data["successCount"] == 2
    assert data["circuitBreakerReason"] and data["output"] is None
