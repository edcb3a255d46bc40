"""``df.octave.summary()``: what a run did, for people and for code.

:class:`Summary` is a small frozen dataclass rather than a DataFrame: the numbers
a notebook user reaches for (``s.counts["ok"]``, ``s.credits``, ``s.errors``)
are plain attributes, it prints as a short report in a terminal (``__str__``)
and as tables in Jupyter (``_repr_html_``), and :meth:`Summary.to_frame` gives
the long ``item``/``value`` table that the Excel ``Run`` sheet shows.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd

from octave_frames._constants import STATUSES
from octave_frames._exceptions import ArgumentError
from octave_frames._report import RunReport, report_for

__all__ = ["Summary", "summarize"]

#: Label under which rows without a status are counted.
MISSING_STATUS = "<NA>"
# Request ids make every failure reason unique; grouping needs them gone.
_REQUEST_ID_RE = re.compile(r"\s*\(request [^)]*\)")


@dataclass(frozen=True)
class Summary:
    """What a run did: rows per status, credits, failure reasons and run facts.

    Attributes:
        rows: Rows in the frame.
        counts: Rows per status: the five statuses in contract order (zeros
            included), then any other value found (rows without a status under
            ``"<NA>"``).
        credits: Credits spent: the sum of ``octave_usage``.
        errors: The most common failure reasons, most common first.
        other_errors: Rows whose reason is not among ``errors``.
        agent: ``agentOId`` of the run, when a report is known.
        experiment: ``experimentOId`` of the run, when a report is known.
        started_at: When the run started.
        finished_at: When the run ended.
        calls: HTTP calls made (retries included).
        cache_hits: Rows answered from the cache.
        duplicates: Rows that shared a payload with another row.
        skipped: Rows not re-sent because they already had results, by reason.
        stopped: Why sending stopped early, if it did.
        dry_run: Whether nothing was sent on purpose.
        estimated_credits: Credits a dry run's calls would cost.
        fields: Request field -> column the run used (the resolved mapping).

    Example:
        >>> s = out.octave.summary()
        >>> s.counts["ok"], s.credits
        (8524, 17093.0)

    """

    rows: int
    counts: Mapping[str, int]
    credits: float
    errors: Mapping[str, int] = field(default_factory=dict)
    other_errors: int = 0
    agent: str | None = None
    experiment: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    calls: int | None = None
    cache_hits: int | None = None
    duplicates: int | None = None
    skipped: Mapping[str, int] = field(default_factory=dict)
    stopped: str | None = None
    dry_run: bool = False
    estimated_credits: float | None = None
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def duration(self) -> timedelta | None:
        """Wall time of the run, when both ends are known."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def to_frame(self) -> pd.DataFrame:
        """Return the summary as an ``item``/``value`` table, as the Run sheet shows it."""
        items: list[tuple[str, object]] = []
        if self.agent is not None:
            items.append(("agent", self.agent))
        if self.experiment is not None:
            items.append(("experiment", self.experiment))
        if self.started_at is not None:
            items.append(("started", _naive(self.started_at)))
        if self.finished_at is not None:
            items.append(("finished", _naive(self.finished_at)))
        if self.duration is not None:
            items.append(("duration (s)", round(self.duration.total_seconds(), 3)))
        items.append(("rows", self.rows))
        items.extend((f"status: {status}", count) for status, count in self.counts.items())
        items.append(("credits spent", self.credits))
        if self.estimated_credits is not None:
            items.append(("estimated credits", self.estimated_credits))
        for name in ("calls", "cache_hits", "duplicates"):
            value = getattr(self, name)
            if value is not None:
                items.append((name.replace("_", " "), value))
        items.extend((f"skipped: {reason}", count) for reason, count in self.skipped.items())
        if self.stopped is not None:
            items.append(("stopped", self.stopped))
        if self.dry_run:
            items.append(("dry run", "yes"))
        items.extend((f"field: {name}", column) for name, column in self.fields.items())
        items.extend((f"error: {reason}", count) for reason, count in self.errors.items())
        if self.other_errors:
            items.append(("error: (other reasons)", self.other_errors))
        values = pd.Series([value for _, value in items], dtype=object)
        return pd.DataFrame(
            {"item": pd.array([k for k, _ in items], dtype="string"), "value": values}
        )

    def _lines(self) -> list[str]:
        """Render for a terminal, one string per line."""
        total = max(self.rows, 1)
        width = max(len(status) for status in self.counts)
        lines = [f"Octave run: {self.rows:,} rows · {_number(self.credits)} credits"]
        for status, count in self.counts.items():
            lines.append(f"  {status:<{width}}  {count:>9,}  {100 * count / total:5.1f}%")
        facts = []
        if self.agent or self.experiment:
            facts.append(f"agent {self.agent or self.experiment}")
        if self.started_at is not None:
            facts.append(f"started {self.started_at:%Y-%m-%d %H:%M:%S %Z}".rstrip())
        if self.duration is not None:
            facts.append(f"took {_clock(self.duration)}")
        if facts:
            lines.append(" · ".join(facts))
        work = [
            f"{label} {value:,}"
            for label, value in (
                ("calls", self.calls),
                ("cache hits", self.cache_hits),
                ("duplicates", self.duplicates),
            )
            if value is not None
        ]
        if work:
            lines.append(" · ".join(work))
        if self.dry_run:
            estimate = self.estimated_credits
            lines.append(
                "dry run: nothing sent" + (f", ~{_number(estimate)} credits" if estimate else "")
            )
        if self.fields:
            mapping = ", ".join(f"{name} <- {column!r}" for name, column in self.fields.items())
            lines.append(f"fields: {mapping}")
        if self.skipped:
            parts = ", ".join(f"{count:,} {reason}" for reason, count in self.skipped.items())
            lines.append(f"skipped: {parts}")
        if self.stopped:
            lines.append(f"stopped: {self.stopped}")
        if self.errors:
            lines.append("top errors:")
            lines.extend(f"  {count:>7,}  {reason}" for reason, count in self.errors.items())
            if self.other_errors:
                lines.append(f"  {self.other_errors:>7,}  (other reasons)")
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """Jupyter rendering: a status table, the run facts and the top errors."""
        esc = html.escape
        total = max(self.rows, 1)
        head = f"<b>Octave run</b>: {self.rows:,} rows · {esc(_number(self.credits))} credits"
        rows = "".join(
            f"<tr><td>{esc(status)}</td><td style='text-align:right'>{count:,}</td>"
            f"<td style='text-align:right'>{100 * count / total:.1f}%</td></tr>"
            for status, count in self.counts.items()
        )
        parts = [head, f"<table><tr><th>status</th><th>rows</th><th>share</th></tr>{rows}</table>"]
        extra = [esc(line) for line in self._lines()[1 + len(self.counts) :]]
        if extra:
            parts.append("<pre>" + "\n".join(extra) + "</pre>")
        return "<div>" + "".join(parts) + "</div>"


