"""The retry policy: what is retried, how Retry-After is read, how long to wait."""

from __future__ import annotations

import email.utils

import pytest

from octave_frames._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ArgumentError,
    AuthenticationError,
    BadRequestError,
    ColumnError,
    ConflictError,
    InsufficientCreditsError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    RunFailedError,
    ServerError,
    error_for_status,
)
from octave_frames._retry import RETRYABLE_STATUS, RetryPolicy, is_retryable, parse_retry_after

NOW = 1_700_000_000.0  # a fixed wall-clock instant for HTTP dates


def _http_date(offset: float) -> str:
    return email.utils.formatdate(NOW + offset, usegmt=True)


# -- is_retryable ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RateLimitError("slow down", status_code=429), True),
        (ServerError("boom", status_code=500), True),
        (ServerError("bad gateway", status_code=502), True),
        (ServerError("unavailable", status_code=503), True),
        (ServerError("gateway timeout", status_code=504), True),
        (ConflictError("conflict", status_code=409), True),
        (APIError("request timeout", status_code=408), True),
        (APITimeoutError("no answer in 180 s"), True),
        (APIConnectionError("connection reset"), True),
        (MalformedResponseError("<html>proxy error</html>", status_code=200), True),
        (BadRequestError("bad", status_code=400), False),
        (BadRequestError("unprocessable", status_code=422), False),
        (AuthenticationError("invalid key", status_code=401), False),
        (AuthenticationError("forbidden", status_code=403), False),
        (InsufficientCreditsError("no credits", status_code=402), False),
        (NotFoundError("unknown agent", status_code=404), False),
        (APIError("teapot", status_code=418), False),
        (ArgumentError("bad argument"), False),
        (ColumnError("no such column"), False),
        (RunFailedError("3 rows failed", counts={"failed": 3}), False),
        (ValueError("not ours"), False),
        (KeyboardInterrupt(), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_is_retryable_table(exc: BaseException, expected: bool) -> None:
    """Each exception class and status is classified as retryable or final as documented."""
    assert is_retryable(exc) is expected


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 408, 409, 422, 429, 500, 503, 599])
def test_is_retryable_follows_status_for_mapped_errors(status: int) -> None:
    """Errors built by error_for_status are retryable exactly when the status is listed."""
    expected = status in {408, 409, 429} or status >= 500
    assert is_retryable(error_for_status(status, "x")) is expected
    assert (status in RETRYABLE_STATUS) is expected


# -- parse_retry_after ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"content-type": "application/json"}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"Retry-After-Ms": "1500.5"}, 1.5005),
        ({"retry-after-ms": "100", "retry-after": "9"}, 0.1),  # ms wins
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),  # bad ms falls through
        ({"retry-after-ms": "-5", "retry-after": "2"}, 2.0),
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"RETRY-AFTER": " 7 "}, 7.0),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "later"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": _http_date(30)}, 30.0),
        ({"retry-after": _http_date(-30)}, None),  # past: clocks disagree, back off instead
        ({"retry-after": "Tue, 14 Nov 2023 22:13:50 -0000"}, 30.0),  # zone-less means GMT
        ({"retry-after": "Tue, 99 Nov 2023 22:13:50 GMT"}, None),
    ],
)
def test_parse_retry_after_table(headers: dict[str, str], expected: float | None) -> None:
    """Retry-After headers in every documented form give the seconds to wait, or None."""
    result = parse_retry_after(headers, now=NOW)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_parse_retry_after_reads_httpx_headers() -> None:
    """httpx.Headers (case-insensitive, the client's real input) is read like a dict."""
    import httpx

    headers = httpx.Headers({"Retry-After-MS": "40", "X-Other": "1"})
    assert parse_retry_after(headers) == pytest.approx(0.04)


def test_parse_retry_after_dates_use_wall_clock_by_default() -> None:
    """Without ``now`` an HTTP date is measured from time.time()."""
    import time

    future = email.utils.formatdate(time.time() + 120, usegmt=True)
    result = parse_retry_after({"Retry-After": future})
    assert result is not None
    assert 110 < result <= 120


