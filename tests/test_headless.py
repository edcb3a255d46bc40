"""Tests for octave_frames._headless: the headless email endpoint as one declaration."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest
from _simkit import client, make

from octave_frames._arguments import check_arguments
from octave_frames._constants import ASYNC_STATUS_PATH
from octave_frames._exceptions import ArgumentError
from octave_frames._headless import (
    HEADLESS,
    HEADLESS_PATH,
    SEQUENCE_DEFAULTS,
    check_steps,
    invalid_reason,
)
from octave_frames._mapping import build_requests, normalize_steps
from octave_frames.simulator._headless import ENUMS, headless_problem

OFFERING = {"name": "Acme Cloud", "url": "https://acme.example"}
SEQUENCE = {
    "steps": 3,
    "length": "short",
    "type": "cold_outbound",
    "primaryGoal": "SCHEDULE_MEETING",
}


def request(**kwargs: Any) -> dict[str, Any]:
    """Check ``kwargs`` as a run does: declared arguments, then the cross checks."""
    checked = check_arguments({"offering": OFFERING, "sequence": SEQUENCE, **kwargs}, HEADLESS.args)
    HEADLESS.check(checked)
    return checked


def rows(
    frame: pd.DataFrame,
    *,
    context: Mapping[Any, Any] | None = None,
    instructions: Mapping[Any, Any] | None = None,
) -> list[dict[str, Any] | None]:
    """The flat payloads ``build_requests`` makes for ``frame`` with the endpoint's static."""
    fields = {
        "email": "Email",
        "firstName": "First",
        "lastName": "Last",
        "jobTitle": "Title",
        "companyName": "Company",
        "companyDomain": "Website",
    }
    built = build_requests(
        frame,
        fields={k: v for k, v in fields.items() if v in frame.columns},
        context=normalize_steps(context, argument="context"),
        instructions=normalize_steps(instructions, argument="instructions"),
        static=HEADLESS.static(request()),
    )
    return built.payloads


FRAME = pd.DataFrame(
    {
        "Email": ["priya@globex.com"],
        "First": ["Priya"],
        "Last": ["Raman"],
        "Title": ["VP Sales"],
        "Company": ["Globex"],
        "Website": ["https://www.globex.com/"],
        "Notes": ["Met at SaaStr"],
    }
)


def test_declaration_names_its_paths() -> None:
    """HEADLESS posts to the headless paths and polls the async agent status by requestId."""
    assert HEADLESS.name == "generate_emails"
    assert HEADLESS.path == HEADLESS_PATH == "/api/v2/headless/generate-emails"
    assert HEADLESS.async_path == "/api/v2/async/headless/generate-emails"
    assert (HEADLESS.status_path, HEADLESS.status_param) == (ASYNC_STATUS_PATH, "requestId")


def test_realistic_row_passes_the_simulator_validation() -> None:
    """A mapped row's body is one the simulator's own headless validator accepts."""
    req = request(
        sender={"first_name": "Sam", "last_name": "Lee", "company_name": "Acme"},
        email={"lang": "de", "output_format": "html", "tone": "warm"},
        additional_context={"event": "SaaStr"},
    )
    (payload,) = rows(FRAME, context={"all": "Notes: {Notes}"})
    assert payload is not None
    body = HEADLESS.body(payload, req)
    assert headless_problem(body, async_run=False) is None
    assert headless_problem({**body, "callbackUrl": "https://cb.example/x"}, async_run=True) is None
    assert body["recipient"] == {
        "firstName": "Priya",
        "companyName": "Globex",
        "companyDomain": "globex.com",
        "jobTitle": "VP Sales",
        "additionalRecipientInfo": "Last name: Raman\n\nNotes: Met at SaaStr",
    }
    assert body["email"] == {"lang": "de", "tone": "warm", "outputFormat": "HTML"}
    assert list(body) == [
        "sequence",
        "offering",
        "recipient",
        "sender",
        "email",
        "additionalContext",
    ]


