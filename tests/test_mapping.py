"""Tests for octave_frames._mapping: from a contact frame to request bodies."""

from __future__ import annotations

import copy
import json
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octave_frames import _mapping
from octave_frames._constants import MAX_TEXT_CHARS
from octave_frames._exceptions import ArgumentError, ColumnError
from octave_frames._mapping import Requests, Spec, build_requests, normalize_steps, resolve_fields

STATIC = {"agentOId": "ca_1", "outputFormat": "text"}


def build(
    frame: pd.DataFrame,
    *,
    fields: Mapping[str, Hashable] | None = None,
    context: Mapping[Any, Spec] | None = None,
    instructions: Mapping[Any, Spec] | None = None,
    static: Mapping[str, Any] = STATIC,
) -> Requests:
    """Resolve, normalise and build the way a ``sequence`` run does."""
    return build_requests(
        frame,
        fields=resolve_fields(frame, fields),
        context=normalize_steps(context, argument="context"),
        instructions=normalize_steps(instructions, argument="instructions"),
        static=static,
    )


@pytest.fixture
def contacts() -> pd.DataFrame:
    """Four contacts as an Apollo-style export reads them (ids as floats next to blanks)."""
    return pd.DataFrame(
        {
            "First Name": ["Sarah", "Alex", None, "Kim"],
            "Last Name": ["Jackson", " Chen ", "Doe", np.nan],
            "Title": ["Alliances Director", "VP Engineering", "", None],
            "Company": ["NICE Ltd", "Datadog", "Acme", None],
            "Website": ["https://www.nice.com/about", "datadoghq.com", None, None],
            "Email": [" Sarah.Jackson@NICE.com ", "mailto:alex@datadoghq.com", None, "kim-at-home"],
            "Person Linkedin Url": ["https://www.linkedin.com/in/sarah", None, None, None],
            "Contact ID": [12345.0, np.nan, 7.0, np.nan],
            "Account Research": ["Grew 8x in 18 months", None, None, "Stealth"],
            "Event": ["Partner Signal Live", "Summit", None, None],
        },
        index=pd.Index(["c1", "c2", "c3", "c4"], name="contact"),
    )


def test_payloads_are_clean_and_ordered(contacts: pd.DataFrame) -> None:
    """A full row becomes one body with cleaned values, in the documented key order."""
    built = build(
        contacts,
        context={"all": "ACCOUNT RESEARCH:\n{Account Research}", 1: ["Event"]},
        instructions={"all": "Keep emails under 150 words."},
        static={**STATIC, "lang": "en", "includeFullAnnotation": None, "customContext": {}},
    )
    assert built.payloads[0] == {
        "email": "sarah.jackson@nice.com",
        "firstName": "Sarah",
        "lastName": "Jackson",
        "jobTitle": "Alliances Director",
        "companyDomain": "nice.com",
        "companyName": "NICE Ltd",
        "linkedInProfile": "https://www.linkedin.com/in/sarah",
        "crmContactId": "12345",
        "lang": "en",
        "outputFormat": "text",
        "runtimeContext": {
            "all": "ACCOUNT RESEARCH:\nGrew 8x in 18 months",
            "1": "EVENT:\nPartner Signal Live",
        },
        "runtimeInstructions": {"all": "Keep emails under 150 words."},
        "customContext": {},
        "agentOId": "ca_1",
    }
    assert list(built.payloads[0] or {}) == [
        "email",
        "firstName",
        "lastName",
        "jobTitle",
        "companyDomain",
        "companyName",
        "linkedInProfile",
        "crmContactId",
        "lang",
        "outputFormat",
        "runtimeContext",
        "runtimeInstructions",
        "customContext",
        "agentOId",
    ]


def test_empty_values_and_specs_are_left_out(contacts: pd.DataFrame) -> None:
    """Blank cells and specs that render empty leave their keys out; nothing reads 'nan'."""
    built = build(contacts, context={"all": "{Account Research}", "2": ["Event"]})
    second = built.payloads[1]
    assert second == {
        "email": "alex@datadoghq.com",
        "firstName": "Alex",
        "lastName": "Chen",
        "jobTitle": "VP Engineering",
        "companyDomain": "datadoghq.com",
        "companyName": "Datadog",
        "outputFormat": "text",
        "runtimeContext": {"2": "EVENT:\nSummit"},
        "agentOId": "ca_1",
    }
    assert "nan" not in json.dumps(built.payloads).lower()


def test_runtime_keys_are_absent_when_nothing_renders() -> None:
    """A row whose specs all render empty carries no runtimeContext / runtimeInstructions."""
    frame = pd.DataFrame({"Email": ["a@b.co"], "Notes": [None]})
    built = build(frame, context={"all": "{Notes}"}, instructions={"3": ["Notes"]})
    assert built.payloads == [{"email": "a@b.co", "outputFormat": "text", "agentOId": "ca_1"}]


