"""The exception tree of octave_frames.

Whole-run problems raise; per-row problems are data in the status columns::

    OctaveError
    ├── ArgumentError (also ValueError)      a bad argument or missing setting
    ├── ColumnError (also KeyError)          a column that is missing or ambiguous
    ├── APIError                             Octave answered with an error
    │   ├── BadRequestError                  400 / 422
    │   ├── AuthenticationError              401 / 403: bad or missing key
    │   ├── InsufficientCreditsError         402, or the balance is too small for the run
    │   ├── NotFoundError                    404: e.g. an unknown agent
    │   ├── ConflictError                    409
    │   ├── RateLimitError                   429
    │   ├── ServerError                      5xx
    │   └── MalformedResponseError           a 2xx body that is not the documented envelope
    ├── TransportError                       no answer at all
    │   ├── APIConnectionError               could not connect / connection dropped
    │   └── APITimeoutError                  no answer within ``timeout``
    └── RunFailedError                       ``errors="raise"`` and some rows failed

    Interrupted (a KeyboardInterrupt)        Ctrl-C / SIGTERM stopped a run; ``.frame``
                                             holds what had arrived

No exception message ever contains the API key.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ArgumentError",
    "AuthenticationError",
    "BadRequestError",
    "ColumnError",
    "ConflictError",
    "InsufficientCreditsError",
    "Interrupted",
    "MalformedResponseError",
    "NotFoundError",
    "OctaveError",
    "RateLimitError",
    "RunFailedError",
    "ServerError",
    "TransportError",
    "error_for_status",
]


class OctaveError(Exception):
    """Base of every error raised by octave_frames."""


class ArgumentError(OctaveError, ValueError):
    """An argument (or the environment standing in for it) is unusable."""


class ColumnError(OctaveError, KeyError):
    """A column named by an argument or template is missing or ambiguous."""

    def __str__(self) -> str:
        # KeyError quotes its message; a readable sentence reads better.
        return str(self.args[0]) if self.args else ""


class APIError(OctaveError):
    """Octave answered, with an error status or an unusable body.

    Attributes:
        status_code: The HTTP status.
        request_id: Octave's ``_metadata.requestId`` when the body carried one.
        retry_after: Seconds the server asked us to wait, if it said.

    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        tail = f" (request {self.request_id})" if self.request_id else ""
        return f"HTTP {self.status_code}: {self.message}{tail}"


class BadRequestError(APIError):
    """400 / 422: Octave refused the request as malformed."""


class AuthenticationError(APIError):
    """401 / 403: the API key is missing, wrong or not allowed."""


class InsufficientCreditsError(APIError):
    """402, or a preflight found fewer credits than the run needs."""


class NotFoundError(APIError):
    """404: the agent or experiment does not exist in this workspace."""


class ConflictError(APIError):
    """409: Octave reported a conflict; retried."""


class RateLimitError(APIError):
    """429: too many requests."""


class ServerError(APIError):
    """5xx: Octave failed."""


class MalformedResponseError(APIError):
    """A success status whose body is not the documented JSON envelope."""


class TransportError(OctaveError):
    """No HTTP answer at all."""


class APIConnectionError(TransportError):
    """Could not connect, or the connection dropped mid-call."""


class APITimeoutError(TransportError):
    """No answer within the timeout."""


class RunFailedError(OctaveError):
    """Raised after a run with ``errors="raise"`` when rows did not succeed.

    Every answer is already in the cache; running the call again resumes.

    Attributes:
        counts: Rows per status.

    """

    def __init__(self, message: str, *, counts: dict[str, int]) -> None:
        super().__init__(message)
        self.counts = counts


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a run after the calls in flight were saved.

    It is a `KeyboardInterrupt`, so a script that does not catch it stops as on any
    Ctrl-C; the CLI catches it to write what had arrived. Every answer is in the
    cache: running the same call again resumes and pays for nothing twice.

    Attributes:
        frame: The result so far (unfinished rows ``not_sent``), or None when the run
            was stopped before it sent anything.
        signal_name: ``"SIGINT"`` or ``"SIGTERM"``.

    """

    def __init__(self, frame: Any, *, signal_name: str = "SIGINT") -> None:
        super().__init__(
            "interrupted; every answer received is kept in the cache: run the same call "
            "again to resume without paying for them twice"
        )
        self.frame = frame
        self.signal_name = signal_name


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_for_status(
    status_code: int,
    message: str,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> APIError:
    """Build the exception that stands for an HTTP error status."""
    cls = _BY_STATUS.get(status_code) or (ServerError if status_code >= 500 else APIError)
    return cls(message, status_code=status_code, request_id=request_id, retry_after=retry_after)