@pytest.mark.anyio
async def test_the_simulator_answers_the_body_with_one_email_per_step() -> None:
    """POSTed to the simulator, the body is answered 200 with ``steps`` emails for the row."""
    (payload,) = rows(FRAME)
    assert payload is not None
    body = HEADLESS.body(payload, request())
    async with client(make()) as c:
        answer = await c.post(HEADLESS_PATH, json=body)
    assert answer.status_code == 200, answer.text
    emails = answer.json()["data"]["emails"]
    assert len(emails) == 3
    assert "Priya" in emails[0]["sections"]["greeting"]


def test_enums_match_the_simulator() -> None:
    """Every enum the simulator knows is checked here with the same values."""
    checks = {
        "sequence.length": ("sequence", "length"),
        "sequence.type": ("sequence", "type"),
        "sequence.primaryGoal": ("sequence", "primaryGoal"),
        "email.outputFormat": ("email", "outputFormat"),
    }
    assert set(checks) == set(ENUMS)
    for dotted, (section, key) in checks.items():
        for value in ENUMS[dotted]:
            base = SEQUENCE if section == "sequence" else {}
            checked = request(**{section: {**base, key: value.lower()}})
            assert checked[section][key] == value


@pytest.mark.parametrize(
    ("section", "key", "value", "valid", "near"),
    [
        ("sequence", "length", "SHRT", "'SHORT', 'MEDIUM', 'LONG', 'MIXED'", "SHORT"),
        ("sequence", "type", "cold-outbund", "'COLD_OUTBOUND', 'WARM_OUTBOUND'", "COLD_OUTBOUND"),
        ("sequence", "primaryGoal", "SCHEDULE_MEETINGS", "'SMART_CTA'", "SCHEDULE_MEETING"),
        ("email", "outputFormat", "htm", "'TEXT', 'HTML', 'MARKDOWN'", "HTML"),
    ],
)
def test_bad_enum_names_the_key_the_valid_values_and_the_near_miss(
    section: str, key: str, value: str, valid: str, near: str
) -> None:
    """A bad enum value raises before sending, naming key, valid values and the nearest one."""
    base = SEQUENCE if section == "sequence" else {}
    with pytest.raises(ArgumentError) as caught:
        request(**{section: {**base, key: value}})
    message = str(caught.value)
    assert f"{section}[{key!r}]={value!r}" in message
    assert valid in message
    assert f"did you mean {near!r}" in message


def test_enum_that_is_not_a_string_is_refused() -> None:
    """An enum given as a number is refused even if its text would match nothing."""
    with pytest.raises(ArgumentError, match="is not one of"):
        request(sequence={**SEQUENCE, "length": 3})


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"offering": {"url": "https://acme.example"}}, "offering needs 'name'"),
        ({"offering": {"name": "Acme", "url": "  "}}, "offering needs 'url'"),
        ({"offering": None}, "offering= is required"),
        ({"offering": "Acme"}, "offering must be a dict"),
        ({"sequence": None}, "sequence= is required"),
        ({"sequence": {"length": "SHORT"}}, "sequence needs 'steps'"),
        ({"sequence": {"steps": 0}}, "from 1 to 7"),
        ({"sequence": {"steps": 8}}, "from 1 to 7"),
        ({"sequence": {"steps": True}}, "from 1 to 7"),
        ({"sequence": {"steps": "3"}}, "from 1 to 7"),
        ({"sequence": {"steps": 2, "generateUniqueSubjectLines": "yes"}}, "True or False"),
        ({"offering": {**OFFERING, "nmae": "x"}}, "did you mean 'name'"),
        ({"sequence": {"steps": 2, "lenght": "SHORT"}}, "did you mean 'length'"),
        ({"sender": {"first": "Sam"}}, "sender has no key 'first'"),
        ({"email": {"language": "de"}}, "email has no key 'language'"),
        (
            {"sequence": {"steps": 2, "primary_goal": "SMART_CTA", "primaryGoal": "SMART_CTA"}},
            "both",
        ),
        ({"offering": {**OFFERING, "keyDifferentiator": 5}}, "must be a string"),
        ({"additional_context": {"when": object()}}, "JSON values only"),
        ({"additional_context": {1: "x"}}, "string keys"),
    ],
)
def test_bad_argument_raises_naming_it(kwargs: dict[str, Any], words: str) -> None:
    """Missing required keys, out-of-range steps, unknown keys and bad types raise ArgumentError."""
    with pytest.raises(ArgumentError) as caught:
        request(**kwargs)
    assert words in str(caught.value)


