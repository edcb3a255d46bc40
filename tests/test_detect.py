"""Tests for octave_frames._detect: fields found from headers and sampled values."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from octave_frames import _detect, _fields
from octave_frames._exceptions import ColumnError
from octave_frames._fields import FieldDetection, detect_fields, resolve_fields
from octave_frames._sniff import SAMPLE_SIZE, profile, sample_positions, sample_texts

EXPORTS = Path(__file__).parent / "data" / "exports"


def read_export(name: str) -> pd.DataFrame:
    """Read a fixture export as text, skipping its '# source:' line."""
    return pd.read_csv(EXPORTS / name, skiprows=1, dtype=str, keep_default_na=False)


# The mapping a careful person would make for each export, written by hand.
EXPECTED: dict[str, dict[str, str]] = {
    "apollo_people.csv": {
        "email": "Email",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Title",
        "companyDomain": "Website",
        "companyName": "Company",
        "linkedInProfile": "Person Linkedin Url",
    },
    "attio_people.csv": {
        "email": "Email addresses",
        "firstName": "First name",
        "lastName": "Last name",
        "jobTitle": "Job title",
        "companyName": "Company",
        "linkedInProfile": "LinkedIn",
        "crmContactId": "Record ID",
    },
    "clay_table.csv": {
        "email": "Work Email",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Job Title",
        "companyDomain": "Company Domain",
        "companyName": "Company Name",
        "linkedInProfile": "LinkedIn Profile",
    },
    "close_contacts.csv": {
        "email": "primary_email",
        "jobTitle": "title",
        "companyDomain": "url",
        "crmLeadId": "lead_id",
    },
    "cognism_contacts.csv": {
        "email": "Email",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Job Title",
        "companyDomain": "Company Website",
        "companyName": "Company Name",
        "linkedInProfile": "LinkedIn URL",
    },
    "copper_people.csv": {
        "email": "Work Email",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Title",
        "companyDomain": "Website",
        "companyName": "Company",
        "linkedInProfile": "LinkedIn",
    },
    "crm_entity_prefixed.csv": {
        "email": "Lead Email",
        "firstName": "Contact: First Name",
        "lastName": "Contact: Last Name",
        "jobTitle": "Contact: Title",
        "companyDomain": "Account: Website",
        "companyName": "Account: Account Name",
        "crmContactId": "Contact: Contact ID",
        "crmAccountId": "Account: Account ID",
    },
    "google_contacts.csv": {
        "email": "E-mail 2 - Value",  # the work addresses; E-mail 1 holds free-mail ones
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Organization Title",
        "companyDomain": "Website 1 - Value",
        "companyName": "Organization Name",
    },
    "hubspot_contacts.csv": {
        "email": "Email",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Job Title",
        "companyDomain": "Website URL",
        "companyName": "Company Name",
        "linkedInProfile": "LinkedIn URL",
        "crmContactId": "Record ID",
        "crmAccountId": "Associated Company IDs",
    },
    "hunter_domain_search.csv": {
        "email": "Email address",
        "firstName": "First name",
        "lastName": "Last name",
        "jobTitle": "Position",
        "companyDomain": "Domain name",
        "companyName": "Organization",
        "linkedInProfile": "LinkedIn URL",
    },
    "linkedin_connections.csv": {
        "email": "Email Address",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Position",
        "companyName": "Company",
        "linkedInProfile": "URL",
    },
    "lusha_contacts.csv": {
        "email": "Work Email",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Job Title",
        "companyDomain": "Company Website",
        "companyName": "Company Name",
        "linkedInProfile": "LinkedIn URL",
    },
    "outlook_contacts.csv": {
        "email": "E-mail Address",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Job Title",
        "companyDomain": "Web Page",
        "companyName": "Company",
    },
    "phantombuster_profile_scraper.csv": {
        "email": "mail",
        "firstName": "firstName",
        "lastName": "lastName",
        "jobTitle": "linkedinJobTitle",
        "companyName": "companyName",
        "linkedInProfile": "linkedinProfileUrl",
    },
    "pipedrive_people.csv": {
        "email": "Person - Email - Work",
        "firstName": "Person - First name",
        "lastName": "Person - Last name",
        "jobTitle": "Person - Job title",
        "companyDomain": "Organization - Website",
        "companyName": "Person - Organization",
        "crmContactId": "Person - ID",
        "crmAccountId": "Organization - ID",
    },
    "sales_navigator_evaboot.csv": {
        "email": "Email",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Job Title",
        "companyDomain": "Company Domain",
        "companyName": "Company",
        "linkedInProfile": "LinkedIn Profile URL",
    },
    "salesforce_contacts_report.csv": {
        "email": "Email",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Title",
        "companyDomain": "Website",
        "companyName": "Account Name",
        "crmContactId": "Contact ID",
        "crmAccountId": "Account ID",
    },
    "salesforce_dataloader_contact.csv": {
        "email": "Email",
        "firstName": "FirstName",
        "lastName": "LastName",
        "jobTitle": "Title",
        "linkedInProfile": "LinkedIn_URL__c",
        "crmContactId": "Id",
        "crmAccountId": "AccountId",
    },
    "salesforce_leads_report.csv": {
        "email": "Email",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Title",
        "companyDomain": "Website",
        "companyName": "Company / Account",
        # Empty here, taken on their headers: they send nothing until the lead converts.
        "crmContactId": "Converted Contact ID",
        "crmLeadId": "Lead ID",
        "crmAccountId": "Converted Account ID",
    },
    "seamless_ai.csv": {
        "email": "Email 1",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Title",
        "companyDomain": "Company Domain",
        "companyName": "Company",
        "linkedInProfile": "Contact LI Profile URL",
    },
    "zoho_leads.csv": {
        "email": "Email",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Designation",
        "companyDomain": "Website",
        "companyName": "Company",
        "crmLeadId": "Record Id",
    },
    "zoho_report_contacts.csv": {
        "email": "Contacts.Email",
        "firstName": "Contacts.First Name",
        "lastName": "Contacts.Last Name",
        "jobTitle": "Contacts.Title",
        "companyDomain": "Accounts.Website",
        "companyName": "Accounts.Account Name",
    },
    "zoominfo_contacts.csv": {
        "email": "Email Address",
        "firstName": "First Name",
        "lastName": "Last Name",
        "jobTitle": "Job Title",
        "companyDomain": "Website",
        "companyName": "Company Name",
        "linkedInProfile": "LinkedIn Contact Profile URL",
    },
}


def test_every_fixture_has_an_expected_mapping() -> None:
    """Each export under tests/data/exports is checked below, and there are at least 12."""
    files = sorted(p.name for p in EXPORTS.glob("*.csv"))
    assert files == sorted(EXPECTED)
    assert len(files) >= 12
    for name in files:
        assert (EXPORTS / name).read_text(encoding="utf-8").startswith("# source: ")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_export_maps_exactly(name: str) -> None:
    """A real export's headers and values map to exactly the hand-written fields."""
    found = detect_fields(read_export(name))
    assert found.columns == EXPECTED[name]
    assert set(found.columns) <= set(found.reasons)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_export_headers_alone_never_pick_a_wrong_email(name: str) -> None:
    """With the rows removed (headers only), the email is the expected column or none."""
    found = detect_fields(read_export(name).iloc[:0])
    assert found.columns.get("email") in (EXPECTED[name]["email"], None, *_email_headers(name))


