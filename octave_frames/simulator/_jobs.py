"""Octave's async agent runs: submit, poll status, and the callback POST.

A job's answer is fixed when it is submitted (same content, billing and faults as the
sync endpoint) and becomes visible once its latency has passed on ``time.monotonic``,
so polling works without any background task. The callback needs one: it runs as an
asyncio task on the loop serving the request (uvicorn's, or the caller's in process).
Under another event loop (trio) no callback is sent; polling still works.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from typing import Any

import httpx
import sniffio

from ._content import Hash, sequence_data
from ._http import Reply, Request, error, metadata
from ._state import Decision, Job, State, now_iso

__all__ = ["AsyncRuns", "is_loopback_url", "latency_for"]

_CALLBACK_TIMEOUT = 5.0
_NO_MATCH = "No match found for this contact"


def latency_for(h: Hash, low: float, high: float) -> float:
    """Return the run time of the request hashed as ``h``, within ``[low, high]``."""
    return low + (high - low) * h.unit("latency")


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine; the simulator never calls anything else."""
    try:
        host = httpx.URL(url).host
    except httpx.InvalidURL:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AsyncRuns:
    """The async endpoints of one simulator."""

    def __init__(self, state: State) -> None:
        self._state = state
        # asyncio keeps only weak references to tasks; hold them until they finish.
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, body: dict[str, Any], h: Hash, decision: Decision) -> Reply:
        """Record an admitted job and answer ``pending``."""
        cfg = self._state.config
        delay = latency_for(h, *cfg.latency)
        result: dict[str, Any] | None = None
        message: str | None = None
        usage = cfg.cost_per_call
        if decision.outcome == "ok":
            result = sequence_data(body, h, cfg.steps)
        elif decision.outcome == "not_found":
            message, usage = _NO_MATCH, 0.0
        elif decision.outcome == "error":
            message = f"Agent run failed (HTTP {decision.status})"
            usage = cfg.cost_per_call if cfg.bill_errors else 0.0
        else:  # hang: started and billed, never finishes
            delay = math.inf
        job = Job(
            request_id=decision.request_id,
            agent_oid=body.get("agentOId"),
            callback_url=str(body["callbackUrl"]),
            created_at=now_iso(),
            ready_at=time.monotonic() + delay,
            result=result,
            error=message,
            usage=usage,
        )
        self._state.add_job(job)
        if delay != math.inf:
            self._schedule_callback(job, delay)
        return Reply(
            200,
            {
                "status": "pending",
                "requestId": job.request_id,
                "message": "Agent run started",
                "agentOId": job.agent_oid,
            },
        )

    def status(self, request: Request) -> Reply:
        """Answer ``GET …/status?requestId=…`` (or ``agentRunOId=…``)."""
        ids = request.query.get("requestId") or request.query.get("agentRunOId")
        if not ids:
            return error(400, self._state.new_request_id(), "Bad request: requestId is required")
        job = self._state.job(ids[0])
        if job is None:
            return error(404, self._state.new_request_id(), "Agent run not found")
        done = time.monotonic() >= job.ready_at
        message = "Agent run finished" if done else "Agent run pending"
        data = {
            "requestId": job.request_id,
            "result": job.result if done else None,
            "error": job.error if done else None,
            "createdAt": job.created_at,
        }
        usage = job.usage if done else 0
        return Reply(200, {"_metadata": metadata(job.request_id, usage, message), "data": data})

    def _schedule_callback(self, job: Job, delay: float) -> None:
        try:
            on_asyncio = sniffio.current_async_library() == "asyncio"
        except sniffio.AsyncLibraryNotFoundError:
            on_asyncio = False
        if not on_asyncio:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(job, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, job: Job, delay: float) -> None:
        await asyncio.sleep(delay)
        if not is_loopback_url(job.callback_url):
            self._state.count_callback("refused")
            return
        payload = {
            "agentRunOId": job.request_id,
            "requestId": job.request_id,
            "status": "succeeded" if job.error is None else "failed",
            "output": job.result,
            "error": job.error,
        }
        times = 2 if self._state.config.duplicate_callbacks else 1
        async with httpx.AsyncClient(timeout=_CALLBACK_TIMEOUT, trust_env=False) as client:
            for _ in range(times):
                try:
                    await client.post(job.callback_url, json=payload)
                except httpx.HTTPError:
                    self._state.count_callback("failed")
                else:
                    self._state.count_callback("sent")