# -- RetryPolicy.delay ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (0, 0.0, 0.5),  # equal jitter: [b/2, b) with b = base * 2**attempt
        (0, 0.999, 0.9995),
        (1, 0.0, 1.0),
        (2, 0.5, 3.0),
        (3, 1.0, 8.0),  # a rand of exactly 1 is clamped, still within b
        (5, 0.0, 16.0),  # b = 32
        (6, 0.0, 30.0),  # b = 64 capped to 60
        (6, 0.999, 59.97),
        (10_000, 0.5, 45.0),  # huge attempts neither overflow nor exceed the cap
    ],
)
def test_backoff_table(attempt: int, rand: float, expected: float) -> None:
    """Without Retry-After the wait is equal-jitter exponential backoff, capped."""
    policy = RetryPolicy(base=1.0, cap=60.0)
    assert policy.delay(attempt, None, rand=lambda: rand) == pytest.approx(expected)


@pytest.mark.parametrize("attempt", range(8))
def test_backoff_bounds_over_many_draws(attempt: int) -> None:
    """Real random draws stay in [b/2, b] and are not all equal (jitter is applied)."""
    policy = RetryPolicy(base=0.5, cap=20.0)
    b = min(20.0, 0.5 * 2**attempt)
    draws = [policy.delay(attempt, None) for _ in range(200)]
    assert all(b / 2 <= d <= b for d in draws)
    assert len(set(draws)) > 1


@pytest.mark.parametrize(
    ("retry_after", "rand", "expected"),
    [
        (10.0, 0.0, 10.0),  # never earlier than the server asked
        (10.0, 0.5, 10.5),  # up to 10% jitter on top
        (0.0, 0.9, 0.0),  # "retry now" is honoured
        (0.25, 0.0, 0.25),  # shorter than our own backoff, still wins
        (1000.0, 0.0, 300.0),  # capped at max_retry_after
        (1000.0, 0.5, 315.0),
    ],
)
def test_retry_after_wins_and_is_capped(retry_after: float, rand: float, expected: float) -> None:
    """A server-given wait replaces the backoff, capped at max_retry_after, plus small jitter."""
    policy = RetryPolicy(base=4.0, max_retry_after=300.0)
    assert policy.delay(3, retry_after, rand=lambda: rand) == pytest.approx(expected)


def test_zero_base_retries_without_waiting() -> None:
    """base=0 is the test switch: every backoff is zero."""
    policy = RetryPolicy(base=0.0)
    assert [policy.delay(n, None, rand=lambda: 0.7) for n in range(5)] == [0.0] * 5


@pytest.mark.parametrize(
    ("exc", "attempt", "expected"),
    [
        (ServerError("boom", status_code=503), 0, True),
        (ServerError("boom", status_code=503), 3, True),
        (ServerError("boom", status_code=503), 4, False),  # max_retries=4 used up
        (APITimeoutError("slow"), 2, True),
        (AuthenticationError("no", status_code=401), 0, False),
    ],
)
def test_should_retry_table(exc: BaseException, attempt: int, expected: bool) -> None:
    """should_retry needs both a retryable error and retries left."""
    assert RetryPolicy(max_retries=4).should_retry(exc, attempt) is expected


def test_max_retries_zero_never_retries() -> None:
    """max_retries=0 means one attempt only, even for a 429."""
    assert not RetryPolicy(max_retries=0).should_retry(RateLimitError("x", status_code=429), 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"max_retries": True},
        {"base": -1.0},
        {"cap": float("inf")},
        {"max_retry_after": float("nan")},
    ],
)
def test_policy_rejects_bad_settings(kwargs: dict[str, object]) -> None:
    """Nonsense settings fail at construction with an ArgumentError naming the setting."""
    name = next(iter(kwargs))
    with pytest.raises(ArgumentError, match=name):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_delay_rejects_negative_attempt() -> None:
    """A negative attempt number is a programming error, reported as such."""
    with pytest.raises(ArgumentError, match="attempt"):
        RetryPolicy().delay(-1, None)


def test_policy_is_frozen() -> None:
    """A policy is an immutable value that can be shared between runs."""
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_retries = 9  # type: ignore[misc]
