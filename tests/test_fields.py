"""Tests for octave_frames._fields: the synonym table, header rules and resolve_fields.

Most tests here are about headers, so they use frames without rows (nothing to sample:
columns are taken on their header). Value sniffing is tested in test_detect.py.
"""

from __future__ import annotations

import copy
import logging
import re

import pandas as pd
import pytest

from octave_frames import _fields
from octave_frames._constants import REQUEST_FIELDS
from octave_frames._exceptions import ArgumentError, ColumnError
from octave_frames._fields import (
    FIELD_SYNONYMS,
    ColumnFinder,
    display_name,
    normalize_header,
    resolve_fields,
)


def frame_with(*columns: object) -> pd.DataFrame:
    """Build a frame without rows with the given column labels: headers only."""
    return pd.DataFrame(columns=list(columns))


HEADERS = [
    ("Email", "email"),
    ("email", "email"),
    ("  WORK e-mail ", "email"),
    ("E-mail", "email"),
    ("E\u2011Mail", "email"),  # non-breaking hyphen
    ("email_address", "email"),
    ("Email Address", "email"),
    ("Business Email", "email"),
    ("EMAIL 📧", "email"),
    ("First Name", "firstName"),
    ("first_name", "firstName"),
    ("FIRST-NAME", "firstName"),
    ("Given\tName", "firstName"),
    ("First", "firstName"),
    ("FName", "firstName"),
    ("firstName", "firstName"),
    ("Last Name", "lastName"),
    ("Surname", "lastName"),
    ("family.name", "lastName"),
    ("Title", "jobTitle"),
    ("Job Title", "jobTitle"),
    ("Position", "jobTitle"),
    ("Role", "jobTitle"),
    ("Company", "companyName"),
    ("Company Name", "companyName"),
    ("Account Name", "companyName"),
    ("Organization", "companyName"),
    ("Employer", "companyName"),
    ("Website", "companyDomain"),
    ("Domain", "companyDomain"),
    ("Company Domain", "companyDomain"),
    ("company website", "companyDomain"),
    ("companyDomain", "companyDomain"),
    ("LinkedIn", "linkedInProfile"),
    ("LinkedIn URL", "linkedInProfile"),
    ("Person Linkedin Url", "linkedInProfile"),
    ("linkedin_profile", "linkedInProfile"),
    ("LinkedIn Profile", "linkedInProfile"),
    ("Contact ID", "crmContactId"),
    ("Salesforce Contact ID", "crmContactId"),
    ("HubSpot Contact ID", "crmContactId"),
    ("crmContactId", "crmContactId"),
    ("Lead ID", "crmLeadId"),
    ("lead_id", "crmLeadId"),
    ("Account ID", "crmAccountId"),
    ("crm_account_id", "crmAccountId"),
]


@pytest.mark.parametrize(("header", "field"), HEADERS)
def test_header_spellings_are_detected(header: str, field: str) -> None:
    """Case, spacing and punctuation variants of a synonym all feed the right field."""
    assert resolve_fields(frame_with("Notes", header)) == {field: header}


@pytest.mark.parametrize(
    "header",
    [
        "Company Linkedin Url",
        "URL",
        "Notes",
        "Email Status",
        "Email Opt Out",
        "Email Verified",
        "Email Bounced",
        "Email Sent Count",
        "Primary Email Source",
        "E-mail 1 - Type",
        "Contact Owner Email",
        "Company Email",
        "Name",
        "Id",
        "Apollo Contact Id",
        "ZoomInfo Contact Profile URL",
        "Phonetic First Name",
        "Personal Website",
        "Deal - Title",
    ],
)
def test_unrelated_headers_are_not_detected(header: str) -> None:
    """Headers that only look related (a status, a company page, a bare URL) feed nothing."""
    assert resolve_fields(frame_with(header)) == {}


def test_one_row_of_junk_is_not_taken_on_its_header() -> None:
    """Deliberately stricter than before: a value 'v' under 'Email' is no email, so no email."""
    assert resolve_fields(pd.DataFrame({"Email": ["v"], "First Name": ["Ann"]})) == {
        "firstName": "First Name"
    }


def test_api_names_match_their_first_synonym() -> None:
    """Every request field's own name is matched, through its first synonym."""
    for field in REQUEST_FIELDS:
        assert normalize_header(field) == normalize_header(FIELD_SYNONYMS[field][0])


