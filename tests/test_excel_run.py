"""The Run sheet records what produced the emails, and the workbook keeps it across re-exports."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from octave_frames._report import RunReport, remember
from octave_frames.io import read_excel, run_report, run_settings, to_excel
from octave_frames.io._runinfo import report_document, report_from_document
from octave_frames.io._sample import sample_result_frame

TEMPLATE = "ACCOUNT RESEARCH:\n{Account Research}\n\n" + "Recent news about the account. " * 4
SETTINGS = {
    "agent": "ca_123",
    "context[all]": TEMPLATE,
    "instructions[1]": "=Keep it under 150 words",
    "rate": "1.0/s",
    "concurrency": "32",
    "output_format": "text",
}
SECRET = "sk_live_do_not_leak"


def _report() -> RunReport:
    """A report as the lead's sequence() fills it, with a credential that must not be written."""
    return RunReport(
        agent="ca_123",
        started_at=dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        finished_at=dt.datetime(2025, 1, 2, 3, 5, 0, tzinfo=dt.UTC),
        fields={"email": "Email"},
        calls=7,
        cache_hits=2,
        skipped=Counter({"already ok": 3}),
        error_counts=Counter({"HTTP 500": 1}),
        estimated_credits=None,
        credits=12.5,
        settings={**SETTINGS, "api_key": SECRET},
    )


@pytest.fixture
def result() -> pd.DataFrame:
    """A small result frame with a live run report attached."""
    frame = sample_result_frame(10, steps=2)
    remember(frame, _report())
    return frame


def _run_sheet(path: Path) -> dict[str, openpyxl.cell.cell.Cell]:
    """Item -> value cell of the Run sheet, through openpyxl."""
    ws = openpyxl.load_workbook(path)["Run"]
    return {str(item.value): value for item, value in ws.iter_rows(min_row=2)}


def test_run_sheet_lists_every_setting_wrapped_and_literal(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """Each setting is a 'setting: name' row; templates wrap; '=...' stays text; no key."""
    path = tmp_path / "out.xlsx"
    to_excel(result, path)
    run = _run_sheet(path)
    settings = {k[len("setting: ") :]: c for k, c in run.items() if k.startswith("setting: ")}
    assert {k: c.value for k, c in settings.items()} == SETTINGS
    assert settings["context[all]"].alignment.wrap_text
    assert not settings["rate"].alignment.wrap_text
    formula = settings["instructions[1]"]
    assert formula.data_type == "s" and formula.quotePrefix
    items = [cell.value for cell in openpyxl.load_workbook(path)["Run"]["A"]]
    assert items.count("credits spent by this run") == 1
    assert run["credits spent by this run"].value == 12.5
    with zipfile.ZipFile(path) as archive:
        assert all(SECRET.encode() not in archive.read(name) for name in archive.namelist())
    back = read_excel(path, "Run")
    assert back["item"].iloc[-len(SETTINGS) :].tolist() == [f"setting: {k}" for k in SETTINGS]


def test_settings_survive_read_excel_then_to_excel(result: pd.DataFrame, tmp_path: Path) -> None:
    """A frame read back from a workbook writes the same settings, and the exact frame."""
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    to_excel(result, first)
    back = read_excel(first)
    pd.testing.assert_frame_equal(back, result)
    assert run_settings(back) == SETTINGS
    to_excel(back, second)
    keep = ("setting: ", "credits spent by this run", "agent", "started")
    again = {k: c.value for k, c in _run_sheet(second).items() if k.startswith(keep)}
    original = {k: c.value for k, c in _run_sheet(first).items() if k.startswith(keep)}
    assert again == original and len(again) == len(SETTINGS) + 3
    assert run_settings(second) == SETTINGS
    report = run_report(second)
    assert report is not None and report.credits == 12.5 and report.calls == 7
    pd.testing.assert_frame_equal(read_excel(second), result)


def test_a_frame_without_a_run_has_no_settings(tmp_path: Path) -> None:
    """No report: no settings block, no run credits row, and run_settings gives {}."""
    frame = sample_result_frame(4, steps=1)
    path = tmp_path / "plain.xlsx"
    to_excel(frame, path)
    items = list(_run_sheet(path))
    assert items[0] == "rows"
    assert not [i for i in items if i.startswith("setting: ") or i.endswith("by this run")]
    bare = tmp_path / "bare.xlsx"
    to_excel(pd.DataFrame({"note": ["=1+1"]}), bare)  # not a result frame: still written
    assert _run_sheet(bare)["rows"].value == 1
    assert run_settings(path) == {}
    assert run_report(read_excel(path)) is None


def test_report_document_round_trips_every_attribute() -> None:
    """Datetimes, counters and dicts of a report come back equal, the credential dropped."""
    report = _report()
    back = report_from_document(report_document(report))
    assert back is not None
    assert back.settings == SETTINGS
    back.settings = report.settings
    assert back == report
    assert report_from_document({"unknown": 1}) == RunReport()
    assert report_from_document({"calls": "many", "agent": "ca_1"}) == RunReport(agent="ca_1")