def _naive(moment: datetime) -> datetime:
    """Return the same instant in UTC without a timezone: spreadsheets cannot hold one."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _number(value: float) -> str:
    """Credits as people write them: no ``.0`` on whole numbers."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _clock(span: timedelta) -> str:
    """Format a duration as ``1h 02m 03s`` / ``4m 12s`` / ``3.2s``."""
    seconds = span.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def _status_counts(frame: pd.DataFrame, label: str) -> dict[str, int]:
    """Rows per status, the contract's five first (zeros included)."""
    counts = dict.fromkeys(STATUSES, 0)
    if label not in frame.columns:
        return counts
    seen = frame[label].astype("string").fillna(MISSING_STATUS).value_counts(sort=False)
    for status, count in seen.items():
        counts[str(status)] = counts.get(str(status), 0) + int(count)
    return counts


def _error_counts(frame: pd.DataFrame, label: str, report: RunReport | None) -> Counter[str]:
    """Failure reasons with their counts, request ids removed so alike reasons group."""
    if label in frame.columns:
        reasons = frame[label].dropna().astype("string")
        reasons = reasons[reasons.str.strip() != ""]
        grouped = reasons.str.replace(_REQUEST_ID_RE, "", regex=True).value_counts()
        return Counter({str(reason): int(count) for reason, count in grouped.items()})
    if report is not None:
        return Counter(report.error_counts)
    return Counter()


def summarize(
    frame: pd.DataFrame,
    *,
    prefix: str = "",
    report: RunReport | None = None,
    top: int = 10,
) -> Summary:
    """Summarise a result frame: rows per status, credits spent, top failure reasons.

    Counts come from the frame itself, so a filtered or re-read frame (e.g.
    from ``read_excel``) summarises what it holds. Run facts (agent, time,
    calls, cache hits, duplicates, skipped rows, why sending stopped) come from
    ``report``, or from the run that returned ``frame`` when ``report`` is None.

    Args:
        frame: A result frame of ``df.octave.sequence``.
        prefix: The ``prefix`` the run used for its output columns.
        report: Facts of the run; looked up for ``frame`` when omitted.
        top: How many failure reasons to list.

    Returns:
        A :class:`Summary`.

    Raises:
        ArgumentError: ``top`` is negative.

    Example:
        >>> summarize(out).counts["failed"]
        3

    """
    if top < 0:
        raise ArgumentError(f"top must be >= 0, got {top!r}")
    if report is None:
        report = report_for(frame)
    usage_label = f"{prefix}octave_usage"
    credits = 0.0
    if usage_label in frame.columns:
        usage = pd.to_numeric(frame[usage_label], errors="coerce")
        credits = float(usage.sum(skipna=True))
    errors = _error_counts(frame, f"{prefix}octave_error", report)
    listed = dict(errors.most_common(top))
    return Summary(
        rows=len(frame),
        counts=_status_counts(frame, f"{prefix}octave_status"),
        credits=credits,
        errors=listed,
        other_errors=sum(errors.values()) - sum(listed.values()),
        agent=report.agent if report else None,
        experiment=report.experiment if report else None,
        started_at=report.started_at if report else None,
        finished_at=report.finished_at if report else None,
        calls=report.calls if report else None,
        cache_hits=report.cache_hits if report else None,
        duplicates=report.duplicates if report else None,
        skipped=dict(report.skipped) if report else {},
        stopped=report.stopped if report else None,
        dry_run=report.dry_run if report else False,
        estimated_credits=report.estimated_credits if report else None,
        fields=dict(report.fields) if report else {},
    )
