"""Tests for expanding Octave answers into result columns (``octave_frames._flatten``)."""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

import pandas as pd
import pytest
from _answers import answer, email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from octave_frames import _flatten
from octave_frames._constants import ENTITIES, SECTIONS
from octave_frames._exceptions import ArgumentError
from octave_frames._flatten import (
    CONFIDENCE_DTYPE,
    RAW_COLUMN,
    UnknownConfidenceWarning,
    is_output_column,
    output_column_names,
    result_columns,
    step_count,
)

EMAIL_FIELDS = ["subject", *SECTIONS, "core_value_prop", "text"]
TAIL = [
    "product_name",
    "product_match_confidence",
    "product_match_analysis",
    "persona_name",
    "persona_match_confidence",
    "persona_match_analysis",
    "playbook_name",
    "playbook_match_confidence",
    "playbook_match_analysis",
    "output_type",
]


def one(body: object, **kwargs: Any) -> pd.DataFrame:
    """Result columns of a single ``ok`` row."""
    return result_columns(["ok"], [None], [body], **kwargs)  # type: ignore[list-item]


def is_na(value: object) -> bool:
    """Whether a cell is pandas' missing value."""
    return value is pd.NA or value is None or (isinstance(value, float) and math.isnan(value))


def all_text(frame: pd.DataFrame) -> pd.Series:
    """Every non-missing cell of the frame's nullable string columns, in one Series."""
    names = [c for c in frame.columns if isinstance(frame[c].dtype, pd.StringDtype)]
    stacked = frame[names].stack()
    assert isinstance(stacked, pd.Series)
    return stacked


def test_column_names_follow_the_contract_order() -> None:
    """Names are status/error/note/id/usage, then email groups, then entities and output type."""
    expected = [
        "octave_status",
        "octave_error",
        "octave_note",
        "octave_request_id",
        "octave_usage",
        *(f"email_{i}_{field}" for i in (1, 2) for field in EMAIL_FIELDS),
        *TAIL,
    ]
    assert output_column_names(2) == expected
    assert list(one(answer(2)).columns) == expected
    assert output_column_names(0, prefix="x_", raw=True)[-1] == "x_octave_response"
    assert output_column_names(0) == [*expected[:5], *TAIL]
    with pytest.raises(ArgumentError):
        output_column_names(-1)


def test_values_land_in_their_columns() -> None:
    """Each documented field of the envelope ends up in the matching column."""
    row = one(answer(1)).iloc[0]
    assert row["octave_status"] == "ok"
    assert is_na(row["octave_error"])
    assert row["octave_request_id"] == "req_1"
    assert row["octave_usage"] == 2.0
    assert row["email_1_subject"] == "Subject 1"
    assert row["email_1_cta"] == "cta 1"
    assert row["email_1_core_value_prop"] == "Value 1"
    assert row["product_name"] == "Octave"
    assert row["persona_match_analysis"] == "Ok"
    assert row["playbook_match_confidence"] == "LOW"
    assert row["output_type"] == "SCOPED_PLAYBOOK"


def test_email_groups_follow_the_longest_sequence() -> None:
    """N is the longest emails list; rows with fewer emails are NA in the extra groups."""
    out = result_columns(["ok"] * 3, [None] * 3, [answer(1), answer(3), answer(0)])
    assert step_count(out.columns) == 3
    assert out.loc[1, "email_3_subject"] == "Subject 3"
    assert out.loc[[0, 2], "email_2_subject"].isna().all()
    assert out.loc[0, ["email_3_text", "email_3_body"]].isna().all()
    assert out.loc[2, "email_1_text"] is pd.NA


def test_no_emails_anywhere_gives_no_email_groups() -> None:
    """Without any email in any body there are no email_{i} columns at all."""
    out = result_columns(["failed", "not_found"], ["boom", None], [None, answer(0)])
    assert list(out.columns) == output_column_names(0)


def test_dtypes_are_nullable_and_confidence_is_ordered() -> None:
    """Text is "string", usage Float64, confidence an ordered categorical that filters."""
    bodies = [answer(1), answer(1, persona={"matchConfidence": "HIGH"}), None]
    out = result_columns(["ok", "ok", "failed"], [None, None, "HTTP 500"], bodies)
    names = output_column_names(1)
    for name in names:
        expected: object = "string"
        if name == "octave_usage":
            expected = "Float64"
        elif name.endswith("_match_confidence"):
            expected = CONFIDENCE_DTYPE
        assert out[name].dtype == expected, name
    assert isinstance(out.index, pd.RangeIndex)
    assert list(out.index) == [0, 1, 2]
    picked = out[out.persona_match_confidence >= "MEDIUM"]
    assert list(picked.index) == [0, 1]
    assert list(out[out.persona_match_confidence > "MEDIUM"].index) == [1]
    assert out.loc[2, "octave_usage"] is pd.NA


