"""``df.octave.summary()``: what a run did, for people and for code.

:class:`Summary` is a small frozen dataclass rather than a DataFrame: the numbers
a notebook user reaches for (``s.counts["ok"]``, ``s.credits``, ``s.errors``)
are plain attributes, it prints as a short report in a terminal (``__str__``)
and as tables in Jupyter (``_repr_html_``), and :meth:`Summary.to_frame` gives
the long ``item``/``value`` table that the Excel ``Run`` sheet shows.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd

from octave_frames._constants import DRY_RUN_CACHED, DRY_RUN_WOULD_CALL, STATUSES
from octave_frames._exceptions import ArgumentError
from octave_frames._report import RunReport, report_for, reports_for
from octave_frames._status import Status

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
        credits: Credits this run spent, each call once (rows sharing a call and answers
            served from the cache cost nothing); None for a frame without its run's report
            (e.g. read back from Excel).
        answer_credits: Credits behind the answers the frame holds, each call once,
            whichever run paid for them.
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
        field_reasons: Why each field's column was taken.
        people: People who get more than one sequence, readable, one per line.
        notes: Rows with an ``octave_note`` (values left out of their request, ...).
        planned: For a dry run: rows a real run would send, answer from the cache, skip.
        step: The step summarised (its run columns' stem: ``octave`` for sequences,
            ``enrich_person`` ...).
        steps: On a frame several steps ran on (``enrich_person`` then ``sequence``):
            every step's summary, by step, in column order; empty otherwise.

    Example:
        >>> s = out.octave.summary()
        >>> s.counts["ok"], s.credits
        (8524, 17093.0)

    """

    rows: int
    counts: Mapping[str, int]
    credits: float | None
    answer_credits: float = 0.0
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
    field_reasons: Mapping[str, str] = field(default_factory=dict)
    people: tuple[str, ...] = ()
    notes: int = 0
    planned: Mapping[str, int] = field(default_factory=dict)
    step: str = "octave"
    steps: Mapping[str, Summary] = field(default_factory=dict)

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
        if self.dry_run:
            items.extend((f"dry run: {what}", count) for what, count in self.planned.items())
        else:
            items.extend((f"status: {status}", count) for status, count in self.counts.items())
        if self.credits is not None:
            items.append(("credits spent by this run", self.credits))
        items.append(("credits behind the answers", self.answer_credits))
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
        items.extend((f"field reason: {name}", why) for name, why in self.field_reasons.items())
        items.extend(("person with several sequences", line) for line in self.people)
        if self.notes:
            items.append(("rows with a note", self.notes))
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
        shown = self.planned if self.dry_run else self.counts
        width = max((len(status) for status in shown), default=0)
        lines = [self._headline()]
        for status, count in shown.items():
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
        if self.people:
            lines.append("people who get more than one sequence (dedupe='person' sends one each):")
            lines.extend(f"  {line}" for line in self.people)
        if self.notes:
            note = f"{self.step}_note"
            lines.append(f"notes: {self.notes:,} rows have an {note} (values left out ...)")
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

    def _headline(self) -> str:
        if self.dry_run:
            estimate = self.estimated_credits or 0.0
            return (
                f"Octave dry run: {self.rows:,} rows · nothing sent · "
                f"{self.calls or 0:,} calls would cost ~{_number(estimate)} credits"
            )
        spent = (
            f"{_number(self.credits)} credits spent by this run · "
            if self.credits is not None
            else ""
        )
        what = "run" if self.step == "octave" else self.step
        return (
            f"Octave {what}: {self.rows:,} rows · {spent}"
            f"{_number(self.answer_credits)} credits behind these answers"
        )

    def __str__(self) -> str:
        if len(self.steps) > 1:
            return "\n\n".join("\n".join(s._lines()) for s in self.steps.values())
        return "\n".join(self._lines())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """Jupyter rendering: a status table, the run facts and the top errors."""
        esc = html.escape
        total = max(self.rows, 1)
        head = f"<b>{esc(self._headline())}</b>"
        shown = self.planned if self.dry_run else self.counts
        rows = "".join(
            f"<tr><td>{esc(status)}</td><td style='text-align:right'>{count:,}</td>"
            f"<td style='text-align:right'>{100 * count / total:.1f}%</td></tr>"
            for status, count in shown.items()
        )
        parts = [head, f"<table><tr><th>status</th><th>rows</th><th>share</th></tr>{rows}</table>"]
        extra = [esc(line) for line in self._lines()[1 + len(shown) :]]
        if extra:
            parts.append("<pre>" + "\n".join(extra) + "</pre>")
        if len(self.steps) > 1:
            others = [
                s._repr_html_()
                for s in self.steps.values()
                if s is not self and s.step != self.step
            ]
            parts = [*others, *parts]
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
    step: str | None = None,
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
        step: The step to summarise (``"octave"`` for sequences, ``"enrich_person"`` ...);
            default: every step the frame holds, the last one's figures at the top level
            and each step's in ``steps``.

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
    present = steps_in(frame, prefix)
    if step is None and len(present) > 1:
        reports = reports_for(frame)
        each = {
            stem: _summarize_step(
                frame, stem, prefix, report if report and report.step == stem else
                reports.get(stem), top)
            for stem in present
        }  # fmt: skip
        last = each[present[-1]]
        return dataclasses.replace(last, steps=each)
    stem = step or (present[0] if present else "octave")
    if report is None:
        report = report_for(frame, stem)
    return _summarize_step(frame, stem, prefix, report, top)