def test_rows_without_identifier_are_invalid(contacts: pd.DataFrame) -> None:
    """No email, no LinkedIn and no first name with company: invalid with a reason, not sent."""
    built = build(contacts)
    assert built.payloads[2] is None
    assert built.invalid[2] is not None
    assert built.invalid[2].startswith("no usable identifier")
    assert "has a company but no first name" in built.invalid[2]
    assert built.invalid[:2] == [None, None]


def test_email_without_at_is_missing_and_named(contacts: pd.DataFrame) -> None:
    """An email without '@' does not identify a row; the reason and the note quote it."""
    built = build(contacts)
    assert built.payloads[3] is None
    reason = built.invalid[3] or ""
    assert "email 'kim-at-home' (column 'Email') is not an email address" in reason
    assert "has a first name but no company name or domain" in reason
    assert built.notes[3] == (
        "email 'kim-at-home' (column 'Email') is not an email address: left out"
    )
    assert built.notes[:3] == [None, None, None]


def test_dropped_values_are_noted_and_the_row_still_goes() -> None:
    """A bad email, domain or LinkedIn value is left out with a note; the row is still sent."""
    frame = pd.DataFrame(
        {
            "Email": ["not-an-email", "ann@acme.com", "bo@beta.io"],
            "First Name": ["Cy", "Ann", "Bo"],
            "Company": ["Gamma", "Acme", "Beta"],
            "Website": ["n/a", "https://www.linkedin.com/company/acme", "beta.io"],
            "LinkedIn": [None, "https://www.linkedin.com/company/acme", "bo-beta"],
        }
    )
    fields = {"email": "Email", "companyDomain": "Website", "linkedInProfile": "LinkedIn"}
    built = build(frame, fields=fields)
    assert built.invalid == [None, None, None]
    assert built.payloads[0] == {
        "firstName": "Cy",
        "companyName": "Gamma",
        "outputFormat": "text",
        "agentOId": "ca_1",
    }
    assert built.notes[0] == (
        "email 'not-an-email' (column 'Email') is not an email address: left out; "
        "companyDomain 'n/a' (column 'Website') is not a company domain: left out"
    )
    assert built.payloads[1] is not None
    assert "companyDomain" not in built.payloads[1]
    assert "linkedInProfile" not in built.payloads[1]
    assert "is a LinkedIn company page, not a person's profile: left out" in (built.notes[1] or "")
    assert built.notes[2] == (
        "linkedInProfile 'bo-beta' (column 'LinkedIn') is not a LinkedIn profile URL "
        "(linkedin.com/in/...): left out"
    )
    assert built.payloads[2] is not None
    assert built.payloads[2]["companyDomain"] == "beta.io"


def test_bad_email_is_dropped_when_another_identifier_works() -> None:
    """A row with a LinkedIn profile is sent without its unusable email."""
    frame = pd.DataFrame({"Email": ["n/a"], "LinkedIn": ["https://linkedin.com/in/x"]})
    built = build(frame)
    assert built.invalid == [None]
    assert built.payloads[0] is not None
    assert "email" not in built.payloads[0]


@pytest.mark.parametrize(
    ("row", "valid"),
    [
        ({"First Name": "A", "Website": "a.com"}, True),
        ({"First Name": "A", "Company": "Acme"}, True),
        ({"LinkedIn": "https://www.linkedin.com/in/x"}, True),
        ({"LinkedIn": "x"}, False),
        ({"Email": "a@b.co"}, True),
        ({"First Name": "A", "Last Name": "B"}, False),
        ({"Company": "Acme", "Website": "a.com"}, False),
        ({"Email": "  ", "LinkedIn": None, "First Name": "A"}, False),
    ],
)
def test_identifier_rule(row: dict[str, str | None], valid: bool) -> None:
    """Email, LinkedIn, or first name with company name or domain identify a contact."""
    frame = pd.DataFrame([{"Email": None, "LinkedIn": None, **row}])
    built = build(frame, fields={"email": "Email", "linkedInProfile": "LinkedIn"})
    assert (built.invalid[0] is None) is valid
    assert (built.payloads[0] is not None) is valid


def test_frame_without_identifier_columns_raises() -> None:
    """A frame with rows but no column that could identify anyone raises before sending."""
    frame = pd.DataFrame({"First Name": ["A"], "Notes": ["x"], "Emial": ["a@b.c"]})
    with pytest.raises(ColumnError, match=r"no column can identify a contact.*'Emial'"):
        build(frame)


