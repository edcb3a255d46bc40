"""Octave's async pattern: submit a job, poll its status, receive its callback.

A job's answer is fixed when it is submitted (same content, billing and faults as the
sync endpoint) and becomes visible once its duration has passed on ``time.monotonic``,
so polling works without any background task. The callback needs one: it runs as an
asyncio task on the loop serving the request (uvicorn's, or the caller's in process).
Under another event loop (trio) no callback is sent; polling still works.

Which jobs fail, never finish, call back late, twice or never is drawn from a hash of
the job's request id, so a run is reproducible from its seed and arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import math
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx
import sniffio

from ._content import Hash
from ._http import Reply, Request, error, metadata
from ._state import Decision, Job, State, job_unit, now_iso
from ._workflows import workflow_status_data

__all__ = ["NO_MATCH", "AsyncRuns", "envelope", "is_loopback_url", "latency_for"]

NO_MATCH = "No match found for this contact"
_JOB_FAILED = "Agent run failed: the model could not complete the sequence (simulated)"
_WORKFLOW_FAILED = "Node 'Write sequence' failed: the model did not answer (simulated)"
_PREFIXES = {"agent": "asyncReqID_", "headless": "asyncReqID_", "workflow": "bsjob_"}

Kind = Literal["agent", "headless", "workflow"]


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def latency_for(h: Hash, low: float, high: float) -> float:
    """Return the run time of the request hashed as ``h``, within ``[low, high]``."""
    return low + (high - low) * h.unit("latency")


def envelope(request_id: str, usage: float, message: str, data: Any) -> dict[str, Any]:
    """Return a successful sync answer: ``{"_metadata", "found": true, "message", "data"}``."""
    return {
        "_metadata": metadata(request_id, usage, message),
        "found": True,
        "message": message,
        "data": data,
    }


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
    """The async jobs of one simulator: submission, status answers and callbacks."""

    def __init__(self, state: State) -> None:
        self._state = state
        # asyncio keeps only weak references to tasks; hold them until they finish.
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def prefix(kind: Kind) -> str:
        """Return the id prefix of a job of ``kind`` (``asyncReqID_``, ``bsjob_``)."""
        return _PREFIXES[kind]

    def submit(
        self,
        kind: Kind,
        body: Mapping[str, Any],
        decision: Decision,
        produce: Callable[[], tuple[Any, str]],
        *,
        nothing: tuple[Any, str] = (None, NO_MATCH),
    ) -> Job:
        """Record an admitted job (and schedule its callback); return it.

        Args:
            kind: What runs: an agent, headless emails or a workflow.
            body: The request body, validated.
            decision: The admission decision, carrying the job id and its fate.
            produce: Builds the successful answer's ``(data, message)``.
            nothing: The ``(data, message)`` of a ``found: false`` answer.

        Returns:
            The job, already visible to status requests.

        """
        cfg = self._state.config
        rid = decision.request_id
        low, high = cfg.job_duration or cfg.latency
        delay = low + (high - low) * job_unit(cfg.seed, rid, "duration")
        result: Any = None
        problem: str | None = None
        usage = 0.0
        if decision.outcome in ("ok", "hang", "job_never"):
            data, message = produce()
            usage = cfg.cost_per_call
            keep_data = kind == "workflow" or cfg.async_result == "data"
            result = data if keep_data else envelope(rid, usage, message, data)
        elif decision.outcome == "not_found" and cfg.async_result == "envelope":
            empty, why = nothing
            meta = metadata(rid, 0, why)
            result = {"_metadata": meta, "found": False, "message": why, "data": empty}
        elif decision.outcome == "not_found":
            problem = nothing[1]
        else:  # job_failed
            problem = _WORKFLOW_FAILED if kind == "workflow" else _JOB_FAILED
            usage = cfg.cost_per_call if cfg.bill_errors else 0.0
        if decision.outcome == "job_never":
            delay = math.inf
        oid = body.get("workflowOId" if kind == "workflow" else "agentOId")
        url = body.get("callbackUrl")
        now = time.monotonic()
        job = Job(
            request_id=rid,
            kind=kind,
            oid=str(oid) if oid is not None else None,
            callback_url=str(url) if url else None,
            created_at=now_iso(),
            completed_at=None if math.isinf(delay) else now_iso(delay),
            submitted_at=now,
            ready_at=now + delay,
            result=result,
            error=problem,
            usage=usage,
        )
        self._state.add_job(job)
        if job.callback_url is not None and delay != math.inf:
            self._schedule_callback(job)
        return job

    def status(self, request: Request, *, kind: Literal["agent", "workflow"]) -> Reply:
        """Answer ``GET …/status`` for an agent/headless job or a workflow job.

        Agents take ``requestId`` (or ``agentRunOId``); workflows ``jobOId`` (or
        ``workflowRunOId``). An id of the other kind is unknown here, as it would be
        to Octave.
        """
        names = ("jobOId", "workflowRunOId") if kind == "workflow" else ("requestId", "agentRunOId")
        ids = request.query.get(names[0]) or request.query.get(names[1])
        if not ids:
            problem = f"Bad request: {names[0]} (or {names[1]}) is required"
            return error(400, self._state.new_request_id(), problem)
        job = self._state.poll(ids[0])
        if job is None or (job.kind == "workflow") != (kind == "workflow"):
            what = "Workflow run" if kind == "workflow" else "Async agent run"
            return error(404, self._state.new_request_id(), f"{what} {ids[0]!r} not found")
        done = time.monotonic() >= job.ready_at
        usage = job.usage if done else 0
        if kind == "workflow":
            data = workflow_status_data(job, time.monotonic())
            message = "Workflow run finished" if done else "Workflow run in progress"
            return Reply(200, {"_metadata": metadata(job.request_id, usage, message), "data": data})
        message = "Agent run finished" if done else "Agent run pending"
        data = {
            "requestId": job.request_id,
            "result": job.result if done else None,
            "error": job.error if done else None,
            "createdAt": job.created_at,
        }
        return Reply(200, {"_metadata": metadata(job.request_id, usage, message), "data": data})

    def cancel_callbacks(self) -> None:
        """Stop every callback not yet delivered (on whichever loop it runs)."""
        for task in list(self._tasks):
            with contextlib.suppress(RuntimeError):  # its loop has closed: nothing to stop
                task.get_loop().call_soon_threadsafe(task.cancel)

    def _schedule_callback(self, job: Job) -> None:
        try:
            on_asyncio = sniffio.current_async_library() == "asyncio"
        except sniffio.AsyncLibraryNotFoundError:
            on_asyncio = False
        if not on_asyncio:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, job: Job) -> None:
        state, cfg = self._state, self._state.config
        rid, url = job.request_id, job.callback_url
        low, high = cfg.callback_delay
        late = low + (high - low) * job_unit(cfg.seed, rid, "callback-delay")
        await asyncio.sleep(max(0.0, job.ready_at - time.monotonic()) + late)
        if url is None or not is_loopback_url(url):
            state.count_callback("refused")
            return
        if job_unit(cfg.seed, rid, "callback-loss") < cfg.callback_loss_rate:
            state.count_callback("lost")
            return
        copies = 2 if job_unit(cfg.seed, rid, "callback-dup") < cfg.callback_duplicate_rate else 1
        payload = callback_payload(job)
        # One TLS context for every callback: httpx builds one per client otherwise, ~34 ms
        # of CPU that blocked this loop for seconds when a thousand jobs called back.
        async with httpx.AsyncClient(
            timeout=cfg.callback_timeout, trust_env=False, verify=_tls()
        ) as client:
            for copy in range(copies):
                if copy:
                    state.count_callback("duplicated")
                await self._post(client, url, payload)

    async def _post(self, client: httpx.AsyncClient, url: str, payload: dict[str, Any]) -> None:
        """POST one callback, retrying with doubling backoff while the receiver fails."""
        state, cfg = self._state, self._state.config
        for attempt in range(cfg.callback_retries + 1):
            if attempt:
                await asyncio.sleep(cfg.callback_backoff * 2 ** (attempt - 1))
            try:
                response = await client.post(url, json=payload)
            except httpx.HTTPError:
                state.count_callback("failed")
                continue
            if response.is_success:
                state.count_callback("sent")
                return
            state.count_callback("failed")
        state.count_callback("abandoned")


def callback_payload(job: Job) -> dict[str, Any]:
    """Return the JSON body Octave POSTs to a finished job's ``callbackUrl``.

    The field names are not documented: the run id is sent under both of its names, and
    the output under both ``result`` (the status endpoint's word) and ``output``.
    """
    ids = (
        {"jobOId": job.request_id, "workflowRunOId": job.request_id, "workflowOId": job.oid}
        if job.kind == "workflow"
        else {"requestId": job.request_id, "agentRunOId": job.request_id}
    )
    return {
        **ids,
        "status": "succeeded" if job.error is None else "failed",
        "result": job.result,
        "output": job.result,
        "error": job.error,
    }
