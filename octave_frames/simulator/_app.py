"""The simulator's ASGI application: a six-route router over raw ASGI."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .._constants import ASYNC_RUN_PATH, ASYNC_STATUS_PATH, SEQUENCE_PATH, VALIDATE_PATH
from ._content import Hash, canonical, sequence_data
from ._http import (
    Receive,
    Reply,
    Request,
    Scope,
    Send,
    agent_body_problem,
    error,
    is_unknown_agent,
    is_unmatched,
    metadata,
    number,
    read_request,
    send_reply,
    unless_disconnected,
)
from ._jobs import AsyncRuns, latency_for
from ._state import Decision, State

__all__ = ["App"]

_AGENT_PATHS = frozenset({SEQUENCE_PATH, ASYNC_RUN_PATH})
_NOT_JSON = object()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _NOT_JSON


class App:
    """The ASGI callable behind :class:`~octave_frames.simulator.Simulator`."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._async = AsyncRuns(state)
        self._routes: dict[tuple[str, str], Callable[[Request], Awaitable[Reply]]] = {
            ("POST", ASYNC_RUN_PATH): self._async_run,
            ("GET", ASYNC_STATUS_PATH): self._async_status,
            ("GET", VALIDATE_PATH): self._validate,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"].rstrip("/")
        agent = scope["method"] == "POST" and path in _AGENT_PATHS
        state = self._state
        state.count_request(agent=agent)
        if agent:
            state.enter()
        try:
            request = await read_request(scope, receive)
            if request is None:
                return
            if agent and path == SEQUENCE_PATH:
                reply = await unless_disconnected(receive, lambda: self._sequence(request))
                if reply is None:
                    return
            else:
                reply = await self._dispatch(request)
            state.count_status(reply.status)
            await send_reply(send, reply)
        finally:
            if agent:
                state.leave()

    async def _dispatch(self, request: Request) -> Reply:
        handler = self._routes.get((request.method, request.path))
        if handler is not None:
            return await handler(request)
        rid = self._state.new_request_id()
        known = {p for _, p in self._routes} | {SEQUENCE_PATH}
        if request.path in known:
            return error(405, rid, f"Method {request.method} not allowed on {request.path}")
        return error(404, rid, f"No route for {request.method} {request.path}")

    def _authorised(self, request: Request) -> str | None:
        key = request.headers.get("api_key")
        return key if key in self._state.config.api_keys else None

    def _admit(
        self, request: Request, *, async_run: bool
    ) -> Reply | tuple[dict[str, Any], Hash, Decision]:
        """Auth, validation, unknown agent, then the state's fault/limit/billing pipeline."""
        state, cfg = self._state, self._state.config
        body = _json(request.body)
        if isinstance(body, dict):
            state.record(body, request.headers)
        key = self._authorised(request)
        if key is None:
            return error(401, state.new_request_id())
        problem = agent_body_problem(body, async_run=async_run)
        if problem is not None:
            return error(400, state.new_request_id(), f"Bad request: {problem}")
        if is_unknown_agent(body):
            return error(404, state.new_request_id(), "Agent not found")
        h = Hash(body, cfg.seed)
        unmatched = is_unmatched(body, h, cfg.not_found_rate)
        decision = state.admit(key, canonical(body), unmatched=unmatched)
        refusal = _refusal(decision)
        if refusal is not None:
            return refusal
        return body, h, decision

    async def _sequence(self, request: Request) -> Reply:
        admitted = self._admit(request, async_run=False)
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
            message = "No match found for this contact"
            envelope = {"_metadata": metadata(rid, 0, message), "found": False, "data": None}
            return Reply(200, {**envelope, "message": message})
        data = sequence_data(body, h, cfg.steps)
        message = f"Generated a {cfg.steps}-step sequence"
        return Reply(
            200,
            {
                "_metadata": metadata(rid, cfg.cost_per_call, message),
                "found": True,
                "message": message,
                "data": data,
            },
        )

    async def _async_run(self, request: Request) -> Reply:
        admitted = self._admit(request, async_run=True)
        if isinstance(admitted, Reply):
            return admitted
        return self._async.submit(*admitted)

    async def _async_status(self, request: Request) -> Reply:
        if self._authorised(request) is None:
            return error(401, self._state.new_request_id())
        return self._async.status(request)

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


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