def test_email_text_skips_empty_sections_in_section_order() -> None:
    """email_i_text joins the stripped non-empty sections by a blank line, in SECTIONS order."""
    body = answer(1)
    body["data"]["emails"][0]["sections"] = {
        "signature": "Bob",
        "greeting": "  Hi Ann,\n",
        "opening": "",
        "body": "Short pitch.",
        "closing": "   ",
        "cta": None,
        "ps": "PS: hi",
    }
    row = one(body).iloc[0]
    assert row["email_1_text"] == "Hi Ann,\n\nShort pitch.\n\nPS: hi\n\nBob"
    assert row["email_1_greeting"] == "Hi Ann,"
    for section in ("opening", "closing", "cta"):
        assert row[f"email_1_{section}"] is pd.NA


def test_email_without_any_text_has_na_text() -> None:
    """An email whose sections are all empty or missing has NA text, not an empty string."""
    body = answer(1)
    body["data"]["emails"][0]["sections"] = {"greeting": "", "body": " "}
    assert one(body).loc[0, "email_1_text"] is pd.NA


def test_not_found_and_missing_bodies_are_na() -> None:
    """found:false (data null) and None bodies give NA everywhere but the run columns."""
    not_found = {"_metadata": {"requestId": "r9", "usage": 0}, "found": False, "data": None}
    out = result_columns(
        ["ok", "not_found", "failed"], [None, None, "HTTP 503"], [answer(1), not_found, None]
    )
    assert out.loc[1, "octave_request_id"] == "r9"
    assert out.loc[1, "octave_usage"] == 0.0
    assert out.loc[2, "octave_error"] == "HTTP 503"
    bare = [c for c in out.columns if c not in output_column_names(0)[:5]]
    assert out.loc[[1, 2], bare].isna().all().all()
    assert out.loc[0, bare].notna().all()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        42,
        [answer(1)],
        {"_metadata": [], "data": []},
        {"data": {"emails": {"0": email(1)}}},
        {"data": {"emails": "abc"}},
        {"data": {"emails": [None, 7, "x", []]}},
        {"data": {"emails": [{"sections": ["greeting", "hi"], "subject": {"a": 1}}]}},
        {"data": {"product": "Octave", "persona": [1], "playbook": None, "outputType": []}},
    ],
)
def test_malformed_bodies_give_na_instead_of_raising(body: object) -> None:
    """A body off the documented shape yields NA result columns for its row."""
    out = result_columns(["ok", "ok"], [None, None], [body, answer(1)])  # type: ignore[list-item]
    assert len(out) == 2
    values = out.drop(columns=["octave_status", "octave_error"]).iloc[0]
    assert values.isna().all()
    assert out.loc[1, "email_1_subject"] == "Subject 1"


def test_junk_leaves_are_stringified_or_na() -> None:
    """Numbers and booleans become text, null and containers NA, and never "nan" or "None"."""
    body = answer(1, outputType=12, product={"name": 3.0, "matchAnalysis": True})
    body["data"]["emails"][0].update(subject=2.5, coreValueProp={"x": 1})
    body["data"]["emails"][0]["sections"].update(body=float("nan"), cta=[1, 2], ps=None)
    body["_metadata"].update(requestId=None, usage="1.5")
    row = one(body).iloc[0]
    assert row["output_type"] == "12"
    assert row["product_name"] == "3"
    assert row["product_match_analysis"] == "true"
    assert row["email_1_subject"] == "2.5"
    assert row["octave_usage"] == 1.5
    for name in ("email_1_core_value_prop", "email_1_body", "email_1_cta", "octave_request_id"):
        assert row[name] is pd.NA, name
    texts = all_text(one(body))
    assert not texts.isin(["nan", "None", "NaN", "<NA>", ""]).any()


@pytest.mark.parametrize(
    ("usage", "expected"), [(3, 3.0), ("2.5", 2.5), (True, None), ("x", None), (10**400, None)]
)
def test_usage_is_a_float_or_na(usage: object, expected: float | None) -> None:
    """Credits become Float64; booleans, text and huge integers become NA."""
    body = answer(0)
    body["_metadata"]["usage"] = usage
    value = one(body).loc[0, "octave_usage"]
    assert value is pd.NA if expected is None else value == expected


