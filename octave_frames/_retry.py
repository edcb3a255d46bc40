"""When to retry a failed call, and how long to wait first: a few pure functions.

Modelled on the Stainless SDKs (``_parse_retry_after_header``,
``_calculate_retry_timeout``). The engine owns the loop; this module only answers
"again?" and "after how long?", so every rule is tested from a table.

What is retried, and why:

* 408, 409, 429 and every 5xx: the server or a proxy says "not now".
* :class:`~octave_frames.APITimeoutError` and :class:`~octave_frames.APIConnectionError`:
  no answer at all.
* :class:`~octave_frames.MalformedResponseError`: a success status whose body is not a
  JSON envelope. Octave's application answers JSON; a 2xx HTML page or a cut-off body
  comes from a proxy, gateway or captive portal in between, which is transient.
* Never 400/401/402/403/404/422: sending the same request again gives the same answer
  and, for 402, cannot succeed before someone buys credits.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Final

from ._constants import DEFAULT_MAX_RETRIES
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ArgumentError,
    MalformedResponseError,
)

__all__ = ["RETRYABLE_STATUS", "RetryPolicy", "is_retryable", "parse_retry_after"]

#: HTTP statuses worth another attempt.
RETRYABLE_STATUS: Final = frozenset({408, 409, 429, *range(500, 600)})

# A server-given wait gets up to this fraction on top, so workers told the same
# Retry-After do not all come back in the same instant.
_RETRY_AFTER_JITTER: Final = 0.1


def is_retryable(exc: BaseException) -> bool:
    """Tell whether a failed call is worth another attempt.

    Args:
        exc: What the call raised.

    Returns:
        ``True`` for timeouts, connection errors, malformed success bodies and API
        errors whose status is in :data:`RETRYABLE_STATUS`; ``False`` otherwise.

    Example:
        >>> from octave_frames._exceptions import error_for_status
        >>> is_retryable(error_for_status(503, "busy")), is_retryable(error_for_status(401, "no"))
        (True, False)

    """
    if isinstance(exc, APITimeoutError | APIConnectionError | MalformedResponseError):
        return True
    if isinstance(exc, APIError):
        return exc.status_code in RETRYABLE_STATUS
    return False


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # httpx.Headers answers any case through get(); a plain dict needs the scan.
    value = headers.get(name)
    if value is not None:
        return value
    for key, candidate in headers.items():
        if key.lower() == name:
            return candidate
    return None


def _seconds(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Read how long the server asked us to wait, in seconds.

    ``retry-after-ms`` wins, then ``Retry-After`` as seconds (``"2"``, ``"1.5"``) or
    as an HTTP date. Header names match in any case. Negative, non-finite and
    unreadable values are ignored. A date already past gives ``None`` rather than 0:
    it usually means the two clocks disagree, and our own backoff is then safer than
    an immediate retry.

    Args:
        headers: Response headers (``httpx.Headers`` or any str mapping).
        now: Wall-clock time (``time.time()``) that HTTP dates are measured from.

    Returns:
        Seconds to wait, or ``None`` when the headers say nothing usable.

    Example:
        >>> parse_retry_after({"Retry-After": "3"}), parse_retry_after({"retry-after-ms": "250"})
        (3.0, 0.25)

    """
    millis = _header(headers, "retry-after-ms")
    if millis is not None and (value := _seconds(millis)) is not None:
        return value / 1000.0
    text = _header(headers, "retry-after")
    if text is None:
        return None
    if (value := _seconds(text)) is not None:
        return value
    try:
        when = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" or no zone: HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    delay = when.timestamp() - (time.time() if now is None else now)
    return delay if delay > 0 else None


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry, and how long to wait before each retry.

    Attributes:
        max_retries: Retries after the first attempt (0 = try once).
        base: Backoff before the first retry, doubled for each later one. ``0``
            retries without waiting (handy in tests).
        cap: Longest backoff.
        max_retry_after: Longest wait honoured from a ``Retry-After`` header.

    Raises:
        ArgumentError: A negative or non-finite setting.

    Example:
        >>> policy = RetryPolicy(max_retries=2, base=1.0)
        >>> [policy.delay(n, None, rand=lambda: 0.0) for n in range(3)]
        [0.5, 1.0, 2.0]

    """

    max_retries: int = DEFAULT_MAX_RETRIES
    base: float = 1.0
    cap: float = 60.0
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise ArgumentError(f"max_retries={self.max_retries!r}: need an int >= 0")
        if self.max_retries < 0:
            raise ArgumentError(f"max_retries={self.max_retries!r}: need an int >= 0")
        for name in ("base", "cap", "max_retry_after"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ArgumentError(f"{name}={value!r}: need a finite number of seconds >= 0")

    def should_retry(self, exc: BaseException, attempt: int) -> bool:
        """Tell whether to retry after ``exc``, with ``attempt`` retries already made.

        Example:
            >>> from octave_frames._exceptions import APITimeoutError
            >>> RetryPolicy(max_retries=1).should_retry(APITimeoutError("slow"), 1)
            False

        """
        return attempt < self.max_retries and is_retryable(exc)

    def delay(
        self,
        attempt: int,
        retry_after: float | None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait before the next attempt.

        A server-given ``retry_after`` wins: capped at :attr:`max_retry_after`, plus up
        to 10% jitter (never less than asked). Otherwise "equal jitter" backoff: with
        ``b = min(cap, base * 2**attempt)`` the wait is uniform in ``[b/2, b)``, so
        workers spread out but none retries at once after a failure.

        Args:
            attempt: Retries already made (0 before the first retry).
            retry_after: Seconds from :func:`parse_retry_after`, or ``None``.
            rand: A source of floats in ``[0, 1)``, injectable for tests.

        Raises:
            ArgumentError: ``attempt`` is negative.

        Example:
            >>> RetryPolicy().delay(0, 10.0, rand=lambda: 0.5)
            10.5

        """
        if attempt < 0:
            raise ArgumentError(f"attempt={attempt!r}: need an int >= 0")
        r = min(max(rand(), 0.0), 1.0)
        if retry_after is not None and math.isfinite(retry_after) and retry_after >= 0:
            wait = min(retry_after, self.max_retry_after)
            return wait + wait * _RETRY_AFTER_JITTER * r
        # 2.0**64 already exceeds any cap; bounding the exponent avoids OverflowError.
        backoff = min(self.cap, self.base * 2.0 ** min(attempt, 64))
        return backoff / 2 + backoff / 2 * r