def test_synonyms_are_unambiguous() -> None:
    """No two synonyms normalise alike, so a header can feed at most one field."""
    keys = [normalize_header(h) for headers in FIELD_SYNONYMS.values() for h in headers]
    assert len(keys) == len(set(keys))
    assert set(FIELD_SYNONYMS) == set(REQUEST_FIELDS)


def test_every_synonym_reads_as_its_own_field() -> None:
    """Each header of the table, alone in a frame, feeds exactly the field it is listed for."""
    for field, headers in FIELD_SYNONYMS.items():
        for header in headers:
            assert resolve_fields(frame_with(header)) == {field: header}, header


def test_docstring_table_lists_the_synonyms() -> None:
    """The table in the module docstring (cited by the README) matches FIELD_SYNONYMS."""
    rows: dict[str, str] = {}
    field = ""
    for line in (_fields.__doc__ or "").splitlines():
        cells = re.fullmatch(r"\|(.*)\|(.*)\|", line.strip())
        if not cells:
            continue
        name, headers = cells[1].strip(), cells[2].strip()
        field = name or field
        rows[field] = f"{rows.get(field, '')} {headers}".strip()
    for field, headers in FIELD_SYNONYMS.items():
        assert rows[field].split(", ") == list(headers)


def test_best_ranked_synonym_wins_and_the_rest_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Several candidates: a work email wins (new: it beat 'Email' before); the rest are logged."""
    frame = frame_with("Email Address", "Work Email", "Email")
    with caplog.at_level(logging.INFO, logger="octave_frames"):
        assert resolve_fields(frame) == {"email": "Work Email"}
    assert "'Email'" in caplog.text
    assert "'Email Address'" in caplog.text
    assert resolve_fields(frame_with("Title", "Job Title")) == {"jobTitle": "Job Title"}


def test_equal_rank_prefers_the_leftmost_column() -> None:
    """Two spellings of the same synonym resolve to the leftmost column."""
    assert resolve_fields(frame_with("E-mail", "EMAIL")) == {"email": "E-mail"}


def test_explicit_entry_overrides_detection() -> None:
    """An explicit column wins over a detected one, and it is not detected for another field."""
    frame = frame_with("Email", "Personal", "Website")
    assert resolve_fields(frame, {"email": "Personal"}) == {
        "email": "Personal",
        "companyDomain": "Website",
    }
    assert resolve_fields(frame, {"companyName": "Website"}) == {
        "email": "Email",
        "companyName": "Website",
    }


def test_none_removes_a_field_from_detection() -> None:
    """A None value keeps the field out of the mapping even though a header matches."""
    frame = frame_with("Email", "Title")
    assert resolve_fields(frame, {"jobTitle": None}) == {"email": "Email"}


def test_result_follows_request_field_order() -> None:
    """The mapping is ordered like REQUEST_FIELDS, whatever the column or argument order."""
    frame = frame_with("Account ID", "Company", "Email", "Last Name")
    resolved = resolve_fields(frame, {"firstName": "Last Name", "lastName": None})
    assert list(resolved) == ["email", "firstName", "companyName", "crmAccountId"]


@pytest.mark.parametrize(
    ("key", "hint"),
    [("first_name", "'firstName'"), ("emial", "'email'"), ("Work Email", "'email'"), (3, "email")],
)
def test_unknown_field_names_the_key_and_the_nearest(key: object, hint: str) -> None:
    """A key that is not a request field raises ArgumentError (a ValueError) naming it."""
    with pytest.raises(ArgumentError) as info:
        resolve_fields(frame_with("Email"), {key: "Email"})  # type: ignore[dict-item]
    assert isinstance(info.value, ValueError)
    assert repr(key) in str(info.value)
    assert hint in str(info.value)


def test_missing_column_names_it_and_the_nearest() -> None:
    """A column that does not exist raises ColumnError (a KeyError) naming it and the nearest."""
    with pytest.raises(ColumnError) as info:
        resolve_fields(frame_with("Work Email", "Notes"), {"email": "Work Emial"})
    assert isinstance(info.value, KeyError)
    assert "'Work Emial'" in str(info.value)
    assert "nearest: 'Work Email'" in str(info.value)


def test_missing_column_without_close_match_lists_columns() -> None:
    """With nothing close, the message lists the frame's columns instead."""
    with pytest.raises(ColumnError, match=r"the columns are: 'A', 'B'"):
        resolve_fields(frame_with("A", "B"), {"email": "zzzzzz"})