def _email_headers(name: str) -> list[str]:
    """Columns of an export that do hold the contact's own addresses (work or personal)."""
    frame = read_export(name)
    return [str(c) for c in frame.columns if profile(sample_texts(frame[c])).email >= 0.5]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_email_column_values_are_emails(name: str) -> None:
    """Whatever each export maps to email holds email addresses: never a wrong column."""
    frame = read_export(name)
    column = detect_fields(frame).columns["email"]
    values = [v for v in frame[column] if v]
    assert values
    assert all("@" in v for v in values)


def test_reasons_say_what_was_read() -> None:
    """A reason names the column, how its header was read and what the sample showed."""
    found = detect_fields(read_export("google_contacts.csv"))
    assert found.reasons["email"] == (
        "'E-mail 2 - Value': header 'email'; 100% of 8 sampled values are emails; "
        "chosen over 'E-mail 1 - Value' (mostly free-mail addresses)"
    )
    assert found.passed_over["email"] == ["E-mail 1 - Value"]


def test_email_status_is_never_the_email() -> None:
    """An 'Email Status' column of valid/bounced is not an email, with or without Email."""
    statuses = ["valid", "bounced", "valid", "catch-all"]
    emails = ["ann@acme.com", "bo@beta.io", "cy@gamma.org", "di@delta.net"]
    both = pd.DataFrame({"Email Status": statuses, "Email": emails})
    assert detect_fields(both).columns == {"email": "Email"}
    alone = pd.DataFrame({"Email Status": statuses, "First Name": ["A", "B", "C", "D"]})
    assert "email" not in detect_fields(alone).columns


