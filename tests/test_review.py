"""``review``: flags on generated sequences, found in simulated frames with planted defects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

import octave_frames  # noqa: F401  (registers the accessor)
from octave_frames._constants import SECTIONS
from octave_frames._exceptions import ArgumentError
from octave_frames._report import RunReport, remember
from octave_frames._review import (
    CHECKS,
    REVIEW_COLUMN,
    REVIEW_OK_COLUMN,
    ReviewedEmail,
    email_review,
    flagged_emails,
    parse_review,
    review,
    review_counts,
    review_flags,
)
from octave_frames._review_text import (
    count_encoded,
    count_words,
    greeted_names,
    greets,
    html_problem,
    mangled_problems,
    parse_word_limit,
    placeholders,
    screen,
)
from octave_frames.testing import Simulator, simulated_client

FIRST = [
    "Ann",
    "Ben",
    "Zoë",
    "José",
    "Mía",
    "Wei",
    "Aarav",
    "Olu",
    "Søren",
    "Grace",
    "Linus",
    "Ada",
]
LAST = ["Lee", "Okafor", "Müller", "García", "Nakamura", "Chen"] * 2
COMPANY = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Pied Piper",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
]


def _contacts() -> pd.DataFrame:
    """Twelve contacts as a CRM exports them, each with research of its own."""
    return pd.DataFrame(
        {
            "First Name": FIRST,
            "Last Name": LAST,
            "Company": COMPANY,
            "Email": [
                f"{i}.{c.lower().replace(' ', '')}@{c.lower().replace(' ', '')}.com"
                for i, c in enumerate(COMPANY)
            ],
            "Title": ["VP Sales", "Head of RevOps", "CRO", "SDR Manager"] * 3,
            "Research": [f"Opened office number {i} in Lisbon this spring." for i in range(12)],
        },
        index=pd.Index([f"c{i}" for i in range(12)], name="contact"),
    )


def _run(frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """Run ``frame`` through the simulator, in process and at once."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0)
    return frame.octave.sequence(
        agent="ca_review",
        client=simulated_client(sim),
        cache=False,
        progress=False,
        rate=10_000,
        context={"all": "ACCOUNT RESEARCH:\n{Research}"},
        **options,
    )


@pytest.fixture(scope="module")
def generated() -> Iterator[pd.DataFrame]:
    """The twelve contacts' three-step sequences, in text, under a 150-word instruction."""
    yield _run(_contacts(), instructions={"all": "Keep emails under 150 words."})


@pytest.fixture(scope="module")
def generated_html() -> Iterator[pd.DataFrame]:
    """The same sequences in HTML."""
    yield _run(_contacts(), output_format="html")


def _set(frame: pd.DataFrame, row: str, step: int, **sections: str | None) -> None:
    """Change sections (or the subject) of one email in place, and rebuild its text."""
    for name, value in sections.items():
        frame.loc[row, f"email_{step}_{name}"] = value
    parts = [frame.loc[row, f"email_{step}_{s}"] for s in SECTIONS]
    frame.loc[row, f"email_{step}_text"] = "\n\n".join(p for p in parts if isinstance(p, str) and p)


def _found(flags: pd.DataFrame) -> set[tuple[object, object, str]]:
    """(row, step, check) of each flag, a subject repeated by chance left out."""
    generic_subject = flags["message"].str.contains("the same subject as") & ~flags[
        "message"
    ].str.contains("the same body")
    kept = flags[~generic_subject]
    return {
        (row, None if pd.isna(step) else int(step), check)
        for row, step, check in zip(kept["row"], kept["step"], kept["check"], strict=True)
    }


# ---------------------------------------------------------------------------------------
# Whole frames


def test_generated_sequences_are_clean(generated: pd.DataFrame) -> None:
    """Simulated sequences raise no flag but generic subjects that several contacts share."""
    flags = review_flags(generated)
    assert _found(flags) == set()
    assert set(flags["check"]) <= {"repeated"}
    out = review(generated, disable=("repeated",))
    assert out[REVIEW_COLUMN].isna().all()
    assert out[REVIEW_OK_COLUMN].tolist() == [True] * 12


