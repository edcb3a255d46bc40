"""Tests for the typed columns of Octave's other agents (``octave_frames._agent_columns``)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pandas as pd
import pytest

from octave_frames._agent_cells import alternate_key, flag, lookup, number, text_line
from octave_frames._agent_columns import (
    CALL_PREP_COLUMNS,
    CONTENT_COLUMNS,
    CONTEXT_COLUMNS,
    ENRICH_COMPANY_COLUMNS,
    ENRICH_PERSON_COLUMNS,
    QUALIFY_COMPANY_COLUMNS,
    QUALIFY_PERSON_COLUMNS,
    Column,
    agent_columns,
)
from octave_frames._exceptions import ArgumentError
from octave_frames._results import CONFIDENCE_DTYPE, UnknownConfidenceWarning

ALL_SPECS = {
    "enrich-person": ENRICH_PERSON_COLUMNS,
    "enrich-company": ENRICH_COMPANY_COLUMNS,
    "qualify-person": QUALIFY_PERSON_COLUMNS,
    "qualify-company": QUALIFY_COMPANY_COLUMNS,
    "call-prep": CALL_PREP_COLUMNS,
    "generate-content": CONTENT_COLUMNS,
    "context": CONTEXT_COLUMNS,
}
SEQUENCE_ONLY = ("octave_", "email_")


def envelope(data: object) -> dict[str, Any]:
    """Wrap ``data`` in the envelope every agent answers with."""
    return {"_metadata": {"requestId": "req_1", "usage": 1}, "found": True, "data": data}


COMPANY = envelope(
    {
        "company": {
            "name": " Acme Corp ",
            "description": "Widgets for everyone",
            "domain": "acme.com",
            "website": "https://acme.com",
            "founded": 2015,
            "location": {"locality": "Paris", "region": "IDF", "countryCode": "FR"},
            "employeeCount": "51-200",
            "followerCount": "1,200",
            "specialties": ["widgets", "gadgets"],
            "industry": "Software",
            "crunchBaseFunding": [
                {"roundName": "Series A", "roundDate": "2018-05-01", "roundAmount": 5e6,
                 "roundCurrency": "USD"},
                {"roundName": "Seed", "roundDate": "2016-01-01", "roundAmount": "1,000,000",
                 "roundCurrency": "USD"},
            ],
        },
        "product": {"name": "Widget Pro", "matchConfidence": "high", "matchAnalysis": "Fits"},
        "persona": {"name": "CTO", "matchConfidence": "VERY_HIGH", "matchAnalysis": "Tech"},
    }
)  # fmt: skip
ODD_COMPANY = envelope(
    {
        "company": {
            "name": None,
            "employee_count": "about a lot",
            "founded": "nan",
            "location": "Berlin",
            "specialties": [None, {"x": 1}, " tools ", ""],
            "crunchBaseFunding": [
                {"roundName": "A", "roundAmount": 10, "roundCurrency": "USD"},
                {"roundName": "B", "roundAmount": "junk", "roundCurrency": "EUR"},
                "junk",
            ],
        },
        "product": ["not", "a", "dict"],
    }
)
PERSON = envelope(
    {
        "person": {
            "firstName": "Ann",
            "last_name": "Lee",
            "jobTitle": "VP Sales",
            "headline": "Sales leader",
            "seniority": "VP",
            "location": {"city": "Austin", "state": "TX", "country": "US"},
            "skills": ["SaaS", {"name": "Negotiation"}, 7],
            "summary": "Runs sales.",
            "profileUrl": "https://linkedin.com/in/ann",
        },
        "product": {"name": "Widget Pro", "matchConfidence": "Medium", "matchAnalysis": "ok"},
        "useCase": {"name": "Pipeline", "matchConfidence": "low"},
    }
)


def qualify(section_scores: dict[str, object]) -> dict[str, Any]:
    """A qualify-company answer with the given score per section."""
    sections = {
        name: {
            "oId": f"o_{name}",
            "name": name.title(),
            "qualification": {
                "score": score,
                "rationale": f"{name} because",
                "answers": [
                    {"question": "Q1?", "answer": "Yes", "rationale": "r1", "confidence": "HIGH"},
                    {"question": "Q2?", "answer": "No", "rationale": "r2", "confidence": "low"},
                ],
            },
        }
        for name, score in section_scores.items()
    }
    return envelope({"score": "8/10", "rationale": "Good fit", "company": {"name": "Acme"},
                     **sections})  # fmt: skip


CALL_PREP = envelope(
    {
        "callScript": "Hi Ann",
        "personBrief": "Ann leads sales",
        "companyBrief": "Acme sells widgets",
        "discoveryQuestions": ["What hurts?", {"question": "Who decides?"}, None],
        "objection_handling": [
            {"objection": "Too pricey", "response": "ROI in 3 months"},
            {"objection": "No time"},
        ],
    }
)
CONTENT = envelope(
    {
        "content": "Dear Ann",
        "jsonContent": {"subject": "Hi", "lines": [1, 2]},
        "useCases": [{"name": "Pipeline"}, "Forecasting"],
        "referenceCustomers": [{"name": "Globex"}, {"name": None}],
        "product": {"name": "Widget Pro"},
    }
)
CONTEXT = envelope(
    {
        "reasoning": "Picked two",
        "documents": [
            {"id": "d1", "name": "Pricing", "score": 0.4, "reasoning": "talks price"},
            {"id": "d2", "name": "Security", "score": "0.9", "reasoning": "SOC2"},
            {"id": "d3", "name": "Unscored"},
        ],
    }
)
SAMPLES: dict[str, dict[str, Any]] = {
    "enrich-person": PERSON,
    "enrich-company": COMPANY,
    "qualify-person": qualify({"product": 7}),
    "qualify-company": qualify({"product": 7, "segment": "9", "playbook": None}),
    "call-prep": CALL_PREP,
    "generate-content": CONTENT,
    "context": CONTEXT,
}
JUNK: list[Any] = [None, {}, {"data": None}, {"data": "text"}, {"data": [1, 2]}, envelope({})]


def expected_dtype(column: Column) -> object:
    """The dtype a column of ``column.kind`` must carry."""
    if column.kind == "number":
        return pd.Float64Dtype()
    if column.kind == "confidence":
        return CONFIDENCE_DTYPE
    if column.kind == "bool":
        return pd.BooleanDtype()
    return pd.StringDtype(na_value=pd.NA)


def run(bodies: list[Any], spec: tuple[Column, ...], **kwargs: Any) -> pd.DataFrame:
    """``agent_columns`` with unknown-confidence warnings silenced."""
    with pytest.warns(UnknownConfidenceWarning) if _odd(bodies) else _nothing():
        return agent_columns(bodies, spec, **kwargs)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def _odd(bodies: list[Any]) -> bool:
    return any("VERY_HIGH" in json.dumps(b, default=str) for b in bodies)


@pytest.mark.parametrize("agent", sorted(ALL_SPECS))
def test_every_column_has_its_dtype_and_no_nan_text(agent: str) -> None:
    """Each agent's sample and junk bodies give every declared column its dtype, NA never "nan"."""
    spec = ALL_SPECS[agent]
    frame = run([SAMPLES[agent], *JUNK], spec)
    assert list(frame.columns) == [c.name for c in spec]
    assert isinstance(frame.index, pd.RangeIndex) and len(frame) == 1 + len(JUNK)
    for column in spec:
        assert frame[column.name].dtype == expected_dtype(column), column.name
        if column.kind not in ("number", "confidence", "bool"):
            assert not frame[column.name].isin(["nan", "None", "NaN", ""]).any(), column.name
    # Junk bodies hold nothing at all.
    assert frame.iloc[1:].isna().all().all()


