"""The long email format: one row per contact and step that has content."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from octave_frames._constants import SECTIONS
from octave_frames._exceptions import ArgumentError
from octave_frames._longform import LONG_FIELDS, emails_long
from octave_frames.io._identity import long_with_contact
from octave_frames.io._sample import sample_result_frame

COLUMNS = ["row", "step", "subject", *SECTIONS, "core_value_prop", "text"]


def _frame(index: pd.Index, prefix: str = "") -> pd.DataFrame:
    """Three contacts: two steps, nothing, and only step 2 (step 1 holds just '')."""
    data: dict[str, object] = {"Email": ["a@x.com", "b@x.com", "c@x.com"]}
    for step in (1, 2):
        for field in LONG_FIELDS:
            data[f"{prefix}email_{step}_{field}"] = pd.array([None] * 3, dtype="string")
    frame = pd.DataFrame(data, index=index)
    for row, field, value in (
        (0, "email_1_subject", "Hi A"),
        (0, "email_2_body", "Again A"),
        (2, "email_1_ps", ""),
        (2, "email_2_text", "Only C, step 2"),
    ):
        frame.iloc[row, frame.columns.get_loc(prefix + field)] = value
    return frame


def test_one_row_per_contact_and_step_with_content() -> None:
    """Steps with any non-empty field become rows, in contact then step order."""
    long = emails_long(_frame(pd.Index(["x", "y", "z"], name="id")))
    assert list(long.columns) == COLUMNS
    assert long[["row", "step"]].to_numpy().tolist() == [["x", 1], ["x", 2], ["z", 2]]
    assert long["subject"].iloc[0] == "Hi A" and pd.isna(long["subject"].iloc[1])
    assert long["text"].iloc[2] == "Only C, step 2"
    assert isinstance(long.index, pd.RangeIndex)
    assert long["step"].dtype == np.int64
    assert all(long[name].dtype == "string" for name in LONG_FIELDS)


def test_duplicate_index_values_stay_apart() -> None:
    """A duplicated index gives one row per contact row, not per label."""
    long = emails_long(_frame(pd.Index([7, 7, 7])))
    assert long["row"].tolist() == [7, 7, 7]
    assert long["step"].tolist() == [1, 2, 2]
    assert long["row"].dtype == np.int64


def test_multiindex_levels_become_named_or_numbered_columns() -> None:
    """Each level is a column: its name, else row_k; the level dtypes are kept."""
    index = pd.MultiIndex.from_tuples([("a", 1), ("b", 2), ("c", 3)], names=["team", None])
    long = emails_long(_frame(index))
    assert list(long.columns[:3]) == ["team", "row_1", "step"]
    assert long["team"].tolist() == ["a", "a", "c"]
    assert long["row_1"].tolist() == [1, 1, 3]


def test_level_names_that_clash_are_numbered() -> None:
    """A level named like a long column ('step', 'text') or like another level is renamed."""
    index = pd.MultiIndex.from_tuples([(1, 2, 3)] * 3, names=["step", "text", "text"])
    assert list(emails_long(_frame(index)).columns[:4]) == ["row_0", "row_1", "row_2", "step"]


def test_prefix_selects_the_prefixed_columns() -> None:
    """With a prefix only prefixed email columns count."""
    frame = _frame(pd.RangeIndex(3), prefix="oc_")
    assert emails_long(frame, prefix="oc_")["row"].tolist() == [0, 0, 2]
    with pytest.raises(ArgumentError, match=r"suggest prefix='oc_'"):
        emails_long(frame)


def test_run_frame_without_ok_rows_gives_an_empty_typed_frame() -> None:
    """A run where no row succeeded (status column, no emails): empty, with the long dtypes."""
    frame = pd.DataFrame({"Email": ["a@x.com"], "octave_status": ["failed"]})
    long = emails_long(frame)
    assert long.empty and list(long.columns) == COLUMNS
    assert long["step"].dtype == np.int64 and long["subject"].dtype == "string"


def test_run_frame_whose_rows_all_failed_gives_an_empty_frame() -> None:
    """A run frame with email columns but no ok row has no long rows, and no error."""
    frame = sample_result_frame(4, steps=2)
    failed = frame.assign(octave_status="failed")
    for name in frame.columns:
        if name.startswith("email_"):
            failed[name] = pd.array([None] * len(frame), dtype="string")
    long = emails_long(failed)
    assert long.empty and list(long.columns) == COLUMNS


@pytest.mark.parametrize("method", [False, True])
def test_frame_never_run_is_a_clear_error(method: bool) -> None:
    """No status and no email columns: ArgumentError saying to run sequence or pass prefix=."""
    frame = pd.DataFrame({"Email": ["a@x.com"], "Company": ["X"]})
    with pytest.raises(ArgumentError, match="no sequence results") as info:
        frame.octave.emails() if method else emails_long(frame)
    assert "run df.octave.sequence(...) first, or pass prefix=" in str(info.value)
    assert "suggest" not in str(info.value)


def test_wrong_prefix_names_the_prefix_asked_for() -> None:
    """A prefix the run did not use is named in the message, with the one the columns show."""
    frame = sample_result_frame(2, steps=1)
    with pytest.raises(ArgumentError, match=r"prefix='x_'.*'x_octave_status'.*suggest prefix=''"):
        emails_long(frame, prefix="x_")


def test_missing_section_columns_are_na_and_input_is_not_mutated() -> None:
    """A step with only some field columns fills the rest with NA; the input is unchanged."""
    frame = pd.DataFrame({"email_1_text": pd.array(["t", None], dtype="string")})
    before = frame.copy()
    long = emails_long(frame)
    assert long["text"].tolist() == ["t"] and pd.isna(long["body"].iloc[0])
    pd.testing.assert_frame_equal(frame, before)


def test_long_with_contact_adds_identifying_columns() -> None:
    """The export variant puts email/name/company columns between row and step."""
    frame = sample_result_frame(20, steps=2)
    long, frozen = long_with_contact(frame)
    assert list(long.columns[:7]) == [
        "row",
        "First Name",
        "Last Name",
        "Email",
        "Company",
        "Title",
        "step",
    ]
    assert frozen == 7
    first = long.iloc[0]
    assert first["Email"] == frame.loc[first["row"], "Email"]
    assert "Zip" not in long.columns and "Employees" not in long.columns


@pytest.mark.parametrize("rows", [0, 1])
def test_tiny_frames(rows: int) -> None:
    """Zero- and one-row frames work."""
    frame = sample_result_frame(rows, steps=1)
    assert len(emails_long(frame)) == int(rows == 1 and frame["octave_status"].iloc[0] == "ok")