def test_every_planted_defect_is_found_at_its_step(generated: pd.DataFrame) -> None:
    """One defect of each kind, planted in realistic text, is flagged with its step only."""
    frame = generated.copy()
    _set(frame, "c1", 2, body=frame.loc["c1", "email_2_body"] + " Worth it for {first_name}?")
    _set(frame, "c2", 1, subject="")
    _set(frame, "c3", 3, greeting="Hi Ben,")
    _set(frame, "c4", 2, body=frame.loc["c4", "email_2_body"].replace(" ", " \u200b", 1))
    for step in (1, 2, 3):
        _set(
            frame,
            "c5",
            step,
            subject="A quick idea",
            greeting="Hi there,",
            opening="I work with revenue teams.",
            body=f"Most teams lose hours to research (note {step}).",
        )
    for row in ("c6", "c7", "c8"):
        first, company = frame.loc[row, "First Name"], frame.loc[row, "Company"]
        _set(frame, row, 2, body=f"{first}, teams like {company} cut research time in half.")
    _set(frame, "c9", 1, body=" ".join(["pipeline"] * 160))
    flags = review_flags(frame, instructions={"all": "Keep emails under 150 words."})
    assert _found(flags) == {
        ("c1", 2, "placeholder"),
        ("c2", 1, "empty"),
        ("c3", 3, "greeting"),
        ("c4", 2, "mangled"),
        ("c5", None, "no_personalisation"),
        ("c6", 2, "repeated"),
        ("c7", 2, "repeated"),
        ("c8", 2, "repeated"),
        ("c9", 1, "too_long"),
    }
    keys = zip(flags["row"], flags["check"], strict=True)
    message = dict(zip(keys, flags["message"], strict=True))
    assert message["c1", "placeholder"] == "email 2 [placeholder]: '{first_name}' left in the body"
    assert message["c2", "empty"] == "email 1 [empty]: no subject"
    assert message["c3", "greeting"] == (
        "email 3 [greeting]: greets 'Ben' but the contact is 'José' "
        "(Ben is another contact in this frame)"
    )
    assert message["c4", "mangled"] == "email 2 [mangled]: a zero-width space in the text"
    assert message["c5", "no_personalisation"].startswith(
        "sequence [no_personalisation]: no email names the contact ("
    )
    assert message["c6", "repeated"] == (
        "email 2 [repeated]: the same body as 2 other contacts (names aside)"
    )
    assert message["c9", "too_long"].startswith("email 1 [too_long]: ")
    assert message["c9", "too_long"].endswith(
        "words (signature aside), over 'under 150 words' (instructions[all])"
    )


def test_review_adds_the_two_columns_and_keeps_the_frame(generated: pd.DataFrame) -> None:
    """A new frame: same index and columns, then the review text and the ok flag."""
    frame = generated.copy()
    _set(frame, "c0", 1, greeting="Hi {first_name},")
    before = frame.copy()
    out = review(frame, disable=["repeated"])
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.columns) == [*frame.columns, REVIEW_COLUMN, REVIEW_OK_COLUMN]
    assert out.index.equals(frame.index)
    assert out[REVIEW_COLUMN].dtype == "string"
    assert out[REVIEW_OK_COLUMN].dtype == "boolean"
    assert out.loc["c0", REVIEW_COLUMN] == (
        "email 1 [placeholder]: '{first_name}' left in the greeting"
    )
    assert out[REVIEW_OK_COLUMN].tolist() == [False] + [True] * 11


def test_reviewing_again_replaces_the_columns_in_place(generated: pd.DataFrame) -> None:
    """A reviewed frame reviewed again keeps one pair of review columns where they were."""
    first = review(generated, disable=CHECKS)
    moved = first[[REVIEW_OK_COLUMN, *generated.columns, REVIEW_COLUMN]]
    again = review(moved)
    assert list(again.columns) == list(moved.columns)
    assert moved[REVIEW_COLUMN].isna().all()
    assert again[REVIEW_COLUMN].notna().any()