def test_confidence_is_normalised_and_unknown_values_warned_and_kept() -> None:
    """Case and spaces are normalised; an unknown level is NA, warned, and kept in the analysis."""
    bodies = [
        answer(0, persona={"matchConfidence": " high ", "matchAnalysis": "a"}),
        answer(0, persona={"matchConfidence": "VERY_HIGH", "matchAnalysis": "Strong fit"}),
        answer(0, persona={"matchConfidence": "very high"}),
    ]
    with pytest.warns(UnknownConfidenceWarning, match=r"2 row\(s\).*'VERY_HIGH'"):
        out = result_columns(["ok"] * 4, [None] * 4, [*bodies, None])
    assert out.loc[0, "persona_match_confidence"] == "HIGH"
    assert out["persona_match_confidence"].isna().tolist() == [False, True, True, True]
    assert out.loc[1, "persona_match_analysis"] == "[matchConfidence: VERY_HIGH] Strong fit"
    assert out.loc[2, "persona_match_analysis"] == "[matchConfidence: very high]"


def test_unknown_confidence_warning_counts_fanned_out_rows() -> None:
    """Rows that share one odd answer are each counted in the warning."""
    odd = answer(0, product={"matchConfidence": "MAX"})
    with pytest.warns(UnknownConfidenceWarning, match=r"^3 row\(s\)"):
        result_columns(["ok"] * 4, [None] * 4, [odd, odd, None, odd])


def test_shared_bodies_expand_like_copies() -> None:
    """Rows passing the same dict object get the same values as rows with equal copies."""
    first, second = answer(1, request_id="a"), answer(3, request_id="b")
    shared = [first, second, first, None, first]
    copies = [copy.deepcopy(b) for b in shared]
    statuses, errors = ["ok"] * 5, [None] * 5
    fanned = result_columns(statuses, errors, shared)
    pd.testing.assert_frame_equal(fanned, result_columns(statuses, errors, copies))
    assert list(fanned["octave_request_id"].astype(object).fillna("-")) == list("aba-a")


def test_prefix_applies_to_every_column() -> None:
    """prefix= is prepended to every output name, and the helpers accept it."""
    out = one(answer(1), prefix="oc_", raw=True)
    assert list(out.columns) == output_column_names(1, prefix="oc_", raw=True)
    assert all(is_output_column(c, prefix="oc_") for c in out.columns)
    assert not is_output_column("octave_status", prefix="oc_")
    assert step_count(out.columns, prefix="oc_") == 1


def test_raw_adds_the_parsed_body_as_object_column() -> None:
    """raw=True adds octave_response holding each row's body object, None where missing."""
    body = answer(1)
    out = result_columns(["ok", "failed"], [None, "x"], [body, None], raw=True)
    assert out.columns[-1] == RAW_COLUMN
    assert out[RAW_COLUMN].dtype == object
    assert out[RAW_COLUMN].tolist() == [body, None]
    assert out[RAW_COLUMN].iloc[0] is body
    text_only = result_columns(["failed"], [None], ["<html>bad gateway</html>"], raw=True)  # type: ignore[list-item]
    assert text_only[RAW_COLUMN].dtype == object
    assert RAW_COLUMN not in one(body).columns


def test_mismatched_lengths_are_an_argument_error() -> None:
    """statuses, errors and bodies must line up; otherwise ArgumentError (a ValueError)."""
    with pytest.raises(ValueError, match="one entry per row"):
        result_columns(["ok"], [None, None], [None])


def test_zero_rows_give_an_empty_frame_with_the_fixed_columns() -> None:
    """An empty run still returns the fixed columns with their dtypes."""
    out = result_columns([], [], [])
    assert list(out.columns) == output_column_names(0)
    assert len(out) == 0
    assert out["persona_match_confidence"].dtype == CONFIDENCE_DTYPE


def mixed_bodies() -> list[Any]:
    """Bodies of every shape the fast paths branch on, some shared, over several chunks."""
    spaced = answer(2)
    for item in spaced["data"]["emails"]:
        item["sections"].update(closing=" ", ps=0, opening="  Lead in. ")
    missing = answer(1)
    del missing["data"]["emails"][0]["sections"]["ps"]
    del missing["data"]["emails"][0]["subject"]
    odd = answer(1, persona={"matchConfidence": "VERY_HIGH", "matchAnalysis": "Strong"})
    ragged = answer(3)
    ragged["data"]["emails"][1] = None
    return [
        answer(1),
        odd,
        None,
        spaced,
        {"data": {"emails": "abc"}},
        odd,
        missing,
        ragged,
        answer(0),
        answer(3, request_id="late"),
        spaced,
        answer(0, product={"matchConfidence": "MAX"}),
    ]


