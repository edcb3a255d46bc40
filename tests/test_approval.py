"""Approval as people type it in Excel, and ``only=`` on the exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import octave_frames as of
from octave_frames._exceptions import ArgumentError, ColumnError
from octave_frames.io import approved_mask, to_csv, to_excel
from octave_frames.io._approval import find_approval_column, select_rows
from octave_frames.io._sample import sample_result_frame
from octave_frames.simulator import Simulator

APPROVE = ["yes", "Y", "x", "X", "✓", "✔", "☑", "☑\ufe0f", "✅", "true", "TRUE", "True", "1",
           "1.0", "ok", "OK", "approved", "Send", "  yes  "]  # fmt: skip
REJECT = ["no", "N", "false", "FALSE", "0", "0.0", "", "   ", "NA", "n/a", "none", "✗", "✘",
          "❌", "rejected", "skip"]  # fmt: skip


def _frame(values: list[object], header: str = "approved") -> pd.DataFrame:
    """A tiny result-like frame with an approval column of ``values``."""
    n = len(values)
    index = pd.Index([f"c{i}" for i in range(n)], name="contact")
    return pd.DataFrame(
        {
            "Email": [f"p{i}@acme.com" for i in range(n)],
            header: pd.Series(values, index=index, dtype=object),
            "octave_status": pd.array(["ok"] * n, dtype="string"),
            "email_1_text": pd.array([f"Hi {i}" for i in range(n)], dtype="string"),
        },
        index=index,
    )


@pytest.mark.parametrize("value", APPROVE)
def test_typed_yes_values_approve(value: str) -> None:
    """Every way people type yes in a cell (case, spaces, ticks, emoji) approves the row."""
    assert approved_mask(_frame([value])).tolist() == [True]


@pytest.mark.parametrize("value", REJECT)
def test_typed_no_values_and_blanks_do_not_approve(value: str) -> None:
    """Every way people type no, and a blank cell, leave the row out."""
    assert approved_mask(_frame([value])).tolist() == [False]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.array([True, False, None], dtype="boolean"), [True, False, False]),
        (pd.Series([True, False]), [True, False]),
        (pd.array([1, 0, None], dtype="Int64"), [True, False, False]),
        (pd.Series([1.0, 0.0, np.nan]), [True, False, False]),
        (
            pd.Series([np.int64(1), True, "x", None, pd.NA, np.nan], dtype=object),
            [True, True, True, False, False, False],
        ),
    ],
)
def test_bool_and_numeric_columns_are_read_as_yes_and_no(
    values: object, expected: list[bool]
) -> None:
    """Excel booleans, 1/0 numbers, nullable dtypes and mixed object columns all parse."""
    frame = pd.DataFrame({"approved": values})
    mask = approved_mask(frame)
    assert mask.tolist() == expected
    assert mask.dtype == bool
    assert mask.name == "approved"


@pytest.mark.parametrize(
    "header", ["approved", "Approved", "Approve?", "approval", "OK to send", "send?", " SEND "]
)
def test_approval_column_is_found_by_its_header(header: str) -> None:
    """The usual headers are found case- and punctuation-insensitively."""
    assert find_approval_column(_frame(["x"], header)) == header


def test_other_headers_and_output_columns_are_not_approval_columns() -> None:
    """'Approved By' is not a yes/no column, and the run's own columns never are."""
    frame = _frame(["Ann"], "Approved By")
    assert find_approval_column(frame) is None
    assert find_approval_column(pd.DataFrame({"oc_octave_status": ["ok"]}), prefix="oc_") is None


def test_several_candidates_need_approved_and_a_named_column_must_exist() -> None:
    """Two approval-like columns ask for approved=; a missing named one names the nearest."""
    frame = _frame(["x", "no"]).assign(**{"OK to send": ["no", "yes"]})
    with pytest.raises(ArgumentError, match="approved=") as info:
        approved_mask(frame)
    assert "'approved'" in str(info.value) and "'OK to send'" in str(info.value)
    assert approved_mask(frame, "OK to send").tolist() == [False, True]
    with pytest.raises(ColumnError, match="nearest: 'OK to send'"):
        approved_mask(frame, "OK to Send!")


def test_unrecognised_values_name_column_rows_values_and_what_is_accepted() -> None:
    """'maybe', 'yes?' and the like are errors naming the first rows and the accepted words."""
    frame = _frame(["x", "maybe", "no", "yes?", "2", "?", "later", "dunno", "1"])
    with pytest.raises(ArgumentError) as info:
        approved_mask(frame)
    message = str(info.value)
    assert "approval column 'approved'" in message
    assert "6 row(s)" in message
    assert "row 'c1': 'maybe'" in message and "row 'c3': 'yes?'" in message
    assert "and 1 more" in message and "'dunno'" not in message
    assert "yes, y, x" in message and "no, n, false" in message and "blank" in message


def test_numbers_other_than_one_and_zero_are_not_guessed() -> None:
    """A 2 or a 0.5 in the column is an error, not a silent yes."""
    with pytest.raises(ArgumentError, match="row 'c0': 2"):
        approved_mask(_frame([2]))
    with pytest.raises(ArgumentError, match=r"0\.5"):
        approved_mask(pd.DataFrame({"approved": [0.5]}))


