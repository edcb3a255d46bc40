"""Octave Workflows (always async): body checks, node outputs and the status ``data``.

A simulated workflow is three nodes run in sequence (enrich, qualify, write): the
entry node gets the body's extra fields as input, as Octave documents. The shape of a
workflow's output is not public; here it is ``{"nodes": [...], "final": ...}``, one
entry per node with its name, status and output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ._content import Hash, sequence_data
from ._state import Job

__all__ = ["NODES", "workflow_output", "workflow_problem", "workflow_status_data"]

NODES = ("Enrich person", "Qualify person", "Write sequence")
_NOT_INPUT = frozenset({"workflowOId", "callbackUrl"})


def workflow_problem(body: object) -> str | None:
    """Return why a workflow-run body is unacceptable, or ``None`` if it is fine."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    oid, url = body.get("workflowOId"), body.get("callbackUrl")
    if not isinstance(oid, str) or not oid:
        return "workflowOId is required and must be a string"
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        return "callbackUrl must be an http(s) URL when given"
    return None


def is_unknown_workflow(body: Mapping[str, Any]) -> bool:
    """Workflows are ``caw_…``; anything else, or ``unknown``, is 404."""
    oid = str(body.get("workflowOId"))
    return not oid.startswith("caw_") or "unknown" in oid.lower()


def workflow_output(body: Mapping[str, Any], h: Hash, steps: int) -> tuple[dict[str, Any], str]:
    """Return ``(output, message)`` of a successful workflow run over ``body``'s inputs."""
    inputs = {k: v for k, v in body.items() if k not in _NOT_INPUT}
    sequence = sequence_data(inputs, h, steps)
    person = {
        "firstName": inputs.get("firstName"),
        "lastName": inputs.get("lastName"),
        "title": inputs.get("jobTitle"),
        "company": {"name": inputs.get("companyName"), "domain": inputs.get("companyDomain")},
    }
    score = 1 + h.index(10, "workflow-score")
    outputs: list[dict[str, Any]] = [
        {"person": person, "persona": sequence["persona"]["name"]},
        {"score": score, "rationale": f"{sequence['persona']['name']} fit scored {score}/10."},
        {"emails": sequence["emails"]},
    ]
    nodes = [
        {
            "nodeOId": f"wfn_{i}",
            "name": name,
            "status": "succeeded",
            "input": inputs if i == 1 else None,
            "output": out,
        }
        for i, (name, out) in enumerate(zip(NODES, outputs, strict=True), start=1)
    ]
    return {"nodes": nodes, "final": outputs[-1]}, f"Workflow ran {len(NODES)} nodes"


def workflow_status_data(job: Job, now: float) -> dict[str, Any]:
    """Return the ``data`` of ``GET /workflows/run/status`` for ``job`` at ``now``.

    Nodes complete one after another over the job's duration; a job that never finishes
    stays on its first node. The ``output`` key appears once the run is done.
    """
    total = len(NODES)
    done = now >= job.ready_at
    if done:
        processed = total
    elif math.isinf(job.ready_at):
        processed = 0
    else:
        span = job.ready_at - job.submitted_at
        processed = min(total - 1, int(total * (now - job.submitted_at) / span))
    failed = 1 if done and job.error is not None else 0
    data: dict[str, Any] = {
        "jobOId": job.request_id,
        "workflowOId": job.oid,
        "callbackUrl": job.callback_url,
        "totalCount": total,
        "processedCount": processed,
        "successCount": processed - failed,
        "failedCount": failed,
        "createdAt": job.created_at,
        "startedAt": job.created_at,
        "completedAt": job.completed_at if done else None,
        "circuitBreakerReason": job.error if failed else None,
    }
    if done:
        data["output"] = job.result
    return data
