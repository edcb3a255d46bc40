"""Headless email generation (no saved agent): body checks and deterministic emails.

The body is nested (``sequence``, ``offering``, ``recipient``, optional ``sender``,
``email``, ``additionalContext``), its enums are Octave's; a bad value is a 400 that
names the field and lists the valid values. The answer's shape is not public; here it
is the sequence agent's envelope with ``data.emails[]``, one email per step. Every email
greets the recipient by first name, names their company and the offering; step ``i``'s
body holds ``sequence.additionalInstructions`` verbatim (HTML-escaped in HTML).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from ._catalog import CLOSINGS, SENDER
from ._config import MAX_STEPS
from ._content import Format, Hash

__all__ = ["ENUMS", "headless_data", "headless_problem"]

#: The enum fields of a headless body and their values, as Octave's reference lists them.
ENUMS: Final[Mapping[str, tuple[str, ...]]] = {
    "sequence.length": ("SHORT", "MEDIUM", "LONG", "MIXED"),
    "sequence.type": (
        "COLD_OUTBOUND",
        "WARM_OUTBOUND",
        "INBOUND",
        "CUSTOM",
        "CVI_WHY_CHANGE",
        "BARE_METAL",
    ),
    "sequence.primaryGoal": (
        "INITIATE_CONVERSATION",
        "SCHEDULE_MEETING",
        "REQUEST_INTRODUCTION",
        "ASK_FOR_FEEDBACK",
        "FIND_TIME_TO_CONNECT",
        "POLITELY_DISENGAGE",
        "SMART_CTA",
    ),
    "email.outputFormat": ("TEXT", "HTML", "MARKDOWN"),
}
_REQUIRED: Final = {
    "sequence": ("steps", "length", "type", "primaryGoal"),
    "offering": ("url", "name"),
    "recipient": ("firstName", "companyName", "companyDomain"),
}
_OPTIONAL_OBJECTS: Final = ("sender", "email", "additionalContext")
_PARAGRAPHS: Final = {"SHORT": 1, "MEDIUM": 2, "LONG": 3}
_OPENINGS: Final = {
    "COLD_OUTBOUND": "I have not reached out before, so I will keep this brief.",
    "WARM_OUTBOUND": "Good to be back in touch after our last conversation.",
    "INBOUND": "Thanks for taking a look at {offering} recently.",
    "CUSTOM": "A note written for {company} in particular.",
    "CVI_WHY_CHANGE": "Teams like {company} change tools only when the old way costs too much.",
    "BARE_METAL": "",
}
_CTAS: Final = {
    "INITIATE_CONVERSATION": "Would it be worth a short conversation?",
    "SCHEDULE_MEETING": "Could we book 20 minutes next week?",
    "REQUEST_INTRODUCTION": "Who at {company} would be the right person to talk to?",
    "ASK_FOR_FEEDBACK": "I would value your honest feedback on the idea.",
    "FIND_TIME_TO_CONNECT": "When would be a good time to connect?",
    "POLITELY_DISENGAGE": "If the timing is wrong, I will step back; just say so.",
    "SMART_CTA": "Worth a look together, or should I send a short walkthrough?",
}
_MIXED: Final = ("SHORT", "MEDIUM", "LONG")


def headless_problem(body: object, *, async_run: bool) -> str | None:
    """Return why a headless body is unacceptable (naming the field), or ``None``.

    Args:
        body: The parsed JSON body.
        async_run: Whether this is the async endpoint, which needs a ``callbackUrl``.

    Returns:
        A message such as ``"sequence.length must be one of SHORT, ..., got 'TINY'"``.

    """
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    return next(_problems(body, async_run=async_run), None)


def _problems(body: dict[str, Any], *, async_run: bool) -> Iterator[str]:
    """Yield what is wrong with a headless body, most basic first."""
    for section, fields in _REQUIRED.items():
        part = body.get(section)
        if not isinstance(part, dict):
            yield f"{section} is required and must be an object"
            return
        missing = [f"{section}.{f}" for f in fields if part.get(f) in (None, "")]
        if missing:
            yield f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required"
    for name in _OPTIONAL_OBJECTS:
        if body.get(name) is not None and not isinstance(body[name], dict):
            yield f"{name} must be an object"
            return
    steps = body["sequence"]["steps"]
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        yield f"sequence.steps must be an integer from 1 to {MAX_STEPS}, got {steps!r}"
    for dotted, allowed in ENUMS.items():
        section, _, field = dotted.partition(".")
        value = (body.get(section) or {}).get(field)
        if value is not None and value not in allowed:
            yield f"{dotted} must be one of {', '.join(allowed)}, got {value!r}"
    url = body.get("callbackUrl")
    if async_run and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        yield "callbackUrl is required and must be an http(s) URL"


def _text(part: object, key: str) -> str:
    value = part.get(key) if isinstance(part, Mapping) else None
    return "" if value is None else str(value).strip()


def headless_data(body: Mapping[str, Any], h: Hash) -> tuple[dict[str, Any], str]:
    """Return ``(data, message)`` of a headless answer for a validated ``body``.

    Args:
        body: The request body, already checked by :func:`headless_problem`.
        h: The body's hash; picks phrasing, never the facts.

    Returns:
        ``data`` holds ``emails`` (one per step, shaped like the sequence agent's) and
        the ``sequence`` settings used.

    """
    seq, offering, recipient = body["sequence"], body["offering"], body["recipient"]
    email_opts, sender = body.get("email") or {}, body.get("sender") or {}
    fmt = Format(str(email_opts.get("outputFormat") or "TEXT").lower())
    first, company = _text(recipient, "firstName"), _text(recipient, "companyName")
    product = _text(offering, "name")
    words = {"company": company, "offering": product, "first": first}
    value_prop = _text(offering, "coreValueProposition") or f"{product} saves {company} time"
    outcome = _text(offering, "customerOutcomes") or "teams like yours move faster"
    unique = bool(seq.get("generateUniqueSubjectLines", True))
    instructions = _text(seq, "additionalInstructions")
    signer = " ".join(x for x in (_text(sender, "firstName"), _text(sender, "lastName")) if x)
    signature = (
        (signer or SENDER[0], _text(sender, "jobTitle"), _text(sender, "companyName"))
        if sender
        else SENDER
    )
    emails = []
    first_subject = f"{product} for {company}"
    for step in range(1, int(seq["steps"]) + 1):
        length = seq["length"] if seq["length"] != "MIXED" else _MIXED[(step - 1) % 3]
        subject = first_subject if step == 1 else f"Re: {first_subject}"
        if unique and step > 1:
            subject = f"{first}, step {step}: {product} and {company}"
        paragraphs = [
            f"{fmt.t(value_prop)}: that is what {fmt.emph(product)} does for {fmt.t(company)}.",
            fmt.t(f"In short, {outcome}."),
            fmt.t(f"{_text(offering, 'keyDifferentiator') or 'It works with the tools you have'}."),
        ][: _PARAGRAPHS[length]]
        if instructions:
            paragraphs.append(fmt.t(instructions))
        emails.append(
            {
                "email": _text(recipient, "email"),
                "subject": subject,
                "coreValueProp": value_prop,
                "sections": {
                    "greeting": fmt.paras(fmt.t(f"Hi {first},")),
                    "opening": fmt.paras(fmt.t(_OPENINGS[seq["type"]].format(**words))),
                    "body": fmt.paras(*paragraphs),
                    "closing": fmt.paras(fmt.t(h.pick(CLOSINGS, f"closing:{step}"))),
                    "cta": fmt.paras(fmt.t(_CTAS[seq["primaryGoal"]].format(**words))),
                    "ps": "",
                    "signature": fmt.paras(fmt.lines(*(x for x in signature if x))),
                },
            }
        )
    settings = {k: seq.get(k) for k in ("steps", "length", "type", "primaryGoal")}
    data = {"emails": emails, "sequence": settings, "outputType": "HEADLESS_SEQUENCE"}
    return data, f"Generated a {seq['steps']}-step {seq['type']} sequence"
