"""The HTTP boundary: talking to Octave over httpx, mapping every failure to our errors.

`Client` holds settings only (key, base URL, timeout, transport, clock); it is cheap,
safe to share and to pass to many runs. Each run opens a `Session`, which owns one
`httpx.AsyncClient` bound to the running event loop, and closes it at the end.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import sniffio

from ._clock import SYSTEM_CLOCK, Clock
from ._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    REQUEST_SOURCE,
    VALIDATE_PATH,
)
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    ArgumentError,
    MalformedResponseError,
    error_for_status,
)
from ._ratelimit import RateLimiter, shared_limiter
from ._retry import parse_retry_after
from ._status import Outcome

__all__ = ["RUN_ID_FIELDS", "Client", "Session", "TransportFactory", "is_loopback", "run_id_of"]

#: A transport, or a callable making a fresh one for each run.
TransportFactory = httpx.AsyncBaseTransport | Callable[[], httpx.AsyncBaseTransport]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Return ``url`` without a trailing slash, refusing plain HTTP to anything but loopback.

    Raises:
        ArgumentError: Not an http(s) URL, or plain HTTP to a remote host (the key
            would cross the network in clear text).

    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArgumentError(f"base_url {url!r} is not an http(s) URL, e.g. {DEFAULT_BASE_URL!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ArgumentError(
            f"base_url {url!r} uses plain HTTP to a remote host, which would send the API key "
            "unencrypted; use https:// (plain http is allowed only for loopback: the simulator)"
        )
    return url.strip().rstrip("/")


class Client:
    """Settings for talking to Octave: credentials, endpoint, timeout, transport and clock.

    Args:
        api_key: The workspace key; default ``$OCTAVE_API_KEY``.
        base_url: Default ``$OCTAVE_BASE_URL`` or ``https://app.octavehq.com``. Plain
            ``http://`` is refused unless the host is loopback.
        timeout: Seconds for one HTTP call, or an ``httpx.Timeout``. Octave runs take
            30-60 s, so the default is 180.
        transport: An httpx transport (or a factory making one per run), for tests
            (``httpx.MockTransport``, the simulator's ``ASGITransport``) or proxies.
            Default: the aiohttp transport on asyncio, which costs far less CPU per
            call than httpx's own pool at 64+ connections.
        clock: Time source for rate limiting and backoff; tests pass a fake one.

    Example:
        >>> client = Client(api_key="sk-...", timeout=120)
        >>> client
        Client(base_url='https://app.octavehq.com', api_key=set)

    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: TransportFactory | None = None,
        clock: Clock = SYSTEM_CLOCK,
        request_source: str = REQUEST_SOURCE,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        if key is not None and not isinstance(key, str):
            raise ArgumentError(f"api_key must be a string, not {type(key).__name__}")
        self._api_key = key.strip() if key else None
        if base_url is not None and not isinstance(base_url, str):
            raise ArgumentError(f"base_url must be a string, not {type(base_url).__name__}")
        self.base_url = check_base_url(base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
        if isinstance(timeout, httpx.Timeout):
            self.timeout = timeout
            self.deadline: float | None = max(
                (t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t),
                default=None,
            )
        else:
            # `not > 0` also refuses NaN, which would reach anyio as a NaN deadline.
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
                raise ArgumentError(
                    f"timeout must be a positive number of seconds, not {timeout!r}"
                )
            self.timeout = httpx.Timeout(float(timeout), connect=min(float(timeout), 30.0))
            self.deadline = float(timeout)
        self._transport = transport
        self.clock = clock
        self.request_source = request_source

    def __repr__(self) -> str:
        return (
            f"Client(base_url={self.base_url!r}, api_key={'set' if self._api_key else 'missing'})"
        )

    @property
    def has_key(self) -> bool:
        """Whether an API key is configured (the key itself is never exposed)."""
        return bool(self._api_key)

    def rate_limiter(self, endpoint: str, rate: float) -> RateLimiter:
        """The limiter shared by every call in the process for this key and ``endpoint``.

        The key goes straight to the registry, which keeps only a salted digest of it.
        """
        return shared_limiter(self._api_key or "", endpoint, rate, clock=self.clock)

    def _make_transport(self, max_connections: int) -> httpx.AsyncBaseTransport:
        if self._transport is not None:
            if isinstance(self._transport, httpx.AsyncBaseTransport):
                return self._transport
            return self._transport()
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        if sniffio.current_async_library() == "asyncio":
            # httpx's own pool costs ~9 ms CPU per call at 64 connections here;
            # the aiohttp transport ~0.8 ms (PITFALLS.md; benchmarks/bench_run.py).
            from httpx_aiohttp import AiohttpTransport

            return AiohttpTransport(limits=limits)  # type: ignore[no-any-return,unused-ignore]
        return httpx.AsyncHTTPTransport(limits=limits)

    @asynccontextmanager
    async def session(self, *, max_connections: int = 32) -> AsyncIterator[Session]:
        """Open an HTTP session for one run on the current event loop.

        Raises:
            ArgumentError: No API key is configured.

        """
        if not self._api_key:
            raise ArgumentError(
                f"no Octave API key: pass api_key=... or set ${ENV_API_KEY} "
                "(or try the simulator: `octave-frames demo`)"
            )
        headers = {
            "api_key": self._api_key,
            "x-request-source": self.request_source,
            "accept": "application/json",
        }
        owned = self._transport is None or not isinstance(self._transport, httpx.AsyncBaseTransport)
        http = httpx.AsyncClient(
            headers=headers,
            timeout=self.timeout,
            transport=self._make_transport(max_connections),
        )
        # Octave sets no cookies, but httpx runs every response through http.cookiejar
        # (~0.13 ms CPU per call under cProfile); a jar that ignores them saves that.
        http._cookies = _NoCookies()
        try:
            yield Session(http, base_url=self.base_url, deadline=self.deadline)
        finally:
            if owned:
                await http.aclose()


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class Session:
    """One run's open connection to Octave; every method raises only `OctaveError`s."""

    def __init__(self, http: httpx.AsyncClient, *, base_url: str, deadline: float | None) -> None:
        self._http = http
        self._deadline = deadline
        self._base_url = base_url
        # Absolute URLs parsed once: httpx re-parses and merges a relative path with
        # base_url on every request (~0.2 ms CPU per call, measured with cProfile).
        self._urls: dict[str, httpx.URL] = {}

    def _url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx.URL(self._base_url + path)
        return url

    async def run(self, path: str, payload: Mapping[str, Any], *, external_id: str) -> Outcome:
        """POST one sync agent run and return its answer (``ok`` or ``not_found``).

        Raises:
            APIError: Octave answered with an error status or a malformed body.
            TransportError: No answer (connection failure or timeout).

        """
        body = await self._request(
            "POST", path, json=payload, headers={"x-external-request-id": external_id}
        )
        return Outcome.from_envelope(body)

    async def submit(self, path: str, payload: Mapping[str, Any], *, external_id: str) -> str:
        """POST one async job and return its run id (``requestId``, or another spelling).

        Raises:
            APIError: Octave answered with an error, or an answer without a run id.
            TransportError: No answer (connection failure or timeout).

        """
        body = await self._request(
            "POST", path, json=payload, headers={"x-external-request-id": external_id}
        )
        run_id = run_id_of(body)
        if run_id is None:
            raise MalformedResponseError(
                f"the async answer carries no run id: {_describe(json.dumps(body).encode())}",
                status_code=200,
            )
        return run_id

    async def status(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        """GET an async job's status document.

        Raises:
            APIError: Octave answered with an error (404: the run id is unknown).
            TransportError: No answer (connection failure or timeout).

        """
        return await self._request("GET", path, params=dict(params))

    async def validate_key(self) -> dict[str, Any]:
        """GET ``/api-key/validate``: is the key good, how many credits are left."""
        return await self._request("GET", VALIDATE_PATH)

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            with anyio.fail_after(self._deadline):
                response = await self._http.request(method, self._url(path), **kwargs)
                content = await response.aread()
        except TimeoutError as exc:
            raise APITimeoutError(f"no answer within {self._deadline:g} s") from exc
        except httpx.TimeoutException as exc:
            raise APITimeoutError(f"no answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(f"connection failed: {type(exc).__name__}: {exc}") from exc
        parsed = _parse_json(content)
        if response.is_success:
            if not isinstance(parsed, dict):
                raise MalformedResponseError(
                    f"expected a JSON object, got {_describe(content)}",
                    status_code=response.status_code,
                )
            return parsed
        meta = parsed.get("_metadata") if isinstance(parsed, dict) else None
        message = parsed.get("message") if isinstance(parsed, dict) else None
        raise error_for_status(
            response.status_code,
            str(message) if message else (response.reason_phrase or "error"),
            request_id=str(meta["requestId"])
            if isinstance(meta, dict) and meta.get("requestId")
            else None,
            retry_after=parse_retry_after(response.headers),
        )


#: The names Octave's documents give an async run's id, in the order they are tried.
RUN_ID_FIELDS = ("requestId", "agentRunOId", "jobOId", "workflowRunOId", "runOId")


def run_id_of(document: Mapping[str, Any]) -> str | None:
    """The run id in an async answer, status or callback (top level, then under ``data``).

    Example:
        >>> run_id_of({"status": "pending", "agentRunOId": "asyncReqID_1"})
        'asyncReqID_1'

    """
    for where in (document, document.get("data")):
        if isinstance(where, Mapping):
            for name in RUN_ID_FIELDS:
                value = where.get(name)
                if isinstance(value, str) and value:
                    return value
    return None


def _parse_json(content: bytes) -> object:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _describe(content: bytes) -> str:
    text = content[:60].decode("utf-8", "replace")
    return f"{len(content)} bytes: {text!r}" if content else "an empty body"