def run_with_warnings(bodies: list[Any]) -> tuple[pd.DataFrame, list[str]]:
    """Result columns of ``bodies`` as ``ok`` rows, and the warning texts raised."""
    n = len(bodies)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = result_columns(["ok"] * n, [None] * n, bodies, raw=True)
    return out, [str(w.message) for w in caught]


def test_chunking_does_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bodies split over many chunks give the same frame and warning as one chunk."""
    bodies = mixed_bodies()
    whole, whole_warnings = run_with_warnings(bodies)
    monkeypatch.setattr(_flatten, "_CHUNK", 2)
    chunked, chunked_warnings = run_with_warnings(bodies)
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked_warnings == whole_warnings
    assert whole_warnings[0].startswith("3 row(s)")
    assert "'VERY_HIGH', 'MAX'" in whole_warnings[0]
    assert step_count(whole.columns) == 3
    assert whole.loc[9, "email_3_subject"] == "Subject 3"
    assert whole.loc[7, ["email_2_subject", "email_2_text"]].isna().all()
    row = whole.iloc[3]
    assert row["email_1_text"] == "\n\n".join(
        ["greeting 1", "Lead in.", "body 1", "cta 1", "0", "signature 1"]
    )
    assert row["email_1_closing"] is pd.NA
    assert whole.loc[6, "email_1_subject"] is pd.NA
    assert whole.loc[6, "email_1_ps"] is pd.NA


def test_string_columns_equal_pandas_checked_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text columns built without pandas' per-cell check equal those pandas builds and checks."""
    fast, _ = run_with_warnings(mixed_bodies())
    monkeypatch.setattr(_flatten, "_SIMPLE_NEW", None)
    checked, _ = run_with_warnings(mixed_bodies())
    pd.testing.assert_frame_equal(fast, checked)
    for name in fast.columns:
        if isinstance(fast[name].dtype, pd.StringDtype):
            values = fast[name].array
            rebuilt = pd.array(list(values), dtype="string")
            pd.testing.assert_extension_array_equal(values, rebuilt)


# Keys the generated JSON prefers, so random trees reach the real extraction paths.
KEYS = [
    "_metadata",
    "requestId",
    "usage",
    "data",
    "emails",
    "sections",
    "subject",
    "coreValueProp",
    "matchConfidence",
    "matchAnalysis",
    "name",
    "outputType",
    *SECTIONS,
    *ENTITIES,
]
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(["LOW", "high", "VERY_HIGH", " ", ""])
)
JSONISH = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), inner, max_size=5)
    ),
    max_leaves=25,
)
EMAIL = st.fixed_dictionaries(
    {"subject": JSONISH, "sections": st.dictionaries(st.sampled_from(SECTIONS), LEAVES) | JSONISH}
)
ENVELOPE = st.fixed_dictionaries(
    {
        "_metadata": st.fixed_dictionaries({"requestId": LEAVES, "usage": LEAVES}) | JSONISH,
        "data": st.none()
        | JSONISH
        | st.fixed_dictionaries(
            {"emails": st.lists(EMAIL | JSONISH, max_size=3)},
            optional={entity: JSONISH for entity in ENTITIES},
        ),
    }
)


def text_matches_sections(out: pd.DataFrame) -> bool:
    """Every email_i_text is exactly the join of that email's non-NA section columns."""
    for i in range(1, step_count(out.columns) + 1):
        parts = out[[f"email_{i}_{s}" for s in SECTIONS]].astype(object)
        for row, text in zip(parts.itertuples(index=False), out[f"email_{i}_text"], strict=True):
            joined = "\n\n".join(p for p in row if not is_na(p))
            if (text if not is_na(text) else "") != joined:
                return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bodies=st.lists(ENVELOPE | JSONISH, max_size=6),
    fan=st.lists(st.integers(min_value=0, max_value=5), max_size=8),
)
def test_arbitrary_json_never_raises(bodies: list[Any], fan: list[int]) -> None:
    """Any JSON-ish bodies, shared or not, give len(statuses) rows of well-formed columns."""
    rows = [bodies[i] for i in fan if i < len(bodies)] + bodies
    n = len(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownConfidenceWarning)
        out = result_columns(["ok"] * n, [None] * n, rows, raw=True)
    assert len(out) == n
    assert list(out.columns) == output_column_names(step_count(out.columns), raw=True)
    texts = all_text(out)
    assert not (texts.str.strip() != texts).any()
    assert not (texts == "").any()
    assert text_matches_sections(out)
    for entity in ENTITIES:
        assert out[f"{entity}_match_confidence"].dtype == CONFIDENCE_DTYPE
