"""The Contacts sheet shows each step's subject and text first and folds its sections."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from octave_frames.io import read_excel, to_excel
from octave_frames.io._layout import contacts_layout
from octave_frames.io._sample import sample_result_frame

SECTIONS = [
    "greeting",
    "opening",
    "body",
    "closing",
    "cta",
    "ps",
    "signature",
    "core_value_prop",
]


def _header(path: Path) -> list[str]:
    """The Contacts header row, through openpyxl."""
    return [cell.value for cell in openpyxl.load_workbook(path)["Contacts"][1]]


def _folded(path: Path) -> dict[str, tuple[int, bool]]:
    """Header -> (outline level, hidden) of every Contacts column, through openpyxl."""
    ws = openpyxl.load_workbook(path)["Contacts"]
    out = {}
    for cell in ws[1]:
        dim = ws.column_dimensions[cell.column_letter]
        out[str(cell.value)] = (dim.outlineLevel, bool(dim.hidden))
    return out


@pytest.mark.parametrize("prefix", ["", "seq_"])
def test_subject_and_text_follow_the_run_columns_and_sections_are_folded(
    tmp_path: Path, prefix: str
) -> None:
    """email_i_subject/_text come right after the run columns; the sections are hidden, level 1."""
    frame = sample_result_frame(12, steps=2, prefix=prefix)
    path = tmp_path / "out.xlsx"
    to_excel(frame, path, prefix=prefix)
    header = _header(path)
    usage = header.index(f"{prefix}octave_usage")
    assert header[usage + 1 : usage + 3] == [f"{prefix}email_1_subject", f"{prefix}email_1_text"]
    assert openpyxl.utils.get_column_letter(usage + 2) == "M"  # was AB before the sections moved
    step_1 = [f"{prefix}email_1_{s}" for s in SECTIONS]
    assert header[usage + 3 : usage + 3 + len(SECTIONS)] == step_1
    assert header[usage + 3 + len(SECTIONS) : usage + 5 + len(SECTIONS)] == [
        f"{prefix}email_2_subject",
        f"{prefix}email_2_text",
    ]
    folded = _folded(path)
    details = [f"{prefix}email_{i}_{s}" for i in (1, 2) for s in SECTIONS]
    assert all(folded[name] == (1, True) for name in details)
    assert all(folded[name] == (0, False) for name in header if name not in details)
    ws = openpyxl.load_workbook(path)["Contacts"]
    assert ws.sheet_format.outlineLevelCol == 1
    assert ws.sheet_properties.outlinePr.summaryRight is False
    text_letter = openpyxl.utils.get_column_letter(usage + 3)
    assert ws.column_dimensions[text_letter].collapsed


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_read_excel_gives_back_the_frames_own_column_order(tmp_path: Path, engine: str) -> None:
    """Only the sheet moves: read_excel returns the exact frame, columns and dtypes in order."""
    frame = sample_result_frame(20, steps=3, prefix="p_")
    frame.index = pd.Index([f"c{i}" for i in range(20)], name="contact")
    path = tmp_path / "rt.xlsx"
    to_excel(frame, path, prefix="p_")
    assert _header(path)[0] == "contact"
    back = read_excel(path, engine=engine)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(back, frame)
    assert list(back.columns) == list(frame.columns)


def test_frames_without_step_columns_are_shown_as_they_are(tmp_path: Path) -> None:
    """Another agent's columns (and an input like address_1_text) keep their order, none fold."""
    frame = (
        pd.DataFrame(
            {
                "Email": ["a@x.co", "b@x.co"],
                "address_1_text": ["1 Main St", "2 Side St"],
                "octave_status": ["ok", "ok"],
                "octave_error": [None, None],
                "person_summary": ["Sells things", "Buys things"],
                "person_score": [3, 4],
            }
        )
        .astype("string")
        .astype({"person_score": "Int64"})
    )
    path = tmp_path / "other.xlsx"
    to_excel(frame, path)
    assert _header(path) == list(frame.columns)
    assert all(level == (0, False) for level in _folded(path).values())
    pd.testing.assert_frame_equal(read_excel(path), frame)


def test_layout_is_generic_over_step_stems() -> None:
    """Any ``{stem}_{i}_{field}`` result step with a lead field groups; others stay put."""
    labels = [
        "Email",
        "note_1_text",  # an input column: never moved
        "octave_status",
        "call_1_notes",
        "call_1_agenda",
        "call_1_subject",
        "score_1_value",  # a step without lead fields: not a group
        "call_2_text",
        "tail",
    ]
    layout = contacts_layout(labels)
    assert [labels[j] for j in layout.order] == [
        "Email",
        "note_1_text",
        "octave_status",
        "call_1_subject",
        "call_1_notes",
        "call_1_agenda",
        "score_1_value",
        "call_2_text",
        "tail",
    ]
    assert layout.folded == ((4, 5),)
    assert contacts_layout(["a", "b"]).order == (0, 1)
    assert contacts_layout([]).order == ()


def test_user_edits_to_the_sheet_order_are_honoured(tmp_path: Path) -> None:
    """A column a user adds follows its neighbour; a user's own reordering is kept."""
    frame = sample_result_frame(5, steps=1)
    path = tmp_path / "edit.xlsx"
    to_excel(frame, path)
    book = openpyxl.load_workbook(path)
    ws = book["Contacts"]
    header = [cell.value for cell in ws[1]]
    ws.insert_cols(header.index("email_1_text") + 2)
    ws.cell(1, header.index("email_1_text") + 2, "Reviewer")
    book.save(path)
    back = read_excel(path)
    expected = list(frame.columns)
    expected.insert(expected.index("email_1_text") + 1, "Reviewer")
    assert list(back.columns) == expected
    pd.testing.assert_frame_equal(back.drop(columns="Reviewer"), frame)

    book = openpyxl.load_workbook(path)
    ws = book["Contacts"]
    ws.move_range("A1:A6", cols=ws.max_column)  # First Name moved to the far right
    ws.delete_cols(1)
    book.save(path)
    moved = read_excel(path)
    assert moved.columns[-1] == "First Name"
    assert moved.columns[0] == "Last Name"
