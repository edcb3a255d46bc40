"""Tests for the result-column contract: names, re-reading, merging (``octave_frames._results``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _answers import answer

from octave_frames._exceptions import ArgumentError
from octave_frames._flatten import result_columns
from octave_frames._results import (
    CONFIDENCE_DTYPE,
    RAW_COLUMN,
    is_output_column,
    merge_results,
    normalize_result_columns,
    output_column_names,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("octave_status", True),
        ("output_type", True),
        ("octave_response", True),
        ("email_1_text", True),
        ("email_12_core_value_prop", True),
        ("email_0_text", False),
        ("email_01_text", False),
        ("email_1_footer", False),
        ("email_x_text", False),
        ("First Name", False),
        (3, False),
        (("email_1_text",), False),
    ],
)
def test_is_output_column(name: object, expected: bool) -> None:
    """Fixed names and email_{i}_* for i >= 1 are result columns; nothing else is."""
    assert is_output_column(name) is expected


def excel_like(frame: pd.DataFrame) -> pd.DataFrame:
    """Roughly what reading a result sheet back gives: object text, NaN, float usage."""
    out = frame.astype(object).where(frame.notna(), np.nan)
    out["octave_usage"] = frame["octave_usage"].astype("float64")
    return out


def test_normalize_restores_canonical_dtypes() -> None:
    """Frames read back from a file get string/Float64/categorical columns and NA back."""
    fresh = result_columns(["ok", "failed"], [None, "boom"], [answer(1), None])
    back = excel_like(fresh)
    back.loc[0, "persona_match_confidence"] = "medium"
    back.loc[0, "octave_request_id"] = 12345.0
    back["First Name"] = ["Ann", "Bo"]
    out = normalize_result_columns(back)
    assert out.loc[0, "persona_match_confidence"] == "MEDIUM"
    assert out.loc[0, "octave_request_id"] == "12345"
    assert out["email_1_text"].dtype == "string"
    assert out["octave_usage"].dtype == "Float64"
    assert out.loc[1, "email_1_text"] is pd.NA
    pd.testing.assert_series_equal(out["First Name"], back["First Name"])
    assert back["octave_usage"].dtype == "float64"
    assert back.loc[0, "persona_match_confidence"] == "medium"


def test_normalize_parses_raw_json_text() -> None:
    """An octave_response cell holding JSON text becomes the dict again."""
    frame = pd.DataFrame({RAW_COLUMN: ['{"found": true}', np.nan, "junk"]}, index=[4, 4, 2])
    out = normalize_result_columns(frame)
    assert out[RAW_COLUMN].tolist() == [{"found": True}, None, "junk"]
    assert out[RAW_COLUMN].dtype == object


def test_merge_keeps_previous_rows_and_replaces_the_rest() -> None:
    """keep=True rows come from previous, the others from fresh, columns unioned."""
    previous = result_columns(
        ["ok", "failed", "ok"],
        [None, "HTTP 500", None],
        [answer(1, request_id="old0"), None, answer(1, request_id="old2")],
    )
    fresh = result_columns(
        ["ok", "ok", "ok"],
        [None, None, None],
        [answer(2, request_id=f"new{i}") for i in range(3)],
        raw=True,
    )
    merged = merge_results(excel_like(previous), fresh, np.array([True, False, True]))
    assert list(merged.columns) == output_column_names(2, raw=True)
    assert merged["octave_request_id"].tolist() == ["old0", "new1", "old2"]
    assert merged["octave_status"].tolist() == ["ok", "ok", "ok"]
    assert merged.loc[0, "email_2_subject"] is pd.NA
    assert merged.loc[1, "email_2_subject"] == "Subject 2"
    assert merged.loc[0, RAW_COLUMN] is None
    assert merged[RAW_COLUMN].dtype == object
    assert isinstance(merged.loc[1, RAW_COLUMN], dict)
    assert merged["persona_match_confidence"].dtype == CONFIDENCE_DTYPE
    assert merged["octave_usage"].dtype == "Float64"
    assert merged["email_1_body"].dtype == "string"


def test_merge_with_prefix_and_fewer_previous_steps() -> None:
    """A prefixed previous frame with more steps than fresh keeps its extra groups."""
    previous = result_columns(["ok"], [None], [answer(3)], prefix="p_")
    fresh = result_columns(["ok"], [None], [answer(1)], prefix="p_")
    merged = merge_results(previous, fresh, [False], prefix="p_")
    assert list(merged.columns) == output_column_names(3, prefix="p_")
    assert merged.loc[0, "p_email_1_subject"] == "Subject 1"
    assert merged.loc[0, "p_email_3_subject"] is pd.NA


def test_merge_refuses_misaligned_or_foreign_input() -> None:
    """Length mismatches and non-result columns are ArgumentErrors."""
    frame = result_columns(["ok"], [None], [None])
    with pytest.raises(ArgumentError, match="same rows"):
        merge_results(frame, frame, np.array([True, False]))
    with pytest.raises(ArgumentError, match="not result columns"):
        merge_results(frame.assign(Email="a@b.c"), frame, np.array([True]))