def test_same_frame_same_flags_in_row_step_check_order(generated: pd.DataFrame) -> None:
    """Reviewing twice gives identical flags, sorted by row, then step, then check."""
    frame = generated.copy()
    _set(frame, "c0", 3, subject="{first_name}\nidea", greeting="Hi Ben,")
    _set(frame, "c0", 1, body="[Company] is a fit.")
    first, second = review_flags(frame), review_flags(frame)
    pd.testing.assert_frame_equal(first, second)
    rows = first[first["row"] == "c0"]
    assert rows[["step", "check"]].astype(object).values.tolist() == [
        [1, "placeholder"],
        [3, "placeholder"],
        [3, "greeting"],
        [3, "mangled"],
    ]


def test_rows_without_a_sequence_are_na(generated: pd.DataFrame) -> None:
    """Failed rows (no email columns filled) get NA in both review columns."""
    frame = generated.copy()
    email_columns = [c for c in frame.columns if c.startswith("email_")]
    frame.loc[["c2", "c5"], email_columns] = pd.NA
    frame.loc[["c2", "c5"], "octave_status"] = "failed"
    out = review(frame, disable=["repeated"])
    assert out[REVIEW_OK_COLUMN].isna().tolist() == [i in (2, 5) for i in range(12)]
    assert out[REVIEW_COLUMN].isna().all()


def test_empty_checks_only_steps_that_exist_and_allow_threaded_subjects() -> None:
    """A later step without a subject is a reply; a missing step is no flag; no text is."""
    frame = pd.DataFrame(
        {
            "First Name": ["Ann", "Ben", "Cy"],
            "email_1_subject": ["Idea for Ann", "Idea for Ben", "Idea for Cy"],
            "email_1_body": ["Ann, a thought.", "Ben, a thought.", "   "],
            "email_1_greeting": ["Hi Ann,", "Hi Ben,", "Hi Cy,"],
            "email_1_text": ["Hi Ann,\n\nAnn, a thought.", "Hi Ben,\n\nBen, a thought.", None],
            "email_2_subject": [None, None, None],
            "email_2_body": ["Following up, Ann.", None, None],
            "email_2_text": ["Following up, Ann.", None, None],
        }
    )
    flags = review_flags(frame, disable=["repeated"])
    assert flags["message"].tolist() == ["email 1 [empty]: no text"]
    assert flags["row"].tolist() == [2]
    frame.loc[1, "email_1_text"] = "Hi Ben,"
    frame.loc[1, "email_1_body"] = None
    body = review_flags(frame, disable=["repeated"])
    assert "email 1 [empty]: the body is empty" in body["message"].tolist()


def test_frame_without_sequences_is_a_clear_error() -> None:
    """A frame never run, or run under another prefix, says what to do."""
    with pytest.raises(
        ArgumentError, match=r"no 'email_\*' columns: run df\.octave\.sequence\(\.\.\.\) first"
    ):
        review(_contacts())
    prefixed = pd.DataFrame({"oc_email_1_text": ["Hi"]})
    with pytest.raises(ArgumentError, match=r"suggest prefix='oc_'"):
        review_flags(prefixed)


def test_prefix_reads_and_writes_prefixed_columns(generated: pd.DataFrame) -> None:
    """With a prefix, the email columns are read and the review columns written under it."""
    renamed = {c: f"oc_{c}" for c in generated.columns if c.startswith(("email_", "octave_"))}
    frame = generated.rename(columns=renamed)
    frame.loc["c1", "oc_email_2_text"] = "Hi Ben, {{company}} is great."
    out = review(frame, prefix="oc_", disable=["repeated"])
    assert f"oc_{REVIEW_COLUMN}" in out and f"oc_{REVIEW_OK_COLUMN}" in out
    assert out.loc["c1", f"oc_{REVIEW_COLUMN}"] == (
        "email 2 [placeholder]: '{{company}}' left in the text"
    )
    assert review_counts(out, prefix="oc_") == {"placeholder": 1}


