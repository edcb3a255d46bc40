"""Octave's headless email generation, declared once: a sequence without a saved agent.

``POST /api/v2/headless/generate-emails`` (and its async twin) takes a nested body: the
run-wide ``sequence``, ``offering`` and optional ``sender``, ``email`` and
``additionalContext``, plus one row's ``recipient``. The run-wide parts are the
endpoint's arguments, checked here before anything is sent: keys as Octave spells them
or in snake_case, enums in any case (sent upper-case), unknown keys and bad values
refused with the valid ones and the nearest match. :data:`HEADLESS` is the declaration;
:func:`invalid_reason` and :func:`check_steps` are the two rules the shared run code
cannot know (a recipient needs first name, company name and domain; step keys other
than ``"all"`` mean nothing when Octave writes the whole sequence in one go).
"""

from __future__ import annotations

import difflib
import json
import numbers
from collections.abc import Callable, Mapping
from typing import Any, Final

from ._arguments import Arg, Flag, check_mapping, parse_json_object
from ._constants import ASYNC_HEADLESS_PATH, ASYNC_STATUS_PATH, HEADLESS_PATH
from ._endpoints import Endpoint
from ._exceptions import ArgumentError
from ._specs import normalize_steps

__all__ = [
    "ASYNC_HEADLESS_PATH",
    "HEADLESS",
    "HEADLESS_PATH",
    "LENGTHS",
    "OUTPUT_FORMATS",
    "PRIMARY_GOALS",
    "SEQUENCE_DEFAULTS",
    "SEQUENCE_TYPES",
    "check_steps",
    "invalid_reason",
]


LENGTHS: Final = ("SHORT", "MEDIUM", "LONG", "MIXED")
SEQUENCE_TYPES: Final = (
    "COLD_OUTBOUND",
    "WARM_OUTBOUND",
    "INBOUND",
    "CUSTOM",
    "CVI_WHY_CHANGE",
    "BARE_METAL",
)
PRIMARY_GOALS: Final = (
    "INITIATE_CONVERSATION",
    "SCHEDULE_MEETING",
    "REQUEST_INTRODUCTION",
    "ASK_FOR_FEEDBACK",
    "FIND_TIME_TO_CONNECT",
    "POLITELY_DISENGAGE",
    "SMART_CTA",
)
OUTPUT_FORMATS: Final = ("TEXT", "HTML", "MARKDOWN")
MAX_STEPS: Final = 7
#: Sent when ``sequence`` leaves them out: Octave's reference gives no defaults, and a
#: body without them is refused, so the library picks the plainest ones.
SEQUENCE_DEFAULTS: Final[Mapping[str, str]] = {
    "length": "MEDIUM",
    "type": "COLD_OUTBOUND",
    "primaryGoal": "SMART_CTA",
}

#: A value check: (where, value) -> the value to send, or None to leave the key out.
_Check = Callable[[str, Any], Any]