@pytest.mark.parametrize("agent", sorted(ALL_SPECS))
def test_names_stay_clear_of_sequence_only_columns(agent: str) -> None:
    """No agent column takes a name the Sequence Agent owns (``octave_*``, ``email_*``)."""
    assert not [c.name for c in ALL_SPECS[agent] if c.name.startswith(SEQUENCE_ONLY)]


def test_enrich_company_values() -> None:
    """Company fields are typed: ranges give their lower bound, funding adds up, rounds rank."""
    row = run([COMPANY], ENRICH_COMPANY_COLUMNS).iloc[0]
    assert row["company_name"] == "Acme Corp"
    assert row["company_employee_count"] == 51.0
    assert row["company_follower_count"] == 1200.0
    assert row["company_founded"] == 2015.0
    assert row["company_location"] == "Paris, IDF, FR"
    assert row["company_specialties"] == "widgets; gadgets"
    assert row["company_funding_total"] == 6_000_000.0
    assert row["company_funding_currency"] == "USD"
    assert row["company_funding_rounds"] == 2.0
    assert row["company_last_round"] == "Series A"
    assert row["company_last_round_date"] == "2018-05-01"
    assert row["product_match_confidence"] == "HIGH"


def test_unknown_confidence_is_na_and_kept_in_the_analysis() -> None:
    """A level outside LOW/MEDIUM/HIGH is NA, tagged into the analysis text, and warned about."""
    with pytest.warns(UnknownConfidenceWarning, match="VERY_HIGH"):
        row = agent_columns([COMPANY], ENRICH_COMPANY_COLUMNS).iloc[0]
    assert pd.isna(row["persona_match_confidence"])
    assert row["persona_match_analysis"] == "[matchConfidence: VERY_HIGH] Tech"