def test_duplicate_labels_and_multiindex_are_kept(generated: pd.DataFrame) -> None:
    """Rows are told apart by position: repeated labels and MultiIndex rows keep their own flags."""
    frame = generated.copy()
    _set(frame, "c1", 1, greeting="Hi [First Name],")
    frame.index = pd.Index(["x"] * 12)
    out = review(frame, disable=["repeated"])
    assert out.index.equals(frame.index)
    assert out[REVIEW_OK_COLUMN].tolist() == [True, False] + [True] * 10
    assert review_flags(frame, disable=["repeated"])["row"].tolist() == ["x"]
    frame.index = pd.MultiIndex.from_tuples([("t", i) for i in range(12)], names=["team", "n"])
    out = review(frame, disable=["repeated"])
    assert out.index.equals(frame.index)
    assert review_flags(frame, disable=["repeated"])["row"].tolist() == [("t", 1)]


# ---------------------------------------------------------------------------------------
# Reading flags back


def test_counts_and_flagged_emails_read_the_text_back(generated: pd.DataFrame) -> None:
    """Counts per check and the flagged (row, step) come back from the text alone."""
    frame = generated.copy()
    _set(frame, "c0", 2, greeting="Hi {first_name},")
    for step in (1, 2, 3):
        _set(frame, "c3", step, greeting="Hi there,", opening="Hello.", body="A thought.")
        frame.loc["c3", f"email_{step}_subject"] = "Idea"
    out = review(frame, disable=["repeated"])
    # Through Excel the column comes back as plain text: the counts do not need its dtype.
    plain = out.astype({REVIEW_COLUMN: object, REVIEW_OK_COLUMN: object})
    assert review_counts(plain) == {"placeholder": 1, "no_personalisation": 1}
    long = frame.octave.emails()
    marked = flagged_emails(out)
    assert marked.index.equals(long.index) and marked.dtype == bool
    hits = long.loc[marked, ["row", "step"]].values.tolist()
    assert hits == [["c0", 2], ["c3", 1], ["c3", 2], ["c3", 3]]
    texts = email_review(plain)
    assert texts.index.equals(long.index) and texts.dtype == "string"
    assert texts[marked].tolist()[0] == "email 2 [placeholder]: '{first_name}' left in the greeting"
    assert texts[marked].tolist()[1].startswith("sequence [no_personalisation]: ")
    assert texts[~marked].isna().all()
    with pytest.raises(ArgumentError, match="run review"):
        review_counts(frame)


def test_parse_review_splits_flags_even_with_semicolons_inside() -> None:
    """A message quoting '; ' stays whole; steps and sequence flags are read."""
    text = (
        "email 1 [placeholder]: '{x; y}' left in the body; email 12 [tone]: too pushy; "
        "sequence [no_personalisation]: no email names the contact ('Ann')"
    )
    flags = parse_review(text)
    assert [(f.step, f.check) for f in flags] == [
        (1, "placeholder"),
        (12, "tone"),
        (None, "no_personalisation"),
    ]
    assert flags[0].message == "email 1 [placeholder]: '{x; y}' left in the body"
    assert parse_review(pd.NA) == [] and parse_review("") == []


# ---------------------------------------------------------------------------------------
# Arguments


def test_disable_switches_checks_off_and_names_the_nearest(generated: pd.DataFrame) -> None:
    """Disabled checks raise nothing; an unknown name is refused with a suggestion."""
    frame = generated.copy()
    _set(frame, "c0", 1, greeting="Hi {first_name},")
    assert review_flags(frame, disable=("placeholder", "repeated")).empty
    with pytest.raises(ArgumentError, match=r"'repeat'; did you mean 'repeated'\?"):
        review(frame, disable=("repeat",))
    with pytest.raises(ArgumentError, match="no check 'tone'"):
        review(frame, disable="tone")


def test_custom_checks_read_each_email_and_flag_like_built_ins(generated: pd.DataFrame) -> None:
    """A callable sees every email with its contact; its messages are flags like others."""
    seen: list[tuple[object, int]] = []

    def pushy(email: ReviewedEmail) -> str | None:
        seen.append((email.row, email.step))
        assert email.sections["greeting"] is not None and email.first_name is not None
        if email.step == 3 and email.row == "c4":
            return f"'{email.first_name}' gets a hard sell"
        return None

    out = review(generated, checks=[pushy], disable=("repeated",))
    assert len(seen) == 36
    assert out.loc["c4", REVIEW_COLUMN] == "email 3 [pushy]: 'Mía' gets a hard sell"
    both = review_flags(
        generated,
        checks={"twice": lambda e: ["one", "two"] if e.step == 1 and e.row == "c0" else None},
        disable=("repeated",),
    )
    assert both["message"].tolist() == ["email 1 [twice]: one", "email 1 [twice]: two"]
    assert review_counts(review(generated, checks=[pushy], disable=("pushy", "repeated"))) == {}


