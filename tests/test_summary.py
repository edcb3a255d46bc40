"""``summarize``: counts, credits, reasons and run facts, for people and for code."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pandas as pd
import pytest

from octave_frames._constants import STATUSES
from octave_frames._exceptions import ArgumentError
from octave_frames._report import RunReport, remember
from octave_frames._summary import Summary, summarize


def _frame(prefix: str = "") -> pd.DataFrame:
    """Six rows: three ok, two failed with request-specific reasons, one without a status."""
    return pd.DataFrame(
        {
            "Email": ["a", "b", "c", "d", "e", "f"],
            f"{prefix}octave_status": pd.array(
                ["ok", "ok", "failed", "failed", "ok", None], dtype="string"
            ),
            f"{prefix}octave_error": pd.array(
                [
                    None,
                    None,
                    "HTTP 500: boom (request req_1) (after 5 attempts)",
                    "HTTP 500: boom (request req_2) (after 5 attempts)",
                    "",
                    None,
                ],
                dtype="string",
            ),
            f"{prefix}octave_usage": pd.array([1.5, 2.0, None, None, 1.0, None], dtype="Float64"),
        }
    )


def _report() -> RunReport:
    """A report of a run that stopped on its budget."""
    return RunReport(
        agent="ca_123",
        started_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        finished_at=datetime(2024, 5, 1, 12, 4, 12, tzinfo=UTC),
        calls=9,
        cache_hits=2,
        duplicates=1,
        skipped=Counter({"already ok": 4}),
        stopped="max_credits reached",
    )


def test_counts_every_status_with_zeros_and_missing_ones() -> None:
    """All six statuses appear in contract order, zeros included; NA counts as '<NA>'."""
    summary = summarize(_frame())
    assert list(summary.counts)[:6] == list(STATUSES)
    assert summary.counts == {
        "ok": 3,
        "not_found": 0,
        "pending": 0,
        "failed": 2,
        "invalid": 0,
        "not_sent": 0,
        "<NA>": 1,
    }
    assert summary.rows == 6
    assert sum(summary.counts.values()) == summary.rows


def test_credits_and_grouped_error_reasons() -> None:
    """Answer credits sum the usage; reasons group once request ids are removed; '' is none."""
    summary = summarize(_frame())
    assert summary.answer_credits == pytest.approx(4.5)
    assert summary.credits is None  # no run report: what this run spent is unknown
    assert summary.errors == {"HTTP 500: boom (after 5 attempts)": 2}
    assert summary.other_errors == 0


def test_top_limits_the_reasons_and_counts_the_rest() -> None:
    """top=N keeps the N most common reasons; the others are counted apart."""
    frame = _frame()
    frame.loc[5, "octave_error"] = "timeout"
    summary = summarize(frame, top=1)
    assert list(summary.errors) == ["HTTP 500: boom (after 5 attempts)"]
    assert summary.other_errors == 1
    with pytest.raises(ArgumentError):
        summarize(frame, top=-1)


def test_rows_sharing_a_call_count_its_credits_once() -> None:
    """Rows that took one call's answer (same request id) count its usage once, not per row."""
    frame = pd.DataFrame(
        {
            "octave_status": pd.array(["ok", "ok", "ok", "ok"], dtype="string"),
            "octave_request_id": pd.array(["r1", "r1", "r2", None], dtype="string"),
            "octave_usage": pd.array([2.0, 2.0, 3.0, 1.0], dtype="Float64"),
        }
    )
    assert summarize(frame).answer_credits == pytest.approx(6.0)


def test_prefix_and_a_frame_without_results() -> None:
    """The prefix picks the columns; a frame never run gets a plain error saying what to do."""
    assert summarize(_frame("x_"), prefix="x_").counts["ok"] == 3
    with pytest.raises(ArgumentError, match=r"no Octave results.*sequence\(\.\.\.\) first"):
        summarize(pd.DataFrame({"Email": ["a"]}))
    with pytest.raises(ArgumentError, match="prefix="):
        summarize(_frame("x_"))


def test_report_facts_come_from_the_argument_or_the_registry() -> None:
    """Run facts come from ``report``, or from the report remembered for the frame."""
    frame = _frame()
    assert summarize(frame).calls is None
    remember(frame, _report())
    summary = summarize(frame)
    assert (summary.agent, summary.calls, summary.cache_hits, summary.duplicates) == (
        "ca_123",
        9,
        2,
        1,
    )
    assert summary.skipped == {"already ok": 4}
    assert summary.duration is not None and summary.duration.total_seconds() == 252
    other = RunReport(agent="ca_other")
    assert summarize(frame, report=other).agent == "ca_other"


def test_renders_for_terminal_and_jupyter() -> None:
    """str() and _repr_html_ show counts, credits, run facts and top errors."""
    summary = summarize(_frame(), report=_report())
    text = str(summary)
    assert text == repr(summary)
    assert text.splitlines()[0] == (
        "Octave run: 6 rows · 0 credits spent by this run · 4.50 credits behind these answers"
    )
    assert re.search(r"^  failed +2 +33\.3%$", text, re.MULTILINE)
    assert "agent ca_123 · started 2024-05-01 12:00:00 UTC · took 4m 12s" in text
    assert "skipped: 4 already ok" in text and "stopped: max_credits reached" in text
    assert "HTTP 500: boom (after 5 attempts)" in text
    html = summary._repr_html_()
    assert "<table>" in html and "<td>not_found</td>" in html and "max_credits reached" in html


def test_to_frame_lists_items_and_values() -> None:
    """to_frame gives item/value rows with naive UTC times, statuses, credits and errors."""
    table = summarize(_frame(), report=_report()).to_frame()
    items = dict(zip(table["item"], table["value"], strict=True))
    assert items["agent"] == "ca_123"
    assert items["started"] == datetime(2024, 5, 1, 12, 0)
    assert items["status: not_found"] == 0
    assert items["credits behind the answers"] == pytest.approx(4.5)
    assert items["credits spent by this run"] == 0
    assert items["skipped: already ok"] == 4
    assert items["error: HTTP 500: boom (after 5 attempts)"] == 2
    assert isinstance(summarize(_frame()), Summary)


def test_dry_run_summary_shows_the_resolved_field_mapping() -> None:
    """A dry run's summary names which column feeds each request field."""
    import octave_frames as of  # registers the accessor

    frame = pd.DataFrame({"Work Email": ["a@b.co"], "Given Name": ["Ann"]})
    summary = of.sequence(frame, agent="ca_1", dry_run=True, cache=False).octave.summary()
    assert dict(summary.fields) == {"email": "Work Email", "firstName": "Given Name"}
    assert "email <- 'Work Email'" in str(summary)
    assert "field: firstName" in set(summary.to_frame()["item"])


def test_a_dry_run_summary_leads_with_the_plan_not_with_not_sent() -> None:
    """A dry run says nothing was sent and what a real run would do, not "not_sent 100%"."""
    import octave_frames as of

    frame = pd.DataFrame(
        {"Email": ["a@b.co", "a@b.co", "c@d.co", None], "First Name": ["A", "A", "C", None]}
    )
    summary = of.sequence(frame, agent="ca_1", dry_run=True, cache=False).octave.summary()
    text = str(summary)
    first = text.splitlines()[0]
    assert first.startswith("Octave dry run: 4 rows · nothing sent · 2 calls would cost ~2")
    assert "not_sent" not in text
    assert summary.planned == {
        "rows to send": 3,
        "rows from the cache": 0,
        "rows already done": 0,
        "invalid rows": 1,
    }
    assert summary.credits is None