def test_header_contradicted_by_values_is_not_taken() -> None:
    """A column headed 'Email' holding statuses is refused, and the reason says why."""
    frame = pd.DataFrame({"Email": ["valid", "bounced", "valid"], "LinkedIn": [None] * 3})
    found = detect_fields(frame)
    assert "email" not in found.columns
    assert found.reasons["email"] == "not mapped: 'Email' only 0% of 3 sampled values are emails"
    assert found.passed_over["email"] == ["Email"]


def test_emails_under_notes() -> None:
    """A 'Notes' column of distinct emails is the email only when no header says email."""
    emails = [f"person{i}@firm{i}.com" for i in range(6)]
    alone = detect_fields(pd.DataFrame({"Notes": emails, "Company": ["Acme"] * 6}))
    assert alone.columns["email"] == "Notes"
    assert alone.reasons["email"] == (
        "'Notes': no matching header, but 100% of 6 sampled values are emails, nearly all different"
    )
    other = [f"real{i}@acme{i}.com" for i in range(6)]
    with_header = detect_fields(pd.DataFrame({"Notes": emails, "Email": other}))
    assert with_header.columns == {"email": "Email"}


def test_repeated_or_someone_elses_emails_are_never_taken() -> None:
    """Owner-like repeated addresses, an owner's column or too few values never feed email."""
    owners = ["owner@ourco.com", "rep@ourco.com"] * 5
    assert detect_fields(pd.DataFrame({"Notes": owners})).columns == {}
    distinct = [f"rep{i}@ourco.com" for i in range(10)]
    for header in (
        "Contact Owner Email", "Assistant Email", "Created By", "Deal Email", "From",
        "Assigned To", "Sales Rep", "Invited By",
    ):  # fmt: skip
        assert detect_fields(pd.DataFrame({header: distinct})).columns == {}, header
    assert detect_fields(pd.DataFrame({"Notes": distinct[:2]})).columns == {}


def test_work_email_beats_personal_and_says_so() -> None:
    """With personal and work emails, the work one is taken and the reason names the other."""
    frame = pd.DataFrame(
        {
            "Personal Email": ["ann@gmail.com", "bo@yahoo.com"],
            "Work Email": ["ann@acme.com", "bo@beta.io"],
        }
    )
    found = detect_fields(frame)
    assert found.columns == {"email": "Work Email"}
    assert "chosen over 'Personal Email' (its header does not say work)" in found.reasons["email"]


def test_unlabelled_emails_prefer_fewer_free_mail_addresses() -> None:
    """Two plain email columns: the one less often at gmail.com & co wins, whatever the order."""
    frame = pd.DataFrame(
        {
            "Email": ["ann@gmail.com", "bo@hotmail.com", "cy@acme.com"],
            "Email 2": ["ann@acme.com", "bo@beta.io", "cy@gmail.com"],
        }
    )
    found = detect_fields(frame)
    assert found.columns == {"email": "Email 2"}
    assert "chosen over 'Email' (mostly free-mail addresses)" in found.reasons["email"]


def test_company_linkedin_url_is_not_a_profile_or_a_domain() -> None:
    """Company LinkedIn pages feed neither linkedInProfile nor companyDomain; Website does."""
    pages = [f"https://www.linkedin.com/company/acme-{i}" for i in range(4)]
    frame = pd.DataFrame(
        {
            "LinkedIn": pages,
            "Company LinkedIn URL": pages,
            "Website": [f"https://www.acme-{i}.com/about" for i in range(4)],
        }
    )
    found = detect_fields(frame)
    assert found.columns == {"companyDomain": "Website"}
    assert found.reasons["linkedInProfile"] == (
        "not mapped: 'LinkedIn' 100% of 4 sampled values are LinkedIn pages that are not "
        "person profiles"
    )