def test_odd_company_becomes_na_not_errors() -> None:
    """Nulls, words for numbers, mixed currencies and junk items become NA or are skipped."""
    row = run([ODD_COMPANY], ENRICH_COMPANY_COLUMNS).iloc[0]
    assert pd.isna(row["company_name"])
    assert pd.isna(row["company_employee_count"])  # snake_case key found, text unreadable
    assert pd.isna(row["company_founded"])
    assert row["company_location"] == "Berlin"
    assert row["company_specialties"] == "tools"
    assert row["company_funding_total"] == 10.0
    assert pd.isna(row["company_funding_currency"])  # USD and EUR: not one currency
    assert pd.isna(row["company_last_round"])  # no round carries a date
    assert pd.isna(row["product_name"])


def test_enrich_person_values() -> None:
    """Person fields accept either key spelling, places become one line, skills are joined."""
    row = run([PERSON], ENRICH_PERSON_COLUMNS).iloc[0]
    assert (row["person_first_name"], row["person_last_name"]) == ("Ann", "Lee")
    assert row["person_title"] == "VP Sales"
    assert row["person_location"] == "Austin, TX, US"
    assert row["person_skills"] == "SaaS; Negotiation; 7"
    assert row["person_linkedin_profile"] == "https://linkedin.com/in/ann"
    assert row["product_match_confidence"] == "MEDIUM"
    assert row["use_case_match_confidence"] == "LOW"
    assert pd.isna(row["persona_name"])


def test_qualify_company_scores_and_answer_counts() -> None:
    """Scores read "8/10" and "9"; a missing section is NA; answers are counted across sections."""
    row = run([SAMPLES["qualify-company"]], QUALIFY_COMPANY_COLUMNS).iloc[0]
    assert row["qualification_score"] == 8.0
    assert row["qualification_rationale"] == "Good fit"
    assert (row["product_score"], row["segment_score"]) == (7.0, 9.0)
    assert pd.isna(row["playbook_score"])
    assert row["answers_yes"] == 3.0 and row["answers_total"] == 6.0
    empty = run([envelope({"score": 3})], QUALIFY_COMPANY_COLUMNS).iloc[0]
    assert pd.isna(empty["answers_total"]) and pd.isna(empty["product_name"])


