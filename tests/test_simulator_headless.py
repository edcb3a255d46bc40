"""The simulator's headless email generation: validation, content, billing, async twin."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from _simkit import client, make

from octave_frames._constants import ASYNC_STATUS_PATH, SECTIONS

pytestmark = pytest.mark.anyio

HEADLESS = "/api/v2/headless/generate-emails"
ASYNC_HEADLESS = "/api/v2/async/headless/generate-emails"


def body(**sections: Any) -> dict[str, Any]:
    """Return a valid headless body; ``sections`` replace or add whole top-level parts."""
    out: dict[str, Any] = {
        "sequence": {
            "steps": 3,
            "length": "SHORT",
            "type": "COLD_OUTBOUND",
            "primaryGoal": "SCHEDULE_MEETING",
        },
        "offering": {"url": "https://acme.example", "name": "Acme Cloud"},
        "recipient": {"firstName": "Priya", "companyName": "Globex", "companyDomain": "globex.com"},
    }
    out.update(sections)
    return out


def patched(path: str, value: Any) -> dict[str, Any]:
    """Return a valid body with ``section.field`` set to ``value`` (``None`` removes it)."""
    out = copy.deepcopy(body())
    section, _, field = path.partition(".")
    if value is None:
        del out[section][field]
    else:
        out.setdefault(section, {})[field] = value
    return out


async def test_sync_answer_is_the_sequence_envelope_with_one_email_per_step() -> None:
    """A headless call answers emails[] of `steps` emails naming recipient, company, offering."""
    sim = make()
    async with client(sim) as c:
        answer = await c.post(HEADLESS, json=body())
        again = await c.post(HEADLESS, json=body())
    assert answer.status_code == 200
    payload = answer.json()
    assert set(payload) == {"_metadata", "found", "message", "data"}
    assert payload["found"] is True and payload["_metadata"]["usage"] == 1
    emails = payload["data"]["emails"]
    assert len(emails) == 3
    for email in emails:
        assert set(email) == {"email", "subject", "coreValueProp", "sections"}
        assert list(email["sections"]) == list(SECTIONS)
        text = "\n".join(email["sections"].values()) + email["subject"]
        assert "Priya" in text and "Globex" in text and "Acme Cloud" in text
    assert payload["data"] == again.json()["data"]
    assert sim.counters.billed == 2 and sim.counters.duplicates == 1
    assert sim.counters.agent_requests == 2


async def test_options_shape_the_emails() -> None:
    """Steps, goal, HTML output, instructions and sender all change what is written."""
    sim = make()
    options = body(
        sequence={
            "steps": 2,
            "length": "LONG",
            "type": "INBOUND",
            "primaryGoal": "REQUEST_INTRODUCTION",
            "additionalInstructions": "Mention Q3 & the <launch>",
        },
        email={"outputFormat": "HTML"},
        sender={"firstName": "Sam", "lastName": "Lee", "companyName": "Acme"},
    )
    async with client(sim) as c:
        emails = (await c.post(HEADLESS, json=options)).json()["data"]["emails"]
    assert len(emails) == 2
    sections = emails[0]["sections"]
    assert sections["greeting"] == "<p>Hi Priya,</p>"
    assert "Mention Q3 &amp; the &lt;launch&gt;" in sections["body"]
    assert "Who at Globex" in sections["cta"]
    assert "Sam Lee" in sections["signature"] and "Acme" in sections["signature"]
    assert sections["body"].count("<p>") == 4  # LONG: three paragraphs, plus the notes


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        ("sequence.steps", None, "sequence.steps is required"),
        ("sequence.steps", 8, "sequence.steps must be an integer from 1 to 7"),
        ("sequence.steps", True, "sequence.steps must be an integer"),
        ("sequence.length", "TINY", "sequence.length must be one of SHORT, MEDIUM, LONG, MIXED"),
        ("sequence.type", "COLD", "sequence.type must be one of COLD_OUTBOUND, WARM_OUTBOUND"),
        (
            "sequence.primaryGoal",
            "WIN",
            "sequence.primaryGoal must be one of INITIATE_CONVERSATION",
        ),
        ("offering.name", None, "offering.name is required"),
        ("offering.url", "", "offering.url is required"),
        ("recipient.companyDomain", None, "recipient.companyDomain is required"),
        ("email.outputFormat", "PDF", "email.outputFormat must be one of TEXT, HTML, MARKDOWN"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field_and_valid_values(
    path: str, value: Any, needle: str
) -> None:
    """A missing field or bad enum is a 400 whose message names it (and the valid values)."""
    sim = make()
    async with client(sim) as c:
        answer = await c.post(HEADLESS, json=patched(path, value))
    assert answer.status_code == 400
    assert needle in answer.json()["message"]
    if "one of" in needle:
        assert repr(value) in answer.json()["message"]
    assert sim.counters.billed == 0


async def test_missing_sections_and_wrong_types_are_400() -> None:
    """No recipient at all, or a string where an object belongs, is a clear 400."""
    sim = make()
    no_recipient = body()
    del no_recipient["recipient"]
    async with client(sim) as c:
        missing = await c.post(HEADLESS, json=no_recipient)
        wrong = await c.post(HEADLESS, json=body(sender="Sam"))
        listed = await c.post(HEADLESS, json=[body()])
    assert "recipient is required and must be an object" in missing.json()["message"]
    assert "sender must be an object" in wrong.json()["message"]
    assert listed.status_code == 400


async def test_async_twin_needs_a_callback_and_makes_a_job_with_the_same_emails() -> None:
    """The async endpoint needs callbackUrl, answers pending, and its result is the sync answer."""
    sim = make()
    async with client(sim) as c:
        no_hook = await c.post(ASYNC_HEADLESS, json=body())
        pending = await c.post(
            ASYNC_HEADLESS, json={**body(), "callbackUrl": "https://example.invalid/noop"}
        )
        rid = pending.json()["requestId"]
        status = (await c.get(ASYNC_STATUS_PATH, params={"requestId": rid})).json()["data"]
        sync = (await c.post(HEADLESS, json=body())).json()
    assert no_hook.status_code == 400 and "callbackUrl" in no_hook.json()["message"]
    assert pending.json()["status"] == "pending" and rid.startswith("asyncReqID_")
    assert status["result"]["data"] == sync["data"]
    assert sim.counters.submissions == 1 and sim.counters.billed == 2
