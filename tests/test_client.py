"""The HTTP boundary: headers on the wire and every failure mapped into OctaveError."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
import respx

import octave_frames as of
from octave_frames._client import Session, check_base_url
from octave_frames._constants import SEQUENCE_PATH

BASE = "https://octave.test"
RUN = f"{BASE}/api/v2/agents/sequence/run"
ENVELOPE: dict[str, Any] = {
    "_metadata": {"requestId": "req_1", "usage": 2, "message": "ok"},
    "found": True,
    "data": {"emails": []},
}


def client_for(router: respx.MockRouter, **kwargs: Any) -> of.Client:
    """A client whose calls go to the respx router."""
    return of.Client(
        "sk-secret", base_url=BASE, transport=httpx.MockTransport(router.async_handler), **kwargs
    )


async def call(client: of.Client, payload: dict[str, Any] | None = None) -> Any:
    """Open a session and make one sequence call."""
    async with client.session() as session:
        return await session.run(SEQUENCE_PATH, payload or {"email": "a@b.co"}, external_id="k1")


@pytest.mark.anyio
async def test_headers_and_body_on_the_wire() -> None:
    """The key goes in the literal `api_key` header, with our source and the row's external id."""
    with respx.mock(assert_all_called=True) as router:
        route = router.post(RUN).respond(200, json=ENVELOPE)
        answer = await call(client_for(router), {"email": "a@b.co", "agentOId": "ca_1"})
    request = route.calls.last.request
    assert request.headers["api_key"] == "sk-secret"
    assert request.headers["x-request-source"] == "octave_frames"
    assert request.headers["x-external-request-id"] == "k1"
    assert "authorization" not in request.headers
    assert json.loads(request.content) == {"email": "a@b.co", "agentOId": "ca_1"}
    assert answer.status == "ok" and answer.usage == 2.0 and answer.request_id == "req_1"


@pytest.mark.anyio
async def test_found_false_is_not_found() -> None:
    """A 200 with found: false is "nothing matched", not success."""
    with respx.mock() as router:
        router.post(RUN).respond(200, json={**ENVELOPE, "found": False, "data": None})
        answer = await call(client_for(router))
    assert answer.status == "not_found"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, of.BadRequestError),
        (401, of.AuthenticationError),
        (402, of.InsufficientCreditsError),
        (403, of.AuthenticationError),
        (404, of.NotFoundError),
        (409, of.ConflictError),
        (422, of.BadRequestError),
        (429, of.RateLimitError),
        (500, of.ServerError),
        (503, of.ServerError),
        (418, of.APIError),
    ],
)
async def test_status_codes_map_to_the_tree(status: int, error: type[of.APIError]) -> None:
    """Each error status becomes its documented exception, carrying message and request id."""
    body = {"_metadata": {"requestId": "req_9"}, "message": "Nope"}
    with respx.mock() as router:
        router.post(RUN).respond(status, json=body)
        with pytest.raises(error) as info:
            await call(client_for(router))
    assert type(info.value) is error
    assert info.value.status_code == status
    assert info.value.request_id == "req_9"
    assert "Nope" in str(info.value) and "sk-secret" not in str(info.value)


@pytest.mark.anyio
async def test_retry_after_is_read_from_the_429() -> None:
    """A 429's Retry-After seconds travel on the exception for the retry policy."""
    with respx.mock() as router:
        router.post(RUN).respond(429, headers={"Retry-After": "7"}, json={"message": "slow down"})
        with pytest.raises(of.RateLimitError) as info:
            await call(client_for(router))
    assert info.value.retry_after == pytest.approx(7.0)


@pytest.mark.anyio
@pytest.mark.parametrize("content", [b"", b"<html>Bad gateway</html>", b"[1, 2]"])
async def test_malformed_success_body(content: bytes) -> None:
    """A 200 whose body is not a JSON object is a MalformedResponseError, not a crash."""
    with respx.mock() as router:
        router.post(RUN).respond(200, content=content)
        with pytest.raises(of.MalformedResponseError):
            await call(client_for(router))


@pytest.mark.anyio
async def test_connection_error_is_mapped() -> None:
    """A refused connection becomes APIConnectionError."""
    with respx.mock() as router:
        router.post(RUN).mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(of.APIConnectionError):
            await call(client_for(router))


@pytest.mark.anyio
async def test_a_hang_hits_the_timeout() -> None:
    """A server that never answers ends in APITimeoutError after `timeout` seconds."""

    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(30)
        return httpx.Response(200, json=ENVELOPE)

    client = of.Client("sk", base_url=BASE, timeout=0.05, transport=httpx.MockTransport(hang))
    with anyio.fail_after(5), pytest.raises(of.APITimeoutError):
        await call(client)


@pytest.mark.anyio
async def test_httpx_timeout_exception_is_mapped() -> None:
    """Httpx's own ReadTimeout becomes APITimeoutError too."""
    with respx.mock() as router:
        router.post(RUN).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(of.APITimeoutError):
            await call(client_for(router))


@pytest.mark.anyio
async def test_validate_key() -> None:
    """The preflight endpoint answers the workspace's credits."""
    with respx.mock() as router:
        router.get(f"{BASE}/api/v2/api-key/validate").respond(
            200, json={"valid": True, "credits": {"totalRemaining": 5}}
        )
        async with client_for(router).session() as session:
            assert isinstance(session, Session)
            info = await session.validate_key()
    assert info["credits"]["totalRemaining"] == 5


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a key the session refuses to open, naming the environment variable."""
    monkeypatch.delenv("OCTAVE_API_KEY", raising=False)

    async def main() -> None:
        async with of.Client(base_url=BASE).session():
            pass

    with pytest.raises(of.ArgumentError, match="OCTAVE_API_KEY"):
        anyio.run(main)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://app.octavehq.com/", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:9", True),
        ("http://[::1]:9", True),
        ("http://octave.example.com", False),
        ("http://10.0.0.5", False),
        ("ftp://x", False),
        ("app.octavehq.com", False),
    ],
)
def test_base_url_must_be_https_unless_loopback(url: str, ok: bool) -> None:
    """Plain HTTP is refused for remote hosts so the key never crosses a network in clear."""
    if ok:
        assert not check_base_url(url).endswith("/")
    else:
        with pytest.raises(of.ArgumentError):
            check_base_url(url)


def test_repr_hides_the_key() -> None:
    """The key never appears in the client's repr."""
    client = of.Client("sk-very-secret", base_url=BASE)
    assert "sk-very-secret" not in repr(client) and "set" in repr(client)
    assert client.has_key


@pytest.mark.parametrize("bad", [0, -1, "60", True])
def test_bad_timeout(bad: Any) -> None:
    """A timeout that is not a positive number is refused up front."""
    with pytest.raises(of.ArgumentError, match="timeout"):
        of.Client("k", timeout=bad)