def test_custom_check_errors_and_bad_names_are_argument_errors(generated: pd.DataFrame) -> None:
    """A check that raises names itself, the row and the email; names are checked."""
    with pytest.raises(ArgumentError, match=r"check 'boom' failed on row 'c0', email 1: KeyError"):
        review(generated, checks={"boom": lambda e: {}["x"]})
    with pytest.raises(ArgumentError, match="no usable name"):
        review(generated, checks=[lambda e: None])
    with pytest.raises(ArgumentError, match="taken by a built-in check"):
        review(generated, checks={"empty": lambda e: None})
    with pytest.raises(ArgumentError, match="takes callables"):
        review(generated, checks=42)  # type: ignore[arg-type]


def test_word_limit_comes_from_arguments_then_the_run(generated: pd.DataFrame) -> None:
    """max_words beats instructions=, which beat the run's report; a step's key beats all."""
    assert not (review_flags(generated)["check"] == "too_long").any()
    flags = review_flags(generated, max_words=40, disable=["repeated"])
    assert set(flags["check"]) == {"too_long"} and len(flags) == 36
    assert flags["message"].iloc[0].endswith("over max_words=40")
    by_step = review_flags(generated, max_words={"all": 500, 2: 40}, disable=["repeated"])
    assert set(by_step["step"]) == {2}
    assert by_step["message"].iloc[0].endswith("over max_words['2']=40")
    said = review_flags(
        generated,
        instructions={"all": "Under 500 words.", "3": "Keep it to 40 words."},
        disable=["repeated"],
    )
    assert set(said["step"]) == {3}
    assert said["message"].iloc[0].endswith("over 'Keep it to 40 words' (instructions[3])")
    copy = generated.copy()  # a copy has no run report: no limit to read
    remember(copy, RunReport(settings={"instructions[all]": "no more than 40 words"}))
    assert len(review_flags(copy, disable=["repeated"])) == 36
    with pytest.raises(ArgumentError, match="max_words must be a positive whole number"):
        review(generated, max_words=0)


# ---------------------------------------------------------------------------------------
# HTML


def test_html_output_is_read_as_html(generated_html: pd.DataFrame) -> None:
    """Tags are no placeholders and balanced HTML is fine; open tags and <Company> are not."""
    assert _found(review_flags(generated_html)) == set()
    frame = generated_html.copy()
    frame.loc["c0", "email_1_text"] = frame.loc["c0", "email_1_text"] + "<p>See <b>this"
    frame.loc["c1", "email_2_text"] = frame.loc["c1", "email_2_text"].replace(
        "Globex", "&lt;Company&gt;", 1
    )
    frame.loc["c2", "email_3_text"] = frame.loc["c2", "email_3_text"] + "<p>Hi <Company>!</p>"
    flags = review_flags(frame, disable=["repeated"])  # a copy: HTML told by its tags
    assert _found(flags) == {
        ("c0", 1, "mangled"),
        ("c1", 2, "placeholder"),
        ("c2", 3, "placeholder"),
    }
    assert flags["message"].tolist() == [
        "email 1 [mangled]: unbalanced HTML: '<p>' is never closed",
        "email 2 [placeholder]: '<Company>' left in the text",
        "email 3 [placeholder]: '<Company>' left in the text",
    ]


def test_html_balance_table() -> None:
    """Void tags need no close; unclosed, crossed and stray tags are named."""
    assert html_problem("<p>Hi<br>there</p><p>x<br/></p>") == (None, [])
    assert html_problem("<ul><li>a</li><li>b</ul>")[0] == "'<li>' is not closed before '</ul>'"
    assert html_problem("<p>a</p></b>")[0] == "'</b>' closes no open tag"
    assert html_problem('<a href="x">y</a><p>z')[0] == "'<p>' is never closed"
    assert html_problem("<p>Dear <First Name>,</p>") == (None, ["<First Name>"])