def test_no_approval_column_says_how_to_add_one() -> None:
    """only='approved' on a frame without the column explains what to add and how to mark it."""
    frame = _frame(["x"]).drop(columns="approved")
    with pytest.raises(ArgumentError, match="add a column named 'approved'") as info:
        select_rows(frame, "approved")
    assert "x, yes" in str(info.value) and "TRUE" in str(info.value)


def test_select_rows_keeps_ok_rows_and_approved_ok_rows() -> None:
    """'ok' keeps answered rows; 'approved' keeps answered rows that are approved."""
    frame = _frame(["x", "x", "", "yes"])
    frame["octave_status"] = pd.array(["ok", "failed", "ok", "ok"], dtype="string")
    assert select_rows(frame, None) is frame
    assert select_rows(frame, "ok").index.tolist() == ["c0", "c2", "c3"]
    assert select_rows(frame, "approved").index.tolist() == ["c0", "c3"]


def test_select_rows_refuses_bad_arguments() -> None:
    """Unknown only=, approved= without only='approved', and frames never run are refused."""
    frame = _frame(["x"])
    with pytest.raises(ArgumentError, match="only must be"):
        select_rows(frame, "all")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="pass only='approved'"):
        select_rows(frame, None, approved="approved")
    with pytest.raises(ArgumentError, match="no 'octave_status' column"):
        select_rows(frame.drop(columns="octave_status"), "ok")


def test_bad_approval_values_write_no_file(tmp_path: Path) -> None:
    """An unreadable approval cell stops to_csv and to_excel before a file is created."""
    frame = sample_result_frame(5, steps=1)
    frame["approved"] = ["x", "maybe", "", "x", "no"]
    for path, write in [
        (tmp_path / "out.csv", lambda p: to_csv(frame, p, format="instantly", only="approved")),
        (tmp_path / "plain.csv", lambda p: to_csv(frame, p, only="approved")),
        (tmp_path / "out.xlsx", lambda p: to_excel(frame, p, only="approved")),
    ]:
        with pytest.raises(ArgumentError, match="'maybe'"):
            write(path)
        assert not path.exists()


def test_to_excel_only_approved_writes_the_approved_rows(tmp_path: Path) -> None:
    """to_excel(only='approved') writes the approved ok rows and keeps their index."""
    frame = sample_result_frame(6, steps=1)
    frame["octave_status"] = pd.array(["ok"] * 5 + ["failed"], dtype="string")
    frame["approved"] = ["x", "", "TRUE", "no", "✓", "x"]
    path = tmp_path / "approved.xlsx"
    to_excel(frame, path, only="approved")
    back = of.read_excel(path)
    assert back.index.tolist() == [0, 2, 4]
    assert back["email_1_text"].tolist() == frame["email_1_text"].iloc[[0, 2, 4]].tolist()


@pytest.fixture(scope="module")
def reviewed() -> Iterator[pd.DataFrame]:
    """Four contacts run through the simulator: a real result frame to review in Excel."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0)
    contacts = pd.DataFrame(
        {
            "Email": ["ann@acme.com", "bob@globex.com", "zoe@initech.com", "di@hooli.com"],
            "First Name": ["Ann", "Bob", "Zoë", "Di"],
            "Last Name": ["Ames", "Berg", "Çelik", "Diaz"],
            "Company": ["Acme", "Globex", "Initech", "Hooli"],
            "Title": ["CRO", "VP Sales", "CEO", "CTO"],
        }
    )
    yield contacts.octave.sequence(
        agent="ca_1",
        cache=False,
        progress=False,
        rate=10_000,
        client=of.Client("sim-key", base_url="http://127.0.0.1:9", transport=sim.transport()),
    )


def test_approval_and_edits_survive_an_excel_review(reviewed: pd.DataFrame, tmp_path: Path) -> None:
    """Approve in Excel with x, ✓, TRUE, no; edit a body; the Instantly CSV has exactly that."""
    assert reviewed["octave_status"].eq("ok").all()
    workbook = tmp_path / "review.xlsx"
    reviewed.octave.to_excel(workbook)
    book = openpyxl.load_workbook(workbook)
    sheet = book["Contacts"]
    header = [cell.value for cell in sheet[1]]
    column = len(header) + 1
    sheet.cell(1, column, "approved")
    for row, mark in zip(range(2, 6), ["x", "✓", True, "no"], strict=True):
        sheet.cell(row, column, mark)  # True: Excel's TRUE, a boolean cell
    edited = "Hi Ann,\n\nI rewrote this one myself.\n\nBest,\nMorgan"
    sheet.cell(2, header.index("email_1_text") + 1, edited)
    book.save(workbook)

    back = of.read_excel(workbook)
    leads = tmp_path / "leads.csv"
    to_csv(back, leads, format="instantly", only="approved")
    raw = leads.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [r["email"] for r in rows] == ["ann@acme.com", "bob@globex.com", "zoe@initech.com"]
    assert list(rows[0])[:5] == ["email", "first_name", "last_name", "company_name", "job_title"]
    assert list(rows[0])[-6:] == [
        "email_1_subject", "email_1_body", "email_2_subject", "email_2_body",
        "email_3_subject", "email_3_body",
    ]  # fmt: skip
    assert rows[0]["email_1_body"] == edited.replace("\n", "<br>")
    assert rows[1]["email_1_body"] == reviewed["email_1_text"].iloc[1].replace("\n", "<br>")
    assert rows[2]["first_name"] == "Zoë"
    assert rows[0]["email_2_subject"] == reviewed["email_2_subject"].iloc[0]
