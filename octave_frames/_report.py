"""What a run did, kept beside the frame it returned (never in ``df.attrs``).

pandas forbids nothing here, but ``attrs`` propagate through every operation and
are compared deep on concat; the contract keeps them clean. So the run report
lives in a module-level registry keyed by the result frame's identity and is
dropped when that frame is garbage collected.
"""

from __future__ import annotations

import weakref
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

__all__ = ["RunReport", "remember", "report_for"]


@dataclass
class RunReport:
    """Facts about one ``sequence`` run that the result columns cannot carry.

    Attributes:
        agent: ``agentOId`` used, if any.
        experiment: ``experimentOId`` used, if any.
        started_at: When the run started (UTC).
        finished_at: When the run ended (UTC).
        fields: Request field -> column label actually used.
        calls: HTTP calls that reached the agent endpoint (retries included).
        cache_hits: Rows answered from the ledger without a call.
        duplicates: Rows that shared a payload with another row of this run.
        skipped: Rows not re-sent because they already carried results, by reason.
        stopped: Why sending stopped early (budget, breaker, credits), if it did.
        dry_run: Whether nothing was sent on purpose.
        estimated_credits: For a dry run, the credits the planned calls imply.
        error_counts: Readable failure reasons with their counts.
        credits: Credits this run spent: the usage of each call it made, once per call
            (rows sharing a call, and answers served from the ledger, cost nothing); None
            for async runs, whose jobs are billed on acceptance at a price only their
            results tell.
        settings: The arguments that produced the answers, readable (``context[all]`` ->
            its template, ``rate`` -> ``1.0/s`` ...), for the Run sheet and summaries.
        field_reasons: Request field -> why its column was taken.
        people: People who get more than one sequence, one readable line each.

    """

    agent: str | None = None
    experiment: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    fields: dict[str, str] = field(default_factory=dict)
    calls: int = 0
    cache_hits: int = 0
    duplicates: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    stopped: str | None = None
    dry_run: bool = False
    estimated_credits: float | None = None
    error_counts: Counter[str] = field(default_factory=Counter)
    credits: float | None = 0.0
    settings: dict[str, str] = field(default_factory=dict)
    field_reasons: dict[str, str] = field(default_factory=dict)
    people: list[str] = field(default_factory=list)


_REPORTS: dict[int, RunReport] = {}


def remember(frame: pd.DataFrame, report: RunReport) -> None:
    """Attach ``report`` to ``frame`` for as long as the frame lives."""
    key = id(frame)
    _REPORTS[key] = report
    weakref.finalize(frame, _REPORTS.pop, key, None)


def report_for(frame: pd.DataFrame) -> RunReport | None:
    """The report of the run that returned ``frame``, or None for any other frame."""
    return _REPORTS.get(id(frame))
