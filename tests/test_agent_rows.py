"""Tests for the long views of agent answers (``octave_frames._agent_rows``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from octave_frames._agent_columns import agent_columns
from octave_frames._agent_rows import (
    PERSON_KEYS,
    PROSPECT_PERSON_COLUMNS,
    generic_columns,
    prospect_rows,
    qualifying_answers,
)
from octave_frames._exceptions import ArgumentError
from octave_frames._results import CONFIDENCE_DTYPE

ANN = {"first_name": "Ann", "LastName": "Lee", "jobTitle": "CTO", "linkedin_url": "li/ann",
       "location": {"locality": "Paris", "countryCode": "FR"}, "company": {"name": "Acme",
       "domain": "acme.com"}, "workEmail": " ann@acme.com "}  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [{"contacts": [ANN, "junk"]}, {"people": [ANN]}, {"results": [ANN, None]}, [ANN]],
)
def test_prospect_rows_reads_every_list_location(data: object) -> None:
    """People are found under contacts, people, results or as the data list itself."""
    (people,) = prospect_rows([{"data": data}])
    assert len(people) == 1
    assert set(people[0]) == set(PERSON_KEYS)
    assert people[0]["firstName"] == "Ann" and people[0]["lastName"] == "Lee"
    assert people[0]["title"] == "CTO" and people[0]["email"] == "ann@acme.com"
    assert people[0]["linkedInProfile"] == "li/ann" and people[0]["location"] == "Paris, FR"
    assert (people[0]["companyName"], people[0]["companyDomain"]) == ("Acme", "acme.com")


def test_prospect_rows_junk_and_full_names() -> None:
    """Junk bodies give no people; a lone full name is split into first and last."""
    rows = prospect_rows([None, {"data": "x"}, {"data": {"contacts": [{"name": "Bo Di Rossi"}]}}])
    assert rows[:2] == [[], []]
    assert (rows[2][0]["firstName"], rows[2][0]["lastName"]) == ("Bo", "Di Rossi")
    frame = agent_columns(rows[2], PROSPECT_PERSON_COLUMNS, root=None)
    assert frame["last_name"].tolist() == ["Di Rossi"] and frame["email"].isna().all()
    assert all(frame[c].dtype == pd.StringDtype(na_value=pd.NA) for c in frame.columns)


def _answers(*items: Any) -> dict[str, Any]:
    return {"data": {"segment": {"qualification": {"answers": list(items)}},
                     "product": {"qualification": {"answers": [items[0]]}}}}  # fmt: skip


def test_qualifying_answers_long_view() -> None:
    """One row per answer, product first; Yes is True, levels typed, unknown levels tagged."""
    yes = {"question": "Q1", "answer": "Yes", "confidence": "high", "rationale": "r"}
    odd = {"question": "Q2", "answer": "maybe", "confidence": "sure", "rationale": None}
    frame = qualifying_answers([_answers(yes, odd, "junk"), None], ["a", "b"], prefix="q_")
    assert frame["q_row"].tolist() == ["a", "a", "a"]
    assert frame["q_section"].tolist() == ["product", "segment", "segment"]
    assert frame["q_answer"].dtype == pd.BooleanDtype()
    assert frame["q_answer"].tolist() == [True, True, pd.NA]
    assert frame["q_confidence"].dtype == CONFIDENCE_DTYPE
    assert frame["q_confidence"].tolist()[:2] == ["HIGH", "HIGH"]
    assert frame.loc[2, "q_rationale"] == "[confidence: sure]"
    with pytest.raises(ArgumentError):
        qualifying_answers([None], [])


def test_generic_columns_on_a_made_up_agent() -> None:
    """An unknown agent's data flattens to snake_case, dotted, typed columns; junk is NA."""
    bodies: list[Any] = [
        {"data": {"fitScore": 3, "isGood": True, "tags": ["a", "b"], "company": {"headCount": 5,
                  "deep": {"x": 1}}, "note": "hi"}},
        {"data": {"fitScore": None, "note": 4}},
        None,
    ]  # fmt: skip
    frame = generic_columns(bodies, prefix="x_")
    assert frame["x_fit_score"].dtype == pd.Float64Dtype()
    assert frame["x_is_good"].dtype == pd.BooleanDtype()
    assert frame.loc[0, "x_tags"] == "a; b"
    assert frame.loc[0, "x_company.head_count"] == 5.0
    assert frame.loc[0, "x_company.deep"] == '{"x": 1}'
    assert frame["x_note"].tolist() == ["hi", "4", pd.NA]
    assert frame.iloc[2].isna().all()