# ---------------------------------------------------------------------------------------
# The rules, one table each

FLAGGED = [
    ("Hi {first_name},", ["{first_name}"]),
    ("Great to meet {{company}} folks", ["{{company}}"]),
    ("Hi {{ contact.first_name }}!", ["{{ contact.first_name }}"]),
    ("Hello [First Name], quick one", ["[First Name]"]),
    ("Teams at <Company> love it", ["<Company>"]),
    ("Dear FIRSTNAME, about COMPANY_NAME", ["FIRSTNAME", "COMPANY_NAME"]),
    ("Hi %name%,", ["%name%"]),
    ("See [[x]] and %%x%%", ["[[x]]", "%%x%%"]),
    ("Hey *|FNAME|*", ["*|FNAME|*"]),
    ("Hi {!Contact.FirstName}", ["{!Contact.FirstName}"]),
]
CLEAN = [
    "Our SDK is one call: function() { return 1; } and done.",
    'The payload is {"a": 1, "b": [2, 3]}.',
    "As the 2023 report found [1], reply rates doubled [2].",
    "I <3 your product.",
    "Write to Ann <ann@acme.com> or visit <https://acme.com>.",
    "Get 50% off and 20% more seats.",
    "Our SaaS on AWS syncs your CRM: ROI by Q3, B2B ready, SOC 2 certified.",
    "Book a slot [here](https://cal.com/morgan).",
    "USERNAME and NAME are fields in your form.",
]


@pytest.mark.parametrize(("text", "expected"), FLAGGED)
def test_placeholders_left_in_text_are_found(text: str, expected: list[str]) -> None:
    """Every template style is found, as written."""
    assert placeholders(text, is_html=False) == expected
    assert screen(text, is_html=False)[0]


@pytest.mark.parametrize("text", CLEAN)
def test_braces_brackets_and_acronyms_are_not_placeholders(text: str) -> None:
    """Code, JSON, citations, emails in brackets, percentages and acronyms are fine."""
    assert placeholders(text, is_html=False) == []


def test_clean_snippets_in_a_frame_raise_no_placeholder_flag(generated: pd.DataFrame) -> None:
    """The clean snippets inside real emails, and <br>/<p> in HTML, flag nothing."""
    frame = generated.copy()
    for row, snippet in zip(frame.index, CLEAN, strict=False):
        _set(frame, row, 2, ps=snippet)
    assert not (review_flags(frame)["check"] == "placeholder").any()
    assert placeholders("<p>Hi Ann,<br>thanks</p>", is_html=True) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi Ann\x07,", ["a control character '\\x07'"]),
        ("Caf\ufffd latte", ["a replacement character '\\ufffd' (text lost in decoding)"]),
        ("We\u00e2\u20ac\u2122re here", ["mojibake 'â€' (UTF-8 read as Windows-1252)"]),
        ("Line one\rline two", ["a lone carriage return"]),
        ("\ufeffHello", ["a byte-order mark"]),
    ],
)
def test_mangled_characters_are_named(text: str, expected: list[str]) -> None:
    """Each kind of broken character is named once, and the screen lets it through."""
    assert mangled_problems(text) == expected
    assert screen(text, is_html=False)[1]


@pytest.mark.parametrize(
    "text",
    ["Hi Ann,\r\n\r\nThanks\tagain — we\u2019re close. Zoë, José, naïve café 🚀", "plain"],
)
def test_clean_text_passes_the_mangled_screen(text: str) -> None:
    """CRLF, tabs, typographic quotes, accents and emoji are not mangled."""
    assert mangled_problems(text) == []
    if "\r" not in text:
        assert not screen(text, is_html=False)[1]


def test_subject_line_break_is_mangled(generated: pd.DataFrame) -> None:
    """A subject with a line break is flagged as such."""
    frame = generated.copy()
    frame.loc["c0", "email_2_subject"] = "Quick\nidea"
    assert review_flags(frame, disable=["repeated"])["message"].tolist() == [
        "email 2 [mangled]: a line break in the subject"
    ]


