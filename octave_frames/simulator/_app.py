"""The simulator's ASGI application: a small router over raw ASGI.

Every billable route is one :class:`Endpoint` declaration (how its body is checked, which
ids are unknown, how a success and a "no match" are written); the sync and async handlers,
faults, limits, billing and jobs are shared by all of them. Each agent of ``_agents``
becomes one sync endpoint; the async agent endpoint runs whichever agent its body names.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from .._asgi import lifespan
from .._exceptions import ArgumentError
from ._agents import (
    AGENTS,
    ASYNC_AGENT,
    Agent,
    Nothing,
    Produce,
    Unmatched,
    async_agent_problem,
    billing_scope,
    no_match,
)
from ._content import Hash, canonical
from ._headless import headless_data, headless_problem
from ._http import (
    Receive,
    Reply,
    Request,
    Scope,
    Send,
    error,
    is_unknown_agent,
    metadata,
    number,
    read_request,
    send_reply,
    unless_disconnected,
)
from ._jobs import AsyncRuns, envelope, latency_for
from ._paths import (
    ASYNC_HEADLESS_PATH,
    ASYNC_RUN_PATH,
    ASYNC_STATUS_PATH,
    COUNTERS_PATH,
    HEADLESS_PATH,
    LIMITS_PATH,
    RESET_PATH,
    VALIDATE_PATH,
    WORKFLOW_RUN_PATH,
    WORKFLOW_STATUS_PATH,
)
from ._state import Decision, State
from ._workflows import is_unknown_workflow, workflow_output, workflow_problem

__all__ = ["ENDPOINTS", "App", "Endpoint"]

_NOT_JSON = object()
# What POST /_simulator/limits may change.
_LIMITS = ("rate", "burst", "max_in_flight")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One billable POST route: what it runs, how its body is checked and answered."""

    kind: Literal["agent", "headless", "workflow"]
    asynchronous: bool
    problem: Callable[[object], str | None]
    produce: Produce
    unknown: str | None = None
    unmatched: Unmatched | None = None
    nothing: Nothing = no_match
    scope: Callable[[Mapping[str, Any]], str] = lambda _body: ""

    def is_unknown(self, body: Mapping[str, Any]) -> bool:
        """Whether the body names an agent or workflow the workspace does not have."""
        if self.kind == "agent":
            return is_unknown_agent(body)
        return self.kind == "workflow" and is_unknown_workflow(body)


def _agent_endpoint(agent: Agent, problem: Callable[[object], str | None]) -> Endpoint:
    asynchronous = agent is ASYNC_AGENT
    return Endpoint(
        "agent",
        asynchronous,
        problem,
        agent.produce,
        "Agent not found",
        unmatched=agent.unmatched,
        nothing=agent.nothing,
        scope=lambda body: billing_scope(agent, body),
    )


def _sync_problem(agent: Agent) -> Callable[[object], str | None]:
    return lambda body: agent.problem(body, async_run=False)


def _headless(body: Mapping[str, Any], h: Hash, _steps: int) -> tuple[Any, str]:
    return headless_data(body, h)


ENDPOINTS: Mapping[str, Endpoint] = {
    **{a.path: _agent_endpoint(a, _sync_problem(a)) for a in AGENTS.values()},
    ASYNC_RUN_PATH: _agent_endpoint(ASYNC_AGENT, async_agent_problem),
    HEADLESS_PATH: Endpoint(
        "headless", False, lambda b: headless_problem(b, async_run=False), _headless
    ),
    ASYNC_HEADLESS_PATH: Endpoint(
        "headless", True, lambda b: headless_problem(b, async_run=True), _headless
    ),
    WORKFLOW_RUN_PATH: Endpoint(
        "workflow", True, workflow_problem, workflow_output, "Workflow not found"
    ),
}


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _NOT_JSON