def test_snake_case_keys_are_accepted_and_sent_camel_case() -> None:
    """snake_case keys become Octave's camelCase, in the reference's order."""
    checked = request(
        offering={"url": "https://acme.example", "name": "Acme", "core_value_proposition": "Fast"},
        sequence={
            "primary_goal": "ask_for_feedback",
            "steps": 2,
            "generate_unique_subject_lines": False,
        },
    )
    assert checked["offering"] == {
        "url": "https://acme.example",
        "name": "Acme",
        "coreValueProposition": "Fast",
    }
    assert list(checked["sequence"]) == [
        "steps",
        "length",
        "type",
        "primaryGoal",
        "generateUniqueSubjectLines",
    ]
    assert checked["sequence"]["primaryGoal"] == "ASK_FOR_FEEDBACK"
    assert checked["sequence"]["generateUniqueSubjectLines"] is False


def test_sequence_defaults_fill_what_the_api_requires() -> None:
    """``sequence={'steps': 2}`` is sent with the documented default length, type and goal."""
    checked = request(sequence={"steps": 2})
    assert checked["sequence"] == {"steps": 2, **SEQUENCE_DEFAULTS}


def test_the_users_dicts_are_not_modified() -> None:
    """Checking normalises copies: the caller's dicts keep their own keys and values."""
    offering = {"name": " Acme ", "url": "https://acme.example", "key_differentiator": None}
    snapshot = json.dumps(offering)
    checked = request(offering=offering)
    assert json.dumps(offering) == snapshot
    assert checked["offering"] == {"url": "https://acme.example", "name": "Acme"}


def test_instructions_and_context_land_in_sequence_and_recipient() -> None:
    """Row instructions append to additionalInstructions; row context to additionalRecipientInfo."""
    req = request(sequence={**SEQUENCE, "additionalInstructions": "Keep it short."})
    frame = FRAME.drop(columns=["Last"])
    (payload,) = rows(
        frame, context={"all": "Notes: {Notes}"}, instructions={"all": "Mention {Title}."}
    )
    assert payload is not None
    body = HEADLESS.body(payload, req)
    assert body["sequence"]["additionalInstructions"] == "Keep it short.\n\nMention VP Sales."
    assert body["recipient"]["additionalRecipientInfo"] == "Notes: Met at SaaStr"
    assert req["sequence"]["additionalInstructions"] == "Keep it short."


def test_body_has_no_none_values_or_empty_dicts() -> None:
    """Left-out optional parts and blank values never reach the wire as None or {}."""
    req = request(sender={"firstName": " "}, email={"tone": None}, additional_context={"x": None})
    frame = pd.DataFrame({"First": ["Priya"], "Company": ["Globex"], "Website": ["globex.com"]})
    (payload,) = rows(frame)
    assert payload is not None
    body = HEADLESS.body(payload, req)
    assert list(body) == ["sequence", "offering", "recipient"]
    assert body["recipient"] == {
        "firstName": "Priya",
        "companyName": "Globex",
        "companyDomain": "globex.com",
    }
    assert "null" not in json.dumps(body) and "{}" not in json.dumps(body)
    assert HEADLESS.static(req) == {}


def test_invalid_reason_for_a_row_without_a_domain() -> None:
    """A row with no (or an unusable) domain is invalid, and the reason says what to map."""
    frame = pd.DataFrame(
        {"First": ["Priya", "Ann"], "Company": ["Globex", "Acme"], "Website": ["n/a", "acme.com"]}
    )
    bad, good = rows(frame)
    assert bad is not None and good is not None
    reason = invalid_reason(bad)
    assert reason is not None
    assert reason.startswith(
        "no company domain: the headless endpoint needs recipient.companyDomain"
    )
    assert "fields={'companyDomain': ...}" in reason
    assert invalid_reason(good) is None


