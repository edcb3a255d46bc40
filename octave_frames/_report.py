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

__all__ = ["RunReport", "remember", "report_for", "reports_for"]


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
        step: The step the run was (its run columns' stem: ``octave`` for the Sequence
            Agent, ``enrich_person`` ...).

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
    step: str = "octave"


_REPORTS: dict[int, dict[str, RunReport]] = {}


def remember(
    frame: pd.DataFrame, report: RunReport, *, earlier: pd.DataFrame | None = None
) -> None:
    """Attach ``report`` to ``frame`` for as long as the frame lives.

    Args:
        frame: The frame the run returned.
        report: What the run did.
        earlier: The frame the run was given: the reports of its steps stay with
            ``frame`` too (a chain ``enrich_person(...).octave.sequence(...)`` keeps both).

    """
    key = id(frame)
    steps = dict(_REPORTS.get(id(earlier), {})) if earlier is not None else {}
    steps.pop(report.step, None)
    steps[report.step] = report
    if key not in _REPORTS:
        weakref.finalize(frame, _REPORTS.pop, key, None)
    _REPORTS[key] = steps


def reports_for(frame: pd.DataFrame) -> dict[str, RunReport]:
    """The reports of every step that produced ``frame``, in run order, by step."""
    return dict(_REPORTS.get(id(frame), {}))


def report_for(frame: pd.DataFrame, step: str | None = None) -> RunReport | None:
    """The report of step ``step`` (default: the last step run) of ``frame``, or None."""
    steps = _REPORTS.get(id(frame), {})
    if step is not None:
        return steps.get(step)
    return next(reversed(steps.values()), None)