def test_one_megabyte_cell_makes_its_row_invalid() -> None:
    """A 1 MB field or rendered context makes only its row invalid, naming key and length."""
    big = "x" * 1_000_000
    frame = pd.DataFrame(
        {
            "Email": ["a@b.co", "c@d.co", "e@f.co"],
            "Title": [big, "CEO", "CTO"],
            "R": ["r", big, None],
        }
    )
    built = build(frame, context={"all": "{R}"})
    assert built.payloads[0] is None
    assert built.payloads[1] is None
    assert built.payloads[2] == {
        "email": "e@f.co",
        "jobTitle": "CTO",
        "outputFormat": "text",
        "agentOId": "ca_1",
    }
    limit = f"{MAX_TEXT_CHARS:,}"
    assert built.invalid[0] == (
        f"field jobTitle (column 'Title') is 1,000,000 characters long, over the limit of {limit}"
    )
    assert built.invalid[1] == (
        f"context['all'] is 1,000,000 characters long, over the limit of {limit}"
    )


def test_text_at_the_limit_is_sent() -> None:
    """A value of exactly MAX_TEXT_CHARS characters is still sent."""
    frame = pd.DataFrame({"Email": ["a@b.co"], "R": ["y" * MAX_TEXT_CHARS]})
    built = build(frame, context={"all": "{R}"})
    assert built.invalid == [None]
    payload = built.payloads[0] or {}
    assert payload["runtimeContext"]["all"] == "y" * MAX_TEXT_CHARS


def test_callable_error_marks_only_its_row() -> None:
    """A callable that raises for one row makes that row invalid with the key and the error."""
    frame = pd.DataFrame({"Email": ["a@b.co", "c@d.co"], "n": [1, 0]})
    built = build(frame, instructions={5: lambda row: str(1 / row["n"])})
    assert built.payloads[0] is not None
    assert built.payloads[0]["runtimeInstructions"] == {"5": "1.0"}
    assert built.payloads[1] is None
    assert built.invalid[1] == "instructions['5'] raised ZeroDivisionError: division by zero"


def test_reasons_are_combined() -> None:
    """A row with several problems lists them all, identifier first."""
    frame = pd.DataFrame({"Email": ["nope"], "LinkedIn": [None], "R": ["z" * (MAX_TEXT_CHARS + 1)]})
    built = build(frame, fields={"email": "Email"}, context={"all": "{R}"})
    reason = built.invalid[0] or ""
    assert reason.startswith("no usable identifier")
    assert "email 'nope' (column 'Email') is not an email address" in reason
    assert "context['all'] is 100,001 characters long" in reason


def test_static_keys() -> None:
    """None statics are left out, unknown statics go last sorted, per-row keys are refused."""
    frame = pd.DataFrame({"Email": ["a@b.co"]})
    built = build(
        frame,
        context={"all": "c"},
        static={
            "zNew": 1,
            "experimentOId": "ae_1",
            "aNew": 2,
            "lang": None,
            "outputFormat": "html",
        },
    )
    assert list(built.payloads[0] or {}) == [
        "email",
        "outputFormat",
        "runtimeContext",
        "experimentOId",
        "aNew",
        "zNew",
    ]
    for key in ("email", "runtimeContext"):
        with pytest.raises(ArgumentError, match=f"static holds per-row keys '{key}'"):
            build(frame, static={key: "x"})


def test_build_checks_fields_itself() -> None:
    """Fields given straight to build_requests are checked: unknown names, missing columns."""
    frame = pd.DataFrame({"Email": ["a@b.co"]})
    with pytest.raises(ArgumentError, match="'mail' is not a request field"):
        build_requests(frame, fields={"mail": "Email"}, context={}, instructions={}, static={})
    with pytest.raises(
        ColumnError, match=r"fields\['email'\]: no column 'Emial'; nearest: 'Email'"
    ):
        build_requests(frame, fields={"email": "Emial"}, context={}, instructions={}, static={})


def test_missing_placeholder_raises_before_any_row_work() -> None:
    """A template naming no column raises ColumnError, even with a callable spec beside it."""
    frame = pd.DataFrame({"Email": ["a@b.co"], "Account Research": ["x"]})
    calls: list[object] = []
    with pytest.raises(ColumnError, match="nearest: 'Account Research'"):
        build(
            frame,
            context={"all": calls.append},
            instructions={"1": "{Account Reserch}"},
        )
    assert calls == []


def test_empty_and_one_row_frames() -> None:
    """An empty frame builds nothing (with or without columns); one row builds one body."""
    assert build(pd.DataFrame()) == Requests([], [], [])
    empty = build(pd.DataFrame(columns=["Email"]), context={"all": "{Email}"})
    assert empty == Requests([], [], [])
    one = build(pd.DataFrame({"Email": ["A@B.CO"]}))
    assert one == Requests(
        [{"email": "a@b.co", "outputFormat": "text", "agentOId": "ca_1"}], [None], [None]
    )