def test_all_empty_email_column_is_taken_on_its_header() -> None:
    """An all-empty 'Email' column is taken (it sends nothing); a filled one wins over it."""
    frame = pd.DataFrame({"Email": [None, None, ""], "First Name": ["A", "B", "C"]})
    found = detect_fields(frame)
    assert found.columns["email"] == "Email"
    assert found.reasons["email"] == "'Email': header 'email'; no values to check"
    filled = frame.assign(**{"Email Address": ["a@x.io", "b@y.io", "c@z.io"]})
    assert detect_fields(filled).columns["email"] == "Email Address"


def test_multiindex_headers_with_values() -> None:
    """MultiIndex headers are read on their joined levels and their values are sampled."""
    columns = pd.MultiIndex.from_tuples(
        [("Contact", "Email"), ("Contact", "Email Status"), ("Account", "Website")]
    )
    frame = pd.DataFrame(
        [["ann@acme.com", "valid", "acme.com"], ["bo@beta.io", "bounced", "beta.io"]],
        columns=columns,
    )
    assert detect_fields(frame).columns == {
        "email": ("Contact", "Email"),
        "companyDomain": ("Account", "Website"),
    }


def test_duplicated_labels() -> None:
    """A duplicated label that would be taken raises; duplicated unused ones do not matter."""
    frame = pd.DataFrame([["a@b.co", "x", "c@d.co"]], columns=["Email", "Notes", "Email"])
    with pytest.raises(ColumnError, match=r"'Email'.*more than once"):
        detect_fields(frame)
    fine = pd.DataFrame([["a@b.co", "x", "y"]], columns=["Email", "Notes", "Notes"])
    assert detect_fields(fine).columns == {"email": "Email"}


def test_numbers_as_names_and_as_labels() -> None:
    """Numbers under 'First Name' are no names; integer labels are found by values alone."""
    frame = pd.DataFrame({"First Name": [1, 2, 3], "Company": ["A", "B", "C"]})
    found = detect_fields(frame)
    assert found.columns == {"companyName": "Company"}
    assert "are numbers, not names" in found.reasons["firstName"]
    labelled = pd.DataFrame({0: ["ann@acme.com", "bo@beta.io", "cy@gamma.org"], 1: [7, 8, 9]})
    assert detect_fields(labelled).columns == {"email": 0}


def test_salutations_are_not_job_titles() -> None:
    """Outlook's 'Title' of Mr/Ms is refused as jobTitle; 'Job Title' is taken instead."""
    frame = pd.DataFrame({"Title": ["Mr.", "Ms.", "Dr", "Ms"], "Email": ["a@b.co"] * 4})
    assert "jobTitle" not in detect_fields(frame).columns
    titled = frame.assign(**{"Job Title": ["CEO", "CTO", "VP Sales", "Founder"]})
    assert detect_fields(titled).columns["jobTitle"] == "Job Title"


def test_generic_ids_follow_salesforce_prefixes_and_the_export() -> None:
    """'Salesforce ID' of 00Q ids feeds crmLeadId; a lead export's 'Record Id' too."""
    leads = pd.DataFrame({"Salesforce ID": ["00Q5g000001AbCdEQA", "00Q5g000002AbCdEQA"]})
    assert detect_fields(leads).columns == {"crmLeadId": "Salesforce ID"}
    zoho = pd.DataFrame({"Record Id": ["zcrm_1", "zcrm_2"], "Lead Owner": ["Jo", "Jo"]})
    assert detect_fields(zoho).columns == {"crmLeadId": "Record Id"}
    hubspot = pd.DataFrame({"Record ID": ["101", "102"], "Contact owner": ["Jo", "Jo"]})
    assert detect_fields(hubspot).columns == {"crmContactId": "Record ID"}
    row_numbers = pd.DataFrame({"Id": ["1", "2", "3"], "Email": ["a@b.co"] * 3})
    assert detect_fields(row_numbers).columns == {"email": "Email"}