def test_call_prep_joins_questions_and_objections() -> None:
    """Questions go one a line; objections read "objection: response" (snake_case key found)."""
    row = run([CALL_PREP], CALL_PREP_COLUMNS).iloc[0]
    assert row["discovery_questions"] == "What hurts?\nWho decides?"
    assert row["objections"] == "Too pricey: ROI in 3 months\nNo time"


def test_content_keeps_json_as_text() -> None:
    """The JSON content is JSON text that parses back; lists of names or dicts are joined."""
    row = run([CONTENT], CONTENT_COLUMNS).iloc[0]
    assert json.loads(row["content_json"]) == {"subject": "Hi", "lines": [1, 2]}
    assert row["use_cases"] == "Pipeline; Forecasting"
    assert row["reference_customers"] == "Globex"


def test_context_picks_the_best_scored_document() -> None:
    """The top document is the highest score, even when sent as text; unscored ones rank none."""
    row = run([CONTEXT], CONTEXT_COLUMNS).iloc[0]
    assert row["documents"] == "Pricing; Security; Unscored"
    assert row["document_count"] == 3.0
    assert row["top_document"] == "Security"
    assert row["top_document_score"] == 0.9
    assert row["top_document_reasoning"] == "SOC2"


def test_prefix_and_bool_kind() -> None:
    """A prefix goes on every name, and a bool column reads yes/no words as a nullable flag."""
    spec = (Column("ok", ("flag",), "bool"),)
    bodies = [envelope({"flag": v}) for v in ("Yes", False, "maybe", None, 1)]
    frame = agent_columns(bodies, spec, prefix="step1_")
    assert frame["step1_ok"].dtype == pd.BooleanDtype()
    assert frame["step1_ok"].tolist() == [True, False, pd.NA, pd.NA, True]


def test_bad_spec_raises() -> None:
    """Repeated names, unknown kinds and a note column outside the spec are refused."""
    with pytest.raises(ArgumentError, match="more than once"):
        agent_columns([], (Column("a", ("x",)), Column("a", ("y",))))
    with pytest.raises(ArgumentError, match="kind"):
        Column("a", ("x",), "colour")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="note"):
        agent_columns([], (Column("c", ("x",), "confidence", note="missing"),))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,200", 1200.0),
        ("51-200", 51.0),
        ("10,001+", 10001.0),
        ("$2.5M", 2_500_000.0),
        ("8/10", 8.0),
        (" 7 ", 7.0),
        (True, None),
        ("1,2", None),
        ("nan", None),
        ("inf", None),
        ([1], None),
        (10**400, None),
    ],
)
def test_number_reading(text: object, expected: float | None) -> None:
    """Numbers as text are read leniently and junk is None (NA)."""
    assert number(text) == expected


def test_cell_helpers() -> None:
    """Key spellings alternate, lookups follow either spelling and lists, flags read words."""
    assert alternate_key("linkedInProfile") == "linked_in_profile"
    assert alternate_key("round_amount") == "roundAmount"
    assert lookup({"a": [{"b_c": 1}]}, ("a", 0, "bC")) == 1
    assert lookup({"a": [1]}, ("a", 5)) is None
    assert (flag("NO"), flag(2), flag(None)) == (False, None, None)
    assert text_line({"streetAddress": "1 Main St", "postalCode": 75001}) == "1 Main St, 75001"


def test_twenty_thousand_bodies() -> None:
    """A 20k-body run of the heaviest spec completes with one row per body."""
    bodies: list[Any] = [copy.deepcopy(SAMPLES["qualify-company"]) for _ in range(10_000)]
    bodies += [ODD_COMPANY, None] * 5_000
    names = {c.name for c in ENRICH_COMPANY_COLUMNS}
    extra = tuple(c for c in QUALIFY_COMPANY_COLUMNS if c.name not in names)
    frame = agent_columns(bodies, ENRICH_COMPANY_COLUMNS + extra)
    assert len(frame) == 20_000
    assert frame["answers_total"].iloc[0] == 6.0 and pd.isna(frame["answers_total"].iloc[-1])
