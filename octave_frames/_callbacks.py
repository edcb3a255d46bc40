"""The callback receiver: an ASGI app that stores Octave's async callbacks in the ledger.

Octave POSTs the result of an async job to the ``callbackUrl`` it was given. Those POSTs are
not signed, may come twice, and name the run id under fields the docs do not pin down. So the
receiver trusts exactly two things: a secret token in its own URL (the ledger's
``callback_token``, never logged) and run ids the same ledger recorded when it submitted the
jobs. Everything else is refused without touching the ledger:

======================================  =====  ===========================================
request                                 reply  ledger
======================================  =====  ===========================================
``GET /octave/health``                  200    untouched (no token needed)
wrong or missing token, any other path  404    untouched; the same reply for every path
other method on the callback URL        405    untouched
body over ``max_body``                  413    untouched; reading stops once over
not JSON, or not an object              400    untouched
no run id in it                         422    untouched
a run id this ledger did not submit     404    untouched (``"unknown run id"``)
first delivery                          200    body stored (``"stored": true``)
later delivery                          200    delivery counted (``"stored": false``)
======================================  =====  ===========================================

The run id is read from ``requestId``, ``agentRunOId``, ``jobOId`` or ``workflowRunOId``, at
the top level or under ``data``. The body is stored as received; reading its status
(``succeeded``/``failed``), output (``result`` or ``output``) and ``error`` is the engine's job.
The ledger write runs on a worker thread, so a busy SQLite file never stalls the event loop,
and is committed before the 200 is sent: a callback acknowledged is a callback kept.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import anyio.to_thread

from ._asgi import Receive, Scope, Send, lifespan
from ._constants import DEFAULT_CACHE_PATH
from ._exceptions import ArgumentError, OctaveError
from ._ledger import CallbackOutcome, Ledger

__all__ = [
    "CALLBACK_PREFIX",
    "HEALTH_PATH",
    "RUN_ID_FIELDS",
    "CallbackApp",
    "CallbackCounts",
    "callback_app",
    "callback_url",
    "run_ids_in",
]


CALLBACK_PREFIX: Final = "/octave/callback/"
HEALTH_PATH: Final = "/octave/health"
RUN_ID_FIELDS: Final = ("requestId", "agentRunOId", "jobOId", "workflowRunOId")
_DEFAULT_MAX_BODY: Final = 2_000_000
# Every unknown path, wrong token included, gets these exact bytes: nothing tells them apart.
_NOT_FOUND: Final = {"message": "not found"}

log = logging.getLogger("octave_frames.callbacks")


@dataclass(frozen=True, slots=True)
class CallbackCounts:
    """What a receiver did with the requests it got.

    Attributes:
        stored: Callbacks stored (first deliveries).
        duplicates: Later deliveries of a stored callback (answered 200, only counted).
        refused: Requests answered 4xx (wrong token or path, bad body, unknown run id, ...).
        errors: Callbacks the ledger could not take (answered 503, so Octave retries).

    """

    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    errors: int = 0


def run_ids_in(payload: Mapping[str, Any]) -> list[str]:
    """Return the run ids a callback body names, most likely first, without repeats.

    Args:
        payload: A parsed callback body.

    Returns:
        The non-empty strings under :data:`RUN_ID_FIELDS`, top level first, then under
        ``data``.

    Example:
        >>> run_ids_in({"requestId": "r1", "agentRunOId": "r1", "data": {"jobOId": "b2"}})
        ['r1', 'b2']

    """
    found: dict[str, None] = {}
    nested = payload.get("data")
    for source in (payload, nested if isinstance(nested, Mapping) else {}):
        for name in RUN_ID_FIELDS:
            value = source.get(name)
            if isinstance(value, str) and value.strip():
                found[value.strip()] = None
    return list(found)


class _TooLarge(Exception):
    """The body is over the limit; reading stopped."""


class _Gone(Exception):
    """The client disconnected before the body was read."""


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = dict(scope.get("headers") or []).get(b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            # A chunked body has no declared length: stop as soon as it is over.
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _reply(
    send: Send, status: int, payload: Mapping[str, Any], *, allow: str | None = None
) -> None:
    body = json.dumps(payload).encode()
    extra = [] if allow is None else [(b"allow", allow.encode())]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class CallbackApp:
    """The ASGI app of the receiver; build it with :func:`callback_app`.

    Args:
        ledger: The ledger that submitted the jobs; the app uses its token and run ids.
        max_body: The largest body accepted, in bytes.

    """

    def __init__(self, ledger: Ledger, *, max_body: int = _DEFAULT_MAX_BODY) -> None:
        self._ledger = ledger
        self._token = ledger.callback_token.encode()
        self._max_body = max_body
        self._counts = CallbackCounts()

    @property
    def ledger(self) -> Ledger:
        """The ledger callbacks are stored in."""
        return self._ledger

    @property
    def counts(self) -> CallbackCounts:
        """What the app has done so far."""
        return self._counts

    def local_url(self, base_url: str) -> str:
        """Return the callback URL of this app served at ``base_url``."""
        return _join(base_url, self._token.decode())

    def close(self) -> None:
        """Close the ledger; the app answers 503 to callbacks afterwards."""
        self._ledger.close()

    def _count(self, **more: int) -> None:
        c = self._counts
        self._counts = CallbackCounts(
            stored=c.stored + more.get("stored", 0),
            duplicates=c.duplicates + more.get("duplicates", 0),
            refused=c.refused + more.get("refused", 0),
            errors=c.errors + more.get("errors", 0),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (``http``; ``lifespan`` is acknowledged)."""
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets here; the server closes the connection
        try:
            await self._http(scope, receive, send)
        except _Gone:
            log.info("a client went away before its request was read")

    async def _refuse(self, send: Send, status: int, message: str, why: str) -> None:
        self._count(refused=1)
        log.warning("refused a callback (%d): %s", status, why)
        await _reply(send, status, {"message": message})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == HEALTH_PATH:
            if method == "GET":
                await _reply(send, 200, {"ok": True})
            else:
                await _reply(send, 405, {"message": "method not allowed"}, allow="GET")
            return
        given = path[len(CALLBACK_PREFIX) :].encode() if path.startswith(CALLBACK_PREFIX) else b""
        if not hmac.compare_digest(given, self._token):
            self._count(refused=1)
            # The path may hold a guess at the token: never log it.
            where = "a wrong token" if path.startswith(CALLBACK_PREFIX) else "an unknown path"
            log.warning("refused a %s request to %s (404)", method, where)
            await _reply(send, 404, _NOT_FOUND)
            return
        if method != "POST":
            self._count(refused=1)
            log.warning("refused a %s request to the callback URL (405)", method)
            await _reply(send, 405, {"message": "method not allowed"}, allow="POST")
            return
        try:
            raw = await _read_body(scope, receive, self._max_body)
        except _TooLarge:
            too_large = f"body over {self._max_body} bytes"
            await self._refuse(send, 413, too_large, too_large)
            return
        await self._store(send, raw)

    async def _store(self, send: Send, raw: bytes) -> None:
        try:
            text = raw.decode("utf-8")
            payload = json.loads(text)
        except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
            await self._refuse(send, 400, "body is not JSON", "body is not UTF-8 JSON")
            return
        if not isinstance(payload, dict):
            await self._refuse(send, 400, "body is not a JSON object", "body is not an object")
            return
        run_ids = run_ids_in(payload)
        if not run_ids:
            fields = ", ".join(RUN_ID_FIELDS)
            await self._refuse(
                send, 422, f"no run id in the callback (one of {fields})", "no run id in it"
            )
            return
        try:
            run_id, outcome = await anyio.to_thread.run_sync(self._record, run_ids, text)
        except (sqlite3.Error, OSError, OctaveError) as exc:
            # 503: Octave retries a callback that failed, so nothing is lost by refusing now.
            self._count(errors=1)
            log.error("could not store a callback for run %s: %s", run_ids[0], exc)
            await _reply(send, 503, {"message": "the ledger is unavailable; retry later"})
            return
        if outcome == "unknown":
            await self._refuse(send, 404, "unknown run id", f"unknown run id {run_ids[0]!r}")
            return
        if outcome == "stored":
            self._count(stored=1)
            log.info("stored the callback of run %s (status %.40r)", run_id, payload.get("status"))
        else:
            self._count(duplicates=1)
            log.info("run %s called back again; the first callback is kept", run_id)
        await _reply(send, 200, {"ok": True, "stored": outcome == "stored"})

    def _record(self, run_ids: list[str], text: str) -> tuple[str, CallbackOutcome]:
        """Store ``text`` under the first of ``run_ids`` this ledger submitted."""
        outcome: CallbackOutcome = "unknown"
        for run_id in run_ids:
            outcome = self._ledger.record_callback(run_id, text)
            if outcome != "unknown":
                return run_id, outcome
        return run_ids[0], outcome