def test_ambiguous_url_goes_where_the_values_say() -> None:
    """A bare 'URL' of profiles feeds linkedInProfile; of websites, companyDomain."""
    profiles = pd.DataFrame({"URL": [f"https://www.linkedin.com/in/p{i}" for i in range(3)]})
    assert detect_fields(profiles).columns == {"linkedInProfile": "URL"}
    sites = pd.DataFrame({"URL": ["https://acme.com", "beta.io", "www.gamma.org"]})
    assert detect_fields(sites).columns == {"companyDomain": "URL"}
    assert detect_fields(pd.DataFrame(columns=["URL"])).columns == {}


def test_explicit_and_removed_fields_are_explained() -> None:
    """fields= entries win unchecked and None keeps a field out; both get a reason."""
    frame = pd.DataFrame({"Email": ["valid"], "Title": ["CEO"], "Mail": ["a@b.co"]})
    found = detect_fields(frame, {"email": "Email", "jobTitle": None})
    assert found.columns == {"email": "Email"}
    assert found.reasons == {"email": "fields= (explicit)", "jobTitle": "fields= None: left out"}
    assert resolve_fields(frame, {"email": "Email", "jobTitle": None}) == found.columns


def test_result_type_and_exports() -> None:
    """detect_fields returns a frozen FieldDetection; both are exported by _fields."""
    found = detect_fields(pd.DataFrame({"Email": ["a@b.co"]}))
    assert isinstance(found, FieldDetection)
    with pytest.raises(AttributeError):
        found.columns = {}  # type: ignore[misc]
    for name in ("detect_fields", "FieldDetection"):
        assert name in _fields.__all__
        assert name in _detect.__all__


def test_sample_is_bounded_and_deterministic() -> None:
    """The sample holds at most SAMPLE_SIZE values and is the same on every call."""
    series = pd.Series([f"v{i}" if i % 3 else None for i in range(100_000)])
    first = sample_texts(series)
    assert len(first) == SAMPLE_SIZE
    assert sample_texts(series) == first
    late = pd.Series([None] * 99_000 + [f"w{i}" for i in range(1_000)])
    assert sample_texts(late)[-1] == "w999"  # the spread part reaches the last row


def test_detection_on_100k_rows_reads_only_the_sample() -> None:
    """A 100,000-row export maps as its small original does, from a bounded sample of rows.

    (How fast it is belongs in benchmarks, not here.)
    """
    small = read_export("apollo_people.csv")
    big = pd.concat([small] * 12_500, ignore_index=True)
    big["Email"] = [f"p{i}@c{i % 977}.com" for i in range(len(big))]
    assert len(sample_positions(len(big))) <= 2 * SAMPLE_SIZE
    assert detect_fields(big).columns == EXPECTED["apollo_people.csv"]


def test_frame_is_not_mutated() -> None:
    """Detection only reads the frame."""
    frame = read_export("hubspot_contacts.csv")
    before = frame.copy(deep=True)
    detect_fields(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_sparse_column_is_still_sampled() -> None:
    """Values far down a mostly empty column are found by the evenly spread part of the sample."""
    emails: list[Hashable] = [None] * 50_000
    for i in range(0, 50_000, 500):
        emails[i + 499] = f"p{i}@acme{i}.com"
    found = detect_fields(pd.DataFrame({"Email": emails, "Name": np.arange(50_000)}))
    assert found.reasons["email"].startswith("'Email': header 'email'; 100% of ")


def test_a_messy_column_under_an_email_header_is_still_the_email_column() -> None:
    """Under 'Email', a third of junk keeps the column; each junk value is left out with a note."""
    frame = pd.DataFrame(
        {
            "Email": ["not-an-email", "ann@acme.com", "n/a", "bo@beta.io"],
            "Email Status": ["valid", "bounced", "valid", "valid"],
            "First Name": ["Cy", "Ann", "Di", "Bo"],
            "Company": ["Gamma", "Acme", "Delta", "Beta"],
        }
    )
    detection = detect_fields(frame)
    assert detection.columns["email"] == "Email"
    assert "left out, with a note" in detection.reasons["email"]


def test_an_email_header_over_no_addresses_is_refused() -> None:
    """Under 'Email', values that are almost never addresses do not make an email column."""
    frame = pd.DataFrame({"Email": ["yes", "no", "yes", "yes"], "First Name": list("ABCD")})
    assert "email" not in detect_fields(frame).columns