def _text(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArgumentError(f"{where} must be a string, not {type(value).__name__} ({value!r:.40})")
    return value.strip() or None


def _flag(where: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ArgumentError(f"{where} must be True or False, not {value!r}")
    return value


def _steps(where: str, value: Any) -> int:
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not integral or not 1 <= int(value) <= MAX_STEPS:
        raise ArgumentError(f"{where} must be a whole number from 1 to {MAX_STEPS}, not {value!r}")
    return int(value)


def _enum(choices: tuple[str, ...]) -> _Check:
    def check(where: str, value: Any) -> str | None:
        if value is None:
            return None
        # Case and separators are spelling, not meaning: "cold outbound" is COLD_OUTBOUND.
        said = str(value).strip().upper().replace("-", "_").replace(" ", "_")
        if isinstance(value, str) and said in choices:
            return said
        near = difflib.get_close_matches(said, choices, n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ArgumentError(
            f"{where}={value!r} is not one of {', '.join(map(repr, choices))}{hint}"
        )

    return check


# Each section's keys in the order of Octave's reference, so bodies serialise stably.
_SEQUENCE: Final[Mapping[str, _Check]] = {
    "steps": _steps,
    "length": _enum(LENGTHS),
    "type": _enum(SEQUENCE_TYPES),
    "primaryGoal": _enum(PRIMARY_GOALS),
    "generateUniqueSubjectLines": _flag,
    "additionalInstructions": _text,
}
_OFFERING: Final[Mapping[str, _Check]] = dict.fromkeys(
    (
        "url",
        "name",
        "coreValueProposition",
        "keyDifferentiator",
        "customerOutcomes",
        "additionalOfferingInfo",
    ),
    _text,
)
_SENDER: Final[Mapping[str, _Check]] = dict.fromkeys(
    ("firstName", "lastName", "jobTitle", "companyName", "companyDomain"), _text
)
_EMAIL: Final[Mapping[str, _Check]] = {
    "lang": _text,
    "tone": _text,
    "style": _text,
    "outputFormat": _enum(OUTPUT_FORMATS),
    "persona": _text,
}
_REQUIRED: Final[Mapping[str, tuple[str, ...]]] = {
    "offering": ("name", "url"),
    "sequence": ("steps",),
}


def _spelling(key: str) -> str:
    """The key with case and separators dropped: how snake_case meets camelCase."""
    return key.replace("_", "").replace("-", "").lower()


def _section(name: str, value: Any, schema: Mapping[str, _Check]) -> dict[str, Any] | None:
    """Check one section given as a dict; return it keyed and ordered as Octave spells it."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ArgumentError(
            f"{name} must be a dict with keys {', '.join(schema)}, not {type(value).__name__}"
        )
    known = {_spelling(key): key for key in schema}
    given: dict[str, tuple[object, Any]] = {}
    for key, item in value.items():
        canonical = known.get(_spelling(key)) if isinstance(key, str) else None
        if canonical is None:
            near = difflib.get_close_matches(str(key), list(schema), n=1, cutoff=0.6)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ArgumentError(
                f"{name} has no key {key!r}{hint}; its keys are {', '.join(schema)}"
            )
        if canonical in given:
            raise ArgumentError(
                f"{name}: keys {given[canonical][0]!r} and {key!r} both mean {canonical!r}"
            )
        given[canonical] = (key, item)
    out: dict[str, Any] = {}
    for key, check in schema.items():
        if key in given and (checked := check(f"{name}[{key!r}]", given[key][1])) is not None:
            out[key] = checked
    missing = [key for key in _REQUIRED.get(name, ()) if key not in out]
    if missing:
        raise ArgumentError(
            f"{name} needs {' and '.join(map(repr, missing))} (Octave requires "
            f"{', '.join(_REQUIRED[name])}; the keys are {', '.join(schema)})"
        )
    return out or None


def _check_offering(name: str, value: Any) -> dict[str, Any] | None:
    return _section(name, value, _OFFERING)


def _check_sequence(name: str, value: Any) -> dict[str, Any] | None:
    checked = _section(name, value, _SEQUENCE)
    if checked is None:
        return None
    # Defaults go in their reference position, so a body reads as Octave documents it.
    return {
        key: item
        for key in _SEQUENCE
        if (item := checked.get(key, SEQUENCE_DEFAULTS.get(key))) is not None
    }


def _check_sender(name: str, value: Any) -> dict[str, Any] | None:
    return _section(name, value, _SENDER)


def _check_email(name: str, value: Any) -> dict[str, Any] | None:
    return _section(name, value, _EMAIL)


def _check_context(name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise ArgumentError(
            f"{name} must be a dict with string keys, such as {{'event': 'SaaStr'}}"
        )
    try:
        # Refused here rather than as a row's failure when the body is serialised.
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"{name} must hold JSON values only: {exc}") from None
    return {key: item for key, item in value.items() if item is not None} or None


def check_steps(context: Mapping[Any, Any] | None, instructions: Mapping[Any, Any] | None) -> None:
    """Refuse ``context`` / ``instructions`` step keys other than ``"all"``.

    The headless endpoint writes every email of the sequence in one request, so there is
    no per-step ``runtimeContext``; only the ``"all"`` text has a place in the body (the
    recipient's ``additionalRecipientInfo`` and the sequence's ``additionalInstructions``).

    Args:
        context: The run's ``context`` specs by step key, or None.
        instructions: The run's ``instructions`` specs by step key, or None.

    Raises:
        ArgumentError: A key such as ``2`` or ``"3"``, naming the argument and the key,
            or a malformed mapping (as for any endpoint).

    Example:
        >>> check_steps({"all": "Notes: {Notes}"}, None)
        >>> check_steps(None, {2: "Mention the webinar"})
        Traceback (most recent call last):
        ...
        octave_frames._exceptions.ArgumentError: instructions[2]: ...

    """
    for argument, specs in (("context", context), ("instructions", instructions)):
        original = {str(key).strip().lower(): key for key in (specs or {})}
        for step in normalize_steps(specs, argument=argument):
            if step != "all":
                key = original.get(step, step)
                raise ArgumentError(
                    f"{argument}[{key!r}]: the headless endpoint writes the whole sequence in "
                    "one request, so only the 'all' key applies; put step wishes in that text "
                    "(e.g. 'In email 2, mention the webinar')"
                )


def _check_instructions(name: str, value: Any) -> Mapping[Any, Any] | None:
    checked = check_mapping(name, value)
    check_steps(None, checked)
    return checked


_MISSING: Final = {
    "firstName": ("first name", "First Name"),
    "companyName": ("company name", "Company"),
    "companyDomain": ("company domain", "Website/Domain"),
}


def invalid_reason(row_payload: Mapping[str, Any]) -> str | None:
    """Why a row cannot be sent to the headless endpoint, or None when it can.

    Octave's headless recipient requires ``firstName``, ``companyName`` and
    ``companyDomain``; the Sequence Agent's identifier rules (an email alone is enough)
    let rows through that this endpoint would refuse with a 400.

    Args:
        row_payload: A row's flat payload from ``build_requests``.

    Returns:
        The reasons, ``"; "``-joined, naming the column to map; None if nothing is missing.

    Example:
        >>> invalid_reason({"firstName": "Ann", "companyName": "Acme"})[:17]
        'no company domain'

    """
    reasons = [
        f"no {what}: the headless endpoint needs recipient.{key} (map a {column} column "
        f"with fields={{{key!r}: ...}})"
        for key, (what, column) in _MISSING.items()
        if not row_payload.get(key)
    ]
    return "; ".join(reasons) or None


def _joined(*texts: str | None) -> str | None:
    return "\n\n".join(text for text in texts if text) or None


def _runtime_all(payload: Mapping[str, Any], key: str) -> str | None:
    block = payload.get(key)
    text = block.get("all") if isinstance(block, Mapping) else None
    return text if isinstance(text, str) else None


def _check(request: Mapping[str, Any]) -> None:
    for name, keys in _REQUIRED.items():
        if request.get(name) is None:
            example = "{'name': 'Acme Cloud', 'url': 'https://acme.com'}"
            raise ArgumentError(
                f"{name}= is required by the headless endpoint: a dict with "
                f"{' and '.join(map(repr, keys))}"
                + (f", e.g. {example}" if name == "offering" else ", e.g. {'steps': 3}")
            )


def _static(request: Mapping[str, Any]) -> dict[str, Any]:
    # The run-wide parts are nested into each body by `_shape`; nothing flat is shared.
    return {}


def _shape(payload: dict[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    _check(request)  # a KeyError deep in here would not say what is missing
    recipient = {
        key: payload[key]
        for key in ("firstName", "companyName", "companyDomain", "jobTitle", "linkedInProfile")
        if payload.get(key)
    }
    # The documented recipient has no lastName: it goes in the free text Octave reads.
    last = payload.get("lastName")
    info = _joined(f"Last name: {last}" if last else None, _runtime_all(payload, "runtimeContext"))
    if info:
        recipient["additionalRecipientInfo"] = info
    sequence = dict(request["sequence"])
    wishes = _joined(
        sequence.get("additionalInstructions"), _runtime_all(payload, "runtimeInstructions")
    )
    if wishes:
        sequence["additionalInstructions"] = wishes
    body: dict[str, Any] = {
        "sequence": sequence,
        "offering": dict(request["offering"]),
        "recipient": recipient,
    }
    for name, key in (
        ("sender", "sender"),
        ("email", "email"),
        ("additional_context", "additionalContext"),
    ):
        if request.get(name):
            body[key] = dict(request[name])
    return body


_JSON: Final = Flag(metavar="JSON", parse=parse_json_object)

_ARGS: Final[tuple[Arg, ...]] = (
    Arg(
        "offering",
        "Mapping[str, Any] | None",
        None,
        "What you sell (required): ``name`` and ``url``, optionally ``coreValueProposition``, "
        "``keyDifferentiator``, ``customerOutcomes``, ``additionalOfferingInfo`` (snake_case "
        "keys work too).",
        _check_offering,
        _JSON,
    ),
    Arg(
        "sequence",
        "Mapping[str, Any] | None",
        None,
        "The sequence (required): ``steps`` 1-7, ``length`` (SHORT, MEDIUM, LONG, MIXED; "
        "default MEDIUM), ``type`` (COLD_OUTBOUND ...; default COLD_OUTBOUND), "
        "``primaryGoal`` (SCHEDULE_MEETING ...; default SMART_CTA), "
        "``generateUniqueSubjectLines``, ``additionalInstructions``.",
        _check_sequence,
        _JSON,
    ),
    Arg(
        "sender",
        "Mapping[str, Any] | None",
        None,
        "Who signs: ``firstName``, ``lastName``, ``jobTitle``, ``companyName``, ``companyDomain``.",
        _check_sender,
        _JSON,
    ),
    Arg(
        "email",
        "Mapping[str, Any] | None",
        None,
        "How the emails read: ``lang``, ``tone``, ``style``, ``outputFormat`` (TEXT, HTML, "
        "MARKDOWN), ``persona``.",
        _check_email,
        _JSON,
    ),
    Arg(
        "additional_context",
        "Mapping[str, Any] | None",
        None,
        "``additionalContext``: free-form JSON Octave reads for every recipient.",
        _check_context,
        _JSON,
    ),
    Arg(
        "instructions",
        "Mapping[str, Spec] | None",
        None,
        "Per-row instructions under the key ``'all'`` (specs as for context), appended to "
        "``sequence.additionalInstructions``.",
        _check_instructions,
        Flag(metavar="all=TEMPLATE", pairs=True, help="like --context, key 'all' only"),
    ),
)

#: Headless email generation: a sequence per contact from an offering, no saved agent.
HEADLESS: Final = Endpoint(
    name="generate_emails",
    path=HEADLESS_PATH,
    async_path=ASYNC_HEADLESS_PATH,
    status_path=ASYNC_STATUS_PATH,
    status_param="requestId",
    args=_ARGS,
    static=_static,
    check=_check,
    shape=_shape,
    invalid=invalid_reason,
    check_context=lambda context: check_steps(context, None),
)
