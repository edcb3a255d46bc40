"""Raw-ASGI plumbing shared by the simulator's handlers: requests, JSON replies, checks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import anyio

from .._asgi import ASGIApp, Message, Receive, Scope, Send
from .._constants import OUTPUT_FORMATS
from ._content import Hash
from ._state import now_iso

__all__ = [
    "ASGIApp",
    "Message",
    "Receive",
    "Reply",
    "Request",
    "Scope",
    "Send",
    "agent_body_problem",
    "error",
    "is_unknown_agent",
    "is_unmatched",
    "metadata",
    "number",
    "read_request",
    "send_reply",
    "unless_disconnected",
]


_REASONS = {
    400: "Bad request",
    401: "Invalid API key",
    402: "Insufficient credits",
    404: "Not found",
    405: "Method not allowed",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request, fully read."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """One JSON response to send."""

    status: int
    payload: Mapping[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=list)


def metadata(request_id: str, usage: float, message: str) -> dict[str, Any]:
    """Build Octave's ``_metadata`` object."""
    usage = number(usage)
    return {"requestId": request_id, "timestamp": now_iso(), "usage": usage, "message": message}


def number(value: float) -> float:
    """Return whole credit counts as ``int`` (Octave writes ``"usage": 0``), others as given."""
    return int(value) if float(value).is_integer() else value


def error(
    status: int, request_id: str, message: str | None = None, retry_after: float | None = None
) -> Reply:
    """Build an error reply shaped like Octave's: ``{"_metadata", "message"}``."""
    message = message or _REASONS.get(status, "Error")
    headers = [] if retry_after is None else [("retry-after", _seconds(retry_after))]
    payload = {"_metadata": metadata(request_id, 0, message), "message": message}
    return Reply(status, payload, headers)


def _seconds(value: float) -> str:
    # Whole seconds as an integer (the HTTP form); fractions only when a test scripts them.
    return str(int(value)) if float(value).is_integer() else repr(float(value))


async def read_request(scope: Scope, receive: Receive) -> Request | None:
    """Read the whole request; ``None`` if the client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    return Request(
        method=scope["method"],
        path=scope["path"].rstrip("/") or "/",
        query=parse_qs(scope.get("query_string", b"").decode("latin-1")),
        headers=headers,
        body=b"".join(chunks),
    )


async def send_reply(send: Send, reply: Reply) -> None:
    """Send ``reply`` as JSON."""
    body = json.dumps(reply.payload, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers),
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def unless_disconnected(
    receive: Receive, work: Callable[[], Awaitable[Reply]]
) -> Reply | None:
    """Run ``work`` but give up (``None``) as soon as the client disconnects.

    A client that times out on a slow or hanging run closes its connection; stopping
    the handler then frees its in-flight slot instead of holding it for the full hang.
    """
    replies: list[Reply] = []
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            tg.cancel_scope.cancel()

        tg.start_soon(watch)
        replies.append(await work())
        tg.cancel_scope.cancel()
    return replies[0] if replies else None


def agent_body_problem(
    body: object,
    *,
    async_run: bool,
    formats: tuple[str, ...] = OUTPUT_FORMATS,
    objects: tuple[str, ...] = ("runtimeContext", "runtimeInstructions", "customContext"),
) -> str | None:
    """Return why an agent-run body is unacceptable, or ``None`` if it is fine.

    Args:
        body: The parsed JSON body.
        async_run: Whether this is the async endpoint, which needs a ``callbackUrl``.
        formats: The ``outputFormat`` values the agent takes.
        objects: The fields that must be JSON objects when given.

    Returns:
        The first problem found, as a sentence naming the field.

    """
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    ids = [k for k in ("agentOId", "experimentOId") if body.get(k) not in (None, "")]
    fmt, url = body.get("outputFormat"), body.get("callbackUrl")
    checks = [
        (len(ids) != 1, "give exactly one of agentOId or experimentOId"),
        (ids and not isinstance(body[ids[0]], str), "agentOId / experimentOId must be a string"),
        (
            fmt is not None and fmt not in formats,
            f"outputFormat must be one of {', '.join(formats)}, got {fmt!r}",
        ),
        *(
            (body.get(k) is not None and not isinstance(body[k], dict), f"{k} must be an object")
            for k in objects
        ),
        (
            async_run and not (isinstance(url, str) and url.startswith(("http://", "https://"))),
            "callbackUrl is required and must be an http(s) URL",
        ),
    ]
    return next((message for failed, message in checks if failed), None)


def is_unknown_agent(body: Mapping[str, Any]) -> bool:
    """Agents are ``ca_…`` and experiments ``ae_…``; anything else, or ``unknown``, is 404."""
    agent, experiment = body.get("agentOId"), body.get("experimentOId")
    oid, prefix = (agent, "ca_") if agent else (experiment, "ae_")
    return not str(oid).startswith(prefix) or "unknown" in str(oid).lower()


def is_unmatched(body: Mapping[str, Any], h: Hash, not_found_rate: float) -> bool:
    """Whether Octave "cannot match" this contact: a ``.invalid`` domain, or by hash."""
    email = str(body.get("email") or "").strip().lower()
    domain = str(body.get("companyDomain") or "").strip().lower().rstrip("/")
    if email.rpartition("@")[2].endswith(".invalid") or domain.endswith(".invalid"):
        return True
    return h.unit("found") < not_found_rate