def steps_in(frame: pd.DataFrame, prefix: str = "") -> list[str]:
    """The steps whose run columns ``frame`` holds (``octave``, ``enrich_person`` ...)."""
    from octave_frames._agents import STEPS  # the steps, run_agent's included

    known = {endpoint.stem for endpoint in STEPS.values()}
    names = {str(c) for c in frame.columns}
    found = []
    for name in frame.columns:
        if isinstance(name, str) and name.startswith(prefix) and name.endswith("_status"):
            stem = name[len(prefix) : -len("_status")]
            if stem not in known:
                continue
            if f"{prefix}{stem}_error" in names and f"{prefix}{stem}_usage" in names:
                found.append(stem)
    return found


def _summarize_step(
    frame: pd.DataFrame, stem: str, prefix: str, report: RunReport | None, top: int
) -> Summary:
    """The summary of one step's columns."""
    status_label = f"{prefix}{stem}_status"
    if status_label not in frame.columns:
        raise ArgumentError(
            f"this frame has no Octave results (no {status_label!r} column): run "
            "df.octave.sequence(...) first"
            + ("" if prefix else ", or pass prefix='...' if the run used one")
        )
    errors = _error_counts(frame, f"{prefix}{stem}_error", report)
    for marker in (DRY_RUN_WOULD_CALL, DRY_RUN_CACHED):  # the plan says these better
        errors.pop(marker, None)
    listed = dict(errors.most_common(top))
    dry_run = report.dry_run if report else False
    note_label = f"{prefix}{stem}_note"
    return Summary(
        rows=len(frame),
        counts=_status_counts(frame, status_label),
        credits=None if report is None or dry_run else report.credits,
        answer_credits=_answer_credits(frame, prefix, stem),
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
        dry_run=dry_run,
        estimated_credits=report.estimated_credits if report else None,
        fields=dict(report.fields) if report else {},
        field_reasons=dict(report.field_reasons) if report else {},
        people=tuple(report.people) if report else (),
        notes=int(frame[note_label].notna().sum()) if note_label in frame.columns else 0,
        planned=_planned(frame, prefix, stem, report) if dry_run and report else {},
        step=stem,
    )


def _answer_credits(frame: pd.DataFrame, prefix: str, stem: str = "octave") -> float:
    """Credits behind the frame's answers, each call once: rows sharing a call share its id."""
    usage_label, id_label = f"{prefix}{stem}_usage", f"{prefix}{stem}_request_id"
    if usage_label not in frame.columns:
        return 0.0
    usage = pd.to_numeric(frame[usage_label], errors="coerce")
    if id_label not in frame.columns:
        return float(usage.sum(skipna=True))
    ids = frame[id_label].astype("string")
    known = ids.notna().to_numpy(dtype=bool)
    once = usage[known].groupby(ids[known].to_numpy(), sort=False).first()
    return float(once.sum(skipna=True) + usage[~known].sum(skipna=True))


def _planned(frame: pd.DataFrame, prefix: str, stem: str, report: RunReport) -> dict[str, int]:
    """What a dry run found: rows a real run sends, answers from the cache, rows skipped."""
    reason = frame[f"{prefix}{stem}_error"].astype("string")
    status = frame[f"{prefix}{stem}_status"].astype("string")
    to_send = int((reason == DRY_RUN_WOULD_CALL).sum())
    cached = int((reason == DRY_RUN_CACHED).sum())
    invalid = int((status == Status.INVALID).sum())
    done = sum(report.skipped.values())
    planned = {
        "rows to send": to_send,
        "rows from the cache": cached,
        "rows already done": done,
        "invalid rows": invalid,
    }
    other = len(frame) - to_send - cached - invalid - done
    if other > 0:
        planned["other rows"] = other
    return planned