def _join(base_url: str, token: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArgumentError(
            f"the receiver's base URL must be http(s)://host[:port][/path], not {base_url!r}"
        )
    return base_url.strip().rstrip("/") + CALLBACK_PREFIX + token


def callback_app(
    cache: str | os.PathLike[str] = DEFAULT_CACHE_PATH, *, max_body: int = _DEFAULT_MAX_BODY
) -> CallbackApp:
    """Return an ASGI app that stores Octave's callbacks in the ledger at ``cache``.

    Serve it with any ASGI server (``octave-frames callbacks`` uses uvicorn) behind the public
    HTTPS address Octave can reach, and pass :func:`callback_url` as ``callback_url=``.

    Args:
        cache: The ledger file the jobs were submitted with.
        max_body: The largest callback body accepted, in bytes; larger ones get 413.

    Returns:
        The app; ``app.counts`` tells what it did, ``app.close()`` closes the ledger.

    Raises:
        ArgumentError: ``max_body`` is not a positive integer, or ``cache`` is not a usable
            ledger.

    Example:
        >>> app = callback_app(".octave/cache.sqlite")  # doctest: +SKIP
        >>> uvicorn.run(app, port=8081, access_log=False)  # doctest: +SKIP

    """
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
        raise ArgumentError(f"max_body must be a positive number of bytes, got {max_body!r}")
    return CallbackApp(Ledger(cache), max_body=max_body)


def callback_url(base_url: str, cache: str | os.PathLike[str] = DEFAULT_CACHE_PATH) -> str:
    """Return the URL to pass to Octave as ``callback_url=`` for jobs kept in ``cache``.

    Args:
        base_url: Where the receiver is reachable, e.g. ``https://hooks.example.com``.
        cache: The ledger file; its token is created on first use.

    Returns:
        ``base_url`` without a trailing slash, then ``/octave/callback/`` and the token.

    Raises:
        ArgumentError: ``base_url`` is not an http(s) URL with a host, or ``cache`` is not a
            usable ledger.

    Example:
        >>> callback_url("https://hooks.example.com/")  # doctest: +SKIP
        'https://hooks.example.com/octave/callback/3q0...'

    """
    with Ledger(cache) as ledger:
        return _join(base_url, ledger.callback_token)