@pytest.mark.parametrize(
    ("line", "first", "problem"),
    [
        ("Hi Ann,", "ann", False),
        ("Hi José,", "Jose", False),
        ("Hello Alex!", "Alexander", False),
        ("Hi Anne-Marie,", "Anne-Marie", False),
        ("Hi Anne,", "Anne-Marie", False),
        ("Hi Will,", "Will", False),
        ("Dear May", "May", False),
        ("Hi Hope —", "Hope", False),
        ("Hi there,", "Ann", False),
        ("Hello team", "Ann", False),
        ("Hello, hope you are well", "Ann", False),
        ("Hi, Hope you had a good week", "Ann", False),
        ("Dear Ms. Lee,", "Ann", False),
        ("Dear Dr. Ann Lee,", "Ann", False),
        ("Hi Ben,", "Ann", True),
        ("Hey Bob! Quick one", "Robert", True),
        ("hi ben,", "ann", True),
    ],
)
def test_greeting_table(line: str, first: str, problem: bool) -> None:
    """The greeting names the contact, a short form, no one, or someone else."""
    greeted = greeted_names(line)
    assert (greeted is not None and bool(greeted[0]) and not greets(greeted, first)) is problem


def test_greeting_without_first_names(generated: pd.DataFrame) -> None:
    """No first-name column: no greeting check; a blank first name: only other contacts count."""
    frame = generated.copy()
    _set(frame, "c0", 1, greeting="Hi Ben,")
    _set(frame, "c2", 1, greeting="Hi Bob,")
    frame.loc[["c0", "c2"], "First Name"] = None
    flags = review_flags(frame, disable=["repeated", "no_personalisation"])
    assert flags["message"].tolist() == [
        "email 1 [greeting]: greets 'Ben', another contact's first name, but this contact has none"
    ]
    no_column = frame.drop(columns="First Name")
    assert review_flags(no_column, disable=["repeated", "no_personalisation"]).empty


@pytest.mark.parametrize(
    ("instruction", "words"),
    [
        ("Keep emails under 150 words.", 149),
        ("No more than 120 words.", 120),
        ("max 100 words", 100),
        ("100 words max, friendly tone", 100),
        ("At most 80 words", 80),
        ("less than 90 words please", 89),
        ("<= 120 words", 120),
        ("≤120 words", 120),
        ("There is a 100-word limit.", 100),
        ("keep it to 75 words", 75),
        ("Between 50 and 100 words.", 100),
        ("50-100 words", 100),
        ("Word limit: 120", 120),
        ("Subject under 8 words; body under 120 words.", 119),
        ("Write 120 words or fewer.", 120),
        ("Mention the case study.", None),
        ("At least 50 words.", None),
        ("Keep the subject under 6 words.", None),
    ],
)
def test_word_limit_table(instruction: str, words: int | None) -> None:
    """Limits as people write them; strict words are strict; subject limits are not the email's."""
    limit = parse_word_limit(instruction)
    assert (limit.words if limit is not None else None) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hi Ann — a 15-minute call?", 5),
        ("co-founder, don't, acme.com & more (1)", 5),
        ("one\u00a0two\tthree\nfour\r\nfive", 5),
        ("• Zoë\u2019s team 🚀 — naïve café… 李", 5),
        ("<p>Hi Ann,</p><p>two&nbsp;words</p>", 4),
        ("<p>Hi Ann,<br>see <strong>this</strong></p>\n\n<p>Thanks</p>", 5),
        ('<p>Read <a href="https://x.com/a b">the post</a></p>', 3),
        ("<p><!-- note --> Hi</p>", 1),
        ("", 0),
    ],
)
def test_word_counts(text: str, words: int) -> None:
    """Words are space-separated runs holding a letter or digit; HTML counts its visible text."""
    is_html = text.startswith("<")
    assert count_words(text, is_html=is_html) == words
    assert count_encoded(text.encode(), is_html=is_html) == words or "&" in text
    if not is_html:
        _, _, encoded, bound = screen(text, is_html=False)
        assert count_encoded(encoded) == words
        assert bound is None or bound >= words