def test_non_mapping_fields_is_an_argument_error() -> None:
    """Passing a list instead of a dict is refused with a readable message."""
    with pytest.raises(ArgumentError, match="fields must be a dict"):
        resolve_fields(frame_with("Email"), ["Email"])  # type: ignore[arg-type]


def test_unhashable_label_is_an_argument_error() -> None:
    """A field mapped to a list of columns is refused: one field takes one column."""
    with pytest.raises(ArgumentError, match=r"fields\['email'\] must be one column label"):
        resolve_fields(frame_with("Email"), {"email": ["Email"]})  # type: ignore[dict-item]


def test_non_string_headers() -> None:
    """Integer labels are never detected but can be named explicitly, as ints."""
    frame = frame_with(0, 1, "Email")
    assert resolve_fields(frame) == {"email": "Email"}
    assert resolve_fields(frame, {"firstName": 0}) == {"email": "Email", "firstName": 0}
    with pytest.raises(ColumnError, match="no column 5"):
        resolve_fields(frame, {"firstName": 5})


def test_duplicated_detected_column_raises() -> None:
    """A detected column whose label appears twice cannot be chosen: ColumnError naming it."""
    with pytest.raises(ColumnError, match=r"'Email'.*more than once.*fields=\{'email': None\}"):
        resolve_fields(frame_with("Email", "Notes", "Email"))


def test_duplicated_explicit_column_raises() -> None:
    """An explicitly named column that appears twice raises ColumnError naming it."""
    with pytest.raises(ColumnError, match=r"'Work' appears 2 times"):
        resolve_fields(frame_with("Work", "Work", "Email"), {"email": "Work"})


def test_unused_duplicated_columns_are_fine() -> None:
    """Duplicated labels that feed nothing do not matter."""
    assert resolve_fields(frame_with("Notes", "Notes", "Email")) == {"email": "Email"}


def test_multiindex_columns() -> None:
    """MultiIndex headers are detected on their joined levels; tuples and joined names work."""
    columns = pd.MultiIndex.from_tuples(
        [("Contact", "Email"), ("Company", "Name"), ("Company", "Domain"), ("Notes", "")]
    )
    frame = pd.DataFrame([["a@b.co", "Acme", "acme.com", "x"]], columns=columns)
    assert resolve_fields(frame) == {
        "email": ("Contact", "Email"),
        "companyDomain": ("Company", "Domain"),
        "companyName": ("Company", "Name"),
    }
    explicit = resolve_fields(frame, {"companyName": ("Notes", ""), "lastName": "Company Name"})
    assert explicit["companyName"] == ("Notes", "")
    assert explicit["lastName"] == ("Company", "Name")
    with pytest.raises(ColumnError, match="nearest: 'Contact Email'"):
        resolve_fields(frame, {"email": "Contact Emial"})


def test_library_output_columns_are_never_detected() -> None:
    """Columns octave_frames writes are skipped even when their header or values would match."""
    columns = [
        "octave_email", "email_1_email", "product_email", "persona_email", "output_type",
        "playbook_website",
    ]  # fmt: skip
    emails = [f"person{i}@acme{i}.com" for i in range(5)]
    frame = pd.DataFrame({c: emails for c in columns})
    assert resolve_fields(frame) == {}
    assert resolve_fields(pd.DataFrame({"octave_email": emails, "Mail": emails})) == {
        "email": "Mail"
    }


def test_empty_frames() -> None:
    """A frame without columns resolves to nothing; an empty frame with headers still maps."""
    assert resolve_fields(pd.DataFrame()) == {}
    assert resolve_fields(pd.DataFrame(columns=["Email"])) == {"email": "Email"}


def test_frame_is_not_mutated() -> None:
    """resolve_fields only reads the frame."""
    frame = frame_with("Email", ("a", "b"), 3)
    before = copy.deepcopy(frame)
    resolve_fields(frame, {"firstName": 3})
    pd.testing.assert_frame_equal(frame, before)


def test_display_name_and_finder() -> None:
    """Labels read as text for messages; a string finds a column by its display name."""
    assert display_name(("A", "", "B")) == "A B"
    assert display_name(1.5) == "1.5"
    finder = ColumnFinder(pd.Index(["a", 3, "3 "]))
    assert finder.locate(3, what="x") == 1
    assert finder.locate("3", what="x") == 1
    assert finder.nearest("A") == "nearest: 'a'"
