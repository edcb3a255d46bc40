"""Sequencer presets: names each sequencer accepts, standard headers, encoding, bodies."""

from __future__ import annotations

import csv
import inspect
import io
import re
from pathlib import Path

import pandas as pd
import pytest

import octave_frames  # noqa: F401 - registers df.octave
from octave_frames._exceptions import ArgumentError
from octave_frames.io import SEQUENCER_FORMATS, SEQUENCERS, merge_tags, to_csv
from octave_frames.io._csv import sequencer_table
from octave_frames.io._sample import sample_result_frame
from octave_frames.io._sequencers import CONTACT_FIELDS, custom_field_names

DOCS = Path(__file__).resolve().parents[1] / "docs" / "sequencers.md"
STEPS = 7  # Octave sequences have up to seven steps


@pytest.fixture
def result() -> pd.DataFrame:
    """Four answered contacts with a phone, a LinkedIn profile and a website, one failed."""
    frame = sample_result_frame(5, steps=2)
    frame["octave_status"] = pd.array(["ok", "ok", "failed", "ok", "ok"], dtype="string")
    frame["Phone"] = pd.array(["+1 415 555 0100", None, "", "(415) 555-0101", "+44 20"], "string")
    frame["LinkedIn"] = [f"https://linkedin.com/in/p{i}" for i in range(5)]
    frame["Website"] = ["https://www.Acme.com/about", "globex.com", None, "", "initech.io"]
    frame["Email"] = pd.array([" Ann@Acme.COM ", "b@x.com", "c@x.com", "d@x.com", "e@x.com"])
    frame["First Name"] = pd.array(["Zoë", "=HYPERLINK(1)", "C", "D", "E"], dtype="string")
    frame["email_1_text"] = pd.array(
        ["Hi Zoë,\n\nA < B & C.\n\nBest", "<p>Hi,</p><p>HTML stays.</p>", None, "", "x"],
        dtype="string",
    )
    return frame


def _read(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    """The rows of a written CSV, as an importer parses them."""
    text = path.read_bytes().decode(encoding)
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_formats_are_declared_once_each() -> None:
    """Every format value has one declaration under its own key, and nothing else does."""
    assert set(SEQUENCER_FORMATS) == set(SEQUENCERS)
    assert {s.key for s in SEQUENCERS.values()} == set(SEQUENCER_FORMATS)
    for preset in SEQUENCERS.values():
        assert set(preset.standard) <= set(CONTACT_FIELDS)
        assert preset.standard.get("email"), preset.key  # imports match contacts by email
        assert preset.assumed, preset.key  # every preset says what it assumes


@pytest.mark.parametrize("key", SEQUENCER_FORMATS)
def test_each_presets_names_are_valid_under_its_own_rule(key: str) -> None:
    """Every custom field a preset writes, for up to seven steps, passes that preset's rule."""
    preset = SEQUENCERS[key]
    steps = STEPS
    if preset.max_custom_fields is not None:
        steps = min(steps, preset.max_custom_fields // 2)
    names = custom_field_names(key, steps)
    assert len(set(names)) == len(names)
    for name in names:
        assert preset.accepts(name), (key, name)
        assert name not in preset.standard.values(), (key, name)


@pytest.mark.parametrize("key", SEQUENCER_FORMATS)
def test_merge_fields_names_are_accepted_by_every_preset(key: str) -> None:
    """format='merge-fields' names (email1subject ...) pass each sequencer's name rule."""
    for name in custom_field_names("merge-fields", STEPS):
        assert re.fullmatch(r"[a-z][a-z0-9]*", name), name
        assert SEQUENCERS[key].accepts(name), (key, name)


def test_name_rules_refuse_what_the_sequencers_refuse() -> None:
    """The rules are real: HubSpot wants lower case, lemlist no _ and no default names."""
    assert not SEQUENCERS["hubspot"].accepts("Email_1_Subject")
    assert not SEQUENCERS["hubspot"].accepts("1email")
    assert not SEQUENCERS["hubspot"].accepts("e" * 101)
    assert not SEQUENCERS["lemlist"].accepts("email_1_subject")
    assert not SEQUENCERS["lemlist"].accepts("companyName")
    assert not SEQUENCERS["instantly"].accepts("email 1 subject")


@pytest.mark.parametrize(
    ("key", "header"),
    [
        ("instantly", ["email", "first_name", "last_name", "company_name", "job_title", "phone",
                       "linkedin_url", "website", "email_1_subject", "email_1_body",
                       "email_2_subject", "email_2_body"]),
        ("smartlead", ["email", "first_name", "last_name", "company_name", "phone_number",
                       "linkedin_profile", "website", "email_1_subject", "email_1_body",
                       "email_2_subject", "email_2_body", "title"]),
        ("lemlist", ["email", "firstName", "lastName", "companyName", "jobTitle", "phone",
                     "linkedinUrl", "companyDomain", "email1Subject", "email1Body",
                     "email2Subject", "email2Body"]),
        ("hubspot", ["Email", "First Name", "Last Name", "Company Name", "Job Title",
                     "Phone Number", "LinkedIn URL", "Website URL", "email_1_subject",
                     "email_1_body", "email_2_subject", "email_2_body"]),
        ("apollo", ["Email", "First Name", "Last Name", "Company Name", "Title", "Phone",
                    "Person Linkedin Url", "Company Website", "email_1_subject", "email_1_body",
                    "email_2_subject", "email_2_body"]),
        ("merge-fields", ["Email", "First Name", "Last Name", "Company", "Title", "Phone",
                          "LinkedIn URL", "Website", "email1subject", "email1body",
                          "email2subject", "email2body"]),
    ],
)  # fmt: skip
def test_headers_are_the_ones_the_sequencer_maps(
    result: pd.DataFrame, tmp_path: Path, key: str, header: list[str]
) -> None:
    """The header row: standard contact headers, then each step's subject and body."""
    path = tmp_path / f"{key}.csv"
    to_csv(result, path, format=key)  # type: ignore[arg-type]
    assert next(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))) == header


