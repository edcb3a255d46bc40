"""``to_csv``: sequencer-ready CSV, injection-safe, readable by Excel."""

from __future__ import annotations

import csv
import inspect
import io
from pathlib import Path

import pandas as pd
import pytest

from octave_frames._exceptions import ArgumentError
from octave_frames.io import CSV_LAYOUTS, to_csv
from octave_frames.io._sample import sample_result_frame


@pytest.fixture
def result() -> pd.DataFrame:
    """A two-contact result with formula-like text in inputs, emails and a header."""
    frame = sample_result_frame(2, steps=2)
    frame["octave_status"] = pd.array(["ok", "ok"], dtype="string")
    frame["First Name"] = pd.array(["=cmd|' /C calc'!A0", "Zoë"], dtype="string")
    frame["email_1_subject"] = pd.array(["+1 idea", "@team"], dtype="string")
    frame["email_2_subject"] = pd.array(["-minus", "\tTab"], dtype="string")
    frame["email_1_body"] = pd.array(["\rCR", "line 1\nline 2"], dtype="string")
    frame["=Score"] = pd.array([-5, 3], dtype="Int64")
    return frame


def _rows(path: Path) -> list[list[str]]:
    """Parse the CSV as a spreadsheet would, BOM stripped."""
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_long_layout_has_one_row_per_email_with_contact_columns(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """Long CSV: row, identifying columns, step, subject, sections, text; one row per step."""
    path = tmp_path / "long.csv"
    to_csv(result, path)
    rows = _rows(path)
    header = rows[0]
    assert header[:7] == ["row", "First Name", "Last Name", "Email", "Company", "Title", "step"]
    assert header[-3:] == ["signature", "core_value_prop", "text"]
    assert [(row[0], row[6]) for row in rows[1:]] == [
        ("0", "1"),
        ("0", "2"),
        ("1", "1"),
        ("1", "2"),
    ]


def test_formula_like_text_is_escaped_and_numbers_are_not(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """Cells starting with = + - @ tab or CR get a leading quote; numbers stay numbers."""
    long_path, wide_path = tmp_path / "long.csv", tmp_path / "wide.csv"
    to_csv(result, long_path)
    to_csv(result, wide_path, layout="wide")
    long = _rows(long_path)
    subjects = [row[long[0].index("subject")] for row in long[1:]]
    assert subjects == ["'+1 idea", "'-minus", "'@team", "'\tTab"]
    assert long[1][long[0].index("First Name")] == "'=cmd|' /C calc'!A0"
    assert long[1][long[0].index("body")] == "'\rCR"
    assert long[3][long[0].index("body")] == "line 1\nline 2"
    wide = _rows(wide_path)
    assert "'=Score" in wide[0]
    assert [row[wide[0].index("'=Score")] for row in wide[1:]] == ["-5", "3"]
    assert wide[2][wide[0].index("First Name")] == "Zoë"


def test_file_is_utf8_with_bom_and_crlf(result: pd.DataFrame, tmp_path: Path) -> None:
    """The file starts with the UTF-8 BOM and ends lines with CRLF."""
    path = tmp_path / "out.csv"
    to_csv(result, path, layout="wide")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.split(b"\n", 1)[0].endswith(b"\r")
    assert "Zoë".encode() in raw


def test_wide_layout_writes_a_meaningful_index_and_na_as_empty(tmp_path: Path) -> None:
    """Wide CSV leads with a named or non-default index; NA cells are empty."""
    frame = pd.DataFrame(
        {"Email": pd.array(["a@x.com", None], dtype="string")},
        index=pd.Index(["c1", "c1"], name="contact"),
    )
    path = tmp_path / "wide.csv"
    to_csv(frame, path, layout="wide")
    assert _rows(path) == [["contact", "Email"], ["c1", "a@x.com"], ["c1", ""]]
    to_csv(frame.reset_index(drop=True), path, layout="wide")
    assert _rows(path)[0] == ["Email"]


def test_prefix_and_bad_layout(result: pd.DataFrame, tmp_path: Path) -> None:
    """The prefix selects the output columns; an unknown layout raises ArgumentError."""
    renamed = result.rename(columns=lambda c: f"oc_{c}" if str(c).startswith("email_") else c)
    path = tmp_path / "p.csv"
    to_csv(renamed, path, prefix="oc_")
    assert len(_rows(path)) == 5
    with pytest.raises(ArgumentError, match="layout"):
        to_csv(result, path, layout="tall")  # type: ignore[arg-type]


def test_default_layout_is_long_and_the_layouts_are_listed(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """``CSV_LAYOUTS`` names every layout, long first, and no ``layout=`` writes the long one."""
    assert CSV_LAYOUTS == ("long", "wide")
    assert inspect.signature(to_csv).parameters["layout"].default == "long"
    plain, long = tmp_path / "plain.csv", tmp_path / "long.csv"
    to_csv(result, plain)
    to_csv(result, long, layout="long")
    assert plain.read_bytes() == long.read_bytes()


def test_only_keeps_ok_or_approved_rows_in_both_layouts(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """only='ok' and only='approved' filter the long and the wide layout alike."""
    result["octave_status"] = pd.array(["ok", "failed"], dtype="string")
    result["Approved"] = ["yes", "yes"]
    long, wide = tmp_path / "long.csv", tmp_path / "wide.csv"
    to_csv(result, long, only="ok")
    assert [row[0] for row in _rows(long)[1:]] == ["0", "0"]  # contact 0, its two steps
    to_csv(result, wide, layout="wide", only="approved")
    rows = _rows(wide)
    assert len(rows) == 2 and rows[1][rows[0].index("Approved")] == "yes"
    result["Approved"] = ["no", "yes"]
    to_csv(result, wide, layout="wide", only="approved")
    assert len(_rows(wide)) == 1  # the approved row failed: only the header is left


def test_plain_layouts_keep_the_quote_on_phone_like_text(tmp_path: Path) -> None:
    """Only a sequencer's phone column is spared the quote; the plain layouts keep the rule."""
    frame = pd.DataFrame({"Phone": pd.array(["+1 415 555 0100"], dtype="string")})
    path = tmp_path / "wide.csv"
    to_csv(frame, path, layout="wide")
    assert _rows(path)[1] == ["'+1 415 555 0100"]