# ---------------------------------------------------------------------------------------
# Repeats and personalisation


def test_repeats_count_people_not_rows_and_subjects_need_a_share() -> None:
    """One person's copies are no repeat; a subject needs 3 contacts and 1% of them."""
    n = 400
    frame = pd.DataFrame(
        {
            "First Name": [f"P{i % 200}" for i in range(n)],
            "Email": [f"p{i % 200}@example.com" for i in range(n)],  # rows i, i+200: one person
            "email_1_subject": [f"Idea {i}" for i in range(n)],
            "email_1_body": [f"P{i % 200}, about team {i}." for i in range(n)],
        }
    )
    frame["email_1_text"] = frame["email_1_body"]
    frame.loc[0:5, "email_1_subject"] = "Quick question"  # six people
    frame.loc[[10, 210], "email_1_subject"] = "Twice"  # one person, twice
    frame.loc[[100, 300, 301], "email_1_body"] = [f"P{p}, same words." for p in (100, 100, 101)]
    frame.loc[[120, 121, 122], "email_1_body"] = [f"P{p}, one template." for p in (120, 121, 122)]
    frame["email_1_text"] = frame["email_1_body"]
    flags = review_flags(frame, disable=["no_personalisation"])
    assert flags["row"].tolist() == [0, 1, 2, 3, 4, 5, 120, 121, 122]
    assert flags["message"].iloc[0] == "email 1 [repeated]: the same subject as 5 other contacts"
    assert flags["message"].iloc[-1] == (
        "email 1 [repeated]: the same body as 2 other contacts (names aside)"
    )
    # With 1,000 people, 6 of them are under 1%: a subject shared by chance.
    big = pd.concat([frame] * 3, ignore_index=True)
    big["Email"] = [f"q{i}@example.com" for i in range(len(big))]
    big["email_1_subject"] = [f"S {i}" for i in range(len(big))]
    big.loc[0:5, "email_1_subject"] = "Quick question"
    big["email_1_body"] = big["email_1_text"] = [f"B {i}" for i in range(len(big))]
    assert review_flags(big, disable=["no_personalisation"]).empty


def test_personalisation_is_a_whole_word_in_any_case() -> None:
    """Names count in any letter case, as whole words ("Ann" is not in "annual")."""
    frame = pd.DataFrame(
        {
            "First Name": ["Ann", "Ben", "Cy"],
            "Company": ["Acme Inc", "Globex", "Initech"],
            "email_1_subject": ["Our annual report", "Hello", "Hello"],
            "email_1_text": ["Our annual planning.", "Notes for GLOBEX.", "Hi there."],
            "email_2_text": [None, None, "Initech's plans."],
        }
    )
    flags = review_flags(frame, disable=["repeated"])
    assert flags["row"].tolist() == [0]
    assert flags["message"].tolist() == [
        "sequence [no_personalisation]: no email names the contact ('Acme', 'Ann')"
    ]


def test_numbers_and_object_columns_are_read_as_text() -> None:
    """Hand-made object columns with NaN and numbers are read as text; a NaN text is none."""
    frame = pd.DataFrame(
        {
            "First Name": ["Ann", np.nan],
            "email_1_subject": ["Hi", 12],
            "email_1_text": ["Hi Ann, {first_name}", np.nan],
        },
        dtype=object,
    )
    out = review(frame, disable=["repeated"])
    assert out[REVIEW_COLUMN].tolist()[0] == (
        "email 1 [placeholder]: '{first_name}' left in the text"
    )
    assert out[REVIEW_COLUMN].tolist()[1] == "email 1 [empty]: no text"
    assert out[REVIEW_OK_COLUMN].tolist() == [False, False]


def test_markdown_output_and_an_empty_frame() -> None:
    """Markdown emphasis flags nothing; a frame with no rows gives empty results."""
    generated_md = _run(_contacts(), output_format="markdown")
    assert "**" in generated_md["email_1_text"].iloc[0]
    assert _found(review_flags(generated_md)) == set()
    empty = generated_md.iloc[0:0]
    assert review(empty).shape == (0, len(empty.columns) + 2)
    assert list(review_flags(empty).columns) == ["row", "step", "check", "message"]