class App:
    """The ASGI callable behind :class:`~octave_frames.simulator.Simulator`."""

    def __init__(self, state: State) -> None:
        self._state = state
        self.jobs = AsyncRuns(state)
        self._routes: dict[tuple[str, str], Callable[[Request], Awaitable[Reply]]] = {
            ("GET", ASYNC_STATUS_PATH): self._agent_status,
            ("GET", WORKFLOW_STATUS_PATH): self._workflow_status,
            ("GET", VALIDATE_PATH): self._validate,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"].rstrip("/")
        if path in (COUNTERS_PATH, RESET_PATH, LIMITS_PATH):
            await self._own(scope, receive, send)
            return
        endpoint = ENDPOINTS.get(path) if scope["method"] == "POST" else None
        state = self._state
        state.count_request(agent=endpoint is not None)
        if endpoint is not None:
            state.enter()
        try:
            request = await read_request(scope, receive)
            if request is None:
                return
            if endpoint is not None:
                run = self._run_async if endpoint.asynchronous else self._run_sync
                reply = await unless_disconnected(receive, lambda: run(request, endpoint))
                if reply is None:
                    return
            else:
                reply = await self._dispatch(request)
            state.count_status(reply.status)
            await send_reply(send, reply)
        finally:
            if endpoint is not None:
                state.leave()

    async def _own(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``/_simulator/…``: no auth, not billed, not counted."""
        request = await read_request(scope, receive)
        if request is None:
            return
        if request.path == COUNTERS_PATH and request.method == "GET":
            detail = request.query.get("polls_by_id", ["0"])[0] not in ("0", "false", "")
            reply = Reply(200, self._state.snapshot().to_json(polls_by_id=detail))
        elif request.path == RESET_PATH and request.method == "POST":
            self.reset()
            reply = Reply(200, {"reset": True})
        elif request.path == LIMITS_PATH and request.method == "POST":
            reply = self._set_limits(_json(request.body))
        else:
            reply = error(
                405, "simulator", f"Method {request.method} not allowed on {request.path}"
            )
        await send_reply(send, reply)

    def _set_limits(self, body: object) -> Reply:
        """Change the rate limit, burst or in-flight cap from now on (a limit that moves)."""
        if not isinstance(body, dict) or not set(body) <= set(_LIMITS):
            return error(400, "simulator", f"POST a JSON object with some of {_LIMITS}")
        try:
            config = dataclasses.replace(self._state.config, **body)
        except (ArgumentError, TypeError) as exc:
            return error(400, "simulator", str(exc))
        self._state.config = config
        return Reply(200, {name: getattr(config, name) for name in _LIMITS})

    def reset(self) -> None:
        """Forget all state and stop pending callbacks."""
        self.jobs.cancel_callbacks()
        self._state.reset()

    async def _dispatch(self, request: Request) -> Reply:
        handler = self._routes.get((request.method, request.path))
        if handler is not None:
            return await handler(request)
        rid = self._state.new_request_id()
        known = {p for _, p in self._routes} | set(ENDPOINTS)
        if request.path in known:
            return error(405, rid, f"Method {request.method} not allowed on {request.path}")
        return error(404, rid, f"No route for {request.method} {request.path}")

    def _authorised(self, request: Request) -> str | None:
        key = request.headers.get("api_key")
        return key if key in self._state.config.api_keys else None

    def _admit(
        self, request: Request, endpoint: Endpoint
    ) -> Reply | tuple[dict[str, Any], Hash, Decision]:
        """Auth, validation, unknown agent, then the state's fault/limit/billing pipeline."""
        state, cfg = self._state, self._state.config
        body = _json(request.body)
        if isinstance(body, dict):
            state.record(body, request.headers)
        key = self._authorised(request)
        if key is None:
            return error(401, state.new_request_id())
        problem = endpoint.problem(body)
        if problem is not None:
            return error(400, state.new_request_id(), f"Bad request: {problem}")
        if endpoint.is_unknown(body):
            return error(404, state.new_request_id(), endpoint.unknown)
        h = Hash(body, cfg.seed)
        unmatched = endpoint.unmatched is not None and endpoint.unmatched(
            body, h, cfg.not_found_rate
        )
        # Money paid twice is the same client request billed twice: the client's own id
        # says which requests are the same; without one, the body does (per agent).
        same = request.headers.get("x-external-request-id") or canonical(body)
        billing_key = endpoint.scope(body) + same
        prefix = AsyncRuns.prefix(endpoint.kind) if endpoint.asynchronous else None
        decision = state.admit(key, billing_key, unmatched=unmatched, job_prefix=prefix)
        refusal = _refusal(decision)
        if refusal is not None:
            return refusal
        return body, h, decision

    async def _run_sync(self, request: Request, endpoint: Endpoint) -> Reply:
        admitted = self._admit(request, endpoint)
        if isinstance(admitted, Reply):
            return admitted
        body, h, decision = admitted
        cfg = self._state.config
        rid = decision.request_id
        if decision.outcome == "error":
            return error(decision.status, rid)
        if decision.outcome == "hang":
            await anyio.sleep(cfg.hang_seconds)
            return error(504, rid, "Agent run timed out")
        await anyio.sleep(latency_for(h, *cfg.latency))
        if decision.outcome == "not_found":
            empty, why = endpoint.nothing(body)
            meta = metadata(rid, 0, why)
            return Reply(200, {"_metadata": meta, "found": False, "message": why, "data": empty})
        data, message = endpoint.produce(body, h, cfg.steps)
        return Reply(200, envelope(rid, cfg.cost_per_call, message, data))

    async def _run_async(self, request: Request, endpoint: Endpoint) -> Reply:
        admitted = self._admit(request, endpoint)
        if isinstance(admitted, Reply):
            return admitted
        body, h, decision = admitted
        cfg = self._state.config
        if decision.outcome == "error":
            return error(decision.status, decision.request_id)
        job = self.jobs.submit(
            endpoint.kind,
            body,
            decision,
            lambda: endpoint.produce(body, h, cfg.steps),
            nothing=endpoint.nothing(body),
        )
        if decision.outcome == "hang":
            # The job was accepted (and billed) but its id never reaches the client: a
            # retry of this submission is a second job, paid twice.
            await anyio.sleep(cfg.hang_seconds)
            return error(504, job.request_id, "Gateway timeout")
        if endpoint.kind == "workflow":
            started = {"jobOId": job.request_id, "message": "Workflow run started"}
            return Reply(200, {**started, "status": "pending"})
        message = "Agent run started" if endpoint.kind == "agent" else "Email generation started"
        pending = {"requestId": job.request_id, "message": message, "agentOId": job.oid}
        return Reply(200, {"status": "pending", **pending})

    async def _agent_status(self, request: Request) -> Reply:
        if self._authorised(request) is None:
            return error(401, self._state.new_request_id())
        return self.jobs.status(request, kind="agent")

    async def _workflow_status(self, request: Request) -> Reply:
        if self._authorised(request) is None:
            return error(401, self._state.new_request_id())
        return self.jobs.status(request, kind="workflow")

    async def _validate(self, request: Request) -> Reply:
        if self._authorised(request) is None:
            return error(401, self._state.new_request_id())
        total, remaining = self._state.config.credits, self._state.credits
        credits = {
            "totalUsed": number(total - remaining),
            "totalRemaining": number(remaining),
            "totalMax": number(total),
            "period": "month",
        }
        return Reply(
            200,
            {
                "status": "ok",
                "valid": True,
                "workspaceOId": "wa_sim",
                "workspaceName": "Octave Simulator",
                "credits": credits,
            },
        )


def _refusal(decision: Decision) -> Reply | None:
    """Return the answer given before a run starts (sync and async alike), if any."""
    rid = decision.request_id
    if decision.outcome == "fail":
        return error(decision.status, rid, retry_after=decision.retry_after)
    if decision.outcome == "busy":
        return error(429, rid, "Too many requests in flight", retry_after=decision.retry_after)
    if decision.outcome == "limited":
        return error(429, rid, "Rate limit exceeded", retry_after=decision.retry_after)
    if decision.outcome == "broke":
        return error(402, rid, "Insufficient credits")
    return None
