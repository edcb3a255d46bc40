"""One vocabulary for a row's life, and one record of how a call ended.

`Status` is a `StrEnum`: its members *are* the strings the frames, the ledger and the
workbooks hold (``Status.OK == "ok"``), so a frame read back from Excel compares equal.
`Outcome` is the single record of one call's end, from the HTTP client through the engine
and the ledger to the result columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

__all__ = ["ANSWERED", "DONE", "Outcome", "Status"]


class Status(StrEnum):
    """What happened to a row, in the order summaries list them.

    Attributes:
        OK: Octave answered.
        NOT_FOUND: Octave answered ``found: false`` (nothing matched).
        PENDING: An async job is submitted and has no result yet.
        FAILED: No answer after the retries (or the job failed or timed out).
        INVALID: Not sent: the row's input cannot make a request.
        NOT_SENT: Not sent: budget, circuit breaker, interruption, dry run, not submitted.

    """

    OK = "ok"
    NOT_FOUND = "not_found"
    PENDING = "pending"
    FAILED = "failed"
    INVALID = "invalid"
    NOT_SENT = "not_sent"


#: A row with one of these statuses carries an answer Octave was paid for.
ANSWERED: Final = frozenset({Status.OK, Status.NOT_FOUND})
#: Rows ``rerun="failed"`` leaves alone.
DONE: Final = ANSWERED


@dataclass(slots=True)
class Outcome:
    """How one unique call ended: what the client got, the engine decided, the ledger keeps.

    Attributes:
        status: The row status it gives.
        body: The parsed answer envelope (``ok`` / ``not_found``), else None.
        error: Why it is not an answer, readable, else None.
        usage: Credits the answer cost (``_metadata.usage``), if known.
        request_id: Octave's ``_metadata.requestId``, if any.
        attempts: HTTP calls it took.
        run_id: The async job's run id, for async runs.

    """

    status: Status
    body: dict[str, Any] | None = None
    error: str | None = None
    usage: float | None = None
    request_id: str | None = None
    attempts: int = 0
    run_id: str | None = None

    @classmethod
    def from_envelope(cls, body: dict[str, Any], *, attempts: int = 1) -> Outcome:
        """Read status, usage and request id from an answer envelope.

        ``found: false`` is ``not_found``; anything else that parsed is ``ok``.
        """
        meta = body.get("_metadata")
        meta = meta if isinstance(meta, dict) else {}
        usage = meta.get("usage")
        request_id = meta.get("requestId")
        return cls(
            Status.NOT_FOUND if body.get("found", True) is False else Status.OK,
            body,
            None,
            float(usage)
            if isinstance(usage, int | float) and not isinstance(usage, bool)
            else None,
            str(request_id) if request_id is not None else None,
            attempts,
        )