def test_non_string_and_duplicated_headers() -> None:
    """Int headers work when named; duplicated headers only matter when used."""
    frame = pd.DataFrame([["a@b.co", "Ann", "x", "y"]], columns=["Email", 0, "Notes", "Notes"])
    built = build(frame, fields={"firstName": 0}, context={"all": "{0}"})
    assert built.payloads[0] == {
        "email": "a@b.co",
        "firstName": "Ann",
        "outputFormat": "text",
        "runtimeContext": {"all": "Ann"},
        "agentOId": "ca_1",
    }
    with pytest.raises(ColumnError, match="'Notes' appears 2 times"):
        build(frame, context={"all": ["Notes"]})


def test_multiindex_columns_and_rows() -> None:
    """MultiIndex headers feed fields and templates; a MultiIndex row index keeps positions."""
    columns = pd.MultiIndex.from_tuples([("Contact", "Email"), ("Company", "Name")])
    index = pd.MultiIndex.from_tuples([("x", 1), ("x", 1)])
    frame = pd.DataFrame([["a@b.co", "Acme"], ["c@d.co", None]], columns=columns, index=index)
    built = build(frame, context={"all": "at {Company Name}"})
    assert [p and p.get("runtimeContext") for p in built.payloads] == [{"all": "at Acme"}, None]
    assert [p and p["email"] for p in built.payloads] == ["a@b.co", "c@d.co"]


def test_input_frame_is_never_mutated(contacts: pd.DataFrame) -> None:
    """Building with every kind of spec leaves the frame exactly as it was."""
    before = copy.deepcopy(contacts)

    def poke(row: pd.Series[Any]) -> str:
        row["Email"] = "changed"
        return str(row["Event"])

    build(
        contacts,
        fields={"crmLeadId": "Contact ID"},
        context={"all": "{Account Research}", "1": ["Event", "Contact ID"]},
        instructions={"2": contacts["Event"].str.upper(), "3": poke},
    )
    pd.testing.assert_frame_equal(contacts, before)
    assert contacts.columns.equals(before.columns)


def test_payloads_serialise_the_same_every_time(contacts: pd.DataFrame) -> None:
    """Equal input gives byte-identical JSON (stable key order) for a canonical hash."""
    args: dict[str, Any] = {"context": {"all": "{Event}", "1": ["Title"]}}
    first = json.dumps(build(contacts, **args).payloads)
    shuffled = contacts[list(reversed(contacts.columns))]
    assert json.dumps(build(shuffled, **args).payloads) == first


def test_whole_float_ids_and_big_ids() -> None:
    """CRM ids read as floats are sent as integers, including ids past 2**53."""
    frame = pd.DataFrame(
        {
            "Email": ["a@b.co", "c@d.co"],
            "Account ID": [1.2345678901234567e19, 42.0],
            "Lead ID": pd.array([7, None], dtype="Int64"),
        }
    )
    built = build(frame)
    assert [p and p.get("crmAccountId") for p in built.payloads] == ["12345678901234567000", "42"]
    assert [p and p.get("crmLeadId") for p in built.payloads] == ["7", None]


def test_module_exports() -> None:
    """_mapping re-exports the pieces a run needs, and nothing private."""
    assert sorted(_mapping.__all__) == _mapping.__all__
    for name in _mapping.__all__:
        assert not name.startswith("_")
        assert hasattr(_mapping, name)


CELLS = st.one_of(
    st.none(),
    st.just(np.nan),
    st.just(""),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=False),
    st.integers(min_value=-(10**20), max_value=10**20),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(CELLS, CELLS, CELLS), min_size=1, max_size=8))
def test_every_row_gets_a_body_or_a_reason(rows: list[tuple[object, object, object]]) -> None:
    """Each row is either a JSON-ready body or has a reason; bodies hold only non-empty text."""
    frame = pd.DataFrame(rows, columns=["Email", "First Name", "Company"], dtype=object)
    # Random cells rarely look like emails, so name the columns: detection is not under test.
    fields = {"email": "Email", "firstName": "First Name", "companyName": "Company"}
    built = build(frame, fields=fields, context={"all": "{Company}"})
    assert len(built.payloads) == len(built.invalid) == len(built.notes) == len(rows)
    for payload, reason in zip(built.payloads, built.invalid, strict=True):
        assert (payload is None) != (reason is None)
        if payload is None:
            continue
        json.dumps(payload)
        for key in ("email", "firstName", "companyName"):
            if key in payload:
                assert isinstance(payload[key], str)
                assert payload[key]
                assert payload[key] == payload[key].strip()
        assert "email" in payload or ("firstName" in payload and "companyName" in payload)