@pytest.mark.parametrize("key", SEQUENCER_FORMATS)
def test_one_row_per_answered_contact_in_the_declared_encoding(
    result: pd.DataFrame, tmp_path: Path, key: str
) -> None:
    """Only ok rows, one each; UTF-8 (BOM as declared), CRLF rows; values cleaned."""
    path = tmp_path / "out.csv"
    to_csv(result, path, format=key)  # type: ignore[arg-type]
    preset = SEQUENCERS[key]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (preset.encoding == "utf-8-sig")
    assert raw.split(b"\n", 1)[0].endswith(b"\r")
    rows = _read(path, preset.encoding)
    email = preset.standard["email"]
    assert [r[email] for r in rows] == ["ann@acme.com", "b@x.com", "d@x.com", "e@x.com"]
    assert rows[0][preset.standard["firstName"]] == "Zoë"
    assert rows[1][preset.standard["firstName"]] == "'=HYPERLINK(1)"  # still injection-safe
    if "phone" in preset.standard:
        phones = [r[preset.standard["phone"]] for r in rows]
        assert phones == ["+1 415 555 0100", "", "(415) 555-0101", "+44 20"]  # no quote
    if "companyDomain" in preset.standard:
        assert rows[0][preset.standard["companyDomain"]] == "acme.com"