def test_invalid_reason_names_every_missing_recipient_field() -> None:
    """An email-only row, fine for the Sequence Agent, lacks all three recipient fields."""
    (payload,) = rows(pd.DataFrame({"Email": ["priya@globex.com"]}))
    assert payload is not None
    reason = invalid_reason(payload)
    assert reason is not None
    assert [part.split(":")[0] for part in reason.split("; ")] == [
        "no first name",
        "no company name",
        "no company domain",
    ]


@pytest.mark.parametrize(
    ("context", "instructions", "where"),
    [({2: "x"}, None, "context[2]"), (None, {"all": "x", "3": "y"}, "instructions['3']")],
)
def test_step_keys_other_than_all_are_refused(
    context: Mapping[Any, Any] | None, instructions: Mapping[Any, Any] | None, where: str
) -> None:
    """check_steps refuses per-step keys, naming the argument and the key as given."""
    with pytest.raises(ArgumentError) as caught:
        check_steps(context, instructions)
    assert str(caught.value).startswith(f"{where}: ")
    assert "only the 'all' key applies" in str(caught.value)


def test_step_key_all_in_any_spelling_passes() -> None:
    """``'all'`` (any case) and no mapping at all are accepted."""
    check_steps({"ALL": "x"}, None)
    check_steps(None, {"all": ["Notes"]})
    check_steps(None, None)


def test_instructions_argument_takes_only_all() -> None:
    """The endpoint's own ``instructions`` argument refuses step keys before sending."""
    with pytest.raises(ArgumentError, match=r"instructions\[1\]"):
        request(instructions={1: "x"})
    assert request(instructions={"all": "x"})["instructions"] == {"all": "x"}


def _client(sim: Any) -> Any:
    """A client calling ``sim`` in process."""
    import octave_frames as of

    return of.Client("sim-key", base_url="http://127.0.0.1:9", transport=sim.transport())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_generate_emails_runs_a_frame_in_either_mode(mode: str) -> None:
    """generate_emails sends each recipient once, gives the sequence columns; bad rows invalid."""
    from octave_frames.simulator import Simulator

    sim = Simulator(latency=(0, 0), job_duration=(0, 0.02), not_found_rate=0.0)
    frame = pd.DataFrame(
        {
            "First Name": ["Ann", "Bo", "Cy"],
            "Company": ["Acme", "Beta", "Gamma"],
            "Website": ["https://www.acme.com", "beta.io", None],
        }
    )
    out = frame.octave.generate_emails(
        offering={"name": "Signal Studio", "url": "https://signal.example"},
        sequence={"steps": 2, "length": "short"},
        sender={"firstName": "Sam"},
        mode=mode,
        poll=0.02,
        cache=False,
        progress=False,
        client=_client(sim),
    )
    assert out["octave_status"].tolist() == ["ok", "ok", "invalid"]
    assert "companyDomain" in str(out.loc[2, "octave_error"])
    assert out.loc[0, "email_1_greeting"] == "Hi Ann,"
    assert out["email_2_text"].notna().sum() == 2
    assert sim.counters.billed == 2
    assert ("octave_run_id" in out.columns) == (mode == "async")
    received = sorted(sim.received, key=lambda body: body["recipient"]["firstName"])
    assert received[0]["recipient"]["companyDomain"] == "acme.com"
    assert received[0]["sequence"]["length"] == "SHORT"


def test_generate_emails_refuses_a_bad_enum_before_sending() -> None:
    """A misspelled length names the valid values and sends nothing."""
    from octave_frames.simulator import Simulator

    sim = Simulator(latency=(0, 0))
    frame = pd.DataFrame({"First Name": ["Ann"], "Company": ["Acme"], "Website": ["acme.com"]})
    with pytest.raises(ArgumentError, match="did you mean 'SHORT'"):
        frame.octave.generate_emails(
            offering={"name": "S", "url": "https://s.example"},
            sequence={"steps": 2, "length": "SHRT"},
            cache=False,
            client=_client(sim),
        )
    assert sim.counters.requests == 0