def test_bodies_are_the_edited_text_with_the_declared_line_breaks(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """The body is email_{i}_text as it is: <br> (escaped) for HTML editors, HTML kept."""
    result.loc[0, "email_1_body"] = "a section nobody exported"
    html_path, text_path = tmp_path / "instantly.csv", tmp_path / "hubspot.csv"
    to_csv(result, html_path, format="instantly")
    to_csv(result, text_path, format="hubspot")
    html_rows, text_rows = _read(html_path), _read(text_path)
    assert html_rows[0]["email_1_body"] == "Hi Zoë,<br><br>A &lt; B &amp; C.<br><br>Best"
    assert html_rows[1]["email_1_body"] == "<p>Hi,</p><p>HTML stays.</p>"
    assert text_rows[0]["email_1_body"] == "Hi Zoë,\n\nA < B & C.\n\nBest"
    assert html_rows[2]["email_1_body"] == "" and html_rows[3]["email_1_body"] == "x"
    assert html_rows[0]["email_2_body"] == result["email_2_text"].iloc[0].replace("\n", "<br>")
    assert html_rows[0]["email_1_subject"] == result["email_1_subject"].iloc[0]


def test_merge_tags_follow_each_sequencers_syntax() -> None:
    """Instantly {{name}}, lemlist camelCase, HubSpot contact.name, Outreach numbered fields."""
    assert merge_tags("instantly", 1) == {
        "email_1_subject": "{{email_1_subject}}",
        "email_1_body": "{{email_1_body}}",
    }
    assert list(merge_tags("lemlist", 1).values()) == ["{{email1Subject}}", "{{email1Body}}"]
    assert merge_tags("hubspot", 1)["email_1_body"] == "{{ contact.email_1_body }}"
    assert list(merge_tags("outreach", 2).values()) == [
        "{{custom1}}", "{{custom2}}", "{{custom3}}", "{{custom4}}",
    ]  # fmt: skip
    assert len(merge_tags("merge-fields")) == 6


def test_the_docs_carry_every_presets_tags_for_three_steps() -> None:
    """docs/sequencers.md lists, per sequencer, exactly the tags the code writes."""
    text = DOCS.read_text(encoding="utf-8")
    for key, preset in SEQUENCERS.items():
        section = text.split(f'(`format="{key}"`)', 1)[1].split("\n## ", 1)[0]
        assert preset.title in text
        for tag in merge_tags(key, 3).values():
            assert f"`{tag}`" in section, (key, tag)
        for source in re.findall(r"https://\S+?(?=\)|,|\s|$)", " ".join(preset.documented)):
            assert source in section, (key, source)


def test_limits_are_checked_before_anything_is_written(tmp_path: Path) -> None:
    """Too many steps for Smartlead, a too long Outreach field: an error and no file."""
    many = sample_result_frame(2, steps=10)
    path = tmp_path / "out.csv"
    with pytest.raises(ArgumentError, match="at most 20 custom fields"):
        to_csv(many, path, format="smartlead")
    assert not path.exists()
    long = sample_result_frame(2, steps=1)
    long["octave_status"] = pd.array(["ok", "ok"], dtype="string")
    long.loc[1, "email_1_text"] = "word " * 7000
    with pytest.raises(ArgumentError, match=r"30,000 characters.*email_1_body.*\(1\)"):
        to_csv(long, path, format="outreach")
    assert not path.exists()


def test_unknown_format_frames_without_emails_or_addresses_are_refused(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """Unknown formats list the known ones; a frame never run or without emails is refused."""
    path = tmp_path / "out.csv"
    with pytest.raises(ArgumentError, match="'instantly'"):
        to_csv(result, path, format="mailchimp")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="no 'octave_status' column"):
        to_csv(result[["Email", "First Name"]], path, format="instantly")
    with pytest.raises(ArgumentError, match="no email column"):
        to_csv(result.drop(columns="Email"), path, format="lemlist")
    assert not path.exists()


def test_prefix_and_approval_pass_through_and_the_accessor_takes_the_same_arguments(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """A prefixed run exports the same; df.octave.to_csv has format=, only=, approved=."""
    renamed = result.rename(columns=lambda c: f"oc_{c}" if is_run_column(c) else c)
    renamed["Send?"] = ["x", "no", "x", "", "yes"]
    path = tmp_path / "p.csv"
    renamed.octave.to_csv(path, format="instantly", only="approved", prefix="oc_")
    assert [r["email"] for r in _read(path)] == ["ann@acme.com", "e@x.com"]
    table = sequencer_table(renamed, "instantly", prefix="oc_")
    assert table.index.equals(renamed.index)
    parameters = inspect.signature(pd.DataFrame().octave.to_csv).parameters
    assert {"layout", "format", "only", "prefix", "approved"} <= set(parameters)


def is_run_column(name: object) -> bool:
    """Whether a column of the fixture is written by the run."""
    return isinstance(name, str) and name.startswith(("email_", "octave_"))
